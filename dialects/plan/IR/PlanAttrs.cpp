//===- PlanAttrs.cpp - kernel configurations of dispatches ----------------===//

#include "dialects/plan/IR/PlanDialect.h"
#include "dialects/plan/IR/PlanDispatch.h"
#include "dialects/plan/IR/PlanOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::plan;

/// A binding's optional `@symbol`. Not an optional group: the attribute
/// parser it would use reads the `[offset, bytes]` that follows a symbol-
/// less binding as an array attribute.
static ParseResult parseBindingSymbol(AsmParser &parser,
                                      FlatSymbolRefAttr &symbol) {
  StringAttr name;
  if (succeeded(parser.parseOptionalSymbolName(name)))
    symbol = FlatSymbolRefAttr::get(name);
  return success();
}

static void printBindingSymbol(AsmPrinter &printer, FlatSymbolRefAttr symbol) {
  if (symbol)
    printer << symbol << ' ';
}

#include "dialects/plan/IR/PlanAttrInterfaces.cpp.inc"
#include "dialects/plan/IR/PlanEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/plan/IR/PlanAttrs.cpp.inc"

void PlanDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/plan/IR/PlanAttrs.cpp.inc"
      >();
}

namespace {

bool isPowerOfTwo(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

/// The single kernel of `dispatch`, or a diagnostic naming `what` it must
/// be.
FailureOr<Operation *> singleKernel(Operation *dispatch, StringRef config) {
  auto op = cast<DispatchOp>(dispatch);
  auto kernels = llvm::to_vector(op.getKernels());
  if (kernels.size() != 1)
    return op.emitOpError() << "with " << config << " holds one kernel, not "
                            << kernels.size();
  return kernels.front().getOperation();
}

} // namespace

//===----------------------------------------------------------------------===//
// #plan.matvec
//===----------------------------------------------------------------------===//

LogicalResult
MatvecConfigAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                         int64_t workgroupSize, int64_t rowsPerWorkgroup,
                         int64_t threadsPerRow, int64_t vectorBytes,
                         int64_t tokensPerPass, Activations,
                         RowTiles, Products products) {
  if (!isPowerOfTwo(workgroupSize) || workgroupSize < 32 ||
      workgroupSize > 1024)
    return emitError() << "workgroup_size must be a power of two in [32, "
                          "1024], got "
                       << workgroupSize;
  if (!isPowerOfTwo(threadsPerRow) || threadsPerRow < 8 ||
      threadsPerRow > workgroupSize)
    return emitError() << "threads_per_row must be a power of two in [8, "
                          "workgroup_size], got "
                       << threadsPerRow;
  int64_t teams = workgroupSize / threadsPerRow;
  if (rowsPerWorkgroup <= 0 || rowsPerWorkgroup % teams != 0)
    return emitError() << "rows_per_workgroup must be a positive multiple of "
                          "the "
                       << teams << " row teams of a workgroup, got "
                       << rowsPerWorkgroup;
  if (vectorBytes != 4 && vectorBytes != 8 && vectorBytes != 16)
    return emitError() << "vector_bytes must be 4, 8 or 16, got "
                       << vectorBytes;
  if (products == Products::mma) {
    if (tokensPerPass != 16 && tokensPerPass != 32 && tokensPerPass != 64)
      return emitError() << "products = mma need tokens_per_pass of 16, 32 "
                            "or 64 (whole 16-token tiles), got "
                         << tokensPerPass;
    if (rowsPerWorkgroup % 8 != 0)
      return emitError() << "products = mma need rows_per_workgroup a "
                            "multiple of 8 (whole 8-row tiles), got "
                         << rowsPerWorkgroup;
    return success();
  }
  if (tokensPerPass < 1 || tokensPerPass > 8)
    return emitError() << "tokens_per_pass must be in [1, 8], got "
                       << tokensPerPass;
  return success();
}

LogicalResult MatvecConfigAttr::verifyRegion(Operation *op) const {
  auto dispatch = cast<DispatchOp>(op);
  FailureOr<MatvecRegion> region = analyzeMatvec(dispatch);
  if (failed(region))
    return failure();
  if (region->needsHeads() != (getTiles() == RowTiles::heads))
    return dispatch.emitOpError()
           << "has tiles = " << stringifyRowTiles(getTiles()) << " but "
           << (region->needsHeads() ? "per-head epilogues, which need"
                                    : "no per-head epilogue, which needs")
           << " tiles = "
           << (region->needsHeads() ? "heads" : "rows");
  if (getTiles() == RowTiles::heads &&
      getRowsPerWorkgroup() != region->headDim())
    return dispatch.emitOpError()
           << "tiles heads of " << region->headDim()
           << " rows, but rows_per_workgroup is " << getRowsPerWorkgroup();
  for (const MatvecSegment &s : region->segments)
    if (s.rows % getRowsPerWorkgroup() != 0 && region->segments.size() > 1)
      return dispatch.emitOpError()
             << "fuses a product of " << s.rows
             << " rows, not a multiple of rows_per_workgroup "
             << getRowsPerWorkgroup();
  if (getActivations() == Activations::i8) {
    FlatSymbolRefAttr weight = region->grouped
                                   ? region->grouped.getWeightAttr()
                                   : region->segments.front().weight;
    fm::ParamOp param = lookupParam(dispatch, weight);
    if (param && !param.getQuant())
      return dispatch.emitOpError()
             << "rounds activations to i8, but weight " << weight
             << " is not quantized";
  }
  if (getProducts() == Products::mma) {
    FlatSymbolRefAttr weight = region->grouped
                                   ? region->grouped.getWeightAttr()
                                   : region->segments.front().weight;
    std::string unfit =
        matrixUnitsUnfit(lookupParam(dispatch, weight), region->k);
    if (!unfit.empty())
      return dispatch.emitOpError()
             << "has products = mma, but " << unfit << " (weight "
             << weight << ")";
    fm::QuantAttr quant = lookupParam(dispatch, weight).getQuant();
    if (quant && getActivations() != Activations::i8)
      return dispatch.emitOpError()
             << "has products = mma over packed codes (weight " << weight
             << "), which multiply int8 activations; activations must be i8";
    int64_t parts = llvm::any_of(region->segments,
                                 [](const MatvecSegment &s) { return s.up; })
                        ? 2
                        : 1;
    int64_t bytes = matrixUnitsWorkgroupBytes(
        getRowsPerWorkgroup(), parts, getTokensPerPass(),
        quant ? quant.getBits() : 16, getWorkgroupSize());
    if (bytes > kGuaranteedWorkgroupBytes)
      return dispatch.emitOpError()
             << "has products = mma over " << getRowsPerWorkgroup()
             << " rows" << (parts == 2 ? " of a gate/up pair" : "") << " and "
             << getTokensPerPass() << " tokens a pass, which need " << bytes
             << " bytes of workgroup memory; GPUs guarantee "
             << kGuaranteedWorkgroupBytes << " (fewer tokens per pass)";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// #plan.rowwise
//===----------------------------------------------------------------------===//

LogicalResult
RowwiseConfigAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                          int64_t workgroupSize) {
  if (!isPowerOfTwo(workgroupSize) || workgroupSize < 32 ||
      workgroupSize > 1024)
    return emitError() << "workgroup_size must be a power of two in [32, "
                          "1024], got "
                       << workgroupSize;
  return success();
}

LogicalResult RowwiseConfigAttr::verifyRegion(Operation *op) const {
  FailureOr<Operation *> kernel = singleKernel(op, "#plan.rowwise");
  if (failed(kernel))
    return failure();
  if (!isa<RMSNormOp, LayerNormOp, RopeOp, AddOp, MulOp, ActivationOp, GluOp>(
          *kernel))
    return op->emitOpError()
           << "with #plan.rowwise holds a norm, RoPE or an elementwise "
              "kernel, not '"
           << (*kernel)->getName().getStringRef() << "'";
  return success();
}

//===----------------------------------------------------------------------===//
// #plan.decode_attention
//===----------------------------------------------------------------------===//

LogicalResult DecodeAttentionConfigAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, int64_t splits) {
  if (splits < 1 || splits > 256)
    return emitError() << "splits must be in [1, 256], got " << splits;
  return success();
}

LogicalResult DecodeAttentionConfigAttr::verifyRegion(Operation *op) const {
  FailureOr<Operation *> kernel = singleKernel(op, "#plan.decode_attention");
  if (failed(kernel))
    return failure();
  auto attention = dyn_cast<AttentionOp>(*kernel);
  if (!attention || attention.getK())
    return op->emitOpError() << "with #plan.decode_attention holds an "
                                "attention that only reads its cache";
  auto program = op->getParentOfType<ProgramOp>();
  if (program && program.getMaxTokens() != 1)
    return op->emitOpError() << "with #plan.decode_attention runs in a "
                                "one-token program, not one of "
                             << program.getMaxTokens();
  return success();
}

//===----------------------------------------------------------------------===//
// #plan.library
//===----------------------------------------------------------------------===//

LogicalResult CollectiveConfigAttr::verifyRegion(Operation *op) const {
  FailureOr<Operation *> kernel = singleKernel(op, "#plan.collective");
  if (failed(kernel))
    return failure();
  if (!isa<AllReduceOp>(*kernel))
    return op->emitOpError() << "with #plan.collective holds a collective, "
                                "not '"
                             << (*kernel)->getName().getStringRef() << "'";
  return success();
}

LogicalResult LibraryConfigAttr::verifyRegion(Operation *op) const {
  FailureOr<Operation *> kernel = singleKernel(op, "#plan.library");
  if (failed(kernel))
    return failure();
  if (!isa<EmbeddingOp, AttentionOp, KVAppendOp, MoeOp, MoeRouteOp,
           MoeCombineOp, TrackCombineOp, LastRowOp>(*kernel))
    return op->emitOpError()
           << "with #plan.library holds a kernel the GPU library has, not '"
           << (*kernel)->getName().getStringRef()
           << "' (products are #plan.matvec, norms, RoPE and elementwise "
              "kernels #plan.rowwise)";
  return success();
}

//===----------------------------------------------------------------------===//
// #plan.binding
//===----------------------------------------------------------------------===//

LogicalResult
BindingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                    BindingMemory memory, FlatSymbolRefAttr symbol,
                    uint64_t offset, uint64_t bytes) {
  bool named =
      memory == BindingMemory::weights || memory == BindingMemory::caches;
  if (named && !symbol)
    return emitError() << "a binding to " << stringifyBindingMemory(memory)
                       << " must name the parameter or cache it reads";
  if (!named && symbol)
    return emitError() << "a binding to " << stringifyBindingMemory(memory)
                       << " names no symbol (only weights and caches "
                          "bindings do)";
  if (offset % 4 != 0)
    return emitError() << "binding offset " << offset
                       << " is not a multiple of 4 bytes";
  return success();
}
