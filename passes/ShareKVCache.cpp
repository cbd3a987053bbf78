//===- ShareKVCache.cpp - reuse an earlier layer's KV cache ---------------===//

#include "passes/ModelStructure.h"
#include "passes/Passes.h"

#include <cmath>
#include <sstream>

namespace mlir::fm {
#define GEN_PASS_DEF_SHAREKVCACHE
#include "passes/Passes.h.inc"
} // namespace mlir::fm

using namespace mlir;
using namespace mlir::fm;

namespace {

struct ShareKVCachePass
    : public fm::impl::ShareKVCacheBase<ShareKVCachePass> {
  using ShareKVCacheBase::ShareKVCacheBase;
  ShareKVCachePass(ShareKVCacheOptions options, OptionNames names)
      : ShareKVCacheBase(std::move(options)), names(std::move(names)) {}

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (reuseLayers != 0 && reuseFraction != 0.0) {
      module.emitError() << "fm-share-kv-cache: give " << names("reuse-layers")
                         << " or " << names("reuse-fraction") << ", not both";
      return signalPassFailure();
    }
    if (reuseLayers < 0 || reuseFraction < 0.0 || reuseFraction >= 1.0) {
      module.emitError() << "fm-share-kv-cache: " << names("reuse-layers")
                         << " must be >= 0 and " << names("reuse-fraction")
                         << " in [0, 1)";
      return signalPassFailure();
    }
    for (auto function : module.getOps<FunctionOpInterface>())
      if (failed(shareIn(function)))
        return signalPassFailure();
    dropUnusedDeclarations(module, /*keepCaches=*/false);
  }

  LogicalResult shareIn(FunctionOpInterface function) {
    FailureOr<SmallVector<SmallVector<AttentionOp>>> sequences =
        collectLayerSequences(function);
    if (failed(sequences))
      return failure();
    if (sequences->empty())
      return success();
    bool hasTracks =
        function->walk([](ParallelTracksOp) { return WalkResult::interrupt(); })
            .wasInterrupted();
    if (hasTracks)
      return function->emitError()
             << "fm-share-kv-cache does not handle parallel-track models";
    ArrayRef<AttentionOp> layers = sequences->front();
    auto count = static_cast<int64_t>(layers.size());
    int64_t reuse = reuseFraction > 0.0
                        ? static_cast<int64_t>(std::llround(count * reuseFraction))
                        : static_cast<int64_t>(reuseLayers);
    // Nothing to rewrite: an already-sharing model only loses the
    // declarations nothing names (in runOnOperation).
    if (reuse == 0 && sourceLayer < 0)
      return success();
    if (reuse == 0 && reuseFraction > 0.0)
      return function->emitError()
             << "fm-share-kv-cache: " << reuseGiven() << " of " << count
             << " layers rounds to none; " << names("source-layer")
             << " needs a reuse layer";
    if (reuse == 0)
      return function->emitError()
             << "fm-share-kv-cache: " << names("source-layer") << " needs "
             << names("reuse-layers") << " or " << names("reuse-fraction");
    if (reuse >= count)
      return function->emitError()
             << "fm-share-kv-cache: cannot make " << reuse << " of " << count
             << " layers reuse a cache (" << reuseGiven()
             << "); at least the first layer must own one";
    int64_t firstReuse = count - reuse;

    SmallVector<Value> dropped;
    for (int64_t index = firstReuse; index < count; ++index) {
      AttentionOp layer = layers[index];
      FailureOr<int64_t> source = findSource(layers, index, firstReuse);
      if (failed(source))
        return failure();
      AttentionOp owner = layers[*source];
      if (owner.getNumKvHeads() != layer.getNumKvHeads() ||
          owner.getHeadDim() != layer.getHeadDim())
        return layer.emitError()
               << "layer " << index << " has kv_heads = "
               << layer.getNumKvHeads() << ", head_dim = "
               << layer.getHeadDim() << " but its source layer " << *source
               << " has kv_heads = " << owner.getNumKvHeads()
               << ", head_dim = " << owner.getHeadDim();
      if (layer.getK()) {
        dropped.push_back(layer.getK());
        dropped.push_back(layer.getV());
        layer.getKMutable().clear();
        layer.getVMutable().clear();
      }
      layer.removeWritesAttr();
      layer.setReadsAttr(owner.getWritesAttr());
    }
    eraseDeadProducers(dropped);
    return success();
  }

  /// The layer whose cache layer `index` reads.
  FailureOr<int64_t> findSource(ArrayRef<AttentionOp> layers, int64_t index,
                                int64_t firstReuse) {
    AttentionOp layer = layers[index];
    // Read the option once: pass options do not stream into diagnostics.
    int64_t sourceLayer = this->sourceLayer;
    if (sourceLayer >= 0) {
      if (sourceLayer >= firstReuse)
        return layer.emitError()
               << "fm-share-kv-cache: " << names("source-layer") << " "
               << sourceLayer << " must come before the first reuse layer "
               << firstReuse;
      AttentionOp source = layers[sourceLayer];
      if (source.isCacheReader())
        return layer.emitError()
               << "fm-share-kv-cache: " << names("source-layer") << " "
               << sourceLayer << " owns no cache (it reads "
               << source.getReadsAttr() << ")";
      if (source.getKind() != layer.getKind())
        return layer.emitError()
               << "layer " << index << " is "
               << stringifyAttentionKind(layer.getKind())
               << " but its source layer " << sourceLayer << " ("
               << names("source-layer") << ") is "
               << stringifyAttentionKind(source.getKind())
               << "; a layer can only reuse a cache of its own attention kind";
      return sourceLayer;
    }
    for (int64_t candidate = firstReuse - 1; candidate >= 0; --candidate) {
      AttentionOp earlier = layers[candidate];
      if (!earlier.isCacheReader() && earlier.getKind() == layer.getKind())
        return candidate;
    }
    return layer.emitError()
           << "fm-share-kv-cache: no layer before layer " << firstReuse
           << " owns a " << stringifyAttentionKind(layer.getKind())
           << " cache for layer " << index << " to reuse";
  }

  /// The option that set how many layers reuse a cache, as given.
  std::string reuseGiven() {
    if (reuseFraction > 0.0) {
      std::ostringstream os; // 0.375, not 3.750000e-01.
      os << names("reuse-fraction") << "=" << static_cast<double>(reuseFraction);
      return os.str();
    }
    return names("reuse-layers") + "=" +
           std::to_string(static_cast<int64_t>(reuseLayers));
  }

  OptionNames names;
};

} // namespace

std::unique_ptr<Pass> mlir::fm::createShareKVCache(ShareKVCacheOptions options,
                                                   OptionNames names) {
  return std::make_unique<ShareKVCachePass>(std::move(options),
                                            std::move(names));
}
