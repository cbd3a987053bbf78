//===- StackedParams.cpp - the bytes of a stacked parameter ---------------===//

#include "lowering/artifact/StackedParams.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/Twine.h"

using namespace mlir;

llvm::Expected<std::vector<llvm::StringRef>>
fmc::artifact::stackPieces(fm::ParamOp stack, PartBytesFn partBytes) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "parameter @" + stack.getSymName() + ": " +
                                       why);
  };
  uint64_t total = stack.getStorageBytes(), bytes = 0;
  std::vector<llvm::StringRef> pieces;
  for (Attribute ref : stack.getPartsAttr()) {
    auto name = cast<FlatSymbolRefAttr>(ref);
    auto part = SymbolTable::lookupNearestSymbolFrom<fm::ParamOp>(stack, name);
    // The verifier guarantees this; a module built by hand may still lie.
    if (!part || part.isStack() || !part.getSourceAttr())
      return fail("part " + name.getValue() +
                  " is not a parameter stored in a file");
    llvm::Expected<llvm::StringRef> data = partBytes(part);
    if (!data)
      return fail(llvm::toString(data.takeError()));
    pieces.push_back(*data);
    bytes += data->size();
  }
  if (bytes != total)
    return fail("parts hold " + llvm::Twine(bytes) + " bytes, the stack " +
                llvm::Twine(total));
  return pieces;
}
