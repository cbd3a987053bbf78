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
    linear cache (the longest generation the artifact serves). A ring cache
    holds exactly its window: its writer attends to the run's own keys from
    its k and v buffers and to earlier positions from the cache, and appends
    the run's keys only then. A ring cache that other layers read (KV sharing
    of local layers) is enlarged to its window plus one prefill chunk, since
    a reader sees the cache only after the writer appended the chunk.

    With `prefill-last-position` (the default), `@prefill` keeps only the
    last position (`plan.last_row`) after the last layer that writes a KV
    cache when layers that only read a cache follow it (KV sharing): those
    layers then compute one position per run, not one per prompt token, and
    the prefill's logits are the last position's only.

    The function is erased; fm.param, fm.kv_cache and fm.tokenizer stay.
  }];
  let options = [
    Option<"prefillTokens", "prefill-tokens", "int64_t", /*default=*/"512",
           "Most tokens one prefill run processes (capped at the context)">,
    Option<"context", "context", "int64_t", /*default=*/"0",
           "Positions a generation may reach: the capacity of every linear "
           "KV cache (0 keeps the model's)">,
    Option<"prefillLastPosition", "prefill-last-position", "bool",
           /*default=*/"true",
           "In @prefill, run the layers after the last cache-writing layer "
           "on the last position only">,
  ];
  let dependentDialects = ["::mlir::plan::PlanDialect"];
}

#endif // FMC_LOWERING_PLAN_PASSES_TD
