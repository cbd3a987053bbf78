//===- AdapterWriter.cpp - compile a PEFT LoRA adapter for a base ---------===//

#include "lowering/artifact/AdapterWriter.h"

#include "dialects/fm/IR/LoraSlotNames.h"
#include "lowering/quant/QuantMath.h"
#include "runtime/Artifact.h"
#include "runtime/ArtifactFormat.h"
#include "runtime/schema/adapter_generated.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace llvm;

namespace fmc::artifact {

namespace {

Error fail(const Twine &message) {
  return createStringError(inconvertibleErrorCode(), message);
}

/// A tensor's values as f32, read from its file.
Expected<std::vector<float>> readFloats(const import::TensorRef &tensor) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> slice = MemoryBuffer::getFileSlice(
      tensor.file, tensor.bytes, tensor.offset, /*IsVolatile=*/false);
  if (!slice)
    return fail("cannot read tensor '" + tensor.name + "' of '" + tensor.file +
                "': " + slice.getError().message());
  const char *bytes = (*slice)->getBufferStart();
  size_t count = 1;
  for (int64_t d : tensor.shape)
    count *= static_cast<size_t>(d);
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) {
    uint16_t half;
    switch (tensor.dtype) {
    case import::DType::F32:
      std::memcpy(&values[i], bytes + 4 * i, 4);
      break;
    case import::DType::F16:
      std::memcpy(&half, bytes + 2 * i, 2);
      values[i] = quant::halfToFloat(half);
      break;
    default: // BF16, as readPeftAdapter checked.
      std::memcpy(&half, bytes + 2 * i, 2);
      values[i] = quant::bfloatToFloat(half);
      break;
    }
  }
  return values;
}

struct Slot {
  const schema::LoraSlot *slot;
  int64_t rank, in, out;
};

} // namespace

Expected<AdapterSummary> writeAdapter(const import::PeftAdapter &adapter,
                                      StringRef basePath, StringRef outPath,
                                      StringRef name) {
  ArtifactOptions options;
  options.weights = WeightLoading::Map; // Only the header is read.
  absl::StatusOr<std::unique_ptr<Artifact>> opened =
      Artifact::open(basePath.str(), options);
  if (!opened.ok())
    return fail("--base: " + std::string(opened.status().message()));
  const schema::Artifact &base = (*opened)->root();
  if (!base.lora_slots() || base.lora_slots()->size() == 0)
    return fail("--base " + basePath +
                " has no LoRA slots: compile the base with --lora-rank "
                "(and --lora-targets) to apply adapters to it");
  const auto &tensors = *base.tensors();
  StringMap<Slot> slots;
  int64_t slotRank = 0;
  for (const schema::LoraSlot *slot : *base.lora_slots()) {
    const schema::Tensor *w = tensors.Get(slot->weight());
    const schema::Tensor *a = tensors.Get(slot->a());
    Slot entry{slot, a->shape()->Get(0), w->shape()->Get(1),
               w->shape()->Get(0)};
    slotRank = std::max(slotRank, entry.rank);
    slots[mlir::fm::loraModuleOf(w->name()->string_view())] = entry;
  }
  StringMap<bool> baseTensors;
  for (const schema::Tensor *t : tensors)
    baseTensors[t->name()->string_view()] = true;

  flatbuffers::FlatBufferBuilder fbb(1 << 20);
  std::vector<uint8_t> data;
  std::vector<flatbuffers::Offset<schema::AdapterTensor>> entries;
  auto append = [&](uint32_t tensor, const std::vector<uint16_t> &halves) {
    uint64_t offset = data.size();
    const auto *bytes = reinterpret_cast<const uint8_t *>(halves.data());
    data.insert(data.end(), bytes, bytes + halves.size() * 2);
    entries.push_back(schema::CreateAdapterTensor(
        fbb, tensor, fbb.CreateString(tensors.Get(tensor)->name()->str()),
        offset, halves.size() * 2));
  };
  int64_t largestRank = 0;
  double largestAlpha = 0;
  for (const import::LoraModule &module : adapter.modules) {
    auto it = slots.find(module.module);
    if (it == slots.end()) {
      if (baseTensors.contains(module.module + ".weight"))
        return fail("adapter module '" + module.module + "' has no LoRA slot "
                    "in " + basePath +
                    ": compile the base with --lora-targets naming it");
      return fail("adapter module '" + module.module +
                  "' is not a linear layer of " + basePath +
                  " (the adapter was trained for another model)");
    }
    const Slot &slot = it->second;
    if (module.a.shape[1] != slot.in || module.b.shape[0] != slot.out)
      return fail("adapter module '" + module.module + "' maps " +
                  Twine(module.a.shape[1]) + " -> " + Twine(module.b.shape[0]) +
                  " features, its base linear " + Twine(slot.in) + " -> " +
                  Twine(slot.out) + " (the adapter was trained for another "
                  "model)");
    if (module.rank > slot.rank)
      return fail("adapter module '" + module.module + "' has rank " +
                  Twine(module.rank) + ", more than the base's LoRA slots (" +
                  Twine(slot.rank) + "): compile the base with --lora-rank " +
                  Twine(module.rank) + " or more");
    largestRank = std::max(largestRank, module.rank);
    largestAlpha = std::max(largestAlpha, module.alpha);
    Expected<std::vector<float>> a = readFloats(module.a);
    if (!a)
      return a.takeError();
    Expected<std::vector<float>> b = readFloats(module.b);
    if (!b)
      return b.takeError();
    // A [rank, in] into the slot's [slotRank, in]: extra rows stay zero.
    std::vector<uint16_t> slotA(slot.rank * slot.in, 0);
    for (int64_t i = 0; i < module.rank * slot.in; ++i)
      slotA[i] = quant::floatToHalf((*a)[i]);
    // scale * B [out, rank] into [out, slotRank]: extra columns stay zero.
    std::vector<uint16_t> slotB(slot.out * slot.rank, 0);
    for (int64_t o = 0; o < slot.out; ++o)
      for (int64_t j = 0; j < module.rank; ++j)
        slotB[o * slot.rank + j] = quant::floatToHalf(static_cast<float>(
            module.scale * (*b)[o * module.rank + j]));
    append(slot.slot->a(), slotA);
    append(slot.slot->b(), slotB);
  }

  std::string adapterName =
      name.empty() ? sys::path::filename(
                         StringRef(adapter.directory).rtrim("/")).str()
                   : name.str();
  auto root = schema::CreateAdapter(
      fbb, kAdapterFormatVersion, fbb.CreateString("fmc-compile"),
      fbb.CreateString(adapterName),
      base.checksums() ? base.checksums()->weights() : 0, tensors.size(),
      largestRank, static_cast<float>(largestAlpha),
      fbb.CreateVector(entries), fbb.CreateVector(data));
  schema::FinishSizePrefixedAdapterBuffer(fbb, root);

  AdapterSummary summary;
  summary.modules = adapter.modules.size();
  summary.baseSlots = base.lora_slots()->size();
  summary.slotRank = slotRank;
  summary.fileBytes = fbb.GetSize();
  if (Error err = writeToOutput(outPath, [&](raw_ostream &os) {
        os.write(reinterpret_cast<const char *>(fbb.GetBufferPointer()),
                 fbb.GetSize());
        return Error::success();
      }))
    return fail("cannot write '" + outPath + "': " + toString(std::move(err)));
  return summary;
}

} // namespace fmc::artifact
