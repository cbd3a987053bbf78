//===- LoraMerge.cpp - a LoRA delta folded into a weight ------------------===//

#include "lowering/artifact/LoraMerge.h"

#include "lowering/quant/QuantMath.h"

#include "llvm/Support/Parallel.h"

#include <cstring>
#include <vector>

using namespace mlir;

namespace fmc::artifact {

namespace {

float load(fm::StorageType dtype, const char *bytes, uint64_t i) {
  if (dtype == fm::StorageType::f32) {
    float v;
    std::memcpy(&v, bytes + 4 * i, 4);
    return v;
  }
  uint16_t h;
  std::memcpy(&h, bytes + 2 * i, 2);
  return dtype == fm::StorageType::f16 ? quant::halfToFloat(h)
                                       : quant::bfloatToFloat(h);
}

void store(fm::StorageType dtype, char *bytes, uint64_t i, float v) {
  if (dtype == fm::StorageType::f32) {
    std::memcpy(bytes + 4 * i, &v, 4);
    return;
  }
  uint16_t h = dtype == fm::StorageType::f16 ? quant::floatToHalf(v)
                                             : quant::floatToBFloat(v);
  std::memcpy(bytes + 2 * i, &h, 2);
}

} // namespace

uint64_t loraDeltaBytes(fm::ParamOp param, bool b) {
  fm::LoraDeltaAttr delta = param.getDeltaAttr();
  ArrayRef<int64_t> shape = param.getTensorType().getShape();
  fm::ExternalAttr part = b ? delta.getB() : delta.getA();
  uint64_t elements = delta.getRank() * (b ? shape[0] : shape[1]);
  return elements * fm::getElementBytes(part.getDtype());
}

llvm::Expected<std::string> mergeLoraDelta(fm::ParamOp param,
                                           llvm::StringRef w,
                                           llvm::StringRef a,
                                           llvm::StringRef b) {
  fm::LoraDeltaAttr delta = param.getDeltaAttr();
  ArrayRef<int64_t> shape = param.getTensorType().getShape();
  int64_t out = shape[0], in = shape[1], rank = delta.getRank();
  fm::StorageType wType = param.getSourceAttr().getDtype();
  fm::StorageType aType = delta.getA().getDtype(), bType = delta.getB().getDtype();
  if (w.size() != out * in * fm::getElementBytes(wType) ||
      a.size() != loraDeltaBytes(param, false) ||
      b.size() != loraDeltaBytes(param, true))
    return llvm::createStringError("parameter @" + param.getSymName() +
                                   ": the LoRA delta's bytes do not fit its "
                                   "shape");
  double scale = delta.getScale().convertToDouble();
  std::vector<float> aValues(rank * in);
  for (int64_t i = 0; i < rank * in; ++i)
    aValues[i] = load(aType, a.data(), i);
  std::string merged(w.size(), '\0');
  llvm::parallelFor(0, out, [&](size_t o) {
    std::vector<double> bRow(rank);
    for (int64_t j = 0; j < rank; ++j)
      bRow[j] = scale * load(bType, b.data(), o * rank + j);
    for (int64_t k = 0; k < in; ++k) {
      double sum = load(wType, w.data(), o * in + k);
      for (int64_t j = 0; j < rank; ++j)
        sum += bRow[j] * aValues[j * in + k];
      store(wType, merged.data(), o * in + k, static_cast<float>(sum));
    }
  });
  return merged;
}

} // namespace fmc::artifact
