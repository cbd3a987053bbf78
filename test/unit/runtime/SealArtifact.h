//===- SealArtifact.h - recompute a crafted artifact's checksums ----------===//
//
// Tests and the artifact fuzzer craft artifacts the way an attacker would:
// bytes changed on purpose, then the checksums recomputed, so that the
// validator and the kernels (not the checksum) must reject or survive them.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_TEST_UNIT_RUNTIME_SEALARTIFACT_H
#define FMC_TEST_UNIT_RUNTIME_SEALARTIFACT_H

#include "runtime/ArtifactChecksum.h"

#include <cstring>
#include <vector>

namespace fmc::test {

/// Recomputes both checksums of `bytes` (a whole artifact file) where its
/// header verifies, has checksums and its weight segment lies in the file;
/// leaves anything else as it is.
inline void resealArtifact(std::vector<uint8_t> &bytes) {
  if (bytes.size() < 12)
    return;
  uint32_t fb;
  std::memcpy(&fb, bytes.data(), 4);
  uint64_t header = uint64_t{fb} + kSizePrefixBytes;
  if (header > bytes.size())
    return;
  flatbuffers::Verifier verifier(bytes.data(), header);
  if (!schema::VerifySizePrefixedArtifactBuffer(verifier))
    return;
  const schema::Artifact *root = schema::GetSizePrefixedArtifact(bytes.data());
  uint64_t offset = root->weights_offset(), size = root->weights_bytes();
  if (!root->checksums() || offset > bytes.size() ||
      size > bytes.size() - offset)
    return;
  sealHeader(bytes.data(), header,
             weightsChecksum(bytes.data() + offset, size));
}

} // namespace fmc::test

#endif // FMC_TEST_UNIT_RUNTIME_SEALARTIFACT_H
