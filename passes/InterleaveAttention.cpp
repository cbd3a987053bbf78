//===- InterleaveAttention.cpp - local/global attention by pattern --------===//

#include "passes/ModelStructure.h"
#include "passes/Passes.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::fm {
#define GEN_PASS_DEF_INTERLEAVEATTENTION
#include "passes/Passes.h.inc"
} // namespace mlir::fm

using namespace mlir;
using namespace mlir::fm;

namespace {

struct InterleaveAttentionPass
    : public fm::impl::InterleaveAttentionBase<InterleaveAttentionPass> {
  using InterleaveAttentionBase::InterleaveAttentionBase;
  InterleaveAttentionPass(InterleaveAttentionOptions options, OptionNames names)
      : InterleaveAttentionBase(std::move(options)), names(std::move(names)) {}

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(checkOptions(module)))
      return signalPassFailure();
    FailureOr<int64_t> context = contextLength(module);
    if (failed(context))
      return signalPassFailure();
    SymbolTable symbols(module);
    for (auto function : module.getOps<FunctionOpInterface>()) {
      FailureOr<SmallVector<SmallVector<AttentionOp>>> sequences =
          collectLayerSequences(function);
      if (failed(sequences))
        return signalPassFailure();
      for (ArrayRef<AttentionOp> layers : *sequences)
        if (failed(interleave(layers, symbols, *context)))
          return signalPassFailure();
    }
  }

  LogicalResult checkOptions(ModuleOp module) {
    if (pattern.empty())
      return module.emitError()
             << "fm-interleave-attention: give a pattern of L (local) and "
                "G (global), e.g. "
             << names("pattern") << "=LLLG";
    for (auto [index, letter] : llvm::enumerate(pattern))
      if (letter != 'L' && letter != 'G')
        return module.emitError()
               << "fm-interleave-attention: " << names("pattern") << " '"
               << StringRef(pattern)
               << "' has '"
               << letter << "' at " << index << "; use L (local) and G (global)";
    if (StringRef(pattern).contains('L') && window <= 0)
      return module.emitError()
             << "fm-interleave-attention: local layers need " << names("window")
             << " > 0, got " << static_cast<int64_t>(window);
    if (globalRope != "rope" && globalRope != "none")
      return module.emitError()
             << "fm-interleave-attention: " << names("global-rope")
             << " must be rope or none, got '" << StringRef(globalRope) << "'";
    return success();
  }

  /// Positions a global layer's cache must hold.
  FailureOr<int64_t> contextLength(ModuleOp module) {
    if (auto attr = module->getAttrOfType<IntegerAttr>("fm.context_length"))
      return attr.getInt();
    int64_t longest = 0;
    for (KVCacheOp cache : module.getOps<KVCacheOp>())
      if (cache.getKind() == CacheKind::linear)
        longest = std::max<int64_t>(longest, cache.getCapacity());
    if (longest > 0)
      return longest;
    if (module.getOps<KVCacheOp>().empty())
      return 0; // No caches: nothing to size.
    return module.emitError()
           << "fm-interleave-attention: cannot size global caches: every cache "
              "is a ring; set fm.context_length on the module";
  }

  AttentionKind kindOf(int64_t layer) {
    return pattern[layer % pattern.size()] == 'L' ? AttentionKind::local
                                                  : AttentionKind::global;
  }

  LogicalResult interleave(ArrayRef<AttentionOp> layers, SymbolTable &symbols,
                           int64_t context) {
    // A layer reading another's cache must end up of the same kind.
    DenseMap<StringAttr, int64_t> writerOf;
    auto count = static_cast<int64_t>(layers.size());
    for (int64_t index = 0; index < count; ++index)
      if (FlatSymbolRefAttr writes = AttentionOp(layers[index]).getWritesAttr())
        writerOf[writes.getAttr()] = index;
    for (int64_t index = 0; index < count; ++index) {
      AttentionOp layer = layers[index];
      if (!layer.isCacheReader())
        continue;
      auto writer = writerOf.find(layer.getReadsAttr().getAttr());
      if (writer != writerOf.end() && kindOf(writer->second) != kindOf(index))
        return layer.emitError()
               << "fm-interleave-attention: layer " << index << " would be "
               << stringifyAttentionKind(kindOf(index))
               << " but reads the cache of layer " << writer->second
               << ", which would be "
               << stringifyAttentionKind(kindOf(writer->second)) << " ("
               << names("pattern") << "=" << StringRef(pattern) << ")";
    }

    for (int64_t index = 0; index < count; ++index) {
      AttentionOp layer = layers[index];
      AttentionKind kind = kindOf(index);
      layer.setKind(kind);
      if (kind == AttentionKind::local)
        layer.setWindow(static_cast<uint64_t>(window));
      else
        layer.removeWindowAttr();
      if (kind == AttentionKind::global && globalRope == "none")
        stripRope(layer);
      if (FlatSymbolRefAttr writes = layer.getWritesAttr())
        resize(symbols.lookup<KVCacheOp>(writes.getAttr()), kind, context);
    }
    return success();
  }

  /// A local cache keeps the last `window` positions (all of them when the
  /// context is no longer); a global cache keeps the whole context.
  void resize(KVCacheOp cache, AttentionKind kind, int64_t context) {
    bool ring = kind == AttentionKind::local && window < context;
    cache.setKind(ring ? CacheKind::ring : CacheKind::linear);
    cache.setCapacity(ring ? window : context);
  }

  /// NoPE: the layer's queries and keys skip RoPE.
  void stripRope(AttentionOp layer) {
    SmallVector<Value> dropped;
    if (auto rope = layer.getQ().getDefiningOp<RopeOp>()) {
      layer.getQMutable().assign(rope.getInput());
      dropped.push_back(rope);
    }
    if (Value k = layer.getK())
      if (auto rope = k.getDefiningOp<RopeOp>()) {
        layer.getKMutable().assign(rope.getInput());
        dropped.push_back(rope);
      }
    eraseDeadProducers(dropped);
  }

  OptionNames names;
};

} // namespace

std::unique_ptr<Pass>
mlir::fm::createInterleaveAttention(InterleaveAttentionOptions options,
                                    OptionNames names) {
  return std::make_unique<InterleaveAttentionPass>(std::move(options),
                                                   std::move(names));
}
