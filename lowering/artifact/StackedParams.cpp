//===- StackedParams.cpp - the bytes of a stacked parameter ---------------===//

#include "lowering/artifact/StackedParams.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/Twine.h"

using namespace mlir;

llvm::Expected<std::string>
fmc::artifact::materializeStack(fm::ParamOp stack, PartBytesFn partBytes) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "parameter @" + stack.getSymName() + ": " +
                                       why);
  };
  uint64_t total = stack.getStorageBytes();
  std::string bytes;
  bytes.reserve(total);
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
    bytes.append(data->data(), data->size());
  }
  if (bytes.size() != total)
    return fail("parts hold " + llvm::Twine(bytes.size()) +
                " bytes, the stack " + llvm::Twine(total));
  return bytes;
}
