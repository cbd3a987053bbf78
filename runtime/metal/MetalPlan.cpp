//===- MetalPlan.cpp - the metal backend's host logic ---------------------===//

#include "runtime/metal/MetalPlan.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace fmc::metal {

namespace {

absl::Status corrupt(const std::string &message) {
  return absl::DataLossError(
      absl::StrCat("corrupt artifact: metal executable: ", message));
}

/// A 1- to 3-entry vector padded with ones; false when absent, empty,
/// longer or holding a zero.
bool dims(const flatbuffers::Vector<uint32_t> *v,
          std::array<uint32_t, 3> &out) {
  if (!v || v->size() == 0 || v->size() > 3)
    return false;
  out = {1, 1, 1};
  for (uint32_t i = 0; i < v->size(); ++i) {
    if (v->Get(i) == 0)
      return false;
    out[i] = v->Get(i);
  }
  return true;
}

std::string dimsText(const std::array<uint32_t, 3> &d) {
  return absl::StrCat(d[0], "x", d[1], "x", d[2]);
}

} // namespace

absl::StatusOr<const schema::Executable *>
findMetalExecutable(const schema::Artifact &artifact) {
  const schema::Executable *exe = nullptr;
  if (artifact.executables())
    for (const schema::Executable *candidate : *artifact.executables())
      if (candidate->target() && candidate->target()->str() == "metal") {
        exe = candidate;
        break;
      }
  if (!exe)
    return absl::FailedPreconditionError(
        "the artifact has no metal executable; recompile with "
        "--target=metal");
  std::string format = exe->format() ? exe->format()->str() : "";
  if (format != "msl" && format != "metallib")
    return corrupt(absl::StrCat("format '", format,
                                "' is neither msl nor metallib"));
  if (!exe->data() || exe->data()->size() == 0)
    return corrupt(absl::StrCat("the ", format, " code is empty"));
  if (!exe->entry_points() || exe->entry_points()->size() == 0)
    return corrupt("no entry points");
  absl::flat_hash_set<std::string> names;
  for (uint32_t e = 0; e < exe->entry_points()->size(); ++e) {
    const schema::EntryPoint *entry = exe->entry_points()->Get(e);
    if (!entry->name() || entry->name()->size() == 0)
      return corrupt(absl::StrCat("entry point ", e, " has no name"));
    std::string name = entry->name()->str();
    if (!names.insert(name).second)
      return corrupt(absl::StrCat("entry point '", name, "' appears twice"));
    std::array<uint32_t, 3> size;
    if (!dims(entry->workgroup_size(), size))
      return corrupt(absl::StrCat("entry point '", name,
                                  "' has no valid workgroup size"));
    uint64_t threads = uint64_t{size[0]} * size[1] * size[2];
    if (threads > kMaxThreadsPerThreadgroup)
      return corrupt(absl::StrCat("entry point '", name, "' has workgroups of ",
                                  dimsText(size), " = ", threads,
                                  " threads; Metal runs at most ",
                                  kMaxThreadsPerThreadgroup));
    if (entry->bindings() > kMaxBufferArguments)
      return corrupt(absl::StrCat("entry point '", name, "' takes ",
                                  entry->bindings(),
                                  " buffers; a Metal kernel takes at most ",
                                  kMaxBufferArguments));
  }
  return exe;
}

absl::StatusOr<DispatchPlan> planDispatches(const schema::Artifact &artifact,
                                            const schema::Executable &exe,
                                            const schema::Program &program,
                                            const schema::DispatchList *list,
                                            const std::string &programName) {
  if (!list || !list->dispatches())
    return corrupt(absl::StrCat("no ", programName, " dispatch list"));
  const auto *entries = exe.entry_points();
  uint32_t entryCount = entries ? entries->size() : 0;
  const auto *tensors = artifact.tensors();
  const auto *caches = artifact.kv_caches();
  const auto *buffers = program.buffers();

  DispatchPlan plan;
  plan.scratchBytes = list->scratch_bytes();
  plan.maxTokens = program.max_tokens();
  for (uint32_t index : {program.tokens(), program.positions(),
                         program.logits()})
    if (!buffers || index >= buffers->size())
      return corrupt(absl::StrCat("the ", programName, " program names buffer ",
                                  index, " of ",
                                  buffers ? buffers->size() : 0));
  plan.tokensOffset = buffers->Get(program.tokens())->offset();
  plan.positionsOffset = buffers->Get(program.positions())->offset();
  plan.logitsOffset = buffers->Get(program.logits())->offset();
  if (program.kernels())
    for (const schema::Kernel *k : *program.kernels())
      if (k->spec_type() == schema::KernelSpec::LastRowSpec)
        plan.lastRow = true;

  for (uint32_t d = 0; d < list->dispatches()->size(); ++d) {
    const schema::Dispatch *dispatch = list->dispatches()->Get(d);
    std::string where = absl::StrCat(programName, " dispatch ", d);
    if (dispatch->entry() >= entryCount)
      return corrupt(absl::StrCat(where, " names entry point ",
                                  dispatch->entry(), " of ", entryCount));
    const schema::EntryPoint *entry = entries->Get(dispatch->entry());
    absl::StrAppend(&where, " ('", entry->name()->str(), "')");
    PlannedDispatch planned;
    planned.entry = dispatch->entry();
    planned.kernel = dispatch->kernel();
    if (!dims(entry->workgroup_size(), planned.threadsPerThreadgroup))
      return corrupt(absl::StrCat(where, ": its entry point has no valid "
                                         "workgroup size"));
    if (!dims(dispatch->grid(), planned.threadgroups))
      return corrupt(absl::StrCat(where, " has no valid grid"));
    if (!program.kernels() || dispatch->kernel() >= program.kernels()->size())
      return corrupt(absl::StrCat(
          where, " names kernel ", dispatch->kernel(), " of ",
          program.kernels() ? program.kernels()->size() : 0));
    uint32_t count = dispatch->bindings() ? dispatch->bindings()->size() : 0;
    if (count != entry->bindings())
      return corrupt(absl::StrCat(where, " has ", count,
                                  " bindings, its entry point takes ",
                                  entry->bindings()));
    planned.firstArgument = static_cast<uint32_t>(plan.arguments.size());
    planned.arguments = count;
    for (uint32_t b = 0; b < count; ++b) {
      const schema::Binding *binding = dispatch->bindings()->Get(b);
      std::string at = absl::StrCat(where, " binding ", b);
      uint64_t offset = binding->offset(), bytes = binding->bytes();
      if (offset % 16 != 0)
        return corrupt(absl::StrCat(at, " has offset ", offset,
                                    ", not a multiple of 16"));
      BufferArgument argument;
      argument.memory = binding->memory();
      uint64_t size = 0;
      std::string memory;
      switch (binding->memory()) {
      case schema::BindingMemory::Arena:
        size = program.arena_bytes();
        memory = absl::StrCat("the ", programName, " arena");
        break;
      case schema::BindingMemory::Weights: {
        if (!tensors || binding->index() >= tensors->size())
          return corrupt(absl::StrCat(at, " names tensor ", binding->index(),
                                      " of ", tensors ? tensors->size() : 0));
        const schema::Tensor *t = tensors->Get(binding->index());
        size = t->bytes();
        memory = absl::StrCat("tensor '", t->name() ? t->name()->str() : "",
                              "'");
        // One buffer holds the segment: tensors are at their offsets in it.
        argument.offset = t->offset();
        break;
      }
      case schema::BindingMemory::Caches: {
        if (!caches || binding->index() >= caches->size())
          return corrupt(absl::StrCat(at, " names KV cache ",
                                      binding->index(), " of ",
                                      caches ? caches->size() : 0));
        const schema::KVCache *c = caches->Get(binding->index());
        size = c->bytes();
        memory = absl::StrCat("KV cache '", c->name() ? c->name()->str() : "",
                              "'");
        argument.cache = binding->index();
        break;
      }
      case schema::BindingMemory::Scratch:
        size = list->scratch_bytes();
        memory = absl::StrCat("the ", programName, " scratch");
        break;
      case schema::BindingMemory::Run:
        size = 16;
        memory = "the run record";
        break;
      default:
        return corrupt(absl::StrCat(at, " has unknown memory ",
                                    static_cast<int>(binding->memory())));
      }
      if (offset > size || bytes > size - offset)
        return corrupt(absl::StrCat(at, " (", bytes, " bytes at ", offset,
                                    ") lies outside ", memory, " of ", size,
                                    " bytes"));
      argument.offset += offset;
      plan.arguments.push_back(argument);
    }
    plan.dispatches.push_back(planned);
  }
  return plan;
}

LogitsRows prefillLogitsRows(bool lastRowProgram, bool allLogits,
                             bool lastChunk, bool wanted, int64_t rows) {
  LogitsRows result;
  if (lastRowProgram) {
    // The program's logits are one row, the chunk's last position's; only
    // the prompt's last position counts.
    result.count = wanted && lastChunk ? 1 : 0;
    return result;
  }
  result.from = allLogits ? 0 : (lastChunk ? rows - 1 : rows);
  result.count = wanted ? rows - result.from : 0;
  return result;
}

WeightsBuffer planWeightsBuffer(uintptr_t base, uint64_t bytes,
                                uint64_t pageSize) {
  WeightsBuffer result;
  // Metal buffers cannot be empty.
  result.length = bytes == 0 ? 16 : bytes;
  if (bytes == 0 || pageSize == 0 || base % pageSize != 0)
    return result;
  result.noCopy = true;
  result.length = (bytes + pageSize - 1) / pageSize * pageSize;
  return result;
}

} // namespace fmc::metal
