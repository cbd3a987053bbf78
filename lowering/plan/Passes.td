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

    An `fm.parallel_tracks` block becomes its tracks' kernels, each track
    over its own buffers and caches, then one `plan.track_combine`. When the
    tracks' layers are identical (and `batch-tracks`), the tracks run layer
    by layer and each layer's T projections become one
    `plan.grouped_linear` over a stack of the tracks' weights
    (lowering/plan/ParallelTracks.md).

    The function is erased; fm.param, fm.kv_cache and fm.tokenizer stay.
  }];
  let options = [
    Option<"prefillTokens", "prefill-tokens", "int64_t", /*default=*/"512",
           "Most tokens one prefill run processes (capped at the context)">,
    Option<"context", "context", "int64_t", /*default=*/"0",
           "Positions a generation may reach: the capacity of every linear "
           "KV cache (0 keeps the model's)">,
    Option<"batchTracks", "batch-tracks", "bool", /*default=*/"true",
           "Lower parallel tracks with identical layers layer by layer, "
           "each set of corresponding projections one plan.grouped_linear "
           "over the tracks' stacked weights">,
  ];
  let dependentDialects = ["::mlir::plan::PlanDialect"];
}

#endif // FMC_LOWERING_PLAN_PASSES_TD
