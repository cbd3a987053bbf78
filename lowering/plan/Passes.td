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
    Option<"prefillLastPosition", "prefill-last-position", "bool",
           /*default=*/"true",
           "In @prefill, run the layers after the last cache-writing layer "
           "on the last position only">,
  ];
  let dependentDialects = ["::mlir::plan::PlanDialect"];
}

def FormDispatches : Pass<"plan-form-dispatches", "::mlir::ModuleOp"> {
  let summary = "Group each program's kernels into fused GPU dispatches";
  let description = [{
    Puts every kernel of `@prefill` and `@decode` into a `plan.dispatch`
    with a kernel configuration, fusing (as IREE forms dispatch regions)
    what one GPU launch can compute together:
    - linear products of one input (q, k and v; gate and up; every
      sibling with the same weight format) into one `#plan.matvec` over
      their concatenated rows;
    - the norm of whole rows that produces that input, as its prologue;
    - per product, the kernels that alone read its rows: a gate/up pair's
      GLU, a residual add, and per head a qk-norm, RoPE and the KV-cache
      append (which make the workgroups tile whole heads);
    - the final norm into the logits' prologue.
    In `@prefill`, a matvec of 2- or 4-bit codes whose K is whole int8
    blocks of 128 and whose scale groups split into runs of 32 inside them,
    or of f16 or bf16 weights whose K is whole tiles of 64, takes
    `products = mma` (tiles for the matrix units, 32 or 16 tokens a pass);
    the others, and every matvec of `@decode`, the teams' reductions.
    Decode attention (a reader, one token) becomes `#plan.decode_attention`
    with a split count from the positions it may see; norms, RoPE and
    elementwise kernels left alone become `#plan.rowwise`; the rest
    `#plan.library`. A dispatch sits where its last kernel was; kernels move
    there only when no kernel in between depends on them. Buffers are then
    placed again: a dispatch is one step of the liveness.
  }];
  let options = [
    Option<"fuse", "fuse", "bool", /*default=*/"true",
           "Fuse kernels; false gives every kernel a dispatch of its own">,
    Option<"decodeAttentionSplits", "decode-attention-splits", "int64_t",
           /*default=*/"0",
           "Ranges of cache slots of split-KV decode attention (0: at "
           "least 32 slots a range, about 512 workgroups over the KV heads, "
           "at most 64)">,
  ];
  let dependentDialects = ["::mlir::plan::PlanDialect"];
}

#endif // FMC_LOWERING_PLAN_PASSES_TD
