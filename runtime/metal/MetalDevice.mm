//===- MetalDevice.mm - the metal backend: a generic dispatch executor ----===//
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
// unified memory copied into private storage), every KV cache (linear ones
// of the context the device is opened with, BackendOptions::context) and the
// scratch (private storage, zeroed), and one 16-byte run record per program
// (shared); each program's dispatch list checked and flattened (MetalPlan).
//
// A run (a prefill chunk or a decode step) writes the token ids, positions
// and run record the session sets, encodes every dispatch into one command
// buffer with one serial compute encoder (Metal orders the dispatches and
// makes each one's writes visible to the next), commits it and waits; the
// logits are then read in place from the arena. Profiling commits each
// dispatch in a command buffer of its own and reports its GPU time.
//
// This file cannot be compiled on the Linux machines fmc is developed on;
// the SPIR-V its MSL is translated from runs on lavapipe through the vulkan
// backend in every test run, and MetalPlan.cpp is unit-tested everywhere.
// Everything above the device (chunks, logits rows, statistics) is the
// session's (runtime/Session.cpp), shared with the other backends.
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
#error "MetalDevice.mm is built with -fobjc-arc (see runtime/metal/CMakeLists.txt)"
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

/// A program of the artifact bound to the device's buffers.
struct BoundProgram {
  std::string name;
  DispatchPlan plan;
  ProgramIO io;
  id<MTLBuffer> run = nil; ///< Its run record (RunRecord).
};

class MetalDevice final : public Device {
public:
  MetalDevice(const Artifact &artifact, const BackendOptions &options)
      : artifact(artifact), profiling(options.profile),
        context(options.context) {}

  absl::Status init();

  std::string name() const override { return "metal"; }
  absl::Status setInputs(ProgramKind kind, const RunInputs &inputs) override;
  absl::Status execute(ProgramKind kind, LogitsRows logits,
                       std::vector<DispatchTime> &times) override;
  const float *logitsRow(ProgramKind kind, int64_t row) const override;
  absl::Status writeWeights(uint64_t offset,
                            absl::Span<const uint8_t> data) override;

private:
  absl::Status openDevice();
  absl::Status loadLibrary();
  absl::Status makePipelines();
  absl::Status allocate(id<MTLBuffer> __strong &buffer, uint64_t bytes,
                        MTLResourceOptions options, const std::string &what);
  absl::Status loadWeights(id<MTLBlitCommandEncoder> blit,
                           id<MTLBuffer> __strong &staging);
  absl::Status bind(ProgramKind kind);
  id<MTLBuffer> bufferOf(const BufferArgument &argument,
                         const BoundProgram &bound) const;
  void encode(id<MTLComputeCommandEncoder> encoder, const BoundProgram &bound,
              size_t from, size_t to) const;
  absl::Status finish(id<MTLCommandBuffer> commands, const std::string &what);

  const Artifact &artifact;
  bool profiling;
  /// BackendOptions::context: positions of the linear caches (0: compiled).
  int64_t context;
  const schema::Executable *exe = nullptr;

  id<MTLDevice> device = nil;
  std::string deviceName;
  id<MTLCommandQueue> queue = nil;
  id<MTLLibrary> library = nil;
  std::vector<id<MTLComputePipelineState>> pipelines; ///< Per entry point.
  id<MTLBuffer> arena = nil, weights = nil, scratch = nil;
  /// The weights are in private storage (written through blits).
  bool weightsPrivate = false;
  std::vector<id<MTLBuffer>> caches; ///< Per KV cache.

  /// Prefill, then decode (ProgramKind order).
  BoundProgram programs[2];
  int64_t vocab = 0;
};

/// The system's default device, or on macOS any device: command-line
/// processes on some macOS versions get no default one. Nil when none.
id<MTLDevice> findMetalDevice() {
  id<MTLDevice> found = MTLCreateSystemDefaultDevice();
#if TARGET_OS_OSX
  if (!found) {
    NSArray<id<MTLDevice>> *all = MTLCopyAllDevices();
    if (all.count > 0)
      found = all[0];
  }
#endif
  return found;
}

absl::Status MetalDevice::openDevice() {
  device = findMetalDevice();
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

absl::Status MetalDevice::loadLibrary() {
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

absl::Status MetalDevice::makePipelines() {
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

absl::Status MetalDevice::allocate(id<MTLBuffer> __strong &buffer,
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
absl::Status MetalDevice::loadWeights(id<MTLBlitCommandEncoder> blit,
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
    weightsPrivate = true;
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

/// Shared weights are written in place (through the artifact when the
/// buffer wraps its segment); private ones through a blit from a shared
/// copy of `data`.
absl::Status MetalDevice::writeWeights(uint64_t offset,
                                       absl::Span<const uint8_t> data) {
  if (data.empty())
    return absl::OkStatus();
  if (!weightsPrivate) {
    auto *contents = static_cast<uint8_t *>(weights.contents);
    const uint8_t *segment = artifact.weightsData();
    if (contents == segment)
      return artifact.overwriteWeights(offset, data);
    std::memcpy(contents + offset, data.data(), data.size());
    return absl::OkStatus();
  }
  id<MTLBuffer> staging = nil;
  if (auto s = allocate(staging, data.size(), MTLResourceStorageModeShared,
                        "fmc adapter staging");
      !s.ok())
    return s;
  std::memcpy(staging.contents, data.data(), data.size());
  id<MTLCommandBuffer> commands = [queue commandBuffer];
  id<MTLBlitCommandEncoder> blit = [commands blitCommandEncoder];
  [blit copyFromBuffer:staging
          sourceOffset:0
              toBuffer:weights
     destinationOffset:offset
                  size:data.size()];
  [blit endEncoding];
  return finish(commands, "writing adapter weights");
}

absl::Status MetalDevice::bind(ProgramKind kind) {
  BoundProgram &bound = programs[static_cast<size_t>(kind)];
  bound.name = programName(kind);
  bound.io = programIO(programOf(artifact.root(), kind));
  absl::StatusOr<DispatchPlan> plan =
      metal::planDispatches(artifact.root(), *exe, dispatchListOf(*exe, kind),
                            bound.name, context);
  if (!plan.ok())
    return plan.status();
  bound.plan = std::move(*plan);
  return allocate(bound.run, sizeof(RunRecord), MTLResourceStorageModeShared,
                  "fmc " + bound.name + " run record");
}

absl::Status MetalDevice::init() {
  const schema::Artifact &root = artifact.root();
  vocab = root.config()->vocab_size();
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
  for (ProgramKind kind : {ProgramKind::Prefill, ProgramKind::Decode})
    if (auto s = bind(kind); !s.ok())
      return s;

  uint64_t arenaBytes = sharedArenaBytes(root);
  uint64_t scratchBytes =
      std::max(programs[0].plan.scratchBytes, programs[1].plan.scratchBytes);
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
  // A linear cache of the context (the first slots of the kernels'
  // slot-major layout); planDispatches checked that every cache binding
  // starts inside it, as setBuffer:offset: needs.
  for (const schema::KVCache *c : *root.kv_caches()) {
    id<MTLBuffer> cache = nil;
    if (auto s = allocate(cache, cacheBytes(*c, context),
                          MTLResourceStorageModePrivate,
                          "fmc KV cache " +
                              (c->name() ? c->name()->str() : std::string()));
        !s.ok())
      return s;
    caches.push_back(cache);
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
  return absl::OkStatus();
}

id<MTLBuffer> MetalDevice::bufferOf(const BufferArgument &argument,
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
void MetalDevice::encode(id<MTLComputeCommandEncoder> encoder,
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

absl::Status MetalDevice::finish(id<MTLCommandBuffer> commands,
                                  const std::string &what) {
  [commands commit];
  [commands waitUntilCompleted];
  if (commands.status != MTLCommandBufferStatusCompleted)
    return absl::InternalError(absl::StrCat("metal: ", what, " failed on ",
                                            deviceName, ": ",
                                            describe(commands.error)));
  return absl::OkStatus();
}

absl::Status MetalDevice::setInputs(ProgramKind kind,
                                    const RunInputs &inputs) {
  // The GPU is idle (every run waits for its command buffer), so the CPU
  // may write the shared arena and run record.
  const BoundProgram &bound = programs[static_cast<size_t>(kind)];
  auto *arenaBytes = static_cast<uint8_t *>(arena.contents);
  std::memcpy(arenaBytes + bound.io.tokensOffset, inputs.tokens.data(),
              inputs.tokens.size() * sizeof(int32_t));
  std::memcpy(arenaBytes + bound.io.positionsOffset, inputs.positions.data(),
              inputs.positions.size() * sizeof(int32_t));
  std::memcpy(bound.run.contents, &inputs.record, sizeof(RunRecord));
  return absl::OkStatus();
}

/// Runs the program on its staged inputs; its logits are then in the arena
/// (logitsRow), every row of them, so the rows wanted need no copy.
absl::Status MetalDevice::execute(ProgramKind kind, LogitsRows /*wanted*/,
                                  std::vector<DispatchTime> &times) {
  const BoundProgram &bound = programs[static_cast<size_t>(kind)];
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
      times.push_back({bound.plan.dispatches[i].kernel,
                       commands.GPUEndTime - commands.GPUStartTime});
    }
  }
  return absl::OkStatus();
}

/// Valid until the next run writes the arena.
const float *MetalDevice::logitsRow(ProgramKind kind, int64_t row) const {
  const BoundProgram &bound = programs[static_cast<size_t>(kind)];
  const auto *arenaBytes = static_cast<const uint8_t *>(arena.contents);
  return reinterpret_cast<const float *>(arenaBytes + bound.io.logitsOffset) +
         row * vocab;
}

} // namespace

absl::StatusOr<std::unique_ptr<Device>>
createMetalDevice(const Artifact &artifact, const BackendOptions &options) {
  @autoreleasepool {
    auto device = std::make_unique<MetalDevice>(artifact, options);
    if (absl::Status s = device->init(); !s.ok())
      return s;
    return std::unique_ptr<Device>(std::move(device));
  }
}

absl::Status probeMetalDevice() {
  // openDevice's search, without a command queue.
  @autoreleasepool {
    id<MTLDevice> device = findMetalDevice();
    if (!device)
      return absl::UnavailableError(
          "no Metal device (MTLCreateSystemDefaultDevice returned none)");
    return absl::OkStatus();
  }
}

} // namespace fmc
