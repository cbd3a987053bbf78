//===- ArtifactChecksum.h - XXH3 checksums of an artifact's parts ---------===//
//
// An artifact is a file people download and share, so the runtime treats it
// as untrusted: a flipped byte in a buffer index, a dispatch binding or a
// token string passes every structural check and silently changes the
// output. The writer records XXH3-64 checksums (schema Checksums) of the
// header, which holds the executables' code, and of the weight segment; the
// loader checks the header on every open and the weights where it reads
// them anyway (WeightLoading::Copy) or when asked (fmc-run --verify).
//
// Header-only (xxHash from Debian's libxxhash-dev, inlined), so the
// compiler and the runtime share it without a library.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_ARTIFACTCHECKSUM_H
#define FMC_RUNTIME_ARTIFACTCHECKSUM_H

#include "runtime/ArtifactFormat.h"
#include "runtime/schema/fmc_generated.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace fmc {

/// Where the checksums struct of a verified header lies in it (its first
/// byte), or -1 when the artifact has none.
inline std::ptrdiff_t checksumsOffset(const uint8_t *header) {
  const schema::Checksums *checksums =
      schema::GetSizePrefixedArtifact(header)->checksums();
  if (!checksums)
    return -1;
  return reinterpret_cast<const uint8_t *>(checksums) - header;
}

/// The header checksum of `bytes` of header (size prefix + FlatBuffer)
/// whose Checksums struct starts at `at`: its `header` field counts as 0.
inline uint64_t headerChecksum(const uint8_t *header, size_t bytes, size_t at) {
  static const uint8_t zeros[8] = {};
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, header, at);
  XXH3_64bits_update(&state, zeros, sizeof(zeros));
  XXH3_64bits_update(&state, header + at + 8, bytes - at - 8);
  return XXH3_64bits_digest(&state);
}

inline uint64_t weightsChecksum(const uint8_t *weights, size_t bytes) {
  return XXH3_64bits(weights, bytes);
}

/// Writes `weights` and the header checksum into a verified header that has
/// a Checksums struct (the writer, and tests that craft artifacts).
inline void sealHeader(uint8_t *header, size_t bytes, uint64_t weights) {
  std::ptrdiff_t at = checksumsOffset(header);
  if (at < 0)
    return;
  std::memcpy(header + at + 8, &weights, 8);
  uint64_t sum = headerChecksum(header, bytes, static_cast<size_t>(at));
  std::memcpy(header + at, &sum, 8);
}

} // namespace fmc

#endif // FMC_RUNTIME_ARTIFACTCHECKSUM_H
