//===- SizeReport.cpp - what a compiled model costs in memory -------------===//

#include "lowering/artifact/SizeReport.h"

#include "dialects/fm/IR/FmOps.h"
#include "dialects/plan/IR/PlanOps.h"
#include "lowering/quant/QuantParam.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <map>

using namespace mlir;
using namespace fmc::artifact;

namespace {

const char *const kClassOrder[] = {"embedding", "attention", "ffn",   "router",
                                   "norm",      "output",    "lora"};

/// Which kernels read and write each buffer of a program.
struct Dataflow {
  llvm::DenseMap<Value, Operation *> writer;
  llvm::DenseMap<Value, SmallVector<Operation *>> readers;

  explicit Dataflow(plan::ProgramOp program) {
    program.walk([&](plan::KernelOpInterface kernel) {
      for (Value v : kernel.getWrittenBuffers())
        writer[v] = kernel;
      for (Value v : plan::getReadBuffers(kernel))
        readers[v].push_back(kernel);
    });
  }

  /// Whether `value` reaches an attention's q, k or v (or a KV-cache
  /// append), possibly through a RoPE or a per-head norm.
  bool feedsAttention(Value value, int depth = 0) const {
    auto it = readers.find(value);
    if (it == readers.end() || depth > 3)
      return false;
    for (Operation *reader : it->second) {
      if (isa<plan::AttentionOp, plan::KVAppendOp>(reader))
        return true;
      if (isa<plan::RopeOp, plan::RMSNormOp>(reader) &&
          feedsAttention(reader->getOperands().back(), depth + 1))
        return true;
    }
    return false;
  }
};

std::string classOfLinear(plan::LinearOp linear, const Dataflow &flow) {
  if (isa_and_nonnull<plan::AttentionOp>(
          flow.writer.lookup(linear.getInput())) ||
      flow.feedsAttention(linear.getOutput()))
    return "attention";
  auto it = flow.readers.find(linear.getOutput());
  if (it != flow.readers.end() && llvm::any_of(it->second, [](Operation *op) {
        return isa<plan::MoeRouteOp>(op);
      }))
    return "router";
  return "ffn";
}

std::string humanBytes(double bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024.0 && unit < 4) {
    bytes /= 1024.0;
    ++unit;
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  if (unit == 0)
    os << static_cast<int64_t>(bytes) << " B";
  else
    os << llvm::format("%.2f ", bytes) << units[unit];
  return text;
}

/// Widens [low, high] to hold `value` (0 means no value yet).
void widen(int64_t &low, int64_t &high, int64_t value) {
  low = low ? std::min(low, value) : value;
  high = std::max(high, value);
}

/// Sets decodeWeightBytes and moe: the share of each parameter a decode step
/// reads for one token, the most over the kernels that name it.
void addDecodeReads(SizeReport &report, plan::ProgramOp decode,
                    ModuleOp module) {
  llvm::StringMap<double> share;
  auto reads = [&](FlatSymbolRefAttr ref, double fraction) {
    if (!ref)
      return;
    double &slot = share[ref.getValue()];
    slot = std::max(slot, fraction);
  };
  SymbolTable symbols(module);
  MoeSummary moe;
  decode.walk([&](Operation *op) {
    llvm::TypeSwitch<Operation *>(op)
        .Case([&](plan::EmbeddingOp k) {
          // One row per token; a tied output head reads the rest.
          auto table = symbols.lookup<fm::ParamOp>(k.getTableAttr().getAttr());
          int64_t rows = table ? table.getTensorType().getDimSize(0) : 1;
          reads(k.getTableAttr(), 1.0 / static_cast<double>(rows));
        })
        .Case([&](plan::MoeOp k) {
          auto gateUp = symbols.lookup<fm::ParamOp>(k.getGateUpAttr().getAttr());
          int64_t experts = gateUp ? gateUp.getTensorType().getDimSize(0) : 1;
          double topK = static_cast<double>(k.getTopK());
          reads(k.getGateUpAttr(), topK / experts);
          reads(k.getDownAttr(), topK / experts);
          for (FlatSymbolRefAttr ref :
               {k.getRouterAttr(), k.getSharedGateUpAttr(),
                k.getSharedDownAttr(), k.getSharedGateAttr()})
            reads(ref, 1.0);
          ++moe.layers;
          ++moe.fusedLayers;
          widen(moe.minExperts, moe.maxExperts, experts);
          widen(moe.minExpertsPerToken, moe.maxExpertsPerToken, k.getTopK());
        })
        .Case([&](plan::MoeCombineOp k) {
          // Unfused: every expert's projections are plan.linear kernels
          // over every token, counted as read in full below.
          ++moe.layers;
          widen(moe.minExperts, moe.maxExperts,
                static_cast<int64_t>(k.getExperts().size()));
        })
        .Case([&](plan::MoeRouteOp k) {
          widen(moe.minExpertsPerToken, moe.maxExpertsPerToken, k.getTopK());
        })
        .Default([&](Operation *other) {
          for (NamedAttribute attr : other->getAttrs())
            if (auto ref = dyn_cast<FlatSymbolRefAttr>(attr.getValue()))
              if (symbols.lookup<fm::ParamOp>(ref.getAttr()))
                reads(ref, 1.0);
        });
  });
  double bytes = 0.0;
  for (const auto &entry : share)
    if (auto param = symbols.lookup<fm::ParamOp>(entry.getKey()))
      bytes += entry.getValue() * static_cast<double>(param.getStorageBytes());
  report.decodeWeightBytes = static_cast<int64_t>(std::llround(bytes));
  if (moe.layers)
    report.moe = moe;
}

} // namespace

SizeReport fmc::artifact::computeSizeReport(ModuleOp module,
                                            llvm::StringRef model) {
  SizeReport report;
  report.model = model.str();
  plan::ProgramOp prefill, decode;
  for (plan::ProgramOp program : module.getOps<plan::ProgramOp>())
    (program.getSymName() == "prefill" ? prefill : decode) = program;

  // Each parameter's class, from the first kernel that names it.
  llvm::StringMap<std::string> classOf;
  llvm::StringSet<> linearWeights, embeddingTables;
  if (decode) {
    decode.walk([&](plan::LinearOp k) {
      linearWeights.insert(k.getWeightAttr().getValue());
    });
    decode.walk([&](plan::EmbeddingOp k) {
      embeddingTables.insert(k.getTableAttr().getValue());
    });
    Dataflow flow(decode);
    auto assign = [&](FlatSymbolRefAttr ref, llvm::StringRef cls) {
      if (ref)
        classOf.try_emplace(ref.getValue(), cls.str());
    };
    decode.walk([&](Operation *op) {
      llvm::TypeSwitch<Operation *>(op)
          .Case([&](plan::EmbeddingOp k) {
            assign(k.getTableAttr(), "embedding");
          })
          .Case([&](plan::RMSNormOp k) { assign(k.getWeightAttr(), "norm"); })
          .Case([&](plan::LayerNormOp k) {
            assign(k.getWeightAttr(), "norm");
            assign(k.getBiasAttr(), "norm");
          })
          .Case([&](plan::LinearOp k) {
            std::string cls = classOfLinear(k, flow);
            assign(k.getWeightAttr(), cls);
            assign(k.getBiasAttr(), cls);
          })
          .Case([&](plan::LogitsOp k) { assign(k.getWeightAttr(), "output"); })
          .Case([&](plan::MoeOp k) {
            assign(k.getRouterAttr(), "router");
            for (FlatSymbolRefAttr ref :
                 {k.getGateUpAttr(), k.getDownAttr(), k.getSharedGateUpAttr(),
                  k.getSharedDownAttr(), k.getSharedGateAttr()})
              assign(ref, "ffn");
          })
          .Case([&](plan::GroupedLinearOp k) {
            // Batched tracks' projections: attention when they feed or
            // read an attention, like plan.linear.
            bool attention = llvm::any_of(k.getOutputs(), [&](Value v) {
              return flow.feedsAttention(v);
            }) || isa_and_nonnull<plan::AttentionOp>(
                      flow.writer.lookup(k.getInputs().front()));
            assign(k.getWeightAttr(), attention ? "attention" : "ffn");
          });
    });
  }

  llvm::StringMap<ParameterClass> classes;
  for (fm::ParamOp param : module.getOps<fm::ParamOp>()) {
    auto it = classOf.find(param.getSymName());
    if (it == classOf.end())
      continue; // Not used by any kernel: not in the artifact.
    // LoRA slots (zeros an adapter fills) are counted apart from the
    // weights they adapt, and not in the linear weights' bits per weight.
    bool slot = param.getAdapterSlot();
    std::string name = slot ? "lora" : it->second;
    ParameterClass &cls = classes[name];
    cls.name = name;
    cls.tensors += 1;
    cls.elements += param.getTensorType().getNumElements();
    cls.bytes += param.getStorageBytes();
    report.parameterElements += param.getTensorType().getNumElements();
    report.parameterBytes += param.getStorageBytes();
    if (!slot && linearWeights.contains(param.getSymName())) {
      report.linearElements += param.getTensorType().getNumElements();
      report.linearBytes += param.getStorageBytes();
    }
    if (embeddingTables.contains(param.getSymName())) {
      report.embeddingElements += param.getTensorType().getNumElements();
      report.embeddingBytes += param.getStorageBytes();
    }
    if (fm::QuantAttr quant = param.getQuant()) {
      QuantizedTensor q;
      q.name = param.getSymName().str();
      q.format = fmc::quant::formatToString(fmc::quant::formatOf(quant));
      q.lossless = param->hasAttr(fmc::quant::kLosslessAttr);
      if (auto error =
              param->getAttrOfType<FloatAttr>(fmc::quant::kRelativeErrorAttr))
        q.relativeError = error.getValueAsDouble();
      q.measured = q.lossless || param->hasAttr(fmc::quant::kRelativeErrorAttr);
      report.quantized.push_back(std::move(q));
    }
  }
  for (const char *name : kClassOrder)
    if (classes.count(name))
      report.classes.push_back(classes[name]);

  // Without sharing, each attention layer would own a cache like the one
  // it reads.
  llvm::StringMap<fm::KVCacheOp> cacheByName;
  for (fm::KVCacheOp cache : module.getOps<fm::KVCacheOp>())
    cacheByName[cache.getSymName()] = cache;
  if (decode)
    decode.walk([&](plan::AttentionOp attention) {
      fm::KVCacheOp cache = cacheByName.lookup(attention.getReads());
      if (!cache)
        return;
      report.unsharedKvCaches += 1;
      if (cache.getKind() != fm::CacheKind::ring)
        report.unsharedKvBytesPerToken += cache.getBytesPerPosition();
    });
  for (fm::KVCacheOp cache : module.getOps<fm::KVCacheOp>()) {
    report.kvCaches += 1;
    int64_t perPosition = cache.getBytesPerPosition();
    int64_t scalesPerPosition = cache.getElementType().isInteger(8)
                                    ? cache.getNumKvHeads() * 2 * sizeof(float)
                                    : 0;
    auto capacity = static_cast<int64_t>(cache.getCapacity());
    bool ring = cache.getKind() == fm::CacheKind::ring;
    if (!ring)
      report.contextTokens = report.contextTokens
                                 ? std::min(report.contextTokens, capacity)
                                 : capacity;
    if (!ring) {
      report.kvBytesPerToken += perPosition;
      report.kvScaleBytesPerToken += scalesPerPosition;
    }
    report.kvBytesTotal += perPosition * capacity;
    report.kvScaleBytesTotal += scalesPerPosition * capacity;
    std::string type;
    llvm::raw_string_ostream typeText(type);
    typeText << cache.getElementType();
    report.caches.push_back({cache.getSymName().str(), ring, capacity,
                             static_cast<int64_t>(cache.getNumKvHeads()),
                             static_cast<int64_t>(cache.getHeadDim()), type,
                             perPosition * capacity,
                             scalesPerPosition * capacity});
  }
  if (prefill) {
    report.prefillTokens = prefill.getMaxTokens();
    report.prefillArenaBytes = prefill.getArenaBytes();
    bool lastRow = false;
    prefill.walk([&](plan::KernelOpInterface kernel) {
      lastRow = lastRow || isa<plan::LastRowOp>(kernel);
      if (lastRow && isa<plan::AttentionOp>(kernel))
        ++report.prefillLastPositionLayers;
    });
  }
  if (decode)
    report.decodeArenaBytes = decode.getArenaBytes();
  if (decode)
    addDecodeReads(report, decode, module);
  report.arenaBytes =
      std::max(report.prefillArenaBytes, report.decodeArenaBytes);
  return report;
}

namespace {

/// The measured quantization errors: mean and worst over the tensors that
/// were not already on the grid.
struct QuantizationSummary {
  int64_t lossless = 0, measured = 0;
  double meanError = 0.0;
  const QuantizedTensor *worst = nullptr;
};

QuantizationSummary summarize(const std::vector<QuantizedTensor> &tensors,
                              int bits = 0) {
  QuantizationSummary summary;
  for (const QuantizedTensor &q : tensors) {
    if (bits && !llvm::StringRef(q.format).starts_with(std::to_string(bits) +
                                                        ":"))
      continue;
    if (q.lossless) {
      ++summary.lossless;
      continue;
    }
    if (!q.measured)
      continue;
    ++summary.measured;
    summary.meanError += q.relativeError;
    if (!summary.worst || q.relativeError > summary.worst->relativeError)
      summary.worst = &q;
  }
  if (summary.measured)
    summary.meanError /= static_cast<double>(summary.measured);
  return summary;
}

/// Mean relative error above which 2-bit post-training quantization is
/// reported: QAT weights are lossless (0), round-to-nearest on weights not
/// trained for the 4-level grid measures about 0.3 and generates noise.
constexpr double kHighTwoBitError = 0.15;

/// "4", or "4 to 8" when the layers differ.
std::string range(int64_t low, int64_t high) {
  return low == high ? std::to_string(low)
                     : std::to_string(low) + " to " + std::to_string(high);
}

/// The experts a decoded token reads and the weight bytes that makes.
void printMoe(const SizeReport &report, llvm::raw_ostream &os) {
  const MoeSummary &moe = *report.moe;
  int64_t unfused = moe.layers - moe.fusedLayers;
  os << "  moe: " << moe.layers << (moe.layers == 1 ? " layer" : " layers")
     << " of " << range(moe.minExperts, moe.maxExperts) << " experts, "
     << range(moe.minExpertsPerToken, moe.maxExpertsPerToken);
  if (unfused == 0)
    os << " read per token";
  else
    os << " selected per token (" << unfused << " unfused "
       << (unfused == 1 ? "layer reads" : "layers read") << " every expert)";
  os << ": " << humanBytes(report.decodeWeightBytes) << " of "
     << humanBytes(report.parameterBytes)
     << " weights read per decoded token\n";
}

} // namespace

std::vector<std::string>
fmc::artifact::sizeReportWarnings(const SizeReport &report) {
  std::vector<std::string> warnings;
  QuantizationSummary twoBit = summarize(report.quantized, /*bits=*/2);
  if (twoBit.measured && twoBit.meanError > kHighTwoBitError)
    warnings.push_back(
        llvm::formatv("2-bit quantization changed {0} tensors by a mean "
                      "relative error of {1:F3} (worst {2:F3}): these weights "
                      "were not trained for the 2-bit grid, and the model "
                      "will likely generate nonsense. Use quantization-aware "
                      "trained weights, or 4 bits (--quantize=linear:4:affine)",
                      twoBit.measured, twoBit.meanError,
                      twoBit.worst->relativeError)
            .str());
  if (!report.quantized.empty())
    for (const ParameterClass &cls : report.classes)
      if (cls.name == "output" && cls.bitsPerWeight() >= 16.0)
        warnings.push_back(
            llvm::formatv("the untied output head stays at {0:F0} bits "
                          "({1} of {2} parameter bytes): add "
                          "--quantize=output:4:affine to quantize it too",
                          cls.bitsPerWeight(), humanBytes(cls.bytes),
                          humanBytes(report.parameterBytes))
                .str());
  return warnings;
}

void fmc::artifact::printSizeReport(const SizeReport &report,
                                    llvm::raw_ostream &os, bool verbose) {
  os << "size report for " << report.model << "\n";
  os << llvm::format("  %-10s %8s %14s %12s %8s\n", "parameters", "tensors",
                     "elements", "bytes", "bits/w");
  for (const ParameterClass &cls : report.classes)
    os << llvm::format("  %-10s %8lld %14lld %12s %8.2f\n", cls.name.c_str(),
                       static_cast<long long>(cls.tensors),
                       static_cast<long long>(cls.elements),
                       humanBytes(cls.bytes).c_str(), cls.bitsPerWeight());
  double totalBits = report.parameterElements ? 8.0 * report.parameterBytes /
                                                    report.parameterElements
                                              : 0.0;
  os << llvm::format("  %-10s %8s %14lld %12s %8.2f\n", "total", "",
                     static_cast<long long>(report.parameterElements),
                     humanBytes(report.parameterBytes).c_str(), totalBits);
  if (report.moe)
    printMoe(report, os);
  os << "  kv cache: " << report.kvCaches << " caches, "
     << report.kvBytesPerToken << " bytes/token, "
     << humanBytes(report.kvBytesTotal) << " at capacity";

  if (report.kvScaleBytesTotal)
    os << " (+ int8 scales " << report.kvScaleBytesPerToken << " bytes/token, "
       << humanBytes(report.kvScaleBytesTotal) << ")";
  os << "\n";
  // What KV-cache sharing saved: one cache per attention layer before it.
  if (report.unsharedKvCaches > report.kvCaches &&
      report.unsharedKvBytesPerToken > 0)
    os << llvm::format("    shared by %lld attention layers: unshared %lld "
                       "caches, %lld bytes/token (%+.0f%%)\n",
                       static_cast<long long>(report.unsharedKvCaches),
                       static_cast<long long>(report.unsharedKvCaches),
                       static_cast<long long>(report.unsharedKvBytesPerToken),
                       100.0 * (static_cast<double>(report.kvBytesPerToken) /
                                    report.unsharedKvBytesPerToken -
                                1.0));
  // Ring caches, grouped by capacity: what interleaving saves.
  std::map<int64_t, int64_t> rings;
  for (const CacheEntry &cache : report.caches)
    if (cache.ring)
      ++rings[cache.capacity];
  for (auto [capacity, count] : rings)
    os << "    " << count << " ring caches of " << capacity << " positions\n";
  if (report.contextTokens)
    os << "  context: " << report.contextTokens << " positions\n";
  if (report.prefillLastPositionLayers)
    os << "  prefill: the last " << report.prefillLastPositionLayers
       << " attention layers run on the last position only\n";
  os << "  arena: " << humanBytes(report.arenaBytes) << " (prefill "
     << humanBytes(report.prefillArenaBytes) << " for " << report.prefillTokens
     << " tokens, decode " << humanBytes(report.decodeArenaBytes) << ")\n";
  if (report.gpuDispatches)
    os << "  GPU launches per run: prefill " << report.gpuDispatches->prefill
       << " (" << report.gpuDispatches->prefillRegions
       << " fused dispatches), decode " << report.gpuDispatches->decode
       << " (" << report.gpuDispatches->decodeRegions << ")\n";
  if (report.artifactBytes)
    os << "  artifact: " << humanBytes(report.artifactBytes) << "\n";
  if (report.quantized.empty())
    return;
  os << llvm::format("  bits/weight: linear %.3f, embedding %.3f\n",
                     report.linearBitsPerWeight(),
                     report.embeddingBitsPerWeight());
  QuantizationSummary summary = summarize(report.quantized);
  os << "  quantized: " << report.quantized.size() << " tensors, "
     << summary.lossless << " lossless (already on the grid)";
  if (summary.worst)
    os << llvm::format("; relative error mean %.4f, worst %.4f (",
                       summary.meanError, summary.worst->relativeError)
       << summary.worst->name << ")";
  os << "\n";
  if (!verbose)
    return;
  for (const QuantizedTensor &q : report.quantized) {
    os << "    " << q.name << " " << q.format << ": ";
    if (q.lossless)
      os << "lossless\n";
    else if (!q.measured)
      os << "not measured (encoding given in the IR)\n";
    else
      os << llvm::format("relative error %.4f\n", q.relativeError);
  }
}

llvm::json::Value fmc::artifact::toJSON(const SizeReport &report) {
  llvm::json::Object parameters;
  for (const ParameterClass &cls : report.classes)
    parameters[cls.name] =
        llvm::json::Object{{"tensors", cls.tensors},
                           {"elements", cls.elements},
                           {"bytes", cls.bytes},
                           {"bits_per_weight", cls.bitsPerWeight()}};
  llvm::json::Array quantized;
  for (const QuantizedTensor &q : report.quantized)
    quantized.push_back(
        llvm::json::Object{{"name", q.name},
                           {"format", q.format},
                           {"lossless", q.lossless},
                           {"measured", q.measured},
                           {"relative_error", q.relativeError}});
  llvm::json::Array caches;
  for (const CacheEntry &cache : report.caches)
    caches.push_back(
        llvm::json::Object{{"name", cache.name},
                           {"kind", cache.ring ? "ring" : "linear"},
                           {"capacity", cache.capacity},
                           {"kv_heads", cache.kvHeads},
                           {"head_dim", cache.headDim},
                           {"element_type", cache.elementType},
                           {"bytes", cache.bytes},
                           {"scale_bytes", cache.scaleBytes}});
  llvm::json::Object result{
      {"model", report.model},
      {"parameters", std::move(parameters)},
      {"parameter_elements", report.parameterElements},
      {"parameter_bytes", report.parameterBytes},
      {"kv_caches", report.kvCaches},
      {"unshared_kv_caches", report.unsharedKvCaches},
      {"unshared_kv_bytes_per_token", report.unsharedKvBytesPerToken},
      {"context_tokens", report.contextTokens},
      {"kv_bytes_per_token", report.kvBytesPerToken},
      {"kv_bytes_total", report.kvBytesTotal},
      {"kv_scale_bytes_per_token", report.kvScaleBytesPerToken},
      {"kv_scale_bytes_total", report.kvScaleBytesTotal},
      {"kv_cache_list", std::move(caches)},
      {"prefill_last_position_layers", report.prefillLastPositionLayers},
      {"prefill_tokens", report.prefillTokens},
      {"prefill_arena_bytes", report.prefillArenaBytes},
      {"decode_arena_bytes", report.decodeArenaBytes},
      {"arena_bytes", report.arenaBytes},
      {"artifact_bytes", static_cast<int64_t>(report.artifactBytes)},
      {"linear_bits_per_weight", report.linearBitsPerWeight()},
      {"embedding_bits_per_weight", report.embeddingBitsPerWeight()},
      {"quantized", std::move(quantized)},
      {"decode_weight_bytes", report.decodeWeightBytes},
  };
  if (report.moe)
    result["moe"] =
        llvm::json::Object{{"layers", report.moe->layers},
                           {"fused_layers", report.moe->fusedLayers},
                           {"min_experts", report.moe->minExperts},
                           {"max_experts", report.moe->maxExperts},
                           {"min_experts_per_token", report.moe->minExpertsPerToken},
                           {"max_experts_per_token", report.moe->maxExpertsPerToken}};
  if (report.gpuDispatches)
    result["gpu_dispatches"] =
        llvm::json::Object{{"prefill", report.gpuDispatches->prefill},
                           {"decode", report.gpuDispatches->decode},
                           {"prefill_regions", report.gpuDispatches->prefillRegions},
                           {"decode_regions", report.gpuDispatches->decodeRegions}};
  return result;
}
