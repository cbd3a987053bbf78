//===- Matvec.cpp - #plan.matvec dispatches on the GPU --------------------===//
//
// Turns a matvec dispatch (its MatvecRegion and configuration) into the
// generator's description and the launch's bindings: one launch for the
// fused products, or one per group of a plan.grouped_linear (each group's
// input and output over its slice of the stacked weight).
//
//===----------------------------------------------------------------------===//

#include "lowering/gpu/families/Families.h"

#include "lowering/gpu/families/MatvecBindings.h"

#include "lowering/gpu/generator/MatvecKernel.h"
#include "lowering/gpu/generator/KernelBuilder.h"

#include "dialects/plan/IR/PlanDispatch.h"


namespace fmc::gpu {

namespace {

using mlir::plan::MatvecConfigAttr;

/// How the format of a weight names its kernel (profiles, dumps).
std::string formatName(const WeightLayout &w) {
  if (w.ggml)
    return std::string(w.ggml->fmName);
  if (w.packed)
    return "q" + std::to_string(w.format.bits);
  return w.dtype == F32 ? "f32" : w.dtype == F16 ? "f16" : "bf16";
}

class MatvecLowering {
public:
  MatvecLowering(mlir::plan::DispatchOp dispatch, LaunchBuilder &b)
      : dispatch(dispatch), b(b),
        config(llvm::cast<MatvecConfigAttr>(dispatch.getConfig())) {}

  llvm::Error run();

private:
  void configure(MatvecKernelSpec &spec) const;
  llvm::Expected<DenseVector> dense(MatvecBindings &bindings,
                                    mlir::FlatSymbolRefAttr symbol,
                                    llvm::StringRef role);
  llvm::Error weight(MatvecBindings &bindings, mlir::FlatSymbolRefAttr symbol,
                     mlir::Operation *product, WeightLayout &layout,
                     int &vectors, int &words);
  llvm::Expected<MatvecNorm> norm(MatvecBindings &bindings,
                                  mlir::Operation *op);
  llvm::Error launch(MatvecKernelSpec &spec, MatvecBindings &bindings);

  mlir::plan::DispatchOp dispatch;
  LaunchBuilder &b;
  MatvecConfigAttr config;
  mlir::Type f32, i32, vector;
};

void MatvecLowering::configure(MatvecKernelSpec &spec) const {
  spec.workgroupSize = config.getWorkgroupSize();
  spec.rowsPerWorkgroup = config.getRowsPerWorkgroup();
  spec.threadsPerRow = config.getThreadsPerRow();
  spec.vectorBytes = config.getVectorBytes();
  spec.tokensPerPass = config.getTokensPerPass();
  spec.int8Activations =
      config.getActivations() == mlir::plan::Activations::i8;
  spec.headTiles = config.getTiles() == mlir::plan::RowTiles::heads;
  spec.matrixUnits = config.getProducts() == mlir::plan::Products::mma;
  spec.maxTokens = b.maxTokens();
  spec.rowsSlot = b.rowsSlot();
}

llvm::Expected<DenseVector>
MatvecLowering::dense(MatvecBindings &bindings, mlir::FlatSymbolRefAttr symbol,
                      llvm::StringRef role) {
  DenseVector v;
  if (!symbol)
    return v;
  llvm::Expected<VectorParam> param = vectorParam(b, symbol, role);
  if (!param)
    return param.takeError();
  v.dtype = param->dtype;
  v.binding = bindings.add(param->binding, i32);
  return v;
}

llvm::Error MatvecLowering::weight(MatvecBindings &bindings,
                                   mlir::FlatSymbolRefAttr symbol,
                                   mlir::Operation *product,
                                   WeightLayout &layout, int &vectors,
                                   int &words) {
  llvm::Expected<WeightLayout> w = weightLayout(
      b, symbol, ("weight of " + product->getName().getStringRef()).str());
  if (!w)
    return w.takeError();
  layout = *w;
  // One tensor, two views: whole vectors of codes or elements, and words
  // (scales, tails, rows that do not start on a vector). ggml blocks are
  // read as words only.
  if (!layout.ggml)
    vectors = bindings.add(b.weight(symbol), vector);
  words = bindings.add(b.weight(symbol), i32);
  return llvm::Error::success();
}

llvm::Expected<MatvecNorm> MatvecLowering::norm(MatvecBindings &bindings,
                                                mlir::Operation *op) {
  MatvecNorm n;
  if (auto rms = llvm::dyn_cast<mlir::plan::RMSNormOp>(op)) {
    n.kind = MatvecNorm::Kind::Rms;
    n.eps = rms.getEpsAttr().getValueAsDouble();
    n.weightOffset = rms.getWeightOffsetAttr().getValueAsDouble();
    llvm::Expected<DenseVector> w =
        dense(bindings, rms.getWeightAttr(), "weight of plan.rms_norm");
    if (!w)
      return w.takeError();
    n.weight = *w;
    return n;
  }
  auto layer = llvm::cast<mlir::plan::LayerNormOp>(op);
  n.kind = MatvecNorm::Kind::Layer;
  n.eps = layer.getEpsAttr().getValueAsDouble();
  llvm::Expected<DenseVector> w =
      dense(bindings, layer.getWeightAttr(), "weight of plan.layer_norm");
  if (!w)
    return w.takeError();
  n.weight = *w;
  llvm::Expected<DenseVector> bias =
      dense(bindings, layer.getBiasAttr(), "bias of plan.layer_norm");
  if (!bias)
    return bias.takeError();
  n.bias = *bias;
  return n;
}

llvm::Error MatvecLowering::launch(MatvecKernelSpec &spec,
                                   MatvecBindings &bindings) {
  // ggml blocks meet exact f32 activations, as on the CPU.
  if (spec.segments.front().weight.ggml)
    spec.int8Activations = false;
  spec.finalize();
  int64_t workgroups =
      (spec.rows() + spec.rowsPerWorkgroup - 1) / spec.rowsPerWorkgroup;
  std::array<uint32_t, 3> grid = gridFor(workgroups);
  std::string name =
      "matvec_" + formatName(spec.segments.front().weight);
  if (spec.matrixUnits) {
    spec.splitPasses(workgroups);
    grid[2] = static_cast<uint32_t>(spec.tokenSplits);
    name += "_mma";
  }
  return b.dispatchGenerated(
      name,
      [&](mlir::ImplicitLocOpBuilder &builder) {
        return emitMatvecKernel(builder, name, spec);
      },
      {static_cast<uint32_t>(spec.workgroupSize), 1, 1}, grid,
      bindings.take());
}

llvm::Error MatvecLowering::run() {
  mlir::MLIRContext *ctx = dispatch.getContext();
  f32 = mlir::Float32Type::get(ctx);
  i32 = mlir::IntegerType::get(ctx, 32);
  int64_t words = config.getVectorBytes() / 4;
  vector = words == 1 ? i32 : mlir::VectorType::get({words}, i32);

  mlir::FailureOr<mlir::plan::MatvecRegion> region =
      mlir::plan::analyzeMatvec(dispatch, /*emitErrors=*/false);
  if (mlir::failed(region))
    return llvm::createStringError(
        "a #plan.matvec dispatch does not hold a matvec region (run the "
        "verifier for the reason)");

  if (mlir::plan::GroupedLinearOp grouped = region->grouped) {
    // One launch per group: rows g * n .. of the stacked weight.
    for (auto [g, io] : llvm::enumerate(
             llvm::zip(grouped.getInputs(), grouped.getOutputs()))) {
      MatvecKernelSpec spec;
      configure(spec);
      MatvecBindings bindings(spec);
      MatvecSegment seg;
      if (llvm::Error err = weight(bindings, grouped.getWeightAttr(), grouped,
                                   seg.weight, seg.weightVectors,
                                   seg.weightWords))
        return err;
      seg.rows = widthOf(std::get<1>(io));
      seg.weightRowBase = static_cast<int64_t>(g) * seg.rows;
      spec.k = widthOf(std::get<0>(io));
      spec.input = bindings.add(b.buffer(std::get<0>(io)), f32);
      spec.run = bindings.add(b.run(), i32);
      seg.output = bindings.add(b.buffer(std::get<1>(io)), f32);
      spec.segments.push_back(seg);
      if (llvm::Error err = launch(spec, bindings))
        return err;
    }
    return llvm::Error::success();
  }

  MatvecKernelSpec spec;
  configure(spec);
  MatvecBindings bindings(spec);
  spec.k = region->k;
  spec.input = bindings.add(b.buffer(region->input), f32);
  spec.run = bindings.add(b.run(), i32);
  if (region->positions)
    spec.positions = bindings.add(b.buffer(region->positions), i32);
  if (region->prologue) {
    llvm::Expected<MatvecNorm> n = norm(bindings, region->prologue);
    if (!n)
      return n.takeError();
    spec.prologue = *n;
  }
  int64_t rowStart = 0;
  for (mlir::plan::MatvecSegment &s : region->segments) {
    MatvecSegment seg;
    seg.rows = s.rows;
    seg.rowStart = rowStart;
    rowStart += s.rows;
    if (llvm::Error err =
            weight(bindings, s.weight, s.product, seg.weight,
                   seg.weightVectors, seg.weightWords))
      return err;
    llvm::Expected<DenseVector> bias = dense(bindings, s.bias, "bias");
    if (!bias)
      return bias.takeError();
    seg.bias = *bias;
    if (s.up) {
      WeightLayout up;
      if (llvm::Error err =
              weight(bindings, s.upWeight, s.up, up, seg.upVectors,
                     seg.upWords))
        return err;
      seg.up = up;
      llvm::Expected<DenseVector> upBias = dense(bindings, s.upBias, "bias");
      if (!upBias)
        return upBias.takeError();
      seg.upBias = *upBias;
      seg.gluActivation = activationCode(s.glu.getKind());
    }
    seg.scale = s.scale;
    seg.softcap = s.softcap;
    if (s.residual)
      seg.residual = bindings.add(b.buffer(s.residualOther), f32);
    if (s.headNorm) {
      llvm::Expected<MatvecNorm> n = norm(bindings, s.headNorm);
      if (!n)
        return n.takeError();
      seg.headNorm = *n;
    }
    if (s.rope) {
      MatvecRope rope;
      rope.interleaved = s.rope.getLayout() == mlir::fm::RopeLayout::interleaved;
      rope.headDim = s.rope.getHeadDim();
      rope.rotaryDim = s.rope.getRotaryDim();
      rope.theta = s.rope.getThetaAttr().getValueAsDouble();
      if (std::optional<llvm::ArrayRef<float>> table = s.rope.getFrequencies())
        rope.frequencies.assign(table->begin(), table->end());
      if (s.rope.getAttentionFactor())
        rope.attentionFactor = s.rope.getAttentionFactor()->convertToDouble();
      seg.rope = rope;
    }
    if (s.append) {
      mlir::fm::KVCacheOp cache = b.cacheOp(s.append.getCacheAttr());
      llvm::Expected<GpuCacheLayout> layout = GpuCacheLayout::of(cache);
      if (!layout)
        return layout.takeError();
      MatvecAppend append;
      append.layout = *layout;
      append.kvHeads = cache.getNumKvHeads();
      append.headDim = cache.getHeadDim();
      append.capacity = cache.getCapacity();
      append.ring = cache.getKind() == mlir::fm::CacheKind::ring;
      append.keys = s.appendsKeys;
      append.cache = bindings.add(b.cache(s.append.getCacheAttr()), i32);
      seg.append = append;
    }
    if (s.output)
      seg.output = bindings.add(b.buffer(s.output), f32);
    spec.segments.push_back(seg);
  }
  if (spec.headTiles && spec.rowsPerWorkgroup > spec.workgroupSize)
    return llvm::createStringError(
        "a matvec tiled by heads of " + llvm::Twine(spec.rowsPerWorkgroup) +
        " features needs a thread per feature; its workgroup has " +
        llvm::Twine(spec.workgroupSize));
  return launch(spec, bindings);
}

} // namespace

llvm::Error lowerMatvec(mlir::Operation *dispatch, LaunchBuilder &b) {
  return MatvecLowering(llvm::cast<mlir::plan::DispatchOp>(dispatch), b).run();
}

} // namespace fmc::gpu
