//===- GraphEmitter.h - a ModelSpec as fm ops ------------------------------===//
//
// The layer-building helpers every architecture shares: norms, projections,
// the attention block (qk-norm, RoPE or NoPE, its own cache or another
// layer's), the gated FFN, the expert-by-expert MoE (router fm.linear ->
// fm.moe_route -> per-expert gate/up/glu/down -> fm.moe_combine, plus an
// optionally sigmoid-gated shared expert), pre-norm and parallel residual
// blocks, parallel-track blocks, and the output head. Parameters are created
// on first use, in use order, so the module does not depend on the order a
// file stores its tensors in.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_BUILDER_GRAPHEMITTER_H
#define FMC_IMPORT_BUILDER_GRAPHEMITTER_H

#include "import/builder/FirstError.h"
#include "import/builder/ModelSpec.h"
#include "import/builder/TensorTable.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"

namespace fmc::import {

class GraphEmitter {
public:
  GraphEmitter(mlir::ModuleOp module, TensorTable &tensors, FirstError &errors);

  /// Emits `func.func @forward(%tokens, %pos) -> logits` with the params and
  /// caches it uses. Problems go to `errors`; the IR is then incomplete.
  void emitForward(const ModelSpec &spec);

private:
  mlir::FlatSymbolRefAttr param(llvm::StringRef name,
                                llvm::ArrayRef<Dim> shape);
  mlir::FlatSymbolRefAttr declareCache(const AttentionSpec &attention);

  mlir::Value linear(mlir::Value x, const ProjSpec &proj, const Dim &out,
                     const Dim &in, llvm::StringRef name);
  mlir::Value norm(mlir::Value x, const NormSpec &spec, llvm::StringRef name);
  mlir::Value rope(mlir::Value x, const RopeSpec &spec, int64_t headDim,
                   llvm::StringRef name);
  mlir::Value attention(mlir::Value x, const AttentionSpec &spec,
                        llvm::StringRef tag);
  mlir::Value glu(mlir::Value x, const GluSpec &spec,
                  mlir::fm::Activation activation, llvm::StringRef tag);
  mlir::Value moe(mlir::Value x, const MoeSpec &spec,
                  mlir::fm::Activation activation, llvm::StringRef tag);
  mlir::Value ffn(mlir::Value x, const FfnSpec &spec, llvm::StringRef tag);
  mlir::Value layer(mlir::Value h, const LayerSpec &spec);
  mlir::Value trackBlock(mlir::Value h, const TrackBlockSpec &spec,
                         size_t index);

  /// A [tokens, features] f32 activation type.
  mlir::RankedTensorType activations(int64_t features);
  /// A location that names the value an op defines ("q3").
  mlir::Location named(llvm::StringRef role, llvm::StringRef tag);

  mlir::MLIRContext *context;
  mlir::ModuleOp module;
  TensorTable &tensors;
  FirstError &errors;
  mlir::OpBuilder builder;      ///< Inside @forward.
  mlir::OpBuilder declarations; ///< Module level, before @forward.
  mlir::Value positions;
  Dim hidden;
  int64_t contextLength = 0;
  llvm::StringMap<mlir::FlatSymbolRefAttr> params;
  llvm::StringMap<mlir::FlatSymbolRefAttr> caches;
};

} // namespace fmc::import

#endif // FMC_IMPORT_BUILDER_GRAPHEMITTER_H
