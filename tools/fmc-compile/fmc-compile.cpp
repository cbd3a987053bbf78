//===- fmc-compile.cpp - model or IR to .fmc artifact ---------------------===//
//
// Runs the compiler's phases (DESIGN.md): import (for a model file), the
// model-pass pipeline, plan, and target (the artifact writer). It starts
// from whatever the input is (a model file, fm IR or plan IR) and stops where
// --compile-to says, so a bug is reproduced from the IR of the phase before.
//
//===----------------------------------------------------------------------===//

#include "dialects/fm/IR/FmFilePaths.h"
#include "dialects/fm/IR/FmOps.h"
#include "dialects/plan/IR/PlanOps.h"
#include "import/ModelSource.h"
#include "import/builder/Builder.h"
#include "import/builder/MergeAdapter.h"
#include "import/readers/PeftAdapter.h"
#include "lowering/artifact/AdapterWriter.h"
#include "lowering/artifact/ArtifactWriter.h"
#include "lowering/artifact/Provenance.h"
#include "lowering/artifact/SizeReport.h"
#include "lowering/plan/Passes.h"
#include "lowering/targets/TargetExecutables.h"
#include "lowering/quant/QuantMath.h"
#include "passes/Passes.h"
#include "support/Version.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/xxhash.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <sstream>

using namespace mlir;
namespace cl = llvm::cl;

namespace {

enum class Phase { Fm, Plan, Gpu, Target };

cl::OptionCategory category("fmc-compile options");

cl::opt<std::string>
    inputPath(cl::Positional, cl::Optional,
              cl::desc("<model.mlir | model file or directory>"),
              cl::cat(category));
cl::opt<std::string>
    outputPath("o", cl::desc("Output file ('-' for stdout, IR only)"),
               cl::value_desc("file"), cl::init(""), cl::cat(category));
cl::opt<std::string> tokenizerPath(
    "tokenizer", cl::desc("Tokenizer file of a model file (llama2.c tok*.bin)"),
    cl::value_desc("file"), cl::cat(category));
cl::list<std::string> targets(
    "target", cl::CommaSeparated,
    cl::desc("Targets to compile for, comma-separated: cpu (the runtime's own "
             "kernels), cuda (PTX, and cubins when ptxas is found), vulkan "
             "(SPIR-V), metal (MSL, translated from the SPIR-V). The cpu "
             "target is always added, as every machine's fallback, unless "
             "--no-cpu (default: cpu)"),
    cl::value_desc("cpu,cuda,vulkan,metal"), cl::cat(category));
cl::opt<bool> noCpu(
    "no-cpu",
    cl::desc("Leave the cpu target out of an artifact for GPU targets only "
             "(it then runs nowhere without one of those GPUs)"),
    cl::init(false), cl::cat(category));
cl::list<std::string> cudaArchs(
    "cuda-arch", cl::CommaSeparated,
    cl::desc("SM architectures of the cuda target (default: sm_80,sm_90)"),
    cl::value_desc("sm_80,sm_90"), cl::cat(category));
cl::opt<bool> cudaCubins(
    "cuda-cubin",
    cl::desc("Also assemble cubins with ptxas ($FMC_PTXAS or "
             "/usr/local/cuda/bin/ptxas) when it is found (default: on)"),
    cl::init(true), cl::cat(category));
cl::opt<bool> metalLibrary(
    "metallib",
    cl::desc("metal target: a metallib built by Xcode's Metal compiler "
             "(xcrun, macOS only) instead of MSL source"),
    cl::cat(category));
cl::opt<std::string> xcrunPath("xcrun",
                               cl::desc("The xcrun --metallib runs "
                                        "(default: PATH's)"),
                               cl::value_desc("program"), cl::Hidden,
                               cl::cat(category));
cl::opt<std::string> dumpExecutablesDir(
    "dump-executables",
    cl::desc("Write every GPU executable's code into this directory "
             "(cuda.sm_90.ptx, vulkan.spv, ...)"),
    cl::value_desc("dir"), cl::cat(category));
cl::opt<Phase> compileTo(
    "compile-to", cl::desc("Stop after this phase"), cl::init(Phase::Target),
    cl::values(
        clEnumValN(Phase::Fm, "fm", "fm IR after the model passes"),
        clEnumValN(Phase::Plan, "plan", "the dispatch programs (plan IR)"),
        clEnumValN(Phase::Gpu, "gpu",
                   "the specialized GPU kernels (a gpu.module) of the plan"),
        clEnumValN(Phase::Target, "target", "the .fmc artifact (default)")),
    cl::cat(category));
cl::opt<std::string> reportJson(
    "report-json",
    cl::desc("Also write the size report as JSON (with --compile-to=plan "
             "too: no weights are read)"),
    cl::value_desc("file"), cl::cat(category));
cl::opt<bool> verbose(
    "verbose",
    cl::desc("Report every quantized tensor's format and error (default: "
             "a summary)"),
    cl::init(false), cl::cat(category));
cl::alias verboseShort("v", cl::desc("Alias for --verbose"),
                       cl::aliasopt(verbose));
cl::opt<bool> quiet(
    "quiet",
    cl::desc("Print no size report and no progress (errors and warnings "
             "still go to stderr)"),
    cl::init(false), cl::cat(category));
cl::opt<int64_t> contextTokens(
    "context",
    cl::desc("Positions a generation may reach (linear KV-cache capacity; "
             "default: the model's)"),
    cl::init(0), cl::cat(category));
cl::opt<int64_t>
    prefillTokens("prefill-tokens",
                  cl::desc("Most tokens one prefill run processes"),
                  cl::init(512), cl::cat(category));
cl::opt<bool> fuseMoe(
    "fuse-moe",
    cl::desc("Fuse expert-by-expert mixtures of experts into fm.moe, which "
             "reads only the selected experts' weights (default: on)"),
    cl::init(true), cl::cat(category));
cl::opt<bool> batchTracks(
    "batch-tracks",
    cl::desc("Run parallel tracks with identical layers layer by layer, each "
             "layer's projections one grouped kernel over the tracks' stacked "
             "weights (default: on)"),
    cl::init(true), cl::cat(category));

cl::opt<int64_t> trackRanks(
    "track-ranks",
    cl::desc("Split the parallel tracks of every block over N processes "
             "(the AFM server model): writes one part per rank, "
             "MODEL.rank<r>.fmc for -o MODEL.fmc, each with its tracks' "
             "weights and KV caches only, run together with mpirun -np N "
             "fmc-run MODEL.fmc (cpu ranks over MPI; --target=cuda: a GPU "
             "each, over NCCL)"),
    cl::value_desc("N"), cl::init(1), cl::cat(category));

cl::opt<int64_t> tensorRanks(
    "tensor-ranks",
    cl::desc("Split every layer over N processes Megatron-style (heads and "
             "hidden units; 2 all-reduces a layer), the comparison for "
             "--track-ranks: writes MODEL.rank<r>.fmc for -o MODEL.fmc, run "
             "with mpirun -np N fmc-run MODEL.fmc (cpu or cuda ranks)"),
    cl::value_desc("N"), cl::init(1), cl::cat(category));

cl::list<std::string> quantize(
    "quantize", cl::CommaSeparated,
    cl::desc("Quantization policy: comma-separated CLASS:BITS:GRID[:GROUP"
             "[:SCALE]] with CLASS linear, embedding or output (untied head), "
             "BITS 2 or 4, GRID balanced ({-1.5,-0.5,0.5,1.5}*s at 2 bits) or "
             "affine (scale and minimum), GROUP 32, 64 (default), 128 or row, "
             "SCALE f16 (default) or bf16; or 'afm' for "
             "linear:2:balanced:64:f16,embedding:4:balanced:64:f16. Norms "
             "stay float. MoE experts (fused stacks or not) and shared "
             "experts follow linear; routers stay float. Weights already on "
             "the grid are packed losslessly"),
    cl::value_desc("policy"), cl::cat(category));
cl::opt<std::string> quantizeLinearPattern(
    "quantize-linear-pattern",
    cl::desc("Quantize only linear weights whose name matches this regex"),
    cl::value_desc("regex"), cl::cat(category));

/// fm-quantize-weights options from --quantize, or an error message.
std::string quantizeOptions(fm::QuantizeWeightsOptions &options, bool &any) {
  any = false;
  for (const std::string &entryText : quantize) {
    llvm::StringRef entry(entryText);
    if (entry == "afm") {
      options.linear = "2:balanced:64:f16";
      options.embedding = "4:balanced:64:f16";
      any = true;
      continue;
    }
    auto [cls, spec] = entry.split(':');
    std::string *slot = llvm::StringSwitch<std::string *>(cls)
                            .Case("linear", &options.linear)
                            .Case("embedding", &options.embedding)
                            .Case("output", &options.output)
                            .Default(nullptr);
    if (!slot)
      return "--quantize: class must be linear, embedding or output, got '" +
             cls.str() + "' in '" + entryText + "'";
    fmc::quant::Format format;
    std::string error = fmc::quant::parseFormat(spec.str(), format);
    if (!error.empty())
      return "--quantize: " + cls.str() + ": " + error;
    *slot = spec.str();
    any = true;
  }
  options.linearPattern = quantizeLinearPattern;
  return "";
}

cl::OptionCategory kvCategory(
    "KV-cache and attention options (model passes run before planning)");
cl::opt<int64_t> shareKvLayers(
    "share-kv-layers",
    cl::desc("The last N layers reuse an earlier layer's KV cache "
             "(fm-share-kv-cache; AFM on-device: 21 of 56)"),
    cl::value_desc("N"), cl::init(0), cl::cat(kvCategory));
cl::opt<double> shareKvFraction(
    "share-kv-fraction",
    cl::desc("The last fraction F of the layers reuse a cache (e.g. 0.375)"),
    cl::value_desc("F"), cl::init(0.0), cl::cat(kvCategory));
cl::opt<int64_t> shareKvSource(
    "share-kv-source",
    cl::desc("The layer whose cache the reuse layers read (default: the last "
             "earlier layer of the same attention kind that owns one)"),
    cl::value_desc("L"), cl::init(-1), cl::cat(kvCategory));
cl::opt<std::string> attentionPattern(
    "attention-pattern",
    cl::desc("Local (L) / global (G) attention by layer, repeated, e.g. LLLG "
             "(fm-interleave-attention)"),
    cl::value_desc("pattern"), cl::cat(kvCategory));
cl::opt<int64_t>
    attentionWindow("window",
                    cl::desc("Sliding window of local layers; their caches "
                             "become rings of this many positions"),
                    cl::value_desc("W"), cl::init(0), cl::cat(kvCategory));
cl::opt<std::string> globalRope(
    "global-rope",
    cl::desc("Positional encoding of global layers with --attention-pattern: "
             "rope (default) or none (NoPE)"),
    cl::value_desc("rope|none"), cl::init("rope"), cl::cat(kvCategory));
cl::opt<std::string> kvCacheType(
    "kv-cache-type",
    cl::desc("KV-cache element type: f32, f16, bf16 or i8 (int8 with one f32 "
             "scale per token and head; default: the model's)"),
    cl::value_desc("type"), cl::cat(kvCategory));
cl::opt<int64_t> maxDraftTokens(
    "max-draft-tokens",
    cl::desc("Give ring (sliding-window) KV caches this many slots beyond "
             "their window, so fmc-run/fmc-serve --draft can propose up to "
             "this many tokens per pass (linear caches need none)"),
    cl::value_desc("K"), cl::init(0), cl::cat(kvCategory));
cl::opt<bool> prefillAllPositions(
    "prefill-all-positions",
    cl::desc("Run every prompt position through every layer in prefill. By "
             "default, layers after the last KV-cache-writing layer (KV "
             "sharing) run on the last prompt position only, so only its "
             "logits exist"),
    cl::init(false), cl::cat(kvCategory));

cl::OptionCategory loraCategory(
    "LoRA adapters",
    "A base compiled with LoRA slots runs unchanged (the slots are zero) "
    "until fmc-run --adapter fills them with an adapter compiled for it:\n"
    "  fmc-compile MODEL --lora-rank 32 -o base.fmc\n"
    "  fmc-compile --adapter PEFT_DIR --base base.fmc -o feature.fmca");
cl::opt<int64_t> loraRank(
    "lora-rank",
    cl::desc("Give linear layers LoRA slots of this rank, which adapters of "
             "this rank or lower fill at run time"),
    cl::value_desc("R"), cl::init(0), cl::cat(loraCategory));
cl::list<std::string> loraTargets(
    "lora-targets", cl::CommaSeparated,
    cl::desc("With --lora-rank: the modules to give slots, as PEFT's "
             "target_modules names them (e.g. q_proj,v_proj; default: every "
             "linear layer)"),
    cl::value_desc("modules"), cl::cat(loraCategory));
cl::opt<std::string> adapterDir(
    "adapter",
    cl::desc("Compile this PEFT LoRA adapter (adapter_config.json + "
             "adapter_model.safetensors) for --base into -o NAME.fmca"),
    cl::value_desc("dir"), cl::cat(loraCategory));
cl::opt<std::string> adapterBase(
    "base", cl::desc("With --adapter: the base artifact (compiled with "
                     "--lora-rank) the adapter is for"),
    cl::value_desc("base.fmc"), cl::cat(loraCategory));
cl::opt<bool> mergeAdapterFlag(
    "merge",
    cl::desc("With --adapter and a model: fold the adapter into the model's "
             "float weights (W + alpha/r B A) instead, for a model that "
             "always runs with it"),
    cl::init(false), cl::cat(loraCategory));
cl::opt<std::string> adapterName(
    "adapter-name",
    cl::desc("With --adapter: the name the adapter reports (default: its "
             "directory's)"),
    cl::value_desc("name"), cl::cat(loraCategory));

/// The flag that sets each pass option fmc-compile sets, so that a pass's
/// diagnostics name what the user typed (passes/OptionNames.h).
const fm::OptionFlag kFlagOfPassOption[] = {
    {"fm-interleave-attention", "pattern", "--attention-pattern"},
    {"fm-interleave-attention", "window", "--window"},
    {"fm-interleave-attention", "global-rope", "--global-rope"},
    {"fm-share-kv-cache", "reuse-layers", "--share-kv-layers"},
    {"fm-share-kv-cache", "reuse-fraction", "--share-kv-fraction"},
    {"fm-share-kv-cache", "source-layer", "--share-kv-source"},
    {"fm-quantize-kv-cache", "element-type", "--kv-cache-type"},
    {"fm-quantize-weights", "linear", "--quantize"},
    {"fm-quantize-weights", "embedding", "--quantize"},
    {"fm-quantize-weights", "output", "--quantize"},
    {"fm-quantize-weights", "linear-pattern", "--quantize-linear-pattern"},
    {"fm-ring-cache-slack", "slots", "--max-draft-tokens"},
    {"fm-add-lora-slots", "rank", "--lora-rank"},
    {"fm-add-lora-slots", "targets", "--lora-targets"},
    {"fm-partition-tracks", "ranks", "--track-ranks"},
    {"fm-partition-tensor", "ranks", "--tensor-ranks"},
    {"fm-to-plan", "context", "--context"},
    {"fm-to-plan", "prefill-tokens", "--prefill-tokens"},
    {"fm-to-plan", "batch-tracks", "--batch-tracks"},
    // prefill-last-position is --prefill-all-positions negated: a message
    // about one would mislead about the other, so it keeps its own name.
};

/// The names `pass`'s diagnostics give its options.
fm::OptionNames flagsOf(llvm::StringRef pass) {
  return fm::OptionNames(kFlagOfPassOption, pass);
}

/// Progress lines on a terminal; nothing when stderr is a file or a pipe.
class Progress {
public:
  explicit Progress(bool quiet)
      : live(!quiet && llvm::sys::Process::StandardErrIsDisplayed()) {}
  void step(llvm::StringRef what) {
    if (!live)
      return;
    finishLine();
    llvm::errs() << "fmc-compile: " << what << "...";
    open = true;
  }
  void percent(llvm::StringRef what, uint64_t done, uint64_t total) {
    if (!live || total == 0)
      return;
    unsigned pct = static_cast<unsigned>(100 * done / total);
    if (pct == lastPct)
      return;
    lastPct = pct;
    llvm::errs() << "\rfmc-compile: " << what << " " << pct << "%";
    open = true;
  }
  void finishLine() {
    if (open)
      llvm::errs() << "\n";
    open = false;
    lastPct = ~0u;
  }
  ~Progress() { finishLine(); }

private:
  bool live;
  bool open = false;
  unsigned lastPct = ~0u;
};

int failWith(const llvm::Twine &message) {
  llvm::errs() << "fmc-compile: error: " << message << "\n";
  return 1;
}

/// Which phase an IR module is at: plan once it holds a plan.program.
Phase phaseOf(ModuleOp module) {
  return module.getOps<plan::ProgramOp>().empty() ? Phase::Fm : Phase::Plan;
}

LogicalResult runModelPasses(ModuleOp module) {
  PassManager pm(module.getContext());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (fuseMoe)
    pm.addPass(fm::createFuseMoe());
  // Interleave first: sharing then picks a source of each layer's kind.
  if (!attentionPattern.empty()) {
    fm::InterleaveAttentionOptions options;
    options.pattern = attentionPattern;
    options.window = attentionWindow;
    options.globalRope = globalRope;
    pm.addPass(fm::createInterleaveAttention(
        options, flagsOf("fm-interleave-attention")));
  }
  if (shareKvLayers != 0 || shareKvFraction != 0.0 || shareKvSource >= 0) {
    fm::ShareKVCacheOptions options;
    options.reuseLayers = shareKvLayers;
    options.reuseFraction = shareKvFraction;
    options.sourceLayer = shareKvSource;
    pm.addPass(
        fm::createShareKVCache(options, flagsOf("fm-share-kv-cache")));
  }
  if (maxDraftTokens.getNumOccurrences()) {
    fm::RingCacheSlackOptions options;
    options.slots = maxDraftTokens;
    pm.addPass(
        fm::createRingCacheSlack(options, flagsOf("fm-ring-cache-slack")));
  }
  if (!kvCacheType.empty()) {
    fm::QuantizeKVCacheOptions options;
    options.elementType = kvCacheType;
    pm.addPass(
        fm::createQuantizeKVCache(options, flagsOf("fm-quantize-kv-cache")));
  }
  pm.addPass(fm::createDropDeadParams());
  fm::QuantizeWeightsOptions quantOptions;
  bool anyQuantization = false;
  quantizeOptions(quantOptions, anyQuantization); // Checked in main().
  if (anyQuantization)
    pm.addPass(fm::createQuantizeWeights(quantOptions,
                                         flagsOf("fm-quantize-weights")));
  // After quantization: the slots stay f16 whatever the policy.
  if (loraRank.getNumOccurrences()) {
    fm::AddLoraSlotsOptions options;
    options.rank = loraRank;
    options.targets.assign(loraTargets.begin(), loraTargets.end());
    pm.addPass(fm::createAddLoraSlots(options, flagsOf("fm-add-lora-slots")));
  }
  return pm.run(module);
}

/// 1.5, not 1.500000.
std::string shortNumber(double value) {
  std::ostringstream os;
  os << value;
  return os.str();
}

/// Flags that only make sense together, checked before any work.
std::optional<std::string> checkKvFlags() {
  if (shareKvLayers != 0 && shareKvFraction != 0.0)
    return "give --share-kv-layers or --share-kv-fraction, not both";
  if (shareKvLayers < 0)
    return "--share-kv-layers must be positive, got " +
           std::to_string(shareKvLayers.getValue());
  if (shareKvFraction < 0.0 || shareKvFraction >= 1.0)
    return "--share-kv-fraction must be in [0, 1), got " +
           shortNumber(shareKvFraction.getValue());
  if (shareKvSource >= 0 && shareKvLayers == 0 && shareKvFraction == 0.0)
    return "--share-kv-source needs --share-kv-layers or --share-kv-fraction";
  if (attentionPattern.empty() &&
      (attentionWindow.getNumOccurrences() || globalRope.getNumOccurrences()))
    return "--window and --global-rope need --attention-pattern";
  if (!kvCacheType.empty() && kvCacheType != "f32" && kvCacheType != "f16" &&
      kvCacheType != "bf16" && kvCacheType != "i8")
    return "--kv-cache-type must be f32, f16, bf16 or i8, got '" + kvCacheType +
           "'";
  return std::nullopt;
}

/// Groups a plan's kernels into dispatches (a plan that has them already
/// stays as it is).
LogicalResult formDispatches(ModuleOp module) {
  PassManager pm(module.getContext());
  pm.addPass(plan::createFormDispatches());
  return pm.run(module);
}

LogicalResult runPlan(ModuleOp module) {
  PassManager pm(module.getContext());
  plan::FmToPlanOptions options;
  options.prefillTokens = prefillTokens;
  options.context = contextTokens;
  options.batchTracks = batchTracks;
  options.prefillLastPosition = !prefillAllPositions;
  pm.addPass(fm::createExpandLora());
  pm.addPass(plan::createFmToPlan(options, flagsOf("fm-to-plan")));
  pm.addPass(plan::createFormDispatches());
  return pm.run(module);
}

/// Writes --report-json; writeToOutput renames a temporary into place, so
/// there is never a partial report.
int writeReportJson(const fmc::artifact::SizeReport &report) {
  if (llvm::Error err =
          llvm::writeToOutput(reportJson, [&](llvm::raw_ostream &os) {
            os << llvm::formatv("{0:2}", fmc::artifact::toJSON(report)) << "\n";
            return llvm::Error::success();
          }))
    return failWith("cannot write the size report: " +
                    llvm::toString(std::move(err)));
  return 0;
}

/// Every option of this run that shapes the artifact, as in effect (given or
/// default), for fmc-inspect: the artifact then says how to compile it
/// again. Options that only change what is printed or dumped (--verbose,
/// --quiet, --report-json, --dump-executables) are left out.
std::vector<std::pair<std::string, std::string>>
optionsInEffect(const std::vector<std::string> &targetList) {
  auto text = [](bool value) { return std::string(value ? "true" : "false"); };
  auto number = [](auto value) { return std::to_string(value); };
  return {
      {"target", llvm::join(targetList, ",")},
      {"no-cpu", text(noCpu)},
      {"cuda-arch", llvm::join(cudaArchs, ",")},
      {"cuda-cubin", text(cudaCubins)},
      {"metallib", text(metalLibrary)},
      {"tokenizer", tokenizerPath},
      {"context", number(contextTokens.getValue())},
      {"prefill-tokens", number(prefillTokens.getValue())},
      {"fuse-moe", text(fuseMoe)},
      {"batch-tracks", text(batchTracks)},
      {"quantize", llvm::join(quantize, ",")},
      {"quantize-linear-pattern", quantizeLinearPattern},
      {"share-kv-layers", number(shareKvLayers.getValue())},
      {"share-kv-fraction", shortNumber(shareKvFraction.getValue())},
      {"share-kv-source", number(shareKvSource.getValue())},
      {"attention-pattern", attentionPattern},
      {"window", number(attentionWindow.getValue())},
      {"global-rope", globalRope},
      {"kv-cache-type", kvCacheType},
      {"prefill-all-positions", text(prefillAllPositions)},
      {"max-draft-tokens", number(maxDraftTokens.getValue())},
      {"lora-rank", number(loraRank.getValue())},
      {"lora-targets", llvm::join(loraTargets, ",")},
      {"merge", mergeAdapterFlag ? adapterDir.getValue() : std::string()},
  };
}

/// The files the artifact is made from: the input (an IR file, or a Hugging
/// Face directory's config.json), then every file the module reads
/// parameters or the tokenizer from, each with its SHA-256.
std::vector<fmc::artifact::SourceFile> sourceFilesOf(ModuleOp module) {
  std::vector<std::string> paths;
  if (llvm::sys::fs::is_directory(inputPath)) {
    llvm::SmallString<256> config(inputPath.getValue());
    llvm::sys::path::append(config, "config.json");
    if (llvm::sys::fs::exists(config))
      paths.push_back(config.str().str());
  } else if (inputPath != "-") {
    paths.push_back(inputPath);
  }
  for (std::string &file : fmc::artifact::referencedFiles(module))
    if (!llvm::is_contained(paths, file))
      paths.push_back(std::move(file));
  std::vector<fmc::artifact::SourceFile> files;
  for (const std::string &path : paths) {
    llvm::Expected<fmc::artifact::SourceFile> file =
        fmc::artifact::describeSourceFile(path);
    // A file that cannot be read is left to the writer, which reports it
    // with the parameter that needs it (and writes no artifact).
    if (!file) {
      llvm::consumeError(file.takeError());
      continue;
    }
    files.push_back(std::move(*file));
  }
  return files;
}

/// The directory the input's relative file paths are relative to: an IR
/// file's own; the current one for stdin and for a model file (whose reader
/// gives paths as the command line does).
std::string inputDirectory() {
  return llvm::StringRef(inputPath).ends_with(".mlir")
             ? fm::irFileDirectory(inputPath)
             : "";
}

/// Writes IR to -o: relative paths relative to the output file's directory,
/// or, on stdout, as the input had them.
int writeIR(ModuleOp module) {
  std::string error;
  std::string path = outputPath.empty() ? "-" : outputPath.getValue();
  std::unique_ptr<llvm::ToolOutputFile> out = openOutputFile(path, &error);
  if (!out)
    return failWith(error);
  fm::rebaseFilePaths(module, "",
                      path == "-" ? inputDirectory()
                                  : fm::irFileDirectory(path));
  module.print(out->os());
  out->os() << "\n";
  out->keep();
  return 0;
}

/// Plans nothing: builds `module`'s (a plan) executables and writes the
/// artifact `path`, with its size report.
int writeTarget(ModuleOp module, const std::string &path,
                const std::vector<std::string> &targetList,
                const std::vector<std::string> &command, Progress &progress,
                uint64_t trackPartitionId = 0) {
  fmc::targets::TargetOptions targetOptions;
  if (!cudaArchs.empty())
    targetOptions.cudaArchs.assign(cudaArchs.begin(), cudaArchs.end());
  targetOptions.cubins = cudaCubins;
  targetOptions.metallib = metalLibrary;
  targetOptions.xcrun = xcrunPath;
  targetOptions.progress = [&](const std::string &step) {
    progress.step(step);
  };
  llvm::Expected<std::vector<fmc::gpu::ExecutableImage>> executables =
      fmc::targets::buildExecutables(module, targetList, targetOptions);
  if (!executables) {
    progress.finishLine();
    return failWith(llvm::toString(executables.takeError()));
  }
  if (!dumpExecutablesDir.empty()) {
    llvm::Expected<std::vector<std::string>> written =
        fmc::targets::dumpExecutables(*executables, dumpExecutablesDir);
    if (!written) {
      progress.finishLine();
      return failWith(llvm::toString(written.takeError()));
    }
  }

  std::string model = llvm::sys::path::stem(path).str();
  fmc::artifact::SizeReport report =
      fmc::artifact::computeSizeReport(module, model);
  if (!executables->empty()) {
    // Every GPU target runs the same dispatch lists.
    const fmc::gpu::ExecutableImage &image = executables->front();
    fmc::artifact::SizeReport::GpuDispatches counts;
    counts.prefill = static_cast<int64_t>(image.prefill.dispatches.size());
    counts.decode = static_cast<int64_t>(image.decode.dispatches.size());
    for (plan::ProgramOp program : module.getOps<plan::ProgramOp>()) {
      int64_t regions = llvm::range_size(program.getOps<plan::DispatchOp>());
      (program.getSymName() == "prefill" ? counts.prefillRegions
                                         : counts.decodeRegions) = regions;
    }
    report.gpuDispatches = counts;
  }
  fmc::artifact::WriteOptions options;
  progress.step("hashing the source files");
  options.provenance.command = command;
  options.provenance.options = optionsInEffect(targetList);
  options.provenance.sourceFiles = sourceFilesOf(module);
  options.targets = targetList;
  options.executables = std::move(*executables);
  options.modelName = model;
  options.trackPartitionId = trackPartitionId;
  options.progress = [&](uint64_t done, uint64_t total) {
    progress.percent("writing weights", done, total);
  };
  progress.step("writing " + path);
  llvm::Expected<uint64_t> bytes =
      fmc::artifact::writeArtifact(module, path, options);
  progress.finishLine();
  if (!bytes)
    return failWith(llvm::toString(bytes.takeError()));
  report.artifactBytes = *bytes;
  if (!quiet)
    fmc::artifact::printSizeReport(report, llvm::outs(), verbose);
  for (const std::string &warning : fmc::artifact::sizeReportWarnings(report))
    llvm::errs() << "fmc-compile: warning: " << warning << "\n";
  if (!reportJson.empty())
    return writeReportJson(report);
  return 0;
}

/// How --track-ranks or --tensor-ranks splits the model.
enum class RankSplit { Tracks, Tensor };

/// The ranks asked for and the flag that asked (1 and "" for neither).
std::pair<int64_t, std::string> rankSplitRequested() {
  if (tensorRanks > 1)
    return {tensorRanks, "--tensor-ranks"};
  if (trackRanks > 1)
    return {trackRanks, "--track-ranks"};
  return {1, ""};
}

/// --track-ranks or --tensor-ranks: one part per rank from `module`,
/// MODEL.rank<r>.fmc for -o MODEL.fmc. Tracks are split after the model
/// passes; layers before them, so fm-fuse-moe stacks each rank's share of
/// the experts (it cannot split a fused fm.moe).
int writeRankParts(ModuleOp module, RankSplit split, int64_t ranks,
                   const std::vector<std::string> &targetList,
                   const std::vector<std::string> &command,
                   Progress &progress) {
  // Every part of this compilation records the same id: the model's IR
  // before partitioning and the options that shape the plan (--context,
  // --prefill-tokens, ...), so parts of two compilations never run together.
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  for (const auto &[name, value] : optionsInEffect(targetList))
    os << "\n" << name << "=" << value;
  uint64_t id = llvm::xxh3_64bits(text);
  llvm::StringRef stem = llvm::StringRef(outputPath).drop_back(4);
  for (int64_t rank = 0; rank < ranks; ++rank) {
    OwningOpRef<ModuleOp> part(cast<ModuleOp>(module->clone()));
    PassManager pm(module.getContext());
    if (split == RankSplit::Tracks) {
      fm::PartitionTracksOptions options;
      options.ranks = ranks;
      options.rank = rank;
      pm.addPass(
          fm::createPartitionTracks(options, flagsOf("fm-partition-tracks")));
    } else {
      fm::PartitionTensorOptions options;
      options.ranksOption = ranks;
      options.rankOption = rank;
      pm.addPass(
          fm::createPartitionTensor(options, flagsOf("fm-partition-tensor")));
    }
    progress.step("planning rank " + std::to_string(rank));
    if (failed(pm.run(*part)) ||
        (split == RankSplit::Tensor && failed(runModelPasses(*part))) ||
        failed(runPlan(*part)))
      return 1;
    std::string path = (stem + ".rank" + llvm::Twine(rank) + ".fmc").str();
    if (int status =
            writeTarget(*part, path, targetList, command, progress, id))
      return status;
  }
  return 0;
}

/// fmc-compile --adapter DIR --base BASE -o OUT.fmca.
int compileAdapter() {
  if (adapterDir.empty() || adapterBase.empty())
    return failWith("--adapter and --base go together: fmc-compile --adapter "
                    "PEFT_DIR --base base.fmc -o adapter.fmca");
  if (!inputPath.empty())
    return failWith("--adapter compiles an adapter for --base, not a model: "
                    "drop '" + inputPath + "'");
  if (outputPath.empty() || outputPath == "-")
    return failWith("an adapter needs an output file: -o adapter.fmca");
  if (loraRank.getNumOccurrences() || !loraTargets.empty() ||
      !quantize.empty())
    return failWith("--lora-rank, --lora-targets and --quantize compile the "
                    "base, not an adapter");
  llvm::Expected<fmc::import::PeftAdapter> adapter =
      fmc::import::readPeftAdapter(adapterDir);
  if (!adapter)
    return failWith(llvm::toString(adapter.takeError()));
  llvm::Expected<fmc::artifact::AdapterSummary> written =
      fmc::artifact::writeAdapter(*adapter, adapterBase, outputPath,
                                  adapterName);
  if (!written)
    return failWith(llvm::toString(written.takeError()));
  if (!quiet)
    llvm::outs() << outputPath << ": LoRA adapter of " << written->modules
                 << " linear layers (rank " << adapter->rank << ", alpha "
                 << shortNumber(adapter->alpha) << ") for "
                 << adapterBase << " (" << written->baseSlots
                 << " slots of rank " << written->slotRank << "), "
                 << written->fileBytes << " bytes\n";
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  // Recorded in the artifact as typed, before anything rewrites argv.
  std::vector<std::string> command(argv, argv + argc);
  llvm::InitLLVM init(argc, argv);
  llvm::cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << fmc::versionLine("fmc-compile") << "\n";
  });
  cl::HideUnrelatedOptions({&category, &kvCategory, &loraCategory});
  cl::ParseCommandLineOptions(
      argc, argv,
      "fmc-compile: compile a decoder model into an .fmc artifact\n\n"
      "  fmc-compile model.mlir -o model.fmc\n"
      "  fmc-compile model.mlir --compile-to=plan -o model.plan.mlir\n"
      "  fmc-compile --adapter PEFT_DIR --base base.fmc -o adapter.fmca\n");

  if (mergeAdapterFlag) {
    if (adapterDir.empty())
      return failWith("--merge folds an --adapter DIR into the model");
    if (!adapterBase.empty())
      return failWith("--merge folds the adapter into the model given, not "
                      "into --base");
    if (!quantize.empty())
      return failWith("--merge folds the adapter into float weights; "
                      "--quantize would quantize them after the merge is "
                      "written, which fmc does not do (merge, then compile "
                      "the merged model's IR with --quantize is not "
                      "supported either): drop one of them");
  } else if (!adapterDir.empty() || !adapterBase.empty()) {
    return compileAdapter();
  }
  if (inputPath.empty())
    return failWith("no model given: fmc-compile MODEL -o model.fmc (see "
                    "--help)");
  if (!loraTargets.empty() && !loraRank.getNumOccurrences())
    return failWith("--lora-targets needs --lora-rank");
  if (!adapterName.empty())
    return failWith("--adapter-name needs --adapter");

  if (compileTo == Phase::Target && (outputPath.empty() || outputPath == "-"))
    return failWith("an artifact needs an output file: -o model.fmc");
  for (auto [flag, value] : {std::pair<const char *, int64_t>{
                                 "--track-ranks", trackRanks},
                             {"--tensor-ranks", tensorRanks}})
    if (value < 1 || value > 1024)
      return failWith(llvm::Twine(flag) + " must be from 1 to 1024, got " +
                      llvm::Twine(value));
  if (trackRanks > 1 && tensorRanks > 1)
    return failWith("--track-ranks and --tensor-ranks are two ways to split "
                    "a model over processes: give one");
  auto [splitRanks, splitFlag] = rankSplitRequested();
  if (splitRanks > 1) {
    if (compileTo != Phase::Target)
      return failWith(splitFlag +
                      " writes one artifact per rank; to see one rank's IR, "
                      "run fmc-opt --" +
                      (trackRanks > 1 ? "fm-partition-tracks"
                                      : "fm-partition-tensor") +
                      "='ranks=N rank=R' on the --compile-to=fm output");
    if (!llvm::StringRef(outputPath).ends_with(".fmc") ||
        outputPath.size() <= 4)
      return failWith(splitFlag +
                      " writes MODEL.rank<r>.fmc for -o MODEL.fmc: -o must "
                      "end in .fmc, got '" +
                      outputPath + "'");
    if (tensorRanks > 1 && loraRank.getNumOccurrences())
      return failWith("--tensor-ranks does not split LoRA slots: drop "
                      "--lora-rank");
  }
  {
    fm::QuantizeWeightsOptions quantOptions;
    bool any = false;
    std::string error = quantizeOptions(quantOptions, any);
    if (!error.empty())
      return failWith(error);
  }
  std::vector<std::string> targetList;
  for (const std::string &target : targets) {
    std::vector<std::string> available = fmc::artifact::availableTargets();
    if (!llvm::is_contained(available, target))
      return failWith("unknown target '" + target +
                      "' (available: " + llvm::join(available, ", ") + ")");
    if (!llvm::is_contained(targetList, target))
      targetList.push_back(target);
  }
  // The parts' all-reduces run on MPI (cpu ranks) or NCCL (cuda ranks);
  // Vulkan and Metal have no collective engine.
  for (const std::string &t : targetList)
    if (splitRanks > 1 && t != "cpu" && t != "cuda")
      return failWith(splitFlag + " runs on cpu ranks (MPI) or cuda ranks "
                      "(NCCL); the " + t + " target has no all-reduce: use "
                      "--target=cuda or drop --target=" + t);
  if (noCpu) {
    if (llvm::is_contained(targetList, "cpu"))
      return failWith("--no-cpu leaves the cpu target out, but --target names "
                      "it");
    if (targetList.empty())
      return failWith("--no-cpu leaves no target: add GPU targets, e.g. "
                      "--target=cuda,vulkan");
  } else if (!llvm::is_contained(targetList, "cpu")) {
    // The cpu code is every machine's fallback: fmc-run --backend auto
    // ends there when no GPU runs the artifact.
    targetList.insert(targetList.begin(), "cpu");
  }

  for (const std::string &arch : cudaArchs) {
    llvm::StringRef digits(arch);
    unsigned sm = 0;
    if (!digits.consume_front("sm_") || digits.consumeInteger(10, sm) ||
        !(digits.empty() || digits == "a") || sm < 50)
      return failWith("--cuda-arch: '" + arch +
                      "' is not an SM architecture like sm_80 or sm_90a");
  }
  if (!dumpExecutablesDir.empty() &&
      !llvm::any_of(targetList, [](const std::string &target) {
        return target != "cpu";
      }))
    return failWith("--dump-executables needs a GPU target "
                    "(--target=cuda,vulkan,metal); the cpu target has no "
                    "code");
  if (metalLibrary && !llvm::is_contained(targetList, "metal"))
    return failWith("--metallib builds the metal target's library; add "
                    "--target=metal");

  // fm-to-plan keeps 2^31 - 1 for "no linear cache bounds the context".
  if (contextTokens < 0 || contextTokens >= (int64_t(1) << 31) - 1)
    return failWith(
        "--context must be a positive number of positions below 2^31 - 1, "
        "got " +
        llvm::Twine(contextTokens.getValue()));
  if (prefillTokens <= 0 || prefillTokens >= (int64_t(1) << 20))
    return failWith("--prefill-tokens must be in [1, 2^20), got " +
                    llvm::Twine(prefillTokens.getValue()));
  if (std::optional<std::string> error = checkKvFlags())
    return failWith(*error);

  DialectRegistry registry;
  registry.insert<fm::FmDialect, plan::PlanDialect, func::FuncDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // Diagnostics name the op and its location; a dump of the module helps
  // nobody reading a compiler error.
  context.printOpOnDiagnostic(false);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  // IR built by the importer has named, not file, locations: report those
  // against the model file, naming the layer or tensor the location names.
  ScopedDiagnosticHandler imported(
      &context, [&](Diagnostic &diag) -> LogicalResult {
        if (diag.getLocation()->findInstanceOf<FileLineColLoc>())
          return failure(); // The source manager prints file:line:col.
        llvm::errs() << "fmc-compile: ";
        switch (diag.getSeverity()) {
        case DiagnosticSeverity::Error:
          llvm::errs() << "error: ";
          break;
        case DiagnosticSeverity::Warning:
          llvm::errs() << "warning: ";
          break;
        case DiagnosticSeverity::Note:
          llvm::errs() << "note: ";
          break;
        case DiagnosticSeverity::Remark:
          llvm::errs() << "remark: ";
          break;
        }
        llvm::errs() << inputPath;
        if (auto name = diag.getLocation()->findInstanceOf<NameLoc>())
          llvm::errs() << " (" << name.getName().getValue() << ")";
        llvm::errs() << ": " << diag << "\n";
        for (Diagnostic &note : diag.getNotes())
          llvm::errs() << "fmc-compile: note: " << note << "\n";
        return success();
      });
  Progress progress(quiet);

  OwningOpRef<ModuleOp> module;
  if (inputPath == "-" || llvm::StringRef(inputPath).ends_with(".mlir")) {
    std::string error;
    std::unique_ptr<llvm::MemoryBuffer> file = openInputFile(inputPath, &error);
    if (!file)
      return failWith(error);
    sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
    progress.step("parsing " + inputPath);
    module = parseSourceFile<ModuleOp>(sourceMgr, &context);
    if (!module)
      return 1;
    // Relative paths in an IR file are relative to its directory; from here
    // on, to the current one.
    fm::rebaseFilePaths(*module, inputDirectory(), "");
  } else {
    progress.step("importing " + inputPath);
    std::optional<llvm::StringRef> tokenizer;
    if (!tokenizerPath.empty())
      tokenizer = tokenizerPath.getValue();
    llvm::Expected<fmc::import::ModelSource> source =
        fmc::import::readModel(inputPath, tokenizer);
    if (!source)
      return failWith(llvm::toString(source.takeError()));
    llvm::Expected<OwningOpRef<ModuleOp>> built =
        fmc::import::buildFmModule(context, *source);
    if (!built)
      return failWith(llvm::toString(built.takeError()));
    module = std::move(*built);
    if (failed(verify(*module)))
      return 1;
  }

  if (mergeAdapterFlag) {
    progress.step("merging " + adapterDir);
    llvm::Expected<fmc::import::PeftAdapter> adapter =
        fmc::import::readPeftAdapter(adapterDir);
    if (!adapter)
      return failWith(llvm::toString(adapter.takeError()));
    if (llvm::Error err = fmc::import::mergeAdapter(*module, *adapter))
      return failWith(llvm::toString(std::move(err)));
  }

  // A context past what the model was trained for compiles (and RoPE
  // extrapolates), but quality past it is not the model's: say so.
  if (auto trained =
          (*module)->getAttrOfType<IntegerAttr>("fm.context_length");
      trained && contextTokens > trained.getInt()) {
    progress.finishLine();
    llvm::errs() << "fmc-compile: warning: --context " << contextTokens
                 << " exceeds the " << trained.getInt()
                 << " positions the model was trained for; text past them "
                    "may degrade\n";
  }

  if (!quantize.empty() && phaseOf(*module) == Phase::Plan)
    return failWith("--quantize applies to a model or fm IR; '" + inputPath +
                    "' is already planned (quantize before --compile-to=plan)");
  if (phaseOf(*module) == Phase::Fm) {
    if (tensorRanks > 1)
      return writeRankParts(*module, RankSplit::Tensor, tensorRanks,
                            targetList, command, progress);
    progress.step("running the model passes");
    if (failed(runModelPasses(*module)))
      return 1;
    if (compileTo == Phase::Fm) {
      progress.finishLine();
      return writeIR(*module);
    }
    if (trackRanks > 1)
      return writeRankParts(*module, RankSplit::Tracks, trackRanks, targetList,
                            command, progress);
    progress.step("planning");
    if (failed(runPlan(*module)))
      return 1;
  } else if (splitRanks > 1) {
    return failWith(splitFlag + " partitions a model or fm IR; '" +
                    inputPath + "' is already a plan");
  } else if (compileTo == Phase::Fm) {
    return failWith("'" + inputPath +
                    "' is already a plan; --compile-to=fm "
                    "needs fm IR or a model file");
  } else if (failed(formDispatches(*module))) {
    return 1;
  }
  std::string model = llvm::sys::path::stem(outputPath).str();
  if (compileTo == Phase::Plan) {
    progress.finishLine();
    // The size report needs the plan, not the weights: a model's memory is
    // known without writing (or even having) its parameter bytes.
    if (!reportJson.empty())
      if (int status =
              writeReportJson(fmc::artifact::computeSizeReport(*module, model)))
        return status;
    return writeIR(*module);
  }

  if (compileTo == Phase::Gpu) {
    progress.step("building GPU kernels");
    llvm::Expected<fmc::gpu::GpuProgram> program =
        fmc::gpu::buildGpuProgram(*module);
    progress.finishLine();
    if (!program)
      return failWith(llvm::toString(program.takeError()));
    return writeIR(*program->kernels);
  }

  return writeTarget(*module, outputPath, targetList, command, progress);
}
