//===- Artifact.h - a loaded, verified .fmc artifact ----------------------===//
//
// Opening an artifact reads and verifies its FlatBuffer header (identifier,
// size, FlatBuffers verification, format version) and then checks every
// index, offset and size it holds against what it refers to (tensors
// against the weight segment, buffers against the arena, kernels' buffers,
// tensors and caches against the shapes their family reads). After open()
// succeeds, backends may trust the artifact: no kernel built from it reads
// or writes out of bounds.
//
// The weight segment is read into anonymous memory advised for transparent
// huge pages (or, with WeightLoading::Map, memory-mapped from the file, no
// copy): batch-1 decode streams every weight once per token, and 2 MB pages
// make that stream faster than the 4 KB pages a file mapping gets.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_ARTIFACT_H
#define FMC_RUNTIME_ARTIFACT_H

#include "runtime/schema/fmc_generated.h"

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fmc {

enum class WeightLoading {
  /// Map the weight segment from the file (no copy; pages fault in lazily).
  Map,
  /// Read it into anonymous, huge-page-advised memory (a copy at load).
  Copy,
};

struct ArtifactOptions {
  /// Copy by default: file mappings get 4 KB pages here (no file-backed
  /// huge pages), and decode streams the weights faster from 2 MB pages.
  WeightLoading weights = WeightLoading::Copy;
  /// Check the weight segment's checksum when mapping it too (a full read;
  /// copies are always checked, as they read every byte anyway).
  bool verifyWeights = false;
};

class Artifact {
public:
  /// Opens, verifies and validates `path`. Errors name the file and what is
  /// wrong with it.
  static absl::StatusOr<std::unique_ptr<Artifact>>
  open(const std::string &path, const ArtifactOptions &options = {});

  /// Validates an in-memory artifact (header and weight segment as they
  /// would lie in a file of `bytes` bytes). For tests.
  static absl::StatusOr<std::unique_ptr<Artifact>>
  fromBytes(std::vector<uint8_t> bytes, const std::string &name = "<memory>");

  ~Artifact();
  Artifact(const Artifact &) = delete;
  Artifact &operator=(const Artifact &) = delete;

  const schema::Artifact &root() const { return *root_; }
  const std::string &path() const { return path_; }

  /// Tensor `index`'s bytes (validated to lie in the weight segment).
  const void *tensorData(uint32_t index) const;
  uint64_t weightsBytes() const { return root_->weights_bytes(); }
  /// The whole weight segment (weightsBytes() bytes), for GPU uploads.
  const uint8_t *weightsData() const { return weights_; }

  /// Overwrites bytes [offset, offset + data.size()) of this process's copy
  /// of the weight segment (never the file; a mapped segment's pages become
  /// private copies): the LoRA slots that adapters fill, which the cpu
  /// backend reads in place. The weights are state the loaded model runs
  /// with, not part of the artifact's identity, hence const.
  absl::Status overwriteWeights(uint64_t offset,
                                absl::Span<const uint8_t> data) const;

  /// Whether the artifact carries executables for `target` ("cpu", ...).
  bool hasTarget(const std::string &target) const;
  std::vector<std::string> targets() const;

private:
  Artifact() = default;
  absl::Status load(const std::string &path, const ArtifactOptions &options);

  std::string path_;
  std::vector<uint8_t> header_; // Size prefix + FlatBuffer.
  const schema::Artifact *root_ = nullptr;
  // The weight segment: mapped from the file, copied into anonymous memory,
  // or (fromBytes) inside ownedBytes_.
  const uint8_t *weights_ = nullptr;
  void *mapBase_ = nullptr; // What to munmap, when we mapped anything.
  size_t mapBytes_ = 0;
  bool mapFromFile_ = false; // The weights are a private, read-only mapping.
  std::vector<uint8_t> ownedBytes_;
};

/// Checks everything the runtime relies on beyond FlatBuffers verification.
/// `fileBytes` is the size of the whole file. Exposed for tests.
absl::Status validateArtifact(const schema::Artifact &artifact,
                              uint64_t headerBytes, uint64_t fileBytes);

/// Bytes of one element of `dtype`.
uint64_t dtypeBytes(schema::DType dtype);

} // namespace fmc

#endif // FMC_RUNTIME_ARTIFACT_H
