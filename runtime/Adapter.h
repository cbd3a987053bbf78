//===- Adapter.h - a LoRA adapter (.fmca) checked against its base --------===//
//
// An adapter is compiled for one base artifact (fmc-compile --adapter DIR
// --base BASE.fmc) and holds the bytes of some of that base's LoRA slot
// tensors. Opening it checks it belongs to the base it is opened with (the
// base's weight checksum and tensor count, every tensor a slot's A or B of
// the slot's size), so applying it (Session::setAdapter) writes only slot
// bytes, whole.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_ADAPTER_H
#define FMC_RUNTIME_ADAPTER_H

#include "runtime/Artifact.h"
#include "runtime/schema/adapter_generated.h"

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fmc {

class Adapter {
public:
  /// Reads and verifies `path` and checks it against `base`. Errors name
  /// the file.
  static absl::StatusOr<std::unique_ptr<Adapter>>
  open(const std::string &path, const Artifact &base);
  /// The same for an adapter in memory (tests, fuzzing).
  static absl::StatusOr<std::unique_ptr<Adapter>>
  fromBytes(std::vector<uint8_t> bytes, const Artifact &base,
            const std::string &name = "<memory>");

  const std::string &path() const { return path_; }
  /// The name it was compiled with (its PEFT directory's, by default).
  std::string name() const;
  int64_t rank() const { return root_->rank(); }
  float alpha() const { return root_->alpha(); }
  /// Slot tensors it fills (the others it leaves zero).
  size_t tensorCount() const { return root_->tensors()->size(); }

  /// The bytes it gives base tensor `tensor`, or an empty span when it
  /// leaves that slot tensor zero.
  absl::Span<const uint8_t> bytesOf(uint32_t tensor) const;

private:
  Adapter() = default;
  absl::Status check(const Artifact &base);

  std::string path_;
  std::vector<uint8_t> bytes_;
  const schema::Adapter *root_ = nullptr;
  /// Per base tensor: its bytes in data (empty when not filled).
  std::vector<absl::Span<const uint8_t>> byTensor_;
};

/// The base tensors an adapter may fill: the A and B of every LoRA slot.
std::vector<uint32_t> loraSlotTensors(const schema::Artifact &base);

} // namespace fmc

#endif // FMC_RUNTIME_ADAPTER_H
