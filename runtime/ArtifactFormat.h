//===- ArtifactFormat.h - constants of the .fmc file layout ---------------===//
//
// Shared by the artifact writer (compiler) and the runtime's loader; see
// runtime/schema/fmc.fbs for the layout these constants describe.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_ARTIFACTFORMAT_H
#define FMC_RUNTIME_ARTIFACTFORMAT_H

#include <cstdint>

namespace fmc {

/// Bumped whenever an older runtime could misread a newer artifact, or a
/// newer one an older artifact (5: GPU kernels address KV caches
/// slot-major, so a runtime may allocate a linear cache's first positions
/// only; kernels of format 4 would read past them).
inline constexpr uint32_t kArtifactFormatVersion = 5;

/// The 4-character FlatBuffers file identifier (also in fmc.fbs).
inline constexpr char kArtifactIdentifier[] = "FMC0";

/// The .fmca LoRA adapter (adapter.fbs): its version and identifier.
inline constexpr uint32_t kAdapterFormatVersion = 1;
inline constexpr char kAdapterIdentifier[] = "FMCA";

/// The weight segment starts at a multiple of this (the page size), so the
/// runtime can map it directly.
inline constexpr uint64_t kWeightSegmentAlignment = 4096;

/// Every tensor starts at a multiple of this within the weight segment
/// (a cache line; wide vector loads never straddle one at a row start).
inline constexpr uint64_t kTensorAlignment = 64;

/// The FlatBuffer is size-prefixed by this many bytes.
inline constexpr uint64_t kSizePrefixBytes = 4;

} // namespace fmc

#endif // FMC_RUNTIME_ARTIFACTFORMAT_H
