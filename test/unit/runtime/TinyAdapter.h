//===- TinyAdapter.h - hand-built .fmca adapters for the tiny artifact ----===//
//
// Adapters for buildTinyArtifact(..., loraSlot = true), whose slot is
// tensors 2 (A, 32 bytes) and 3 (B, 32 bytes): each entry fills one of them
// with one repeated byte, and every field can be set wrong.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_TEST_UNIT_RUNTIME_TINYADAPTER_H
#define FMC_TEST_UNIT_RUNTIME_TINYADAPTER_H

#include "runtime/ArtifactFormat.h"
#include "runtime/schema/adapter_generated.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace fmc::test {

struct TinyAdapterTensor {
  uint32_t tensor;
  std::string name;
  uint8_t fill;
  uint64_t bytes = 32;
  /// Where its bytes lie in data (default: after the previous one's).
  int64_t offset = -1;
};

struct TinyAdapterSpec {
  uint32_t formatVersion = kAdapterFormatVersion;
  uint64_t baseWeightsChecksum = 0;
  uint32_t baseTensors = 4;
  std::vector<TinyAdapterTensor> tensors;
  /// Cut data to this many bytes (default: what the tensors fill).
  int64_t dataBytes = -1;
};

inline std::vector<uint8_t> buildTinyAdapter(const TinyAdapterSpec &spec) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<uint8_t> data;
  std::vector<flatbuffers::Offset<schema::AdapterTensor>> tensors;
  for (const TinyAdapterTensor &t : spec.tensors) {
    uint64_t offset = t.offset >= 0 ? static_cast<uint64_t>(t.offset)
                                    : static_cast<uint64_t>(data.size());
    data.resize(std::max<uint64_t>(data.size(), offset + 32), t.fill);
    tensors.push_back(schema::CreateAdapterTensor(
        fbb, t.tensor, fbb.CreateString(t.name), offset, t.bytes));
  }
  if (spec.dataBytes >= 0)
    data.resize(static_cast<size_t>(spec.dataBytes));
  auto root = schema::CreateAdapter(
      fbb, spec.formatVersion, fbb.CreateString("test"),
      fbb.CreateString("tiny-adapter"), spec.baseWeightsChecksum,
      spec.baseTensors, 2, 4.0f, fbb.CreateVector(tensors),
      fbb.CreateVector(data));
  schema::FinishSizePrefixedAdapterBuffer(fbb, root);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

} // namespace fmc::test

#endif // FMC_TEST_UNIT_RUNTIME_TINYADAPTER_H
