//===- Pipelines.cpp - named fm pass pipelines ----------------------------===//

#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::fm::registerFmPassesAndPipelines() {
  registerFmPasses();

  PassPipelineRegistration<>(
      "fm-cleanup",
      "Canonicalize, CSE, then drop parameters and caches no op uses",
      [](OpPassManager &pm) {
        pm.addPass(createCanonicalizerPass());
        pm.addPass(createCSEPass());
        pm.addPass(createDropDeadParams());
      });
}
