//===- AddLoraSlots.cpp - LoRA slots on a base model's linears ------------===//
//
// A base compiled with slots runs unchanged until an adapter fills them: the
// slots are zero, so the pair adds nothing. Declaring them in the IR, rather
// than patching the artifact, lets every later phase (planning, dispatch
// formation, each backend's codegen) treat the low-rank update as two more
// dense linears.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/fm/IR/FmOps.h"
#include "dialects/fm/IR/LoraSlotNames.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::fm {
#define GEN_PASS_DEF_ADDLORASLOTS
#include "passes/Passes.h.inc"
} // namespace mlir::fm

using namespace mlir;
using namespace mlir::fm;

namespace {

/// PEFT's rule for a list of target_modules: the module is the target, or
/// ends with "." + target.
bool targets(StringRef module, StringRef target) {
  return module == target ||
         (module.ends_with(target) &&
          module.drop_back(target.size()).ends_with("."));
}

struct AddLoraSlotsPass : public fm::impl::AddLoraSlotsBase<AddLoraSlotsPass> {
  using AddLoraSlotsBase::AddLoraSlotsBase;
  AddLoraSlotsPass(AddLoraSlotsOptions options, OptionNames names)
      : AddLoraSlotsBase(std::move(options)), names(std::move(names)) {}

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (rank <= 0) {
      module.emitError() << names("rank")
                         << " must be a positive LoRA rank, got "
                         << static_cast<int64_t>(rank);
      return signalPassFailure();
    }
    SymbolTable symbols(module);
    llvm::StringSet<> matched;
    SmallVector<LinearOp> linears;
    module.walk([&](LinearOp linear) {
      StringRef module = loraModuleOf(linear.getWeight());
      if (targets.empty()) {
        linears.push_back(linear);
        return;
      }
      for (const std::string &target : targets)
        if (::targets(module, target)) {
          matched.insert(target);
          linears.push_back(linear);
          return;
        }
    });
    for (const std::string &target : targets)
      if (!matched.contains(target)) {
        InFlightDiagnostic diag = module.emitError()
                                  << names("targets") << " names '" << target
                                  << "', which is no linear layer's module";
        LinearOp example;
        module.walk([&](LinearOp linear) {
          example = linear;
          return WalkResult::interrupt();
        });
        if (example)
          diag << " (modules are weight names without '.weight', e.g. '"
               << loraModuleOf(example.getWeight()) << "')";
        return signalPassFailure();
      }
    if (linears.empty()) {
      module.emitError() << "the model has no linear layer to give a LoRA slot";
      return signalPassFailure();
    }
    for (LinearOp linear : linears)
      if (!linear.getLoraAAttr() && failed(addSlot(linear, symbols)))
        return signalPassFailure();
  }

  /// Declares (once per weight: a weight two linears share shares its slot)
  /// and attaches the pair.
  LogicalResult addSlot(LinearOp linear, SymbolTable &symbols) {
    auto weight = symbols.lookup<ParamOp>(linear.getWeight());
    if (!weight)
      return linear.emitOpError() << "weight does not name an fm.param";
    ArrayRef<int64_t> shape = weight.getTensorType().getShape();
    if (shape.size() != 2)
      return linear.emitOpError() << "weight is not a matrix";
    std::string aName = loraSlotName(weight.getSymName(), false);
    std::string bName = loraSlotName(weight.getSymName(), true);
    int64_t r = rank;
    ParamOp a = declare(symbols, weight, aName, {r, shape[1]});
    ParamOp b = a ? declare(symbols, a, bName, {shape[0], r}) : ParamOp();
    if (!a || !b)
      return linear.emitOpError()
             << "@" << aName << " or @" << bName
             << " exists and is not an adapter slot of rank " << r;
    linear.setLoraAAttr(FlatSymbolRefAttr::get(a.getSymNameAttr()));
    linear.setLoraBAttr(FlatSymbolRefAttr::get(b.getSymNameAttr()));
    ++numSlots;
    return success();
  }

  /// The slot `name` of `shape`, declared after `after`: the existing one
  /// when it is such a slot, null when the name is taken by anything else.
  ParamOp declare(SymbolTable &symbols, ParamOp after, StringRef name,
                  ArrayRef<int64_t> shape) {
    auto type =
        RankedTensorType::get(shape, Float16Type::get(after.getContext()));
    if (Operation *existing = symbols.lookup(name)) {
      auto param = dyn_cast<ParamOp>(existing);
      return param && param.getAdapterSlot() && param.getTensorType() == type
                 ? param
                 : ParamOp();
    }
    OpBuilder builder(after);
    builder.setInsertionPointAfter(after);
    auto slot = ParamOp::create(builder, after.getLoc(), name, type,
                                /*source=*/nullptr, /*parts=*/nullptr,
                                /*adapter_slot=*/true, /*delta=*/nullptr,
                                /*sym_visibility=*/nullptr);
    symbols.insert(slot);
    numSlotBytes += slot.getStorageBytes();
    return slot;
  }

  OptionNames names;
};

} // namespace

std::unique_ptr<Pass>
mlir::fm::createAddLoraSlots(AddLoraSlotsOptions options, OptionNames names) {
  return std::make_unique<AddLoraSlotsPass>(std::move(options),
                                            std::move(names));
}
