//===- TinyGpuArtifact.h - a hand-built artifact with a GPU executable ----===//
//
// A model small enough to reason about by hand, for the executable
// validation tests and the GPU backends' executor tests (no compiler
// needed): vocabulary and width 8, context 16, prefill chunks of 4 tokens.
//
//   tensor 0 'logits.weight' [8, 8] f32, the identity, at segment offset 0
//   tensor 1 'embed.table'   [8, 8] f32, table[t][v] = 10 t + v, at 256
//   KV cache 0 'cache'       linear f32, 16 positions of 1 head of 4
//   programs: embedding(tokens -> x), logits(x -> logits); the cpu backend
//   computes logits[r] = table[tokens[r]].
//
// Arena layout of a program of R rows: tokens at 0, positions at 64, x at
// 128, logits at tinyLogitsOffset(R).
//
// tinyCounterExecutable() is the executor test's dispatch list, the same
// shape for prefill and decode:
//   dispatch 0 'count' (grid 1, 8 invocations): scratch[v] = counter[v];
//     counter[v] += 1, where counter is 8 floats at byte 256 of the cache
//   dispatch 1 'rows' (grid R, 8 invocations each): row r < run[0] gets
//     logits[r][v] = table[tokens[r]][v] + positions[r] + scratch[v]
// so after k earlier runs, logits[r][v] = 10 tokens[r] + v + positions[r]
// + k: it checks the run record, token and position uploads, weights at a
// tensor offset, a cache binding at an offset that persists across runs
// and starts zeroed, scratch, barriers between dispatches and readback.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_TEST_UNIT_RUNTIME_TINYGPUARTIFACT_H
#define FMC_TEST_UNIT_RUNTIME_TINYGPUARTIFACT_H

#include "runtime/ArtifactChecksum.h"
#include "runtime/ArtifactFormat.h"
#include "runtime/schema/fmc_generated.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace fmc::test {

inline constexpr int64_t kTinyVocab = 8;
inline constexpr int64_t kTinyContext = 16;
inline constexpr int64_t kTinyPrefillRows = 4;

inline uint64_t tinyLogitsOffset(int64_t rows) {
  return 128 + (rows * kTinyVocab * 4 + 63) / 64 * 64;
}
inline uint64_t tinyArenaBytes(int64_t rows) {
  return tinyLogitsOffset(rows) + (rows * kTinyVocab * 4 + 63) / 64 * 64;
}

struct TinyBinding {
  schema::BindingMemory memory;
  uint32_t index;
  uint64_t offset, bytes;
};

struct TinyDispatch {
  uint32_t entry;
  std::vector<uint32_t> grid;
  std::vector<TinyBinding> bindings;
  uint32_t kernel = 0;
  bool collective = false;
};

struct TinyEntry {
  std::string name;
  std::vector<uint32_t> workgroupSize;
  uint32_t bindings;
};

struct TinyDispatchList {
  std::vector<TinyDispatch> dispatches;
  uint64_t scratchBytes = 0;
};

struct TinyExecutable {
  std::string target, format;
  std::vector<uint8_t> data;
  std::vector<TinyEntry> entries;
  bool hasLists = false;
  TinyDispatchList prefill, decode;
  std::string arch;
  bool programmaticDependentLaunch = false;
};

/// The counter dispatch list of a program of `rows` rows (see above).
inline TinyDispatchList tinyCounterList(int64_t rows) {
  using M = schema::BindingMemory;
  uint32_t r = static_cast<uint32_t>(rows);
  TinyDispatchList list;
  list.scratchBytes = 32;
  list.dispatches.push_back(
      {0, {1, 1, 1}, {{M::Caches, 0, 256, 32}, {M::Scratch, 0, 0, 32}}, 0});
  list.dispatches.push_back(
      {1,
       {r, 1, 1},
       {{M::Run, 0, 0, 16},
        {M::Arena, 0, 0, rows * 4ull},
        {M::Arena, 0, 64, rows * 4ull},
        {M::Weights, 1, 0, 256},
        {M::Scratch, 0, 0, 32},
        {M::Arena, 0, tinyLogitsOffset(rows), rows * kTinyVocab * 4ull}},
       1});
  return list;
}

/// A GPU executable running the counter lists over `code` (entry points
/// 'count' with 2 bindings and 'rows' with 6, workgroups of 8).
inline TinyExecutable tinyCounterExecutable(const std::string &target,
                                            const std::string &format,
                                            std::vector<uint8_t> code) {
  TinyExecutable exe;
  exe.target = target;
  exe.format = format;
  exe.data = std::move(code);
  exe.entries = {{"count", {8, 1, 1}, 2}, {"rows", {8, 1, 1}, 6}};
  exe.hasLists = true;
  exe.prefill = tinyCounterList(kTinyPrefillRows);
  exe.decode = tinyCounterList(1);
  return exe;
}

/// Where a part's all-reduce (buildTinyArtifact with allReduceRanks) puts
/// its sum of x: after the logits.
inline uint64_t tinySumOffset(int64_t rows) { return tinyArenaBytes(rows); }

/// The counter executable of a part of a split model: between 'count' and
/// 'rows', a collective dispatch sums x (arena 128) into the sum buffer
/// (program kernel 1, the all-reduce; 'rows' implements kernel 2).
inline TinyExecutable tinyCollectiveExecutable(const std::string &target,
                                               const std::string &format,
                                               std::vector<uint8_t> code) {
  using M = schema::BindingMemory;
  TinyExecutable exe = tinyCounterExecutable(target, format, std::move(code));
  for (auto [list, rows] : {std::pair<TinyDispatchList *, int64_t>{
                                &exe.prefill, kTinyPrefillRows},
                            {&exe.decode, 1}}) {
    uint64_t bytes = rows * kTinyVocab * 4ull;
    TinyDispatch sum{0, {}, {{M::Arena, 0, 128, bytes},
                             {M::Arena, 0, tinySumOffset(rows), bytes}},
                     1, true};
    list->dispatches.insert(list->dispatches.begin() + 1, sum);
    list->dispatches.back().kernel = 2;
  }
  return exe;
}

/// A SPIR-V header with no instructions: enough for validation.
inline std::vector<uint8_t> fakeSpirv() {
  const uint32_t words[] = {0x07230203u, 0x00010300u, 0, 8, 0};
  std::vector<uint8_t> bytes(sizeof(words));
  std::memcpy(bytes.data(), words, sizeof(words));
  return bytes;
}

/// The artifact file's bytes: the cpu executable, then `gpu` ones. With
/// `lastRow`, the prefill program puts a last_row kernel before the logits
/// (buffers 4 and 5 after the logits; its logits row 0 is the chunk's last
/// position on the cpu backend).
/// With `allReduceRanks` > 0, the artifact is rank 0's part of a model split
/// over that many ranks: after the embedding, an all-reduce (scale 1/2) sums
/// x into a buffer 'sum' at tinySumOffset(rows), which nothing reads.
/// With `loraSlots`, the artifact also has tensors 2 'logits.weight.lora_a'
/// [2, 8] and 3 'logits.weight.lora_b' [8, 2], F16 zeros at 512 and 576, and
/// those slots: kTinyLoraSlot makes them tensor 0's (which no kernel reads:
/// only slot handling is under test); others test the validator.
inline const schema::LoraSlot kTinyLoraSlot(0, 2, 3);
inline std::vector<uint8_t>
buildTinyArtifact(const std::vector<TinyExecutable> &gpu,
                  bool lastRow = false,
                  const std::vector<schema::LoraSlot> &loraSlots = {},
                  int allReduceRanks = 0) {
  using namespace flatbuffers;
  bool loraSlot = !loraSlots.empty();
  // Weights: the identity at 0, the table at 256 (and the slots' zeros).
  std::vector<uint8_t> weights(loraSlot ? 640 : 512);
  for (int64_t i = 0; i < kTinyVocab; ++i)
    for (int64_t j = 0; j < kTinyVocab; ++j) {
      float identity = i == j ? 1.0f : 0.0f;
      float table = static_cast<float>(10 * i + j);
      std::memcpy(&weights[(i * kTinyVocab + j) * 4], &identity, 4);
      std::memcpy(&weights[256 + (i * kTinyVocab + j) * 4], &table, 4);
    }
  uint64_t weightsOffset = kWeightSegmentAlignment;
  for (;;) {
    FlatBufferBuilder fbb;
    auto config = schema::CreateModelConfig(
        fbb, fbb.CreateString("tiny"), kTinyVocab, kTinyVocab, kTinyContext);
    std::vector<int64_t> shape = {kTinyVocab, kTinyVocab};
    std::vector<Offset<schema::Tensor>> tensors = {
        schema::CreateTensor(fbb, fbb.CreateString("logits.weight"),
                             schema::DType::F32, fbb.CreateVector(shape), 0,
                             256),
        schema::CreateTensor(fbb, fbb.CreateString("embed.table"),
                             schema::DType::F32, fbb.CreateVector(shape), 256,
                             256)};
    std::vector<schema::LoraSlot> slots = loraSlots;
    if (loraSlot) {
      std::vector<int64_t> a = {2, kTinyVocab}, b = {kTinyVocab, 2};
      tensors.push_back(schema::CreateTensor(
          fbb, fbb.CreateString("logits.weight.lora_a"), schema::DType::F16,
          fbb.CreateVector(a), 512, 32));
      tensors.push_back(schema::CreateTensor(
          fbb, fbb.CreateString("logits.weight.lora_b"), schema::DType::F16,
          fbb.CreateVector(b), 576, 32));
    }
    std::vector<Offset<schema::KVCache>> caches = {schema::CreateKVCache(
        fbb, fbb.CreateString("cache"), schema::CacheKind::Linear, kTinyContext,
        1, 4, schema::DType::F32, 2 * 4 * 4 * kTinyContext)};
    auto program = [&](const char *name, int64_t rows, bool withLastRow) {
      std::vector<Offset<schema::Buffer>> buffers = {
          schema::CreateBuffer(fbb, fbb.CreateString("tokens"),
                               schema::DType::I32, 1, 0),
          schema::CreateBuffer(fbb, fbb.CreateString("positions"),
                               schema::DType::I32, 1, 64),
          schema::CreateBuffer(fbb, fbb.CreateString("x"), schema::DType::F32,
                               kTinyVocab, 128),
          schema::CreateBuffer(fbb, fbb.CreateString("logits"),
                               schema::DType::F32, kTinyVocab,
                               tinyLogitsOffset(rows))};
      uint64_t arena = tinyArenaBytes(rows);
      std::vector<Offset<schema::Kernel>> kernels = {
          schema::CreateKernel(fbb, schema::KernelSpec::EmbeddingSpec,
                               schema::CreateEmbeddingSpec(fbb, 1).Union(),
                               fbb.CreateVector(std::vector<uint32_t>{0}),
                               fbb.CreateVector(std::vector<uint32_t>{2}))};
      uint32_t logitsInput = 2;
      if (allReduceRanks > 0) {
        buffers.push_back(schema::CreateBuffer(
            fbb, fbb.CreateString("sum"), schema::DType::F32, kTinyVocab,
            arena));
        arena += (rows * kTinyVocab * 4 + 63) / 64 * 64;
        kernels.push_back(schema::CreateKernel(
            fbb, schema::KernelSpec::AllReduceSpec,
            schema::CreateAllReduceSpec(fbb, allReduceRanks, 0.5f).Union(),
            fbb.CreateVector(std::vector<uint32_t>{2}),
            fbb.CreateVector(std::vector<uint32_t>{
                static_cast<uint32_t>(buffers.size() - 1)})));
      }
      if (withLastRow) {
        buffers.push_back(schema::CreateBuffer(
            fbb, fbb.CreateString("y"), schema::DType::F32, kTinyVocab, arena));
        arena += (rows * kTinyVocab * 4 + 63) / 64 * 64;
        buffers.push_back(
            schema::CreateBuffer(fbb, fbb.CreateString("last_position"),
                                 schema::DType::I32, 1, arena));
        arena += (rows * 4 + 63) / 64 * 64;
        kernels.push_back(schema::CreateKernel(
            fbb, schema::KernelSpec::LastRowSpec,
            schema::CreateLastRowSpec(fbb).Union(),
            fbb.CreateVector(std::vector<uint32_t>{2, 1}),
            fbb.CreateVector(std::vector<uint32_t>{4, 5})));
        logitsInput = 4;
      }
      kernels.push_back(schema::CreateKernel(
          fbb, schema::KernelSpec::LogitsSpec,
          schema::CreateLogitsSpec(fbb, 0).Union(),
          fbb.CreateVector(std::vector<uint32_t>{logitsInput}),
          fbb.CreateVector(std::vector<uint32_t>{3})));
      return schema::CreateProgram(fbb, fbb.CreateString(name), rows, arena,
                                   fbb.CreateVector(buffers),
                                   fbb.CreateVector(kernels), 0, 1, 3);
    };
    auto prefill = program("prefill", kTinyPrefillRows, lastRow);
    auto decode = program("decode", 1, false);
    auto list = [&](const TinyDispatchList &l) {
      std::vector<Offset<schema::Dispatch>> dispatches;
      for (const TinyDispatch &d : l.dispatches) {
        std::vector<schema::Binding> bindings;
        for (const TinyBinding &b : d.bindings)
          bindings.emplace_back(b.offset, b.bytes, b.index, b.memory);
        dispatches.push_back(schema::CreateDispatch(
            fbb, d.entry, d.grid.empty() ? 0 : fbb.CreateVector(d.grid),
            fbb.CreateVectorOfStructs(bindings), d.kernel, d.collective));
      }
      return schema::CreateDispatchList(fbb, fbb.CreateVector(dispatches),
                                        l.scratchBytes);
    };
    std::vector<Offset<schema::Executable>> executables = {
        schema::CreateExecutable(fbb, fbb.CreateString("cpu"),
                                 fbb.CreateString("none"),
                                 fbb.CreateVector(std::vector<uint8_t>{}))};
    for (const TinyExecutable &exe : gpu) {
      std::vector<Offset<schema::EntryPoint>> entries;
      for (const TinyEntry &e : exe.entries)
        entries.push_back(schema::CreateEntryPoint(
            fbb, fbb.CreateString(e.name), fbb.CreateVector(e.workgroupSize),
            e.bindings));
      Offset<schema::DispatchList> prefillList, decodeList;
      if (exe.hasLists) {
        prefillList = list(exe.prefill);
        decodeList = list(exe.decode);
      }
      executables.push_back(schema::CreateExecutable(
          fbb, fbb.CreateString(exe.target), fbb.CreateString(exe.format),
          fbb.CreateVector(exe.data),
          entries.empty() ? 0 : fbb.CreateVector(entries), prefillList,
          decodeList, exe.arch.empty() ? 0 : fbb.CreateString(exe.arch),
          exe.programmaticDependentLaunch));
    }
    schema::Checksums checksums(0, 0);
    auto root = schema::CreateArtifact(
        fbb, kArtifactFormatVersion, fbb.CreateString("tiny"), config, 0,
        fbb.CreateVector(tensors), fbb.CreateVector(caches), prefill, decode,
        fbb.CreateVector(executables), weightsOffset, weights.size(),
        &checksums, 0, 0, 0, slots.empty() ? 0 : fbb.CreateVectorOfStructs(slots),
        allReduceRanks > 0
            ? schema::CreateTrackPartition(fbb, allReduceRanks, 0, 1)
            : 0);
    schema::FinishSizePrefixedArtifactBuffer(fbb, root);
    if (fbb.GetSize() > weightsOffset) {
      weightsOffset = (fbb.GetSize() + kWeightSegmentAlignment - 1) /
                      kWeightSegmentAlignment * kWeightSegmentAlignment;
      continue;
    }
    std::vector<uint8_t> file(weightsOffset + weights.size(), 0);
    std::memcpy(file.data(), fbb.GetBufferPointer(), fbb.GetSize());
    std::memcpy(file.data() + weightsOffset, weights.data(), weights.size());
    sealHeader(file.data(), fbb.GetSize(),
               weightsChecksum(weights.data(), weights.size()));
    return file;
  }
}

} // namespace fmc::test

#endif // FMC_TEST_UNIT_RUNTIME_TINYGPUARTIFACT_H
