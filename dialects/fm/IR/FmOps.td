//===- FmOps.td - fm ops -----------------------------------*- tablegen -*-===//

#ifndef FM_OPS_TD
#define FM_OPS_TD

include "dialects/fm/IR/FmBase.td"
include "dialects/fm/IR/FmAttrs.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Fm_Op<string mnemonic, list<Trait> traits = []>
    : Op<Fm_Dialect, mnemonic, traits>;

// Activations: one row per token, any number of leading dimensions.
def Fm_Activations : RankedTensorOf<[F32, F16, BF16]>;
def Fm_TokenIds : 1DTensorOf<[I32]>;
def Fm_Positions : 1DTensorOf<[I32]>;

// Ops whose parameters or caches are symbols check them in verifySymbolUses,
// which runs once the whole module has been verified.
defvar Fm_UsesSymbols = DeclareOpInterfaceMethods<SymbolUserOpInterface>;

//===----------------------------------------------------------------------===//
// Module-level declarations
//===----------------------------------------------------------------------===//

def Fm_ParamOp : Fm_Op<"param", [Symbol, HasParent<"::mlir::ModuleOp">, Fm_UsesSymbols]> {
  let summary = "a model parameter stored outside the IR";
  let description = [{
    Declares a weight tensor by its logical type (shape and the float type its
    values have) and where its bytes come from: either `from` a file
    (`#fm.external`), or `stacks` other parameters, whose elements, in order,
    are this parameter's rows (MoE fusion stacks experts' weights this way;
    every part has this parameter's last dimension and the same storage
    dtype, and together they have its element count). Ops name parameters by
    symbol; a part that only a stack names supplies bytes but is not itself
    an operand of any kernel.

    A quantized parameter carries an `#fm.quant` encoding in its type. Its
    source is either already `packed` in that encoding, or floats (f32, f16,
    bf16, or a stack of them) that the artifact writer quantizes when it
    writes the parameter.

    A parameter from a file may be read `plus` a `#fm.lora_delta`: a LoRA
    adapter merged into it when the artifact is written (a dense float
    matrix only).

    An `adapter_slot` has no source: it is a dense f16 matrix that the
    artifact holds as zeros and a LoRA adapter fills at run time (the `lora`
    pair of an `fm.linear`, declared by fm-add-lora-slots).

    ```mlir
    fm.param @"model.norm.weight" : tensor<64xf32>
        from #fm.external<"stories260K.bin", offset = 932636, dtype = f32>
    fm.param @gate_up : tensor<2x6x4xf32> stacks [@e0.gate, @e0.up, @e1.gate, @e1.up]
    fm.param @wq.lora_a : tensor<32x64xf16> adapter_slot
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    TypeAttrOf<AnyRankedTensor>:$type,
    OptionalAttr<Fm_ExternalAttr>:$source,
    OptionalAttr<FlatSymbolRefArrayAttr>:$parts,
    UnitAttr:$adapter_slot,
    OptionalAttr<Fm_LoraDeltaAttr>:$delta,
    OptionalAttr<StrAttr>:$sym_visibility
  );
  let assemblyFormat = [{
    $sym_name `:` $type (`from` $source^)? (`plus` $delta^)?
    (`stacks` $parts^)? (`adapter_slot` $adapter_slot^)? attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getTensorType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getType());
    }
    /// The parameter's quantized encoding, or null when it is dense.
    QuantAttr getQuant() {
      return ::llvm::dyn_cast_or_null<QuantAttr>(getTensorType().getEncoding());
    }
    /// True when the parameter is a stack of other parameters.
    bool isStack() { return static_cast<bool>(getPartsAttr()); }
    /// How the parameter's bytes are stored in the artifact: its source's
    /// dtype, its parts' dtype for a stack, `packed` when quantized, f16
    /// for an adapter slot.
    StorageType getStorageType();
    /// Bytes the parameter occupies in the artifact.
    uint64_t getStorageBytes();
  }];
}

def Fm_KVCacheOp : Fm_Op<"kv_cache", [Symbol, HasParent<"::mlir::ModuleOp">]> {
  let summary = "a key/value cache that attention ops write and read";
  let description = [{
    Holds keys and values for `capacity` positions of `num_kv_heads` heads of
    `head_dim` features each, as `element_type` (`i8` stores per-token,
    per-head scales beside the values). A `linear` cache keeps position p in
    slot p; a `ring` cache keeps the last `capacity` positions (slot
    p mod capacity) and serves sliding-window attention.

    ```mlir
    fm.kv_cache @layer0 linear capacity = 512, kv_heads = 4, head_dim = 8 : f32
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    Fm_CacheKindAttr:$kind,
    I64Attr:$capacity,
    I64Attr:$num_kv_heads,
    I64Attr:$head_dim,
    TypeAttrOf<AnyTypeOf<[F32, F16, BF16, I8]>>:$element_type,
    OptionalAttr<StrAttr>:$sym_visibility
  );
  let assemblyFormat = [{
    $sym_name `` $kind `capacity` `=` $capacity `,` `kv_heads` `=` $num_kv_heads
    `,` `head_dim` `=` $head_dim `:` $element_type attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Bytes of keys and values one cached position takes (scales excluded).
    int64_t getBytesPerPosition();
    /// Bytes of the f32 scales of an int8 cache: one per position and KV
    /// head for keys and for values (0 for float caches).
    uint64_t getScaleBytes();
    /// Everything the cache holds: elements and scales.
    uint64_t getTotalBytes();
  }];
}

def Fm_TokenizerOp : Fm_Op<"tokenizer", [HasParent<"::mlir::ModuleOp">]> {
  let summary = "the model's tokenizer, referenced in place";
  let description = [{
    Names the file the model's vocabulary is read from and its format; the
    artifact writer parses it and stores the vocabulary in the artifact.
    `add_bos` says whether encoding a prompt prepends `bos_id`. A module has
    at most one tokenizer. A relative `file` is relative to the IR file's
    directory, as `#fm.external` files are.

    ```mlir
    fm.tokenizer llama2c "tok512.bin" bos = 1, eos = 2
    ```
  }];
  let arguments = (ins
    Fm_TokenizerFormatAttr:$format,
    StrAttr:$file,
    I64Attr:$bos_id,
    I64Attr:$eos_id,
    DefaultValuedAttr<BoolAttr, "true">:$add_bos
  );
  let assemblyFormat = [{
    `` $format $file `bos` `=` $bos_id `,` `eos` `=` $eos_id attr-dict
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Embedding, norms, linear
//===----------------------------------------------------------------------===//

def Fm_EmbeddingOp : Fm_Op<"embedding", [Pure, Fm_UsesSymbols]> {
  let summary = "token embedding lookup";
  let description = [{
    Row `tokens[i]` of the `[vocab, hidden]` parameter `table`, times `scale`
    when given (Gemma multiplies by sqrt(hidden)).

    ```mlir
    %h = fm.embedding @tok[%tokens] : tensor<?xi32> -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins
    FlatSymbolRefAttr:$table,
    Fm_TokenIds:$tokens,
    OptionalAttr<F64Attr>:$scale
  );
  let results = (outs Fm_Activations:$result);
  let assemblyFormat = [{
    $table `[` $tokens `]` attr-dict `:` type($tokens) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Fm_RMSNormOp : Fm_Op<"rms_norm", [Pure, SameOperandsAndResultType, Fm_UsesSymbols]> {
  let summary = "RMS normalization, optionally with a learned weight";
  let description = [{
    `y = x / sqrt(mean(x^2) + eps) * (weight + weight_offset)` over groups of
    `group_size` consecutive features: the whole row when `group_size` is
    absent, each head for a query/key norm (`group_size` = head_dim).
    `weight` is an optional parameter of `group_size` elements (Llama 4's
    qk-norm has none); Gemma stores `weight - 1` and sets `weight_offset = 1.0`.

    ```mlir
    %n = fm.rms_norm %h, @w eps = 1.0e-05 : tensor<?x64xf32>
    %qn = fm.rms_norm %q, @qnorm eps = 1.0e-06 {group_size = 8 : i64} : tensor<?x64xf32>
    ```
  }];
  let arguments = (ins
    Fm_Activations:$input,
    OptionalAttr<FlatSymbolRefAttr>:$weight,
    F64Attr:$eps,
    OptionalAttr<I64Attr>:$group_size,
    DefaultValuedAttr<F64Attr, "0.0">:$weight_offset
  );
  let results = (outs Fm_Activations:$result);
  let assemblyFormat = "$input (`,` $weight^)? `eps` `=` $eps attr-dict `:` type($input)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Features normalized together: group_size, or the whole row.
    int64_t getNormalizedSize();
  }];
}

def Fm_LayerNormOp : Fm_Op<"layer_norm", [Pure, SameOperandsAndResultType, Fm_UsesSymbols]> {
  let summary = "layer normalization with optional weight and bias";
  let description = [{
    `y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias` over each row;
    `weight` and `bias` are optional `[hidden]` parameters (Cohere has a
    weight and no bias).

    ```mlir
    %n = fm.layer_norm %h weight @w eps = 1.0e-05 : tensor<?x64xf32>
    ```
  }];
  let arguments = (ins
    Fm_Activations:$input,
    OptionalAttr<FlatSymbolRefAttr>:$weight,
    OptionalAttr<FlatSymbolRefAttr>:$bias,
    F64Attr:$eps
  );
  let results = (outs Fm_Activations:$result);
  let assemblyFormat = [{
    $input (`weight` $weight^)? (`bias` $bias^)? `eps` `=` $eps attr-dict
    `:` type($input)
  }];
  let hasVerifier = 1;
}

def Fm_LinearOp : Fm_Op<"linear", [Pure, Fm_UsesSymbols]> {
  let summary = "y = x W^T (+ b) with W a parameter, dense or quantized";
  let description = [{
    `weight` is an `[out, in]` parameter (the Hugging Face layout); its type
    may carry an `#fm.quant` encoding. `bias` is an optional `[out]`
    parameter (Qwen2's q/k/v projections).

    A `lora` pair adds a low-rank update: y = x W^T + (x A^T) B^T with A
    `[rank, in]` and B `[out, rank]`, dense parameters (the LoRA scale α/r is
    folded into B). fm-add-lora-slots attaches pairs of `adapter_slot`
    parameters that an adapter fills at run time; fm-expand-lora lowers the
    pair to two more linears and an add before planning.

    ```mlir
    %q = fm.linear %x, @wq : tensor<?x64xf32> -> tensor<?x64xf32>
    %v = fm.linear %x, @wv lora @wv.lora_a, @wv.lora_b
        : tensor<?x64xf32> -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins
    Fm_Activations:$input,
    FlatSymbolRefAttr:$weight,
    OptionalAttr<FlatSymbolRefAttr>:$bias,
    OptionalAttr<FlatSymbolRefAttr>:$lora_a,
    OptionalAttr<FlatSymbolRefAttr>:$lora_b
  );
  let results = (outs Fm_Activations:$result);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? (`lora` $lora_a^ `,` $lora_b)? attr-dict
    `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

def Fm_RopeOp : Fm_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "rotary position embedding of each head";
  let description = [{
    Rotates, in every head of `head_dim` features, the first
    `rotary_fraction * head_dim` features by angles `position * theta^(-2i/r)`
    (r the rotated width), pairing features as `layout` says; the features
    past r pass through.

    Frequency scaling (linear, Llama 3, YaRN, llama.cpp's `rope_freqs`) is
    stated by its result: `frequencies`, when present, holds the r/2 inverse
    frequencies that replace `theta^(-2i/r)` (theta then only documents the
    base they were derived from), and `attention_factor` (YaRN's mscale)
    multiplies the cosines and sines, so the rotated features only.

    ```mlir
    %qr = fm.rope interleaved %q at %pos head_dim = 8 theta = 1.0e+04
        : tensor<?x64xf32>, tensor<?xi32>
    %kr = fm.rope rotate_half %k at %pos head_dim = 8 theta = 1.0e+04
        {frequencies = array<f32: 1.0, 0.0125, 0.001, 1.25e-05>,
         attention_factor = 1.1386 : f64} : tensor<?x32xf32>, tensor<?xi32>
    ```
  }];
  let arguments = (ins
    Fm_RopeLayoutAttr:$layout,
    Fm_Activations:$input,
    Fm_Positions:$positions,
    I64Attr:$head_dim,
    F64Attr:$theta,
    DefaultValuedAttr<F64Attr, "1.0">:$rotary_fraction,
    OptionalAttr<DenseF32ArrayAttr>:$frequencies,
    OptionalAttr<F64Attr>:$attention_factor
  );
  let results = (outs Fm_Activations:$result);
  let assemblyFormat = [{
    `` $layout $input `at` $positions `head_dim` `=` $head_dim `theta` `=` $theta
    attr-dict `:` type($input) `,` type($positions)
  }];
  let hasVerifier = 1;
}

def Fm_AttentionOp : Fm_Op<"attention", [
    AttrSizedOperandSegments, Fm_UsesSymbols,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "multi-head attention over an explicit KV cache";
  let description = [{
    Appends this step's keys `k` and values `v` (already normed and rotated:
    the cache holds post-norm, post-RoPE keys) at `positions` to the cache
    `writes`, then lets each query attend to the keys and values of the cache
    `reads` at positions it may see: every earlier position and its own when
    `causal`; on a `local` attention only those less than `window` behind
    it; on a `chunked` attention only those in its own block of `window`
    positions. Query head h reads KV head h / (num_heads / num_kv_heads).
    Scores are `q.k * scale` (default 1/sqrt(head_dim)), soft-capped as
    `softcap * tanh(s / softcap)` when `softcap` is given.

    An attention without `k`, `v` and `writes` owns no cache: it reads the
    cache of an earlier layer (KV-cache sharing), which must be written
    earlier in the model.

    ```mlir
    %a = fm.attention global %q, %k, %v at %pos reads @kv0 writes @kv0
        heads = 8, kv_heads = 4, head_dim = 8
        : (tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>)
        -> tensor<?x64xf32>
    %s = fm.attention global %q2 at %pos reads @kv0
        heads = 8, kv_heads = 4, head_dim = 8
        : (tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins
    Fm_AttentionKindAttr:$kind,
    Fm_Activations:$q,
    Optional<Fm_Activations>:$k,
    Optional<Fm_Activations>:$v,
    Fm_Positions:$positions,
    FlatSymbolRefAttr:$reads,
    OptionalAttr<FlatSymbolRefAttr>:$writes,
    I64Attr:$num_heads,
    I64Attr:$num_kv_heads,
    I64Attr:$head_dim,
    OptionalAttr<I64Attr>:$window,
    OptionalAttr<F64Attr>:$scale,
    OptionalAttr<F64Attr>:$softcap,
    DefaultValuedAttr<BoolAttr, "true">:$causal
  );
  let results = (outs Fm_Activations:$result);
  let assemblyFormat = [{
    `` $kind $q (`,` $k^ `,` $v)? `at` $positions `reads` $reads
    (`writes` $writes^)? `heads` `=` $num_heads `,` `kv_heads` `=` $num_kv_heads
    `,` `head_dim` `=` $head_dim attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// True when this attention writes no cache and reads another layer's.
    bool isCacheReader() { return !getWrites(); }
    /// The query scale actually applied.
    double getEffectiveScale();
  }];
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

def Fm_ActivationOp : Fm_Op<"activation", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise activation";
  let description = [{
    ```mlir
    %y = fm.activation gelu_tanh %x : tensor<?x172xf32>
    ```
  }];
  let arguments = (ins Fm_ActivationAttr:$kind, Fm_Activations:$input);
  let results = (outs Fm_Activations:$result);
  let assemblyFormat = "`` $kind $input attr-dict `:` type($input)";
}

def Fm_GluOp : Fm_Op<"glu", [Pure, SameOperandsAndResultType]> {
  let summary = "gated linear unit: act(gate) * up (SwiGLU with silu)";
  let description = [{
    ```mlir
    %y = fm.glu silu %gate, %up : tensor<?x172xf32>
    ```
  }];
  let arguments = (ins Fm_ActivationAttr:$kind, Fm_Activations:$gate,
                       Fm_Activations:$up);
  let results = (outs Fm_Activations:$result);
  let assemblyFormat = "`` $kind $gate `,` $up attr-dict `:` type($gate)";
}

def Fm_AddOp : Fm_Op<"add", [Pure, Commutative, SameOperandsAndResultType]> {
  let summary = "elementwise sum (residual connections)";
  let description = [{
    ```mlir
    %h1 = fm.add %h, %o : tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Fm_Activations:$lhs, Fm_Activations:$rhs);
  let results = (outs Fm_Activations:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs)";
}

def Fm_MulOp : Fm_Op<"mul", [Pure, AllTypesMatch<["lhs", "result"]>]> {
  let summary = "elementwise product, `rhs` may broadcast along features";
  let description = [{
    `rhs` has the type of `lhs`, or a last dimension of 1 that broadcasts
    across the features of each row (a per-token gate such as Qwen2-MoE's
    shared-expert gate).

    ```mlir
    %y = fm.mul %x, %g : tensor<?x64xf32>, tensor<?x1xf32>
    ```
  }];
  let arguments = (ins Fm_Activations:$lhs, Fm_Activations:$rhs);
  let results = (outs Fm_Activations:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

def Fm_MoeRouteOp : Fm_Op<"moe_route", [Pure]> {
  let summary = "pick each token's top-k experts and their weights";
  let description = [{
    From router logits `[tokens, experts]`, scores every expert (`softmax`
    over all experts, or `sigmoid` of each), keeps the `top_k` highest
    (ties go to the lower expert index), and renormalizes the kept weights
    to sum to 1 when `norm_topk_prob`. Results are `[tokens, top_k]` weights
    and expert indices.

    ```mlir
    %w, %idx = fm.moe_route softmax %logits top_k = 2 {norm_topk_prob = true}
        : tensor<?x8xf32> -> tensor<?x2xf32>, tensor<?x2xi32>
    ```
  }];
  let arguments = (ins
    Fm_RouterScoringAttr:$scoring,
    Fm_Activations:$logits,
    I64Attr:$top_k,
    DefaultValuedAttr<BoolAttr, "false">:$norm_topk_prob
  );
  let results = (outs Fm_Activations:$weights, RankedTensorOf<[I32]>:$indices);
  let assemblyFormat = [{
    `` $scoring $logits `top_k` `=` $top_k attr-dict `:` type($logits) `->`
    type($weights) `,` type($indices)
  }];
  let hasVerifier = 1;
}

def Fm_MoeCombineOp : Fm_Op<"moe_combine", [Pure]> {
  let summary = "weighted sum of each token's selected experts' outputs";
  let description = [{
    The expert-by-expert form of a mixture of experts: `experts[e]` is expert
    e's output for every token, and row t of the result is
    `sum_j weights[t, j] * experts[indices[t, j]][t]`. `fm-fuse-moe` rewrites
    this form into `fm.moe`.

    ```mlir
    %y = fm.moe_combine %w, %idx [%e0, %e1, %e2, %e3]
        : tensor<?x2xf32>, tensor<?x2xi32>,
          [tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>]
        -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins
    Fm_Activations:$weights,
    RankedTensorOf<[I32]>:$indices,
    Variadic<Fm_Activations>:$experts
  );
  let results = (outs Fm_Activations:$result);
  let assemblyFormat = [{
    $weights `,` $indices ` ` `[` $experts `]` attr-dict `:` type($weights) `,`
    type($indices) `,` `[` type($experts) `]` `->` type($result)
  }];
  let hasVerifier = 1;
}

def Fm_MoeOp : Fm_Op<"moe", [Pure, Fm_UsesSymbols, AllTypesMatch<["input", "result"]>]> {
  let summary = "fused mixture of experts with stacked expert weights";
  let description = [{
    Routes each token as `fm.moe_route` does with the `[experts, hidden]`
    parameter `router`, then runs only its selected experts, each a gated FFN
    `down(act(gate(x)) * up(x))` whose weights are slices of the stacked
    parameters `gate_up` (`[experts, 2 * inter, hidden]`: gate rows, then up
    rows) and `down` (`[experts, hidden, inter]`), and sums their outputs by
    routing weight. An optional shared expert (`shared_gate_up`,
    `shared_down`) runs on every token, scaled by `sigmoid(shared_gate . x)`
    when `shared_gate` (`[1, hidden]`) is given.

    ```mlir
    %y = fm.moe softmax %x router @r gate_up @gu down @d top_k = 2
        activation = silu {norm_topk_prob = true} : tensor<?x64xf32>
    ```
  }];
  let arguments = (ins
    Fm_RouterScoringAttr:$scoring,
    Fm_Activations:$input,
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
  let results = (outs Fm_Activations:$result);
  let assemblyFormat = [{
    `` $scoring $input `router` $router `gate_up` $gate_up `down` $down
    `top_k` `=` $top_k `activation` `=` `` $activation
    (`shared` `(` $shared_gate_up^ `,` $shared_down `)`)?
    (`shared_gate` $shared_gate^)? attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Collectives
//===----------------------------------------------------------------------===//

def Fm_AllReduceOp : Fm_Op<"all_reduce", [SameOperandsAndResultType]> {
  let summary = "the sum of a partial value over the ranks of a split model";
  let description = [{
    In a model split tensor-parallel over `ranks` processes
    (fm-partition-tensor), each rank's row-parallel projection (attention's
    output projection, the feed-forward down projection) yields a partial
    sum over its share of the heads or hidden units; `result` is the sum of
    `input` over all ranks, on every rank. Every rank runs the same
    all-reduces in the same order. Not `Pure`: removing one on one rank
    would leave the others waiting.

    ```mlir
    %o = fm.all_reduce %partial ranks = 2 : tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Fm_Activations:$input, I64Attr:$ranks);
  let results = (outs Fm_Activations:$result);
  let assemblyFormat = "$input `ranks` `=` $ranks attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Parallel tracks
//===----------------------------------------------------------------------===//

def Fm_ParallelTracksOp : Fm_Op<"parallel_tracks", [
    RecursiveMemoryEffects, AllTypesMatch<["input", "result"]>]> {
  let summary = "one block of T parallel tracks, combined at its boundary";
  let description = [{
    Each region is one track: it receives the block input as its argument,
    runs `depth` layers with its own residual stream, weights and caches,
    and yields its output. Tracks exchange nothing inside the block; the
    op's result combines their outputs (`mean` or `sum`) and is the input of
    every track's next block (Apple's PT-MoE server model).

    ```mlir
    %h1 = fm.parallel_tracks mean depth = 2 %h0 : tensor<?x64xf32> {
    ^bb0(%x: tensor<?x64xf32>):
      ...
      fm.yield %y : tensor<?x64xf32>
    }, {
    ...
    }
    ```

    Partitioned over `ranks` processes (fm-partition-tracks), the op holds
    one rank's share of the block's tracks, and its result combines the
    tracks of every rank: the local tracks' sum, summed across ranks (an
    all-reduce), divided by the block's total track count for `mean`.

    ```mlir
    %h1 = fm.parallel_tracks mean depth = 2 ranks = 2 %h0 : ...
    ```
  }];
  let arguments = (ins
    Fm_TrackCombineAttr:$combine,
    I64Attr:$depth,
    OptionalAttr<I64Attr>:$ranks,
    Fm_Activations:$input
  );
  let results = (outs Fm_Activations:$result);
  let regions = (region VariadicRegion<SizedRegion<1>>:$tracks);
  let assemblyFormat = [{
    `` $combine `depth` `=` $depth (`ranks` `=` $ranks^)? $input attr-dict
    `:` type($input) $tracks
  }];
  let extraClassDeclaration = [{
    /// Processes the block's tracks are split over (1 unless partitioned).
    int64_t getRankCount() { return getRanks().value_or(1); }
    /// Tracks of the whole block, on every rank.
    int64_t getTotalTracks() { return getRankCount() * getTracks().size(); }
  }];
  let hasRegionVerifier = 1;
}

def Fm_YieldOp : Fm_Op<"yield", [
    Pure, Terminator, ReturnLike, HasParent<"ParallelTracksOp">]> {
  let summary = "a track's output";
  let arguments = (ins Variadic<Fm_Activations>:$values);
  let assemblyFormat = "$values attr-dict `:` type($values)";
}

//===----------------------------------------------------------------------===//
// Output head
//===----------------------------------------------------------------------===//

def Fm_LogitsOp : Fm_Op<"logits", [Pure, Fm_UsesSymbols]> {
  let summary = "vocabulary logits from the final hidden state";
  let description = [{
    `logits = (h W^T) * scale`, then soft-capped as `softcap * tanh(l / softcap)`
    when `softcap` is given. `weight` is `[vocab, hidden]`: the embedding
    table itself when input and output embeddings are tied.

    ```mlir
    %l = fm.logits %h, @tok : tensor<?x64xf32> -> tensor<?x512xf32>
    ```
  }];
  let arguments = (ins
    Fm_Activations:$input,
    FlatSymbolRefAttr:$weight,
    OptionalAttr<F64Attr>:$scale,
    OptionalAttr<F64Attr>:$softcap
  );
  let results = (outs Fm_Activations:$result);
  let assemblyFormat = "$input `,` $weight attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

#endif // FM_OPS_TD
