//===- Summary.h - what an .fmc artifact holds, for people ----------------===//
//
// fmc-inspect's facts about a loaded artifact, gathered once from the
// schema and printed as text or JSON: targets with their dispatch counts,
// the KV plan (which attention layers read which cache), the weights by
// the class --quantize names (which kernel reads them) with their formats
// and bits per weight, the tokenizer, and how the artifact was made when
// fmc-compile recorded it (absent from older artifacts).
//
//===----------------------------------------------------------------------===//

#ifndef FMC_TOOLS_FMC_INSPECT_SUMMARY_H
#define FMC_TOOLS_FMC_INSPECT_SUMMARY_H

#include "runtime/Artifact.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fmc::inspect {

struct TargetSummary {
  std::string target, format, arch;
  uint64_t codeBytes = 0;
  int64_t entryPoints = 0;
  /// GPU dispatches per run; the cpu target runs the programs' kernels.
  int64_t prefillDispatches = 0, decodeDispatches = 0;
};

struct CacheSummary {
  std::string name, kind, dtype;
  int64_t capacity = 0, kvHeads = 0, headDim = 0;
  uint64_t bytes = 0, scaleBytes = 0;
  /// The attention layers (decode program order) that read it.
  std::vector<int64_t> readers;
};

struct WeightClass {
  std::string name;
  int64_t tensors = 0, elements = 0;
  uint64_t bytes = 0;
  /// Tensors per storage format ("f32", "2-bit balanced g64 f16", "Q4_K").
  std::map<std::string, int64_t> formats;
  double bitsPerWeight() const {
    return elements ? 8.0 * static_cast<double>(bytes) / elements : 0.0;
  }
};

struct TokenizerSummary {
  std::string kind, preTokenizer;
  int64_t vocab = 0;
  int32_t bos = -1, eos = -1;
  bool addBos = false, addEos = false;
  /// The model's chat template: absent when it has none; its family name
  /// ("none" when the importer did not recognise it).
  std::optional<std::string> chatFamily;
};

struct SourceFileSummary {
  std::string path, sha256;
  uint64_t bytes = 0;
};

/// One rank's part of a model split over processes (--track-ranks or
/// --tensor-ranks).
struct RankPart {
  int rank = 0, ranks = 0;
  std::string split; // "tracks" or "tensor"
  int64_t allReducesPerToken = 0;
  uint64_t bytesPerToken = 0;
};

struct Summary {
  uint32_t formatVersion = 0;
  std::optional<RankPart> part;
  std::string producer, model, sourceConfigJson;
  int64_t vocab = 0, hidden = 0, context = 0;
  int64_t prefillTokens = 0, prefillKernels = 0, decodeKernels = 0;
  /// Prefill computes the last position's logits only (KV sharing).
  bool prefillLastPositionOnly = false;
  uint64_t weightsBytes = 0, headerChecksum = 0, weightsChecksum = 0;
  std::vector<TargetSummary> targets;
  int64_t attentionLayers = 0;
  std::vector<CacheSummary> caches;
  std::vector<WeightClass> classes;
  /// The output projection is the embedding table (tied).
  bool tiedOutput = false;
  std::optional<TokenizerSummary> tokenizer;
  /// Absent where the artifact does not record them.
  std::optional<std::vector<std::string>> command;
  std::optional<std::vector<std::pair<std::string, std::string>>> options;
  std::optional<std::vector<SourceFileSummary>> sourceFiles;
};

Summary summarize(const Artifact &artifact);

} // namespace fmc::inspect

#endif // FMC_TOOLS_FMC_INSPECT_SUMMARY_H
