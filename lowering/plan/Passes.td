//===- Passes.td - fm to plan lowering ---------------------*- tablegen -*-===//

#ifndef FMC_LOWERING_PLAN_PASSES_TD
#define FMC_LOWERING_PLAN_PASSES_TD

include "mlir/Pass/PassBase.td"

def FmToPlan : Pass<"fm-to-plan", "::mlir::ModuleOp"> {
  let summary = "Lower the fm model function to prefill and decode programs";
  let description = [{
    Turns the module's `func.func` (tokens, positions) -> logits into two
    `plan.program`s, `@prefill` (up to `prefill-tokens` tokens per run; a
    longer prompt runs in chunks) and `@decode` (one token per run): every fm
    op becomes one kernel instance, every activation a `plan.buffer`, placed
    in one arena by liveness. Activations are planned as f32, the precision
    the kernels compute in; parameters and KV caches keep their types.

    It also finishes the KV plan: `context` sets the capacity of every
    linear cache (the longest generation the artifact serves), and a ring cache holds its window plus one
    prefill chunk (so a chunk's keys can be written before its queries read
    them), and is enlarged to that capacity when smaller.

    The function is erased; fm.param, fm.kv_cache and fm.tokenizer stay.
  }];
  let options = [
    Option<"prefillTokens", "prefill-tokens", "int64_t", /*default=*/"512",
           "Most tokens one prefill run processes (capped at the context)">,
    Option<"context", "context", "int64_t", /*default=*/"0",
           "Positions a generation may reach: the capacity of every linear "
           "KV cache (0 keeps the model's)">,
  ];
  let dependentDialects = ["::mlir::plan::PlanDialect"];
}

#endif // FMC_LOWERING_PLAN_PASSES_TD
