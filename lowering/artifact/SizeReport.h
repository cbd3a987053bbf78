//===- SizeReport.h - what a compiled model costs in memory ---------------===//
//
// fmc-compile prints this after planning: parameters by class with their
// bits per weight (the figure quantization changes), KV-cache bytes per
// token, the activation arena, and for mixtures of experts the share of the
// weights one decoded token reads.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_ARTIFACT_SIZEREPORT_H
#define FMC_LOWERING_ARTIFACT_SIZEREPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <optional>
#include <vector>

namespace fmc::artifact {

struct ParameterClass {
  std::string name; ///< embedding, attention, ffn, router, norm, output,
                   ///< lora (adapter slots).
  int64_t tensors = 0;
  int64_t elements = 0;
  int64_t bytes = 0;
  double bitsPerWeight() const {
    return elements ? 8.0 * static_cast<double>(bytes) / elements : 0.0;
  }
};

/// What quantization did to one parameter (from fm-quantize-weights).
struct QuantizedTensor {
  std::string name;
  std::string format; ///< bits:grid:group:scale.
  bool lossless = false;
  double relativeError = 0.0; ///< ||w - q(w)|| / ||w||; 0 when lossless.
  /// Whether fm-quantize-weights measured it (an encoding written by hand
  /// in the IR is packed but not measured).
  bool measured = false;
};

/// One cache of the KV plan.
struct CacheEntry {
  std::string name;
  bool ring = false;
  int64_t capacity = 0; ///< Positions.
  int64_t kvHeads = 0;
  int64_t headDim = 0;
  std::string elementType; ///< f32, f16, bf16 or i8.
  int64_t bytes = 0;       ///< Key and value elements at capacity.
  int64_t scaleBytes = 0;  ///< Their f32 scales (int8 caches).
};

/// The mixtures of experts of a model, and what they save a decode step.
struct MoeSummary {
  int64_t layers = 0;
  /// Layers fused into plan.moe, which reads only the selected experts'
  /// weights; the others run every expert (a plan.linear each).
  int64_t fusedLayers = 0;
  /// Experts per layer and experts selected per token (top-k): the fewest
  /// and the most over the layers (equal in most models).
  int64_t minExperts = 0, maxExperts = 0;
  int64_t minExpertsPerToken = 0, maxExpertsPerToken = 0;
};

struct SizeReport {
  std::string model;
  std::vector<ParameterClass> classes; ///< Non-empty classes, fixed order.
  int64_t parameterElements = 0;
  int64_t parameterBytes = 0;
  /// Bytes of key and value elements each generated token adds to the
  /// linear caches.
  int64_t kvBytesPerToken = 0;
  /// Bytes of key and value elements of every cache at its capacity.
  int64_t kvBytesTotal = 0;
  /// The f32 scales of int8 caches, per token and in all (the KV plan's
  /// allocation is kvBytesTotal + kvScaleBytesTotal).
  int64_t kvScaleBytesPerToken = 0;
  int64_t kvScaleBytesTotal = 0;
  int64_t kvCaches = 0;
  /// The same figures with one cache per attention layer, as before KV-cache
  /// sharing (equal to the above when no layer reads another's cache).
  int64_t unsharedKvCaches = 0;
  int64_t unsharedKvBytesPerToken = 0;
  /// Positions a generation may reach: the smallest linear cache's capacity.
  int64_t contextTokens = 0;
  std::vector<CacheEntry> caches;
  /// Attention layers @prefill runs on the last position only (plan.last_row).
  int64_t prefillLastPositionLayers = 0;
  int64_t prefillTokens = 0;
  int64_t prefillArenaBytes = 0;
  int64_t decodeArenaBytes = 0;
  /// The one arena both programs share: the larger of the two.
  int64_t arenaBytes = 0;
  /// The artifact's size on disk, once written (0 before).
  uint64_t artifactBytes = 0;
  /// Weights of linear kernels (biases excluded) and of embedding tables:
  /// elements and artifact bytes, for bits per weight.
  int64_t linearElements = 0, linearBytes = 0;
  int64_t embeddingElements = 0, embeddingBytes = 0;
  double linearBitsPerWeight() const {
    return linearElements ? 8.0 * linearBytes / linearElements : 0.0;
  }
  double embeddingBitsPerWeight() const {
    return embeddingElements ? 8.0 * embeddingBytes / embeddingElements : 0.0;
  }
  std::vector<QuantizedTensor> quantized;
  /// Parameter bytes one decode step reads for one token: every parameter a
  /// decode kernel names, except that an embedding table only the lookup
  /// reads counts one row and a fused MoE's expert stacks count their
  /// top-k share. Equals parameterBytes less the embedding's other rows for
  /// a dense model.
  int64_t decodeWeightBytes = 0;
  /// Present when the model has mixtures of experts.
  std::optional<MoeSummary> moe;
  /// GPU launches per run of each program (the dispatch lists of the GPU
  /// executables); absent when the artifact has no GPU target.
  struct GpuDispatches {
    int64_t prefill = 0, decode = 0;
    /// plan.dispatch regions (fused kernels) per program.
    int64_t prefillRegions = 0, decodeRegions = 0;
  };
  std::optional<GpuDispatches> gpuDispatches;
};

/// Computes the report of a plan-level module (after fm-to-plan).
SizeReport computeSizeReport(mlir::ModuleOp module, llvm::StringRef model);

/// The report as text; `verbose` adds one line per quantized tensor (else
/// quantization is summarized: lossless count, mean and worst error).
void printSizeReport(const SizeReport &report, llvm::raw_ostream &os,
                     bool verbose = false);

/// What the report shows that a user most likely did not intend: 2-bit
/// post-training quantization with a high error (weights not trained for
/// the grid), an untied output head left at 16 bits by --quantize.
std::vector<std::string> sizeReportWarnings(const SizeReport &report);

llvm::json::Value toJSON(const SizeReport &report);

} // namespace fmc::artifact

#endif // FMC_LOWERING_ARTIFACT_SIZEREPORT_H
