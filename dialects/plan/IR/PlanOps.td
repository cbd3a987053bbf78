//===- PlanOps.td - plan ops -------------------------------*- tablegen -*-===//

#ifndef PLAN_OPS_TD
#define PLAN_OPS_TD

include "dialects/plan/IR/PlanBase.td"
include "dialects/plan/IR/PlanAttrs.td"
include "dialects/fm/IR/FmBase.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/OpAsmInterface.td"

class Plan_Op<string mnemonic, list<Trait> traits = []>
    : Op<Plan_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// The kernel interface
//===----------------------------------------------------------------------===//

def Plan_KernelOpInterface : OpInterface<"KernelOpInterface"> {
  let cppNamespace = "::mlir::plan";
  let description = [{
    One instance of a kernel family. Its operands are buffers it reads or
    writes; buffer assignment and the liveness check need to know which.
  }];
  let methods = [
    InterfaceMethod<"The buffers this kernel writes.",
      "::llvm::SmallVector<::mlir::Value>", "getWrittenBuffers", (ins), [{}],
      [{ return {$_op.getOutput()}; }]>,
  ];
}

// Every kernel lives in a program, directly or in one of its dispatches, and
// checks the parameters and caches it names once the module is verified.
class Plan_KernelOp<string mnemonic, list<Trait> traits = []>
    : Plan_Op<mnemonic, !listconcat(traits, [
        ParentOneOf<["ProgramOp", "DispatchOp"]>, Plan_KernelOpInterface,
        DeclareOpInterfaceMethods<SymbolUserOpInterface>])> {
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Programs and buffers
//===----------------------------------------------------------------------===//

def Plan_ProgramOp : Plan_Op<"program", [
    Symbol, IsolatedFromAbove, SingleBlock, NoRegionArguments,
    HasParent<"::mlir::ModuleOp">]> {
  let summary = "the dispatch program of one phase";
  let description = [{
    Kernels run in order over buffers of one arena of `arena_bytes` bytes, for
    a run of 1 to `max_tokens` tokens. The terminator `plan.io` names the
    buffers the runtime fills with token ids and positions and the buffer it
    reads logits from. A model's plan has a `@prefill` and a `@decode`
    program; they share the parameters and KV caches, not the arena contents.

    The verifier checks that every buffer lies inside the arena, 64-byte
    aligned, and that two buffers overlap in memory only when no kernel
    could see both holding live values.

    ```mlir
    plan.program @decode max_tokens = 1, arena_bytes = 4096 {
      %t = plan.buffer offset = 0 : !plan.rows<1, i32>
      ...
      plan.io tokens(%t) positions(%p) logits(%l)
          : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<512, f32>
    }
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    I64Attr:$max_tokens,
    I64Attr:$arena_bytes
  );
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $sym_name `max_tokens` `=` $max_tokens `,` `arena_bytes` `=` $arena_bytes
    attr-dict-with-keyword $body
  }];
  let hasRegionVerifier = 1;
}

def Plan_IoOp : Plan_Op<"io", [Terminator, HasParent<"ProgramOp">]> {
  let summary = "the buffers a program exchanges with the runtime";
  let description = [{
    `tokens` and `positions` (i32, width 1) are written by the runtime
    before the first kernel runs; `logits` is read after the last.
  }];
  let arguments = (ins Plan_Rows:$tokens, Plan_Rows:$positions,
                       Plan_Rows:$logits);
  let assemblyFormat = [{
    `tokens` `(` $tokens `)` `positions` `(` $positions `)` `logits` `(`
    $logits `)` attr-dict `:` type($tokens) `,` type($positions) `,`
    type($logits)
  }];
  let hasVerifier = 1;
}

def Plan_BufferOp : Plan_Op<"buffer", [
    HasParent<"ProgramOp">,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>]> {
  let summary = "an activation buffer at a fixed arena offset";
  let description = [{
    `offset` is the buffer's byte offset in the arena; it spans
    `max_tokens * width * sizeof(element)` bytes. `name` records the
    activation it holds, for diagnostics and dumps.

    ```mlir
    %h = plan.buffer offset = 128 : !plan.rows<64, f32>
    ```
  }];
  let arguments = (ins I64Attr:$offset, OptionalAttr<StrAttr>:$name);
  let results = (outs Plan_Rows:$result);
  let assemblyFormat = "`offset` `=` $offset attr-dict `:` type($result)";
}

def Plan_DispatchOp : Plan_Op<"dispatch", [
    HasParent<"ProgramOp">, SingleBlock, NoTerminator, NoRegionArguments]> {
  let summary = "kernels that run fused, as one GPU launch";
  let description = [{
    The kernels of the body run as one unit of GPU work, generated as
    `config` says (plan-form-dispatches decides what fuses and how it is
    tiled; lowering/gpu emits it). The body keeps the kernels' semantics in
    their original order: the CPU backend runs them one by one, and the
    artifact's kernel list is the programs' kernels in order, dispatch
    bodies inlined. Buffers a body's kernels pass to each other need not be
    written by the GPU code; the program's liveness treats the whole
    dispatch as one step, so no buffer it touches shares bytes with another.

    ```mlir
    plan.dispatch #plan.matvec<...> {
      plan.rms_norm %h, @norm -> %x eps = 1.0e-05 group_size = 64 : ...
      plan.linear %x, @wq -> %q : ...
      plan.linear %x, @wk -> %k : ...
    }
    ```
  }];
  let arguments = (ins Plan_KernelConfigAttrInterface:$config);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$config attr-dict-with-keyword $body";
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The kernels of the body, in order.
    auto getKernels() {
      return getBody().front().getOps<KernelOpInterface>();
    }
  }];
}

//===----------------------------------------------------------------------===//
// GPU launches
//===----------------------------------------------------------------------===//

def Plan_LaunchListOp : Plan_Op<"launch_list", [
    Symbol, SingleBlock, NoTerminator, NoRegionArguments,
    HasParent<"::mlir::ModuleOp">]> {
  let summary = "a program's GPU launches, in order";
  let description = [{
    What the GPU targets run for plan.program `sym_name`: its dispatches
    lowered to launches of the kernels of the module's gpu.module, each
    seeing every write of the launches before it. `scratch_bytes` is the
    program's scratch. The artifact's dispatch lists are these, one to one
    (fmc-compile --compile-to=gpu prints them).

    ```mlir
    plan.launch_list @decode scratch_bytes = 0 {
      plan.launch @kernels::@embedding_1 grid [1, 1, 1] source 0 bindings
          [#plan.binding<weights @emb[0, 131072]>, ...]
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, I64Attr:$scratch_bytes);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $sym_name `scratch_bytes` `=` $scratch_bytes attr-dict-with-keyword $body
  }];
}

def Plan_LaunchOp : Plan_Op<"launch", [
    HasParent<"LaunchListOp">,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "one launch of a GPU kernel";
  let description = [{
    Runs gpu.func `kernel` over `grid` workgroups (x, y, z; its workgroup
    size is the function's known_block_size) with `bindings` as its memref
    arguments, in order. `source` is the index of the plan kernel it
    implements in the artifact's kernel list (profiles, diagnostics).
  }];
  let arguments = (ins SymbolRefAttr:$kernel, DenseI32ArrayAttr:$grid,
                       I32Attr:$source, TypedArrayAttrBase<Plan_BindingAttr,
                       "launch bindings">:$bindings);
  let assemblyFormat = [{
    $kernel `grid` $grid `source` $source `bindings` $bindings attr-dict
  }];
  let hasVerifier = 1;
}

def Plan_CollectiveLaunchOp : Plan_Op<"collective_launch", [
    HasParent<"LaunchListOp">]> {
  let summary = "one all-reduce across the ranks, between GPU launches";
  let description = [{
    The GPU form of plan kernel `source`, a plan.all_reduce: no kernel of
    the gpu.module but a call into the run's collective engine (NCCL on
    CUDA ranks), ordered with the launches around it on the program's
    stream. `bindings` are the all-reduce's inputs, then its outputs, one
    for one, each in the arena; the scale and rank count are the source
    kernel's.

    ```mlir
    plan.collective_launch source 12 bindings
        [#plan.binding<arena [4096, 2048]>, #plan.binding<arena [8192, 2048]>]
    ```
  }];
  let arguments = (ins I32Attr:$source, TypedArrayAttrBase<Plan_BindingAttr,
                       "collective bindings">:$bindings);
  let assemblyFormat = [{
    `source` $source `bindings` $bindings attr-dict
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Kernel families
//===----------------------------------------------------------------------===//

def Plan_EmbeddingOp : Plan_KernelOp<"embedding"> {
  let summary = "token embedding gather";
  let description = [{
    Row `tokens[i]` of the `[vocab, width]` parameter `table`, times `scale`.
  }];
  let arguments = (ins FlatSymbolRefAttr:$table, Plan_Rows:$tokens,
                       Plan_Rows:$output, OptionalAttr<F64Attr>:$scale);
  let assemblyFormat = [{
    $table `[` $tokens `]` `->` $output attr-dict `:` type(operands)
  }];
}

def Plan_RMSNormOp : Plan_KernelOp<"rms_norm"> {
  let summary = "RMS normalization over groups of features";
  let description = [{
    `y = x / sqrt(mean(x^2) + eps) * (weight + weight_offset)` over each group
    of `group_size` features; without a weight, the scale is 1.
  }];
  let arguments = (ins Plan_Rows:$input, OptionalAttr<FlatSymbolRefAttr>:$weight,
                       Plan_Rows:$output, F64Attr:$eps, I64Attr:$group_size,
                       DefaultValuedAttr<F64Attr, "0.0">:$weight_offset);
  let assemblyFormat = [{
    $input (`,` $weight^)? `->` $output `eps` `=` $eps `group_size` `=`
    $group_size attr-dict `:` type(operands)
  }];
}

def Plan_LayerNormOp : Plan_KernelOp<"layer_norm"> {
  let summary = "layer normalization of each row";
  let arguments = (ins Plan_Rows:$input, OptionalAttr<FlatSymbolRefAttr>:$weight,
                       OptionalAttr<FlatSymbolRefAttr>:$bias, Plan_Rows:$output,
                       F64Attr:$eps);
  let assemblyFormat = [{
    $input (`weight` $weight^)? (`bias` $bias^)? `->` $output `eps` `=` $eps
    attr-dict `:` type(operands)
  }];
}

def Plan_LinearOp : Plan_KernelOp<"linear"> {
  let summary = "y = x W^T (+ b)";
  let description = [{
    `weight` is `[output width, input width]`, `bias` `[output width]`.
  }];
  let arguments = (ins Plan_Rows:$input, FlatSymbolRefAttr:$weight,
                       OptionalAttr<FlatSymbolRefAttr>:$bias, Plan_Rows:$output);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? `->` $output attr-dict `:` type(operands)
  }];
}

def Plan_RopeOp : Plan_KernelOp<"rope"> {
  let summary = "rotary position embedding of each head";
  let description = [{
    Rotates the first `rotary_dim` features of every head of `head_dim`
    features by `position * theta^(-2i / rotary_dim)`, or by `position *
    frequencies[i]` when the scaled inverse frequencies are given (rotary_dim
    / 2 of them); `attention_factor` multiplies the cosines and sines.
  }];
  let arguments = (ins Fm_RopeLayoutAttr:$layout, Plan_Rows:$input,
                       Plan_Rows:$positions, Plan_Rows:$output,
                       I64Attr:$head_dim, I64Attr:$rotary_dim, F64Attr:$theta,
                       OptionalAttr<DenseF32ArrayAttr>:$frequencies,
                       OptionalAttr<F64Attr>:$attention_factor);
  let assemblyFormat = [{
    `` $layout $input `at` $positions `->` $output `head_dim` `=` $head_dim
    `rotary_dim` `=` $rotary_dim `theta` `=` $theta attr-dict `:` type(operands)
  }];
}

def Plan_AttentionOp : Plan_KernelOp<"attention", [AttrSizedOperandSegments]> {
  let summary = "multi-head attention over a KV cache";
  let description = [{
    Writes this run's `k` and `v` rows into the cache `writes` at their
    positions and attends each query over the cache `reads` as fm.attention
    specifies. For a linear cache the rows are written first; a ring cache
    holds only `window` positions, so its writer attends to the run's own
    positions from `k` and `v` and to earlier ones from the cache, and
    writes afterwards. Without `k`, `v` and `writes` the kernel only reads
    (KV-cache sharing). `scale` is the effective query scale.
  }];
  let arguments = (ins
    Fm_AttentionKindAttr:$kind,
    Plan_Rows:$q,
    Optional<Plan_Rows>:$k,
    Optional<Plan_Rows>:$v,
    Plan_Rows:$positions,
    Plan_Rows:$output,
    FlatSymbolRefAttr:$reads,
    OptionalAttr<FlatSymbolRefAttr>:$writes,
    I64Attr:$num_heads,
    I64Attr:$num_kv_heads,
    I64Attr:$head_dim,
    OptionalAttr<I64Attr>:$window,
    F64Attr:$scale,
    OptionalAttr<F64Attr>:$softcap,
    DefaultValuedAttr<BoolAttr, "true">:$causal
  );
  let assemblyFormat = [{
    `` $kind $q (`,` $k^ `,` $v)? `at` $positions `reads` $reads
    (`writes` $writes^)? `->` $output `heads` `=` $num_heads `,` `kv_heads` `=`
    $num_kv_heads `,` `head_dim` `=` $head_dim `scale` `=` $scale attr-dict
    `:` type(operands)
  }];
}

def Plan_KVAppendOp : Plan_KernelOp<"kv_append"> {
  let summary = "append this run's keys and values to a KV cache";
  let description = [{
    Writes row t of `k` and `v` (kv_heads x head_dim features each) into the
    slot of position `positions[t]` of cache `cache` (position mod capacity
    for a ring cache, which keeps only the run's last `capacity` rows). An
    attention that reads the cache afterwards sees them. fm-to-plan splits
    a cache writer into this and a reading plan.attention wherever appending
    first is what the writer would do (a linear cache; a ring cache in a
    one-token run), so a dispatch can fuse the append into the k and v
    projections.

    ```mlir
    plan.kv_append %k, %v at %pos -> @layer0 : !plan.rows<32, f32>, ...
    ```
  }];
  let arguments = (ins Plan_Rows:$k, Plan_Rows:$v, Plan_Rows:$positions,
                       FlatSymbolRefAttr:$cache);
  let assemblyFormat = [{
    $k `,` $v `at` $positions `->` $cache attr-dict `:` type(operands)
  }];
  let extraClassDeclaration = [{
    ::llvm::SmallVector<::mlir::Value> getWrittenBuffers() { return {}; }
  }];
}

def Plan_ActivationOp : Plan_KernelOp<"activation"> {
  let summary = "elementwise activation";
  let arguments = (ins Fm_ActivationAttr:$kind, Plan_Rows:$input,
                       Plan_Rows:$output);
  let assemblyFormat = "`` $kind $input `->` $output attr-dict `:` type(operands)";
}

def Plan_GluOp : Plan_KernelOp<"glu"> {
  let summary = "act(gate) * up";
  let arguments = (ins Fm_ActivationAttr:$kind, Plan_Rows:$gate, Plan_Rows:$up,
                       Plan_Rows:$output);
  let assemblyFormat = [{
    `` $kind $gate `,` $up `->` $output attr-dict `:` type(operands)
  }];
}

def Plan_AddOp : Plan_KernelOp<"add"> {
  let summary = "elementwise sum";
  let arguments = (ins Plan_Rows:$lhs, Plan_Rows:$rhs, Plan_Rows:$output);
  let assemblyFormat = "$lhs `,` $rhs `->` $output attr-dict `:` type(operands)";
}

def Plan_MulOp : Plan_KernelOp<"mul"> {
  let summary = "elementwise product; an rhs of width 1 broadcasts";
  let arguments = (ins Plan_Rows:$lhs, Plan_Rows:$rhs, Plan_Rows:$output);
  let assemblyFormat = "$lhs `,` $rhs `->` $output attr-dict `:` type(operands)";
}

def Plan_MoeRouteOp : Plan_KernelOp<"moe_route"> {
  let summary = "top-k experts and their weights from router logits";
  let arguments = (ins Fm_RouterScoringAttr:$scoring, Plan_Rows:$logits,
                       Plan_Rows:$weights, Plan_Rows:$indices, I64Attr:$top_k,
                       DefaultValuedAttr<BoolAttr, "false">:$norm_topk_prob);
  let assemblyFormat = [{
    `` $scoring $logits `->` $weights `,` $indices `top_k` `=` $top_k attr-dict
    `:` type(operands)
  }];
  let extraClassDeclaration = [{
    ::llvm::SmallVector<::mlir::Value> getWrittenBuffers() {
      return {getWeights(), getIndices()};
    }
  }];
}

def Plan_MoeCombineOp : Plan_KernelOp<"moe_combine"> {
  let summary = "routing-weighted sum of the selected experts' rows";
  let arguments = (ins Plan_Rows:$weights, Plan_Rows:$indices,
                       Variadic<Plan_Rows>:$experts, Plan_Rows:$output);
  let assemblyFormat = [{
    $weights `,` $indices `[` $experts `]` `->` $output attr-dict
    `:` type(operands)
  }];
}

def Plan_LogitsOp : Plan_KernelOp<"logits"> {
  let summary = "vocabulary logits: (x W^T) * scale, optionally soft-capped";
  let arguments = (ins Plan_Rows:$input, FlatSymbolRefAttr:$weight,
                       Plan_Rows:$output, OptionalAttr<F64Attr>:$scale,
                       OptionalAttr<F64Attr>:$softcap);
  let assemblyFormat = "$input `,` $weight `->` $output attr-dict `:` type(operands)";
}

def Plan_MoeOp : Plan_KernelOp<"moe"> {
  let summary = "fused mixture of experts: route, run the selected experts, sum";
  let description = [{
    fm.moe as one kernel: router logits `x R^T` (`router` `[experts, width]`),
    routing as plan.moe_route, then for each token only its `top_k` experts'
    gated FFNs from the stacked `gate_up` (`[experts, 2 * inter, width]`) and
    `down` (`[experts, width, inter]`), summed by routing weight in selection
    order; plus the optional shared expert (`shared_gate_up`
    `[2 * shared_inter, width]`, `shared_down` `[width, shared_inter]`),
    scaled by `sigmoid(x . shared_gate)` when `shared_gate` (`[1, width]`) is
    given. The kernel keeps its intermediates in its own workspace.

    ```mlir
    plan.moe softmax %x -> %y router @r gate_up @gu down @d top_k = 2
        activation = silu : !plan.rows<64, f32>, !plan.rows<64, f32>
    ```
  }];
  let arguments = (ins
    Fm_RouterScoringAttr:$scoring,
    Plan_Rows:$input,
    Plan_Rows:$output,
    FlatSymbolRefAttr:$router,
    FlatSymbolRefAttr:$gate_up,
    FlatSymbolRefAttr:$down,
    I64Attr:$top_k,
    Fm_ActivationAttr:$activation,
    DefaultValuedAttr<BoolAttr, "false">:$norm_topk_prob,
    OptionalAttr<FlatSymbolRefAttr>:$shared_gate_up,
    OptionalAttr<FlatSymbolRefAttr>:$shared_down,
    OptionalAttr<FlatSymbolRefAttr>:$shared_gate
  );
  let assemblyFormat = [{
    `` $scoring $input `->` $output `router` $router `gate_up` $gate_up `down`
    $down `top_k` `=` $top_k `activation` `=` `` $activation
    (`shared` `(` $shared_gate_up^ `,` $shared_down `)`)?
    (`shared_gate` $shared_gate^)? attr-dict `:` type(operands)
  }];
}

def Plan_TrackCombineOp : Plan_KernelOp<"track_combine"> {
  let summary = "merge parallel tracks' outputs at a block boundary";
  let description = [{
    The end of one fm.parallel_tracks block: `output` is the elementwise
    mean (or sum) of the tracks' outputs, in track order. Everything a track
    computes before it (its buffers, its KV caches) is its own; this is the
    only kernel that reads more than one track. On several devices, this is
    where the tracks' all-reduce goes (lowering/plan/ParallelTracks.md).

    ```mlir
    plan.track_combine mean [%t0, %t1] -> %h : !plan.rows<64, f32>, ...
    ```
  }];
  let arguments = (ins Fm_TrackCombineAttr:$combine,
                       Variadic<Plan_Rows>:$tracks, Plan_Rows:$output);
  let assemblyFormat = [{
    `` $combine ` ` `[` $tracks `]` `->` $output attr-dict `:` type(operands)
  }];
}

def Plan_AllReduceOp : Plan_KernelOp<"all_reduce",
                                      [AttrSizedOperandSegments]> {
  let summary = "sum buffers across the ranks of a split model";
  let description = [{
    The one collective of a program split over `ranks` processes: every
    rank holds a partial sum in each of `inputs`; `outputs[i]` gets the sum
    of `inputs[i]` over all ranks, times `scale`, on every rank. A
    track-parallel part (fm-partition-tracks) sums its own tracks' outputs
    at each block boundary (scale 1 / total tracks for a mean, 1 for a sum);
    a tensor-parallel part (fm-partition-tensor) sums the row-parallel
    projections after attention and the feed-forward network, one buffer
    per batched track. Several buffers travel as one exchange. Every rank's
    program has the same all-reduces in the same order, over the same
    widths.

    ```mlir
    plan.all_reduce [%partial] -> [%h] ranks = 2 scale = 2.5e-01
        : !plan.rows<64, f32>, !plan.rows<64, f32>
    ```
  }];
  let arguments = (ins Variadic<Plan_Rows>:$inputs,
                       Variadic<Plan_Rows>:$outputs, I64Attr:$ranks,
                       F32Attr:$scale);
  let assemblyFormat = [{
    ` ` `[` $inputs `]` `->` `[` $outputs `]` `ranks` `=` $ranks
    `scale` `=` $scale attr-dict `:` type(operands)
  }];
  let extraClassDeclaration = [{
    ::llvm::SmallVector<::mlir::Value> getWrittenBuffers() {
      return ::llvm::SmallVector<::mlir::Value>(getOutputs());
    }
  }];
}

def Plan_GroupedLinearOp : Plan_KernelOp<"grouped_linear",
                                          [AttrSizedOperandSegments]> {
  let summary = "one linear per group over a stacked weight: y_g = x_g W_g^T";
  let description = [{
    The batched form of the same layer of `G` parallel tracks: group g reads
    `inputs[g]` and writes `outputs[g]` with slice g of the stacked `weight`
    (`[G, output width, input width]`, the tracks' weights stacked like
    experts). One kernel streams all groups' weights.

    ```mlir
    plan.grouped_linear [%x0, %x1] -> [%y0, %y1] weight @q_proj.tracks
        : !plan.rows<64, f32>, !plan.rows<64, f32>, !plan.rows<64, f32>, ...
    ```
  }];
  let arguments = (ins Variadic<Plan_Rows>:$inputs, Variadic<Plan_Rows>:$outputs,
                       FlatSymbolRefAttr:$weight);
  let assemblyFormat = [{
    ` ` `[` $inputs `]` `->` `[` $outputs `]` `weight` $weight attr-dict
    `:` type(operands)
  }];
  let extraClassDeclaration = [{
    ::llvm::SmallVector<::mlir::Value> getWrittenBuffers() {
      return ::llvm::SmallVector<::mlir::Value>(getOutputs());
    }
  }];
}

def Plan_LastRowOp : Plan_KernelOp<"last_row"> {
  let summary = "keep the last row of a run; the kernels after it run on one row";
  let description = [{
    Copies the last row of `input` and of `positions` into row 0 of `output`
    and `output_positions`. Every kernel after it in the program runs on that
    one row only. fm-to-plan puts it in `@prefill` after the last layer that
    writes a KV cache, where only the residual stream crosses: the layers
    after it (KV-sharing layers that only read a cache) then cost one
    position per prefill run instead of one per prompt token, and the logits
    hold the last position's row only.

    The verifier checks that no kernel after it writes a KV cache or reads a
    buffer computed for every row before it, and that a program has at most
    one.
  }];
  let arguments = (ins Plan_Rows:$input, Plan_Rows:$positions,
                       Plan_Rows:$output, Plan_Rows:$output_positions);
  let assemblyFormat = [{
    $input `,` $positions `->` $output `,` $output_positions attr-dict
    `:` type(operands)
  }];
  let extraClassDeclaration = [{
    ::llvm::SmallVector<::mlir::Value> getWrittenBuffers() {
      return {getOutput(), getOutputPositions()};
    }
  }];
}

#endif // PLAN_OPS_TD
