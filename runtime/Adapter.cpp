//===- Adapter.cpp - a LoRA adapter (.fmca) checked against its base ------===//

#include "runtime/Adapter.h"

#include "runtime/ArtifactFormat.h"

#include "absl/strings/str_cat.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace fmc {

namespace {

absl::Status corrupt(const std::string &message) {
  return absl::DataLossError(absl::StrCat("corrupt adapter: ", message));
}

} // namespace

std::vector<uint32_t> loraSlotTensors(const schema::Artifact &base) {
  std::vector<uint32_t> tensors;
  if (base.lora_slots())
    for (const schema::LoraSlot *slot : *base.lora_slots()) {
      tensors.push_back(slot->a());
      tensors.push_back(slot->b());
    }
  return tensors;
}

absl::StatusOr<std::unique_ptr<Adapter>>
Adapter::open(const std::string &path, const Artifact &base) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)),
                             std::istreambuf_iterator<char>());
  if (file.bad())
    return absl::DataLossError(absl::StrCat(path, ": cannot read"));
  return fromBytes(std::move(bytes), base, path);
}

absl::StatusOr<std::unique_ptr<Adapter>>
Adapter::fromBytes(std::vector<uint8_t> bytes, const Artifact &base,
                   const std::string &name) {
  std::unique_ptr<Adapter> adapter(new Adapter());
  adapter->path_ = name;
  adapter->bytes_ = std::move(bytes);
  if (absl::Status s = adapter->check(base); !s.ok())
    return absl::Status(s.code(), absl::StrCat(name, ": ", s.message()));
  return adapter;
}

std::string Adapter::name() const {
  return root_->name() ? root_->name()->str() : "";
}

absl::Span<const uint8_t> Adapter::bytesOf(uint32_t tensor) const {
  return tensor < byTensor_.size() ? byTensor_[tensor]
                                   : absl::Span<const uint8_t>();
}

absl::Status Adapter::check(const Artifact &base) {
  const std::vector<uint8_t> &b = bytes_;
  if (b.size() < kSizePrefixBytes + 8 ||
      !flatbuffers::BufferHasIdentifier(b.data(), kAdapterIdentifier,
                                        /*size_prefixed=*/true))
    return absl::InvalidArgumentError(
        "not an fmc LoRA adapter (.fmca, from fmc-compile --adapter)");
  flatbuffers::Verifier verifier(b.data(), b.size());
  if (!schema::VerifySizePrefixedAdapterBuffer(verifier))
    return corrupt("the FlatBuffer does not verify");
  root_ = schema::GetSizePrefixedAdapter(b.data());
  if (root_->format_version() != kAdapterFormatVersion)
    return absl::FailedPreconditionError(absl::StrCat(
        "adapter format ", root_->format_version(), ", this runtime reads ",
        kAdapterFormatVersion, "; recompile it with this fmc-compile"));
  const schema::Artifact &root = base.root();
  std::vector<uint32_t> slots = loraSlotTensors(root);
  if (slots.empty())
    return absl::FailedPreconditionError(absl::StrCat(
        base.path(), " has no LoRA slots; compile the base with --lora-rank "
                     "to apply adapters to it"));
  uint64_t checksum = root.checksums() ? root.checksums()->weights() : 0;
  if (root_->base_weights_checksum() != checksum ||
      root_->base_tensors() != root.tensors()->size())
    return absl::FailedPreconditionError(absl::StrCat(
        "compiled for another base (weights checksum ",
        absl::Hex(root_->base_weights_checksum()), "), not ", base.path(),
        " (", absl::Hex(checksum), "); compile it with --base ", base.path()));
  if (!root_->tensors() || !root_->data())
    return corrupt("no tensors or no data");
  byTensor_.assign(root.tensors()->size(), {});
  std::vector<bool> isSlot(root.tensors()->size(), false);
  for (uint32_t t : slots)
    isSlot[t] = true;
  const uint8_t *data = root_->data()->data();
  uint64_t dataBytes = root_->data()->size();
  for (const schema::AdapterTensor *t : *root_->tensors()) {
    std::string name = t->name() ? t->name()->str() : "";
    if (t->tensor() >= isSlot.size() || !isSlot[t->tensor()])
      return corrupt(absl::StrCat("tensor '", name, "' (", t->tensor(),
                                  ") is not a LoRA slot of the base"));
    const schema::Tensor *slot = root.tensors()->Get(t->tensor());
    if (!slot->name() || slot->name()->str() != name)
      return corrupt(absl::StrCat("tensor ", t->tensor(), " is '", name,
                                  "' here but '",
                                  slot->name() ? slot->name()->str() : "",
                                  "' in the base"));
    if (t->bytes() != slot->bytes() || t->offset() > dataBytes ||
        t->bytes() > dataBytes - t->offset())
      return corrupt(absl::StrCat("tensor '", name, "' has ", t->bytes(),
                                  " bytes at ", t->offset(), " of ", dataBytes,
                                  "; the slot holds ", slot->bytes()));
    if (!byTensor_[t->tensor()].empty())
      return corrupt(absl::StrCat("tensor '", name, "' is filled twice"));
    byTensor_[t->tensor()] = {data + t->offset(), t->bytes()};
  }
  return absl::OkStatus();
}

} // namespace fmc
