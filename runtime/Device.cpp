//===- Device.cpp - what every device reads of the artifact ---------------===//

#include "runtime/Device.h"

#include <algorithm>

namespace fmc {

const char *programName(ProgramKind kind) {
  return kind == ProgramKind::Prefill ? "prefill" : "decode";
}

const schema::Program &programOf(const schema::Artifact &artifact,
                                 ProgramKind kind) {
  return kind == ProgramKind::Prefill ? *artifact.prefill()
                                      : *artifact.decode();
}

const schema::DispatchList *dispatchListOf(const schema::Executable &exe,
                                           ProgramKind kind) {
  return kind == ProgramKind::Prefill ? exe.prefill() : exe.decode();
}

ProgramIO programIO(const schema::Program &program) {
  // ArtifactValidation.cpp has checked the three buffer indices.
  const auto *buffers = program.buffers();
  ProgramIO io;
  io.maxTokens = program.max_tokens();
  io.tokensOffset = buffers->Get(program.tokens())->offset();
  io.positionsOffset = buffers->Get(program.positions())->offset();
  io.logitsOffset = buffers->Get(program.logits())->offset();
  return io;
}

uint64_t sharedArenaBytes(const schema::Artifact &artifact) {
  return std::max(artifact.prefill()->arena_bytes(),
                  artifact.decode()->arena_bytes());
}

} // namespace fmc
