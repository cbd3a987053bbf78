//===- FuzzArtifact.cpp - libFuzzer harness: open, validate, run ----------===//
//
// An .fmc artifact is a file users download and share. The input is one,
// sealed again before it is opened (its checksums recomputed, as a crafted
// file's would be), so mutations reach the validator and the kernels rather
// than stopping at the checksum: open, validate, and on success one prefill
// of three tokens and one decode step on the cpu backend. Any crash, leak,
// hang or undefined behaviour (ASan, UBSan) is a finding.
//
//===----------------------------------------------------------------------===//

#include "runtime/Artifact.h"
#include "runtime/ArtifactChecksum.h"
#include "runtime/Session.h"

#include <cstring>
#include <vector>

namespace {

/// Recomputes both checksums where the header verifies and the weight
/// segment lies in the input.
void seal(std::vector<uint8_t> &bytes) {
  if (bytes.size() < 12)
    return;
  uint32_t fb;
  std::memcpy(&fb, bytes.data(), 4);
  uint64_t header = uint64_t{fb} + fmc::kSizePrefixBytes;
  if (header > bytes.size())
    return;
  flatbuffers::Verifier verifier(bytes.data(), header);
  if (!fmc::schema::VerifySizePrefixedArtifactBuffer(verifier))
    return;
  const fmc::schema::Artifact *root =
      fmc::schema::GetSizePrefixedArtifact(bytes.data());
  uint64_t offset = root->weights_offset(), size = root->weights_bytes();
  if (!root->checksums() || offset > bytes.size() ||
      size > bytes.size() - offset)
    return;
  fmc::sealHeader(bytes.data(), header,
                  fmc::weightsChecksum(bytes.data() + offset, size));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  seal(bytes);
  absl::StatusOr<std::unique_ptr<fmc::Artifact>> artifact =
      fmc::Artifact::fromBytes(std::move(bytes), "fuzz.fmc");
  if (!artifact.ok())
    return 0;
  fmc::BackendOptions options;
  options.threads = 1;
  absl::StatusOr<std::unique_ptr<fmc::Session>> session =
      fmc::Session::open(**artifact, "cpu", options);
  if (!session.ok())
    return 0;
  int32_t vocab = static_cast<int32_t>((*session)->vocab());
  std::vector<int32_t> prompt = {1 % vocab, 2 % vocab, 3 % vocab};
  if (!(*session)->prefill(prompt, 0, false, nullptr).ok())
    return 0;
  (void)(*session)->decode(0, 3);
  return 0;
}
