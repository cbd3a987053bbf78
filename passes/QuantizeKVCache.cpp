//===- QuantizeKVCache.cpp - narrower KV cache element types --------------===//

#include "passes/Passes.h"

#include "dialects/fm/IR/FmOps.h"
#include "llvm/ADT/StringSwitch.h"

namespace mlir::fm {
#define GEN_PASS_DEF_QUANTIZEKVCACHE
#include "passes/Passes.h.inc"
} // namespace mlir::fm

using namespace mlir;
using namespace mlir::fm;

namespace {

struct QuantizeKVCachePass
    : public fm::impl::QuantizeKVCacheBase<QuantizeKVCachePass> {
  using QuantizeKVCacheBase::QuantizeKVCacheBase;
  QuantizeKVCachePass(QuantizeKVCacheOptions options, OptionNames names)
      : QuantizeKVCacheBase(std::move(options)), names(std::move(names)) {}

  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder builder(&getContext());
    Type type = llvm::StringSwitch<Type>(elementType)
                    .Case("i8", builder.getI8Type())
                    .Case("f16", builder.getF16Type())
                    .Case("bf16", builder.getBF16Type())
                    .Case("f32", builder.getF32Type())
                    .Default(Type());
    if (!type) {
      module.emitError() << "fm-quantize-kv-cache: " << names("element-type")
                         << " must be i8, f16, bf16 or f32, got '"
                         << StringRef(elementType) << "'";
      return signalPassFailure();
    }
    for (KVCacheOp cache : module.getOps<KVCacheOp>())
      cache.setElementType(type);
  }

  OptionNames names;
};

} // namespace

std::unique_ptr<Pass>
mlir::fm::createQuantizeKVCache(QuantizeKVCacheOptions options,
                                OptionNames names) {
  return std::make_unique<QuantizeKVCachePass>(std::move(options),
                                               std::move(names));
}
