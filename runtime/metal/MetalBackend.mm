//===- MetalBackend.mm - the metal backend: a generic dispatch executor ---===//
//
// Objective-C++ (ARC) against Metal, built on Apple platforms only. It runs
// the artifact's "metal" executable (MSL source compiled at load, or a
// metallib) and knows no kernel family, like the cuda and vulkan backends.
//
// At load: the system's default MTLDevice and one command queue; the library
// and one compute pipeline per entry point; Metal buffers for the arena (the
// larger of the two programs', shared storage: the CPU writes token ids and
// positions into it and reads logits out of it), the weight segment (wrapped
// without a copy where its memory allows, else copied; on a GPU without
// unified memory copied into private storage), every KV cache and the
// scratch (private storage, zeroed), and one 16-byte run record per program
// (shared); each program's dispatch list checked and flattened (MetalPlan).
//
// A run (a prefill chunk or a decode step) writes the token ids, positions
// and the run record [rows, 1, 0, 0], encodes every dispatch into one
// command buffer with one serial compute encoder (Metal orders the
// dispatches and makes each one's writes visible to the next), commits it
// and waits; the logits are then read in place from the arena. Profiling
// commits each dispatch in a command buffer of its own and sums the GPU
// times per kernel family.
//
// This file cannot be compiled on the Linux machines fmc is developed on;
// the SPIR-V its MSL is translated from runs on lavapipe through the vulkan
// backend in every test run, and MetalPlan.cpp is unit-tested everywhere.
//
//===----------------------------------------------------------------------===//

#include "runtime/Backend.h"
#include "runtime/metal/MetalPlan.h"

#include "absl/strings/str_cat.h"

#import <Foundation/Foundation.h>
#import <Metal/Metal.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#if !__has_feature(objc_arc)
#error "MetalBackend.mm is built with -fobjc-arc (see runtime/CMakeLists.txt)"
#endif

namespace fmc {

namespace {

using metal::BufferArgument;
using metal::DispatchPlan;
using metal::PlannedDispatch;

std::string describe(NSError *error) {
  if (!error)
    return "no reason given";
  const char *text = error.localizedDescription.UTF8String;
  return text ? text : "no reason given";
}

std::string str(NSString *s) {
  const char *text = s ? s.UTF8String : nullptr;
  return text ? text : "";
}

MTLSize size(const std::array<uint32_t, 3> &d) {
  return MTLSizeMake(d[0], d[1], d[2]);
}

/// A program of the artifact bound to the backend's buffers.
struct BoundProgram {
  std::string name;
  const schema::Program *program = nullptr;
  DispatchPlan plan;
  id<MTLBuffer> run = nil; ///< Its run record: [rows, 1, 0, 0] as i32.
};

class MetalBackend final : public Backend {
public:
  MetalBackend(const Artifact &artifact, const BackendOptions &options)
      : artifact(artifact), profiling(options.profile) {}

  absl::Status init();

  std::string name() const override { return "metal"; }
  absl::Status prefill(absl::Span<const int32_t> tokens, int64_t start,
                       bool allLogits, const LogitsCallback &onLogits) override;
  absl::StatusOr<const float *> decode(int32_t token,
                                       int64_t position) override;
  BackendMemory memory() const override { return mem; }
  bool prefillLogitsLastOnly() const override {
    return prefillProgram.plan.lastRow;
  }
  std::vector<KernelProfile> profile() const override;

private:
  absl::Status openDevice();
  absl::Status loadLibrary();
  absl::Status makePipelines();
  absl::Status allocate(id<MTLBuffer> __strong &buffer, uint64_t bytes,
                        MTLResourceOptions options, const std::string &what);
  absl::Status loadWeights(id<MTLBlitCommandEncoder> blit,
                           id<MTLBuffer> __strong &staging);
  absl::Status bind(BoundProgram &bound, const schema::Program &program,
                    const schema::DispatchList *list, const std::string &name);
  id<MTLBuffer> bufferOf(const BufferArgument &argument,
                         const BoundProgram &bound) const;
  void encode(id<MTLComputeCommandEncoder> encoder, const BoundProgram &bound,
              size_t from, size_t to) const;
  absl::Status finish(id<MTLCommandBuffer> commands, const std::string &what);
  absl::Status execute(BoundProgram &bound, int64_t rows,
                       const int32_t *tokens, const int32_t *positions);
  const float *logitsRow(const BoundProgram &bound, int64_t row) const;
  absl::Status checkInputs(absl::Span<const int32_t> tokens,
                           int64_t start) const;

  const Artifact &artifact;
  bool profiling;
  const schema::Executable *exe = nullptr;

  id<MTLDevice> device = nil;
  std::string deviceName;
  id<MTLCommandQueue> queue = nil;
  id<MTLLibrary> library = nil;
  std::vector<id<MTLComputePipelineState>> pipelines; ///< Per entry point.
  id<MTLBuffer> arena = nil, weights = nil, scratch = nil;
  std::vector<id<MTLBuffer>> caches; ///< Per KV cache.

  BoundProgram prefillProgram, decodeProgram;
  int64_t vocab = 0, maxContext = 0;
  BackendMemory mem;
  // Per KernelSpec value: dispatches and GPU seconds.
  KernelFamilyTimes familyTimes;
};

std::vector<KernelProfile> MetalBackend::profile() const {
  return familyTimes.profile();
}

absl::Status MetalBackend::openDevice() {
  device = MTLCreateSystemDefaultDevice();
#if TARGET_OS_OSX
  // Command-line processes on some macOS versions get no default device;
  // any device will do.
  if (!device) {
    NSArray<id<MTLDevice>> *all = MTLCopyAllDevices();
    if (all.count > 0)
      device = all[0];
  }
#endif
  if (!device)
    return absl::UnavailableError("no Metal device (MTLCreateSystemDefaultDevice "
                                  "returned none)");
  deviceName = str(device.name);
  queue = [device newCommandQueue];
  if (!queue)
    return absl::InternalError(
        absl::StrCat("metal: cannot create a command queue on ", deviceName));
  queue.label = @"fmc";
  return absl::OkStatus();
}

absl::Status MetalBackend::loadLibrary() {
  const flatbuffers::Vector<uint8_t> *code = exe->data();
  NSError *error = nil;
  if (exe->format()->str() == "metallib") {
    // dispatch_data_create copies the bytes (the default destructor).
    dispatch_data_t bytes =
        dispatch_data_create(code->data(), code->size(), nullptr,
                             DISPATCH_DATA_DESTRUCTOR_DEFAULT);
    library = [device newLibraryWithData:bytes error:&error];
    if (!library)
      return absl::FailedPreconditionError(
          absl::StrCat("metal: cannot load the artifact's metallib on ",
                       deviceName, ": ", describe(error)));
    return absl::OkStatus();
  }
  NSString *source = [[NSString alloc] initWithBytes:code->data()
                                              length:code->size()
                                            encoding:NSUTF8StringEncoding];
  if (!source)
    return absl::DataLossError(
        "corrupt artifact: metal executable: the MSL source is not UTF-8");
  MTLCompileOptions *options = [[MTLCompileOptions alloc] init];
  // lowering/metal writes MSL 3.0.
  if (@available(macOS 13.0, iOS 16.0, *)) {
    options.languageVersion = MTLLanguageVersion3_0;
  } else {
    return absl::FailedPreconditionError(
        "metal: the artifact's MSL is version 3.0, which needs macOS 13 or "
        "iOS 16");
  }
  // IEEE float semantics and precise math functions, as the same kernels
  // have in SPIR-V (which the tests run on lavapipe against the cpu
  // backend); fast math would change softmax and norm results.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
  options.fastMathEnabled = NO;
#pragma clang diagnostic pop
  library = [device newLibraryWithSource:source options:options error:&error];
  if (!library)
    return absl::FailedPreconditionError(
        absl::StrCat("metal: cannot compile the artifact's MSL on ",
                     deviceName, ": ", describe(error)));
  return absl::OkStatus();
}

absl::Status MetalBackend::makePipelines() {
  for (const schema::EntryPoint *entry : *exe->entry_points()) {
    std::string entryName = entry->name()->str();
    NSString *name = [NSString stringWithUTF8String:entryName.c_str()];
    id<MTLFunction> function = [library newFunctionWithName:name];
    if (!function)
      return absl::DataLossError(
          absl::StrCat("corrupt artifact: metal executable: entry point '",
                       entryName, "' is not a function of its code"));
    NSError *error = nil;
    id<MTLComputePipelineState> pipeline =
        [device newComputePipelineStateWithFunction:function error:&error];
    if (!pipeline)
      return absl::FailedPreconditionError(
          absl::StrCat("metal: cannot create the compute pipeline of '",
                       entryName, "' on ", deviceName, ": ", describe(error)));
    uint64_t threads = 1;
    for (uint32_t d : *entry->workgroup_size())
      threads *= d;
    if (pipeline.maxTotalThreadsPerThreadgroup < threads)
      return absl::FailedPreconditionError(absl::StrCat(
          "metal: kernel '", entryName, "' runs workgroups of ", threads,
          " threads; on ", deviceName, " its pipeline runs at most ",
          static_cast<uint64_t>(pipeline.maxTotalThreadsPerThreadgroup)));
    pipelines.push_back(pipeline);
  }
  return absl::OkStatus();
}

absl::Status MetalBackend::allocate(id<MTLBuffer> __strong &buffer,
                                    uint64_t bytes, MTLResourceOptions options,
                                    const std::string &what) {
  // Not empty, and whole 16-byte units: blit fills and copies take whole
  // 4-byte words on macOS.
  bytes = (std::max<uint64_t>(bytes, 16) + 15) / 16 * 16;
  if (bytes > device.maxBufferLength)
    return absl::ResourceExhaustedError(absl::StrCat(
        "metal: ", what, " needs ", bytes, " bytes, more than one buffer on ",
        deviceName, " holds (", static_cast<uint64_t>(device.maxBufferLength),
        ")"));
  buffer = [device newBufferWithLength:bytes options:options];
  if (!buffer)
    return absl::ResourceExhaustedError(absl::StrCat(
        "metal: cannot allocate ", bytes, " bytes for ", what, " on ",
        deviceName));
  buffer.label = [NSString stringWithUTF8String:what.c_str()];
  return absl::OkStatus();
}

/// The weight segment as one buffer. With unified memory the GPU reads the
/// loaded segment in place (or a shared copy when its memory cannot be
/// wrapped); otherwise it goes to private storage through `blit`, from a
/// shared copy `staging` that must live until the blit has run.
absl::Status MetalBackend::loadWeights(id<MTLBlitCommandEncoder> blit,
                                       id<MTLBuffer> __strong &staging) {
  const schema::Artifact &root = artifact.root();
  uint64_t bytes = artifact.weightsBytes();
  if (bytes == 0 || !root.tensors() || root.tensors()->size() == 0)
    return allocate(weights, 16, MTLResourceStorageModeShared, "fmc weights");
  // Tensor 0 lies at its offset in the segment: that gives the segment.
  const uint8_t *segment =
      static_cast<const uint8_t *>(artifact.tensorData(0)) -
      root.tensors()->Get(0)->offset();
  if (!device.hasUnifiedMemory) {
    if (auto s = allocate(staging, bytes, MTLResourceStorageModeShared,
                          "fmc weights staging");
        !s.ok())
      return s;
    std::memcpy(staging.contents, segment, bytes);
    if (auto s = allocate(weights, bytes, MTLResourceStorageModePrivate,
                          "fmc weights");
        !s.ok())
      return s;
    // Both buffers were rounded up alike; blits copy whole 4-byte words.
    [blit copyFromBuffer:staging
            sourceOffset:0
                toBuffer:weights
       destinationOffset:0
                    size:std::min(staging.length, weights.length)];
    return absl::OkStatus();
  }
  if (bytes > device.maxBufferLength)
    return absl::ResourceExhaustedError(absl::StrCat(
        "metal: the weights are ", bytes, " bytes, more than one buffer on ",
        deviceName, " holds (", static_cast<uint64_t>(device.maxBufferLength),
        ")"));
  metal::WeightsBuffer plan = metal::planWeightsBuffer(
      reinterpret_cast<uintptr_t>(segment), bytes,
      static_cast<uint64_t>(getpagesize()));
  if (plan.noCopy && plan.length <= device.maxBufferLength)
    // Kernels only read weights: the (read-only) mapping is never written.
    weights = [device newBufferWithBytesNoCopy:const_cast<uint8_t *>(segment)
                                        length:plan.length
                                       options:MTLResourceStorageModeShared
                                   deallocator:nil];
  if (!weights)
    weights = [device newBufferWithBytes:segment
                                  length:bytes
                                 options:MTLResourceStorageModeShared];
  if (!weights)
    return absl::ResourceExhaustedError(
        absl::StrCat("metal: cannot make a buffer of the ", bytes,
                     " bytes of weights on ", deviceName));
  weights.label = @"fmc weights";
  return absl::OkStatus();
}

absl::Status MetalBackend::bind(BoundProgram &bound,
                                const schema::Program &program,
                                const schema::DispatchList *list,
                                const std::string &name) {
  bound.name = name;
  bound.program = &program;
  absl::StatusOr<DispatchPlan> plan =
      metal::planDispatches(artifact.root(), *exe, program, list, name);
  if (!plan.ok())
    return plan.status();
  bound.plan = std::move(*plan);
  if (bound.plan.maxTokens < 1)
    return absl::DataLossError(absl::StrCat(
        "corrupt artifact: the ", name, " program runs ",
        bound.plan.maxTokens, " tokens at a time"));
  return allocate(bound.run, 16, MTLResourceStorageModeShared,
                  "fmc " + name + " run record");
}

absl::Status MetalBackend::init() {
  const schema::Artifact &root = artifact.root();
  vocab = root.config()->vocab_size();
  maxContext = root.config()->max_context();
  absl::StatusOr<const schema::Executable *> found =
      metal::findMetalExecutable(root);
  if (!found.ok())
    return found.status();
  exe = *found;
  if (auto s = openDevice(); !s.ok())
    return s;
  if (auto s = loadLibrary(); !s.ok())
    return s;
  if (auto s = makePipelines(); !s.ok())
    return s;
  if (auto s = bind(prefillProgram, *root.prefill(), exe->prefill(), "prefill");
      !s.ok())
    return s;
  if (auto s = bind(decodeProgram, *root.decode(), exe->decode(), "decode");
      !s.ok())
    return s;

  uint64_t arenaBytes =
      std::max(root.prefill()->arena_bytes(), root.decode()->arena_bytes());
  uint64_t scratchBytes = std::max(prefillProgram.plan.scratchBytes,
                                   decodeProgram.plan.scratchBytes);
  if (auto s = allocate(arena, arenaBytes, MTLResourceStorageModeShared,
                        "fmc arena");
      !s.ok())
    return s;
  // Zeroed like the cpu backend's: a stray read sees zeros, not old memory.
  std::memset(arena.contents, 0, arena.length);
  if (auto s = allocate(scratch, scratchBytes, MTLResourceStorageModePrivate,
                        "fmc scratch");
      !s.ok())
    return s;
  for (const schema::KVCache *c : *root.kv_caches()) {
    id<MTLBuffer> cache = nil;
    if (auto s = allocate(cache, c->bytes(), MTLResourceStorageModePrivate,
                          "fmc KV cache " +
                              (c->name() ? c->name()->str() : std::string()));
        !s.ok())
      return s;
    caches.push_back(cache);
    mem.kvBytesTotal += c->bytes() - c->scale_bytes();
    mem.kvScaleBytesTotal += c->scale_bytes();
    if (c->kind() != schema::CacheKind::Ring) {
      mem.kvBytesPerToken += (c->bytes() - c->scale_bytes()) / c->capacity();
      mem.kvScaleBytesPerToken += c->scale_bytes() / c->capacity();
    }
  }

  // One blit pass: zero the caches and the scratch (private storage, which
  // the CPU cannot write), and copy the weights where they go to private
  // storage.
  @autoreleasepool {
    id<MTLCommandBuffer> commands = [queue commandBuffer];
    commands.label = @"fmc load";
    id<MTLBlitCommandEncoder> blit = [commands blitCommandEncoder];
    id<MTLBuffer> staging = nil;
    absl::Status loaded = loadWeights(blit, staging);
    for (id<MTLBuffer> cache : caches)
      [blit fillBuffer:cache range:NSMakeRange(0, cache.length) value:0];
    [blit fillBuffer:scratch range:NSMakeRange(0, scratch.length) value:0];
    [blit endEncoding];
    // Commit even after a failure: an encoded command buffer must not be
    // dropped uncommitted.
    absl::Status done = finish(commands, "loading the model");
    if (!loaded.ok())
      return loaded;
    if (!done.ok())
      return done;
  }
  mem.weightsBytes = artifact.weightsBytes();
  mem.arenaBytes = arenaBytes;
  return absl::OkStatus();
}

id<MTLBuffer> MetalBackend::bufferOf(const BufferArgument &argument,
                                     const BoundProgram &bound) const {
  switch (argument.memory) {
  case schema::BindingMemory::Arena:
    return arena;
  case schema::BindingMemory::Weights:
    return weights;
  case schema::BindingMemory::Caches:
    return caches[argument.cache];
  case schema::BindingMemory::Scratch:
    return scratch;
  case schema::BindingMemory::Run:
    return bound.run;
  }
  return nil; // planDispatches admits no other memory.
}

/// Encodes dispatches [from, to) of `bound`: binding i of a dispatch is
/// buffer index i of its kernel ([[buffer(i)]] in the MSL).
void MetalBackend::encode(id<MTLComputeCommandEncoder> encoder,
                          const BoundProgram &bound, size_t from,
                          size_t to) const {
  id<MTLComputePipelineState> current = nil;
  for (size_t i = from; i < to; ++i) {
    const PlannedDispatch &d = bound.plan.dispatches[i];
    if (pipelines[d.entry] != current) {
      current = pipelines[d.entry];
      [encoder setComputePipelineState:current];
    }
    for (uint32_t a = 0; a < d.arguments; ++a) {
      const BufferArgument &argument = bound.plan.arguments[d.firstArgument + a];
      [encoder setBuffer:bufferOf(argument, bound)
                  offset:argument.offset
                 atIndex:a];
    }
    [encoder dispatchThreadgroups:size(d.threadgroups)
            threadsPerThreadgroup:size(d.threadsPerThreadgroup)];
  }
}

absl::Status MetalBackend::finish(id<MTLCommandBuffer> commands,
                                  const std::string &what) {
  [commands commit];
  [commands waitUntilCompleted];
  if (commands.status != MTLCommandBufferStatusCompleted)
    return absl::InternalError(absl::StrCat("metal: ", what, " failed on ",
                                            deviceName, ": ",
                                            describe(commands.error)));
  return absl::OkStatus();
}

/// Runs `bound` on `rows` token ids and positions; its logits are then in
/// the arena (logitsRow).
absl::Status MetalBackend::execute(BoundProgram &bound, int64_t rows,
                                   const int32_t *tokens,
                                   const int32_t *positions) {
  // The GPU is idle (every run waits for its command buffer), so the CPU
  // may write the shared arena and run record.
  auto *arenaBytes = static_cast<uint8_t *>(arena.contents);
  std::memcpy(arenaBytes + bound.plan.tokensOffset, tokens,
              rows * sizeof(int32_t));
  std::memcpy(arenaBytes + bound.plan.positionsOffset, positions,
              rows * sizeof(int32_t));
  auto *run = static_cast<int32_t *>(bound.run.contents);
  run[0] = static_cast<int32_t>(rows);
  run[1] = 1;
  run[2] = run[3] = 0;

  size_t count = bound.plan.dispatches.size();
  @autoreleasepool {
    if (!profiling) {
      // Every buffer and pipeline outlives the command buffer.
      id<MTLCommandBuffer> commands = [queue commandBufferWithUnretainedReferences];
      commands.label = [NSString stringWithUTF8String:bound.name.c_str()];
      id<MTLComputeCommandEncoder> encoder =
          [commands computeCommandEncoderWithDispatchType:MTLDispatchTypeSerial];
      encode(encoder, bound, 0, count);
      [encoder endEncoding];
      return finish(commands, "the " + bound.name + " program");
    }
    for (size_t i = 0; i < count; ++i) {
      id<MTLCommandBuffer> commands = [queue commandBufferWithUnretainedReferences];
      id<MTLComputeCommandEncoder> encoder =
          [commands computeCommandEncoderWithDispatchType:MTLDispatchTypeSerial];
      encode(encoder, bound, i, i + 1);
      [encoder endEncoding];
      if (auto s = finish(commands, absl::StrCat("the ", bound.name,
                                                 " program's dispatch ", i));
          !s.ok())
        return s;
      uint32_t kernel = bound.plan.dispatches[i].kernel;
      familyTimes.add(bound.program->kernels()->Get(kernel)->spec_type(),
                      commands.GPUEndTime - commands.GPUStartTime);
    }
  }
  return absl::OkStatus();
}

const float *MetalBackend::logitsRow(const BoundProgram &bound,
                                     int64_t row) const {
  const auto *arenaBytes = static_cast<const uint8_t *>(arena.contents);
  return reinterpret_cast<const float *>(arenaBytes + bound.plan.logitsOffset) +
         row * vocab;
}

absl::Status MetalBackend::checkInputs(absl::Span<const int32_t> tokens,
                                       int64_t start) const {
  return checkRunInputs(tokens, start, vocab, maxContext);
}

absl::Status MetalBackend::prefill(absl::Span<const int32_t> tokens,
                                   int64_t start, bool allLogits,
                                   const LogitsCallback &onLogits) {
  if (auto s = checkInputs(tokens, start); !s.ok())
    return s;
  BoundProgram &p = prefillProgram;
  int64_t n = tokens.size();
  std::vector<int32_t> positions(std::min<int64_t>(n, p.plan.maxTokens));
  for (int64_t done = 0; done < n; done += p.plan.maxTokens) {
    int64_t rows = std::min(p.plan.maxTokens, n - done);
    bool lastChunk = done + rows == n;
    for (int64_t i = 0; i < rows; ++i)
      positions[i] = static_cast<int32_t>(start + done + i);
    if (auto s = execute(p, rows, tokens.data() + done, positions.data());
        !s.ok())
      return s;
    metal::LogitsRows wanted = metal::prefillLogitsRows(
        p.plan.lastRow, allLogits, lastChunk, static_cast<bool>(onLogits),
        rows);
    if (p.plan.lastRow) {
      // One logits row: the prompt's last position's.
      if (wanted.count)
        onLogits(start + n - 1, logitsRow(p, 0));
      continue;
    }
    for (int64_t r = 0; r < wanted.count; ++r)
      onLogits(start + done + wanted.from + r,
               logitsRow(p, wanted.from + r));
  }
  return absl::OkStatus();
}

absl::StatusOr<const float *> MetalBackend::decode(int32_t token,
                                                   int64_t position) {
  if (auto s = checkInputs({&token, 1}, position); !s.ok())
    return s;
  int32_t pos = static_cast<int32_t>(position);
  if (auto s = execute(decodeProgram, 1, &token, &pos); !s.ok())
    return s;
  // Valid until the next run writes the arena.
  return logitsRow(decodeProgram, 0);
}

} // namespace

absl::StatusOr<std::unique_ptr<Backend>>
createMetalBackend(const Artifact &artifact, const BackendOptions &options) {
  @autoreleasepool {
    auto backend = std::make_unique<MetalBackend>(artifact, options);
    if (absl::Status s = backend->init(); !s.ok())
      return s;
    return std::unique_ptr<Backend>(std::move(backend));
  }
}

} // namespace fmc
