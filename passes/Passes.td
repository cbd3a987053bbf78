//===- Passes.td - fm model passes -------------------------*- tablegen -*-===//

#ifndef FMC_PASSES_TD
#define FMC_PASSES_TD

include "mlir/Pass/PassBase.td"

def DropDeadParams : Pass<"fm-drop-dead-params", "::mlir::ModuleOp"> {
  let summary = "Remove parameters and KV caches that no op references";
  let description = [{
    Model passes leave declarations behind when they rewrite ops: KV-cache
    sharing removes a layer's K/V projections and its cache, MoE fusion
    replaces per-expert weights with stacked ones. This pass erases every
    `fm.param` (and, unless `keep-caches` is set, every `fm.kv_cache`) that
    no op names, so the artifact writer never reads or stores their bytes.
    The statistics report how many were removed and how many parameter bytes
    that saves.
  }];
  let options = [
    Option<"keepCaches", "keep-caches", "bool", /*default=*/"false",
           "Keep KV-cache declarations even when no attention uses them">,
  ];
  let statistics = [
    Statistic<"numParamsDropped", "params-dropped", "Parameters removed">,
    Statistic<"numParamBytesDropped", "param-bytes-dropped",
              "Bytes of parameter storage removed">,
    Statistic<"numCachesDropped", "caches-dropped", "KV caches removed">,
  ];
}

def ShareKVCache : Pass<"fm-share-kv-cache", "::mlir::ModuleOp"> {
  let summary = "Make the last layers attend to an earlier layer's KV cache";
  let description = [{
    KV-cache sharing as in Apple's on-device model, whose last 21 of 56
    layers attend to the keys and values layer 34 cached: the last
    `reuse-layers` layers (or `reuse-fraction` of them, rounded to the
    nearest layer) stop computing keys and values and read the cache of a
    source layer instead. Their K/V projections, key norms, key RoPE and
    caches are removed, and so are the parameters only those used.

    The source is `source-layer` when given, else, for each reuse layer, the
    last layer before the first reuse layer that owns a cache of the same
    attention kind (so a model with local and global layers shares per kind,
    as Gemma 3n does). The cache holds keys after their norm and RoPE, so a
    reuse layer attends exactly as it would to keys at those positions.

    Without options the pass only normalizes an already-sharing model (an
    imported AFM checkpoint): it removes K/V computations and declarations
    nothing uses. Running it twice changes nothing the second time.
    Parallel-track models are rejected.
  }];
  let options = [
    Option<"reuseLayers", "reuse-layers", "int64_t", /*default=*/"0",
           "How many of the last layers reuse an earlier layer's cache">,
    Option<"reuseFraction", "reuse-fraction", "double", /*default=*/"0.0",
           "The fraction of layers (from the end) that reuse a cache, e.g. 0.375">,
    Option<"sourceLayer", "source-layer", "int64_t", /*default=*/"-1",
           "The layer whose cache the reuse layers read (default: the last "
           "earlier layer of the same attention kind that owns one)">,
  ];
}

def InterleaveAttention : Pass<"fm-interleave-attention", "::mlir::ModuleOp"> {
  let summary = "Assign local (sliding-window) and global attention by a pattern";
  let description = [{
    Layer j becomes local or global as `pattern[j mod len(pattern)]` says:
    `L` is sliding-window attention over the last `window` positions, `G`
    global causal attention (Apple's server model: `LLLG`, window 4096).
    In parallel-track models j counts layers within a track. A local layer's
    cache becomes a ring buffer of `window` positions (a linear cache when
    the context is no longer than the window); a global layer's cache is
    linear over the whole context (the module's `fm.context_length`, else the
    largest linear cache). With `global-rope=none`, global layers lose their
    RoPE (NoPE). A layer that reads another layer's cache must get the same
    kind as that layer. Running the pass twice changes nothing the second time.
  }];
  let options = [
    Option<"pattern", "pattern", "std::string", /*default=*/"""",
           "Attention kinds by layer, repeated: L = local, G = global (e.g. LLLG)">,
    Option<"window", "window", "int64_t", /*default=*/"0",
           "Sliding window of the local layers, in positions">,
    Option<"globalRope", "global-rope", "std::string", /*default=*/"\"rope\"",
           "Positional encoding of global layers: rope (keep) or none (NoPE)">,
  ];
}

def QuantizeKVCache : Pass<"fm-quantize-kv-cache", "::mlir::ModuleOp"> {
  let summary = "Store KV caches in a narrower element type (int8 by default)";
  let description = [{
    Sets the element type of every `fm.kv_cache` to `element-type`: `i8`
    stores keys and values as int8 with one f32 scale per token and head
    (Apple's on-device model keeps an 8-bit KV cache), `f16`/`bf16` halve an
    f32 cache. Attention ops are unchanged: quantizing on write and
    dequantizing on read is the backend's kernel's job, so the pass only
    changes the cache declarations (and with them the KV plan's bytes).
  }];
  let options = [
    Option<"elementType", "element-type", "std::string", /*default=*/"\"i8\"",
           "Cache element type: i8, f16, bf16 or f32">,
  ];
}

def FuseMoe : Pass<"fm-fuse-moe", "::mlir::ModuleOp"> {
  let summary = "Fuse expert-by-expert mixtures of experts into fm.moe";
  let description = [{
    Rewrites a router `fm.linear`, `fm.moe_route`, one gated FFN per expert
    (gate and up `fm.linear`, `fm.glu`, down `fm.linear`) and `fm.moe_combine`
    into one `fm.moe` over stacked parameters: `gate_up`
    (`[experts, 2 * inter, hidden]`, each expert's gate rows then its up rows)
    and `down` (`[experts, hidden, inter]`), each a `stacks [...]` of the
    experts' own parameters. A shared expert added to the result, scaled or
    not by `sigmoid(x W^T)` of a one-row gate, folds into the same op. Routing
    (scoring, top_k, norm_topk_prob, ties to the lower index) is unchanged.

    MoEs that do not have exactly this form stay unfused and keep running
    expert by expert: experts of unequal shape or activation get a warning;
    experts that read another value than the router's input (Llama 4 feeds
    them the input scaled by the routing weight), biased projections or
    quantized expert weights a remark. Run `fm-drop-dead-params` afterwards:
    the experts' parameters stay as the stacks' parts.
  }];
  let statistics = [
    Statistic<"numFused", "moes-fused", "Mixtures of experts fused into fm.moe">,
    Statistic<"numShared", "shared-experts", "fm.moe ops with a shared expert">,
  ];
}

def QuantizeWeights : Pass<"fm-quantize-weights", "::mlir::ModuleOp"> {
  let summary = "Give linear, embedding and output weights a low-bit encoding";
  let description = [{
    Applies a per-parameter quantization policy: the weights of `fm.linear`
    ops (all, or those whose name matches `linear-pattern`), the embedding
    table of `fm.embedding` and the output head of `fm.logits` each get the
    `#fm.quant` encoding given as `bits:grid[:group[:scale]]`, e.g.
    `2:balanced:64:f16` (AFM/ParetoQ's {-1.5,-0.5,0.5,1.5}*s), `4:affine:32`
    (MLX-style scale and minimum); group 32, 64, 128 or `row` (one per
    output channel); scale f16 or bf16. An empty policy leaves that class
    dense; norms and biases are always kept in float. A parameter the
    embedding and the output head share (tied) follows `embedding`.

    Mixtures of experts: the experts follow the `linear` policy in both
    forms. fm.moe's stacked `gate_up` ([experts, 2*inter, hidden]) and
    `down` stacks get the encoding as one [experts*rows, k] matrix (groups
    run along k, so no group straddles two experts, and each expert's codes
    and scales are contiguous slices), as do the shared expert's `gate_up`
    and `down`; `linear-pattern` matches the stack's name. The router (an
    fm.linear feeding only fm.moe_route, or fm.moe's `router`) and the
    shared expert's sigmoid gate (fm.moe's `shared_gate`, or any fm.linear
    of a single output) stay in float: routing is a discrete
    choice, and a float router keeps the fused and unfused forms routing
    alike. Stacks used by anything but fm.moe's experts stay as they are.

    The artifact writer does the packing. This pass reads each parameter's
    source (memory-mapped) and runs the same quantization to record what it
    will do: `fm.quant_lossless` when every group already lies on the grid
    (quantization-aware-trained weights: codes and scales are recovered bit
    for bit), otherwise the relative error ||w - q(w)|| / ||w|| of the
    squared-error-optimal post-training quantization as `fm.quant_error`.
    fmc-compile's size report prints both. Parameters that are already
    quantized, stacks other than MoE experts, or not f32/f16/bf16 are
    left as they are, so the pass is idempotent.
  }];
  let options = [
    Option<"linear", "linear", "std::string", /*default=*/"\"\"",
           "Encoding of linear weights (e.g. 2:balanced:64:f16); empty: dense">,
    Option<"linearPattern", "linear-pattern", "std::string",
           /*default=*/"\"\"",
           "Only linear weights whose name matches this regex (empty: all)">,
    Option<"embedding", "embedding", "std::string", /*default=*/"\"\"",
           "Encoding of the embedding table (e.g. 4:balanced:64:f16)">,
    Option<"output", "output", "std::string", /*default=*/"\"\"",
           "Encoding of an untied output head">,
  ];
  let statistics = [
    Statistic<"numQuantized", "params-quantized", "Parameters quantized">,
    Statistic<"numLossless", "params-lossless",
              "Quantized parameters that were already on the grid">,
  ];
}

def RingCacheSlack : Pass<"fm-ring-cache-slack", "::mlir::ModuleOp"> {
  let summary = "Give ring KV caches slots beyond their window for drafts";
  let description = [{
    A ring cache of `window` slots overwrites position p - window when it
    writes p. Speculative decoding writes proposals past the accepted text
    and rolls rejected ones back by position alone, which a ring can only
    take when the slots those proposals overwrite are outside every later
    window: this pass gives every ring cache `slots` more (a cache that then
    holds the whole context becomes linear), so drafts of up to `slots`
    tokens are safe. Attention keeps its window; only capacity grows.
  }];
  let options = [
    Option<"slots", "slots", "int64_t", /*default=*/"0",
           "Slots beyond the window (the most draft tokens per pass)">,
  ];
}

def PartitionTracks : Pass<"fm-partition-tracks", "::mlir::ModuleOp"> {
  let summary = "Keep one rank's share of every parallel-tracks block";
  let description = [{
    Track parallelism (lowering/plan/ParallelTracks.md): a model of T-track
    `fm.parallel_tracks` blocks runs on `ranks` processes, rank r owning
    tracks r*T/ranks ... (r+1)*T/ranks - 1 of every block. This pass keeps
    rank `rank`'s tracks, marks each block `ranks = N` (its combine becomes
    an all-reduce across ranks at the block boundary, the only
    communication) and drops the weights and KV caches of the other ranks'
    tracks. The embedding, the ops between blocks, the final norm and the
    head are replicated: every rank runs them, so no broadcast is needed and
    every rank's logits are the model's. The module gets
    `fm.track_partition = array<i64: rank, ranks>`.

    T must be a multiple of `ranks`; a model without parallel tracks, or
    one already partitioned, is an error. ranks = 1 changes nothing.
  }];
  let options = [
    Option<"ranks", "ranks", "int64_t", /*default=*/"1",
           "Processes the tracks are split over">,
    Option<"rank", "rank", "int64_t", /*default=*/"0",
           "The rank whose tracks are kept, from 0 to ranks - 1">,
  ];
  let statistics = [
    Statistic<"numTracksDropped", "tracks-dropped",
              "Tracks of other ranks removed">,
    Statistic<"numParamBytesDropped", "param-bytes-dropped",
              "Bytes of other ranks' parameters removed">,
  ];
}

def PartitionTensor : Pass<"fm-partition-tensor", "::mlir::ModuleOp"> {
  let summary = "Keep one rank's Megatron-style share of every layer";
  let description = [{
    Tensor parallelism, the comparison for track parallelism
    (lowering/plan/ParallelTracks.md): each layer is split over `ranks`
    processes as Megatron-LM does. The q, k, v, gate and up projections are
    column-parallel (rank r computes heads r*H/ranks ... and the matching
    block of hidden units); the attention output and down projections are
    row-parallel (rank r reads its block of their input) and are followed by
    an `fm.all_reduce`, two per layer (a routed MoE layer sums once, after
    its combine). RoPE, per-head norms, attention and the gated activation
    run on the rank's share; each KV cache holds the rank's KV heads. The
    embedding, the norms, the residual stream, routers and the head are
    replicated, so every rank's logits are the model's. Weights are sliced
    in place (a block of rows by offset, a block of columns by
    `row_stride`). The module gets `fm.tensor_partition = array<i64: rank,
    ranks>`.

    The heads, KV heads and hidden units must divide by `ranks`; weights
    must be f32, f16 or bf16 in a file (quantized when written is fine when
    each rank's columns are whole groups); a fused fm.moe, a LoRA pair or a
    model already partitioned is an error. ranks = 1 changes nothing.
  }];
  let options = [
    Option<"ranksOption", "ranks", "int64_t", /*default=*/"1",
           "Processes every layer is split over">,
    Option<"rankOption", "rank", "int64_t", /*default=*/"0",
           "The rank whose share is kept, from 0 to ranks - 1">,
  ];
  let statistics = [
    Statistic<"numAllReduces", "all-reduces",
              "fm.all_reduce ops inserted">,
    Statistic<"numParamBytesDropped", "param-bytes-dropped",
              "Bytes of whole parameters replaced by this rank's slices">,
  ];
}

def AddLoraSlots : Pass<"fm-add-lora-slots", "::mlir::ModuleOp"> {
  let summary = "Give linear layers LoRA slots that adapters fill at run time";
  let description = [{
    Prepares a base model for LoRA adapters applied at run time, as Apple's
    on-device model takes a rank-32 adapter per feature on its frozen 2-bit
    base: every `fm.linear` whose module is named in `targets` gets a `lora`
    pair of `adapter_slot` parameters, `<weight>.lora_a` of `[rank, in]`
    and `<weight>.lora_b` of `[out, rank]`, f16. The artifact holds them as
    zeros (the base computes what it did without slots) and an adapter
    compiled for this base (.fmca) fills them; an adapter of a lower rank
    is padded with zeros.

    A linear's module is its weight's name without `.weight`; a target
    names a module when it is that name or its last dotted components, as
    PEFT's `target_modules` list does (`q_proj` names
    `model.layers.0.self_attn.q_proj`). Without targets every linear gets a
    slot. Linears that already have a pair keep it. Mixture-of-experts
    experts (fm.moe) and the output head get none.
  }];
  let options = [
    Option<"rank", "rank", "int64_t", /*default=*/"0",
           "The largest adapter rank the slots hold (e.g. 32)">,
    ListOption<"targets", "targets", "std::string",
               "Modules to adapt (e.g. q_proj,v_proj); none: every linear">,
  ];
  let statistics = [
    Statistic<"numSlots", "lora-slots", "Linear layers given a LoRA slot">,
    Statistic<"numSlotBytes", "lora-slot-bytes",
              "Bytes of f16 adapter-slot parameters declared">,
  ];
}

def ExpandLora : Pass<"fm-expand-lora", "::mlir::ModuleOp"> {
  let summary = "Lower each linear's LoRA pair to two linears and an add";
  let description = [{
    `fm.linear %x, @w lora @a, @b` becomes the base linear, `t = x A^T`,
    `d = t B^T` and `y + d`: kernels every backend already has. Runs before
    planning (fm-to-plan rejects a linear that still has a pair).
  }];
}

def RebaseFilePaths : Pass<"fm-rebase-file-paths", "::mlir::ModuleOp"> {
  let summary = "Make relative file paths relative to another directory";
  let description = [{
    A relative path in an IR file (an `fm.param`'s `#fm.external` file, an
    `fm.tokenizer` file) is relative to the directory of that file; in memory
    it is relative to the current directory (dialects/fm/IR/FmFilePaths.h).
    This pass rewrites every relative path from relative to `from` to
    relative to `to` (empty: the current directory); absolute paths stay as
    they are. fmc-opt runs it first, from the input file's directory, and
    last, to the output file's directory, so that passes that read those
    files (fm-quantize-weights) find them wherever fmc-opt runs; stdin and
    stdout are the current directory.
  }];
  let options = [
    Option<"from", "from", "std::string", /*default=*/"\"\"",
           "The directory the paths are relative to (empty: the current one)">,
    Option<"to", "to", "std::string", /*default=*/"\"\"",
           "The directory to make them relative to (empty: the current one)">,
  ];
}

#endif // FMC_PASSES_TD
