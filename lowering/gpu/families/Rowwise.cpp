//===- Rowwise.cpp - #plan.rowwise dispatches on the GPU ------------------===//
//
// A norm, RoPE or elementwise kernel no matvec absorbed, as the generated
// row kernel (generator/RowwiseKernel.h): one workgroup per token row (and
// per normalized group of an RMSNorm over groups).
//
//===----------------------------------------------------------------------===//

#include "lowering/gpu/families/Families.h"

#include "lowering/gpu/generator/KernelBuilder.h"
#include "lowering/gpu/generator/RowwiseKernel.h"

#include "dialects/plan/IR/PlanOps.h"

#include "llvm/ADT/TypeSwitch.h"

namespace fmc::gpu {

namespace {

using Kind = RowwiseKernelSpec::Kind;

class RowwiseLowering {
public:
  RowwiseLowering(mlir::plan::DispatchOp dispatch, LaunchBuilder &b)
      : dispatch(dispatch), b(b) {
    mlir::MLIRContext *ctx = dispatch.getContext();
    f32 = mlir::Float32Type::get(ctx);
    i32 = mlir::IntegerType::get(ctx, 32);
  }

  llvm::Error run();

private:
  int add(Binding binding, mlir::Type element) {
    spec.bindings.push_back(bindingType(binding.bytes, element));
    list.push_back(std::move(binding));
    return static_cast<int>(list.size() - 1);
  }
  llvm::Error dense(mlir::FlatSymbolRefAttr symbol, llvm::StringRef role,
                    DenseVector &out) {
    if (!symbol)
      return llvm::Error::success();
    llvm::Expected<VectorParam> param = vectorParam(b, symbol, role);
    if (!param)
      return param.takeError();
    out.dtype = param->dtype;
    out.binding = add(param->binding, i32);
    return llvm::Error::success();
  }
  llvm::Error describe(mlir::Operation *kernel);

  mlir::plan::DispatchOp dispatch;
  LaunchBuilder &b;
  RowwiseKernelSpec spec;
  std::vector<Binding> list;
  mlir::Type f32, i32;
};

llvm::Error RowwiseLowering::describe(mlir::Operation *kernel) {
  using namespace mlir::plan;
  auto unary = [&](mlir::Value in, mlir::Value out) {
    spec.input = add(b.buffer(in), f32);
    spec.output = add(b.buffer(out), f32);
    spec.width = widthOf(out);
  };
  auto binary = [&](mlir::Value lhs, mlir::Value rhs, mlir::Value out) {
    unary(lhs, out);
    spec.second = add(b.buffer(rhs), f32);
  };
  return llvm::TypeSwitch<mlir::Operation *, llvm::Error>(kernel)
      .Case([&](RMSNormOp op) -> llvm::Error {
        spec.kind = Kind::RmsNorm;
        unary(op.getInput(), op.getOutput());
        spec.groupSize = op.getGroupSize();
        spec.norm.eps = op.getEpsAttr().getValueAsDouble();
        spec.norm.weightOffset = op.getWeightOffsetAttr().getValueAsDouble();
        return dense(op.getWeightAttr(), "weight of plan.rms_norm",
                     spec.norm.weight);
      })
      .Case([&](LayerNormOp op) -> llvm::Error {
        spec.kind = Kind::LayerNorm;
        unary(op.getInput(), op.getOutput());
        spec.norm.kind = MatvecNorm::Kind::Layer;
        spec.norm.eps = op.getEpsAttr().getValueAsDouble();
        if (llvm::Error err = dense(op.getWeightAttr(),
                                    "weight of plan.layer_norm",
                                    spec.norm.weight))
          return err;
        return dense(op.getBiasAttr(), "bias of plan.layer_norm",
                     spec.norm.bias);
      })
      .Case([&](RopeOp op) -> llvm::Error {
        spec.kind = Kind::Rope;
        unary(op.getInput(), op.getOutput());
        spec.positions = add(b.buffer(op.getPositions()), i32);
        spec.rope.interleaved =
            op.getLayout() == mlir::fm::RopeLayout::interleaved;
        spec.rope.headDim = op.getHeadDim();
        spec.rope.rotaryDim = op.getRotaryDim();
        spec.rope.theta = op.getThetaAttr().getValueAsDouble();
        if (std::optional<llvm::ArrayRef<float>> table = op.getFrequencies())
          spec.rope.frequencies.assign(table->begin(), table->end());
        if (op.getAttentionFactor())
          spec.rope.attentionFactor =
              op.getAttentionFactor()->convertToDouble();
        return llvm::Error::success();
      })
      .Case([&](AddOp op) -> llvm::Error {
        spec.kind = Kind::Add;
        binary(op.getLhs(), op.getRhs(), op.getOutput());
        return llvm::Error::success();
      })
      .Case([&](MulOp op) -> llvm::Error {
        spec.kind = Kind::Mul;
        binary(op.getLhs(), op.getRhs(), op.getOutput());
        spec.broadcast = widthOf(op.getRhs()) == 1 && spec.width != 1;
        return llvm::Error::success();
      })
      .Case([&](ActivationOp op) -> llvm::Error {
        spec.kind = Kind::Activation;
        unary(op.getInput(), op.getOutput());
        spec.activation = activationCode(op.getKind());
        return llvm::Error::success();
      })
      .Case([&](GluOp op) -> llvm::Error {
        spec.kind = Kind::Glu;
        binary(op.getGate(), op.getUp(), op.getOutput());
        spec.activation = activationCode(op.getKind());
        return llvm::Error::success();
      })
      .Default([](mlir::Operation *op) {
        return llvm::createStringError("'" + op->getName().getStringRef() +
                                       "' is no row kernel");
      });
}

llvm::Error RowwiseLowering::run() {
  auto config = llvm::cast<mlir::plan::RowwiseConfigAttr>(dispatch.getConfig());
  spec.workgroupSize = config.getWorkgroupSize();
  spec.rowsSlot = b.rowsSlot();
  mlir::Operation *kernel = *dispatch.getKernels().begin();
  if (llvm::Error err = describe(kernel))
    return err;
  spec.run = add(b.run(), i32);
  std::string name = ("row_" + kernel->getName().stripDialect()).str();
  return b.dispatchGenerated(
      name,
      [&](mlir::ImplicitLocOpBuilder &builder) {
        return emitRowwiseKernel(builder, name, spec);
      },
      {static_cast<uint32_t>(spec.workgroupSize), 1, 1},
      gridFor(b.maxTokens() * spec.workgroupsPerRow()), std::move(list));
}

} // namespace

llvm::Error lowerRowwise(mlir::Operation *dispatch, LaunchBuilder &b) {
  return RowwiseLowering(llvm::cast<mlir::plan::DispatchOp>(dispatch), b).run();
}

} // namespace fmc::gpu
