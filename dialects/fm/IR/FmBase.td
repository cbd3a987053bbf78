//===- FmBase.td - the fm dialect and its enums ------------*- tablegen -*-===//
//
// The fm dialect is fmc's graph-level IR of decoder language models: one op
// per unit the model passes reason about (a norm, a linear over a parameter,
// an attention over an explicit KV cache, a mixture of experts, a block of
// parallel tracks). Activations are ranked tensors whose leading dimension is
// the (dynamic) number of tokens; parameters and KV caches are module-level
// symbols, so weights are never inlined and cache sharing is a visible fact.
//
//===----------------------------------------------------------------------===//

#ifndef FM_BASE_TD
#define FM_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Fm_Dialect : Dialect {
  let name = "fm";
  let cppNamespace = "::mlir::fm";
  let summary = "Graph-level IR of decoder foundation models";
  let description = [{
    Ops over token-major activation tensors (`tensor<?xHxf32>`: one row per
    token) that reference module-level `fm.param` weights and `fm.kv_cache`
    declarations by symbol. A model is a `func.func` taking the token ids and
    their absolute positions and returning logits; the same function serves
    prefill (many tokens) and decode (one token), with KV caches as state.
  }];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    /// Defined next to the attribute storage classes, in FmAttrs.cpp.
    void registerAttributes();
  }];
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Fm_StorageType : I32EnumAttr<"StorageType",
    "how a parameter's elements are stored in its file", [
      I32EnumAttrCase<"f32", 0>,
      I32EnumAttrCase<"f16", 1>,
      I32EnumAttrCase<"bf16", 2>,
      I32EnumAttrCase<"i8", 3>,
      // ggml block formats, referenced in place: sized by
      // runtime/GgmlBlocks.h (elements and bytes per block, looked up by
      // these names).
      I32EnumAttrCase<"q8_0", 4>,
      I32EnumAttrCase<"q4_0", 5>,
      // Codes and scales laid out as the parameter's #fm.quant encoding says.
      I32EnumAttrCase<"packed", 6>,
      I32EnumAttrCase<"q4_1", 7>,
      I32EnumAttrCase<"q5_0", 8>,
      I32EnumAttrCase<"q5_1", 9>,
      I32EnumAttrCase<"q2_k", 10>,
      I32EnumAttrCase<"q3_k", 11>,
      I32EnumAttrCase<"q4_k", 12>,
      I32EnumAttrCase<"q5_k", 13>,
      I32EnumAttrCase<"q6_k", 14>,
      I32EnumAttrCase<"iq4_nl", 15>,
      I32EnumAttrCase<"iq4_xs", 16>,
      I32EnumAttrCase<"tq1_0", 17>,
      I32EnumAttrCase<"tq2_0", 18>,
    ]> {
  let cppNamespace = "::mlir::fm";
  let genSpecializedAttr = 0;
}

def Fm_RopeLayout : I32EnumAttr<"RopeLayout",
    "which feature pairs RoPE rotates together", [
      // (x[2i], x[2i+1]): llama2.c, GGUF llama, Cohere.
      I32EnumAttrCase<"interleaved", 0>,
      // (x[i], x[i + d/2]): Hugging Face Llama and most HF models.
      I32EnumAttrCase<"rotate_half", 1>,
    ]> {
  let cppNamespace = "::mlir::fm";
  let genSpecializedAttr = 0;
}

def Fm_AttentionKind : I32EnumAttr<"AttentionKind",
    "whether an attention sees every past position or a sliding window", [
      I32EnumAttrCase<"global", 0>,
      // Query i sees key k iff 0 <= i - k < window (Mistral, Gemma, Cohere2).
      I32EnumAttrCase<"local", 1>,
      // Query i sees key k <= i iff both lie in the same block of `window`
      // positions (Llama 4's chunked attention).
      I32EnumAttrCase<"chunked", 2>,
    ]> {
  let cppNamespace = "::mlir::fm";
  let genSpecializedAttr = 0;
}

def Fm_CacheKind : I32EnumAttr<"CacheKind", "how a KV cache stores positions", [
      // Position p lives in slot p; capacity bounds the context.
      I32EnumAttrCase<"linear", 0>,
      // Position p lives in slot p mod capacity; only the last `capacity`
      // positions are kept (sliding-window attention).
      I32EnumAttrCase<"ring", 1>,
    ]> {
  let cppNamespace = "::mlir::fm";
  let genSpecializedAttr = 0;
}

def Fm_Activation : I32EnumAttr<"Activation", "elementwise activation", [
      I32EnumAttrCase<"silu", 0>,
      I32EnumAttrCase<"gelu", 1>,
      I32EnumAttrCase<"gelu_tanh", 2>,
      I32EnumAttrCase<"sigmoid", 3>,
      I32EnumAttrCase<"relu", 4>,
    ]> {
  let cppNamespace = "::mlir::fm";
  let genSpecializedAttr = 0;
}

def Fm_RouterScoring : I32EnumAttr<"RouterScoring",
    "how router logits become expert weights", [
      // softmax over all experts, then the top k.
      I32EnumAttrCase<"softmax", 0>,
      // sigmoid of each logit, then the top k.
      I32EnumAttrCase<"sigmoid", 1>,
    ]> {
  let cppNamespace = "::mlir::fm";
  let genSpecializedAttr = 0;
}

def Fm_TrackCombine : I32EnumAttr<"TrackCombine",
    "how parallel tracks' outputs are merged at a block boundary", [
      I32EnumAttrCase<"mean", 0>,
      I32EnumAttrCase<"sum", 1>,
    ]> {
  let cppNamespace = "::mlir::fm";
  let genSpecializedAttr = 0;
}

def Fm_QuantGrid : I32EnumAttr<"QuantGrid", "the values a quantized code stands for", [
      // w = s * (q - (2^bits - 1) / 2): for 2 bits {-1.5, -0.5, 0.5, 1.5} * s
      // (Apple's AFM, ParetoQ).
      I32EnumAttrCase<"balanced", 0>,
      // w = s * q + m with a per-group minimum m (MLX-style).
      I32EnumAttrCase<"affine", 1>,
    ]> {
  let cppNamespace = "::mlir::fm";
  let genSpecializedAttr = 0;
}

def Fm_QuantLayout : I32EnumAttr<"QuantLayout", "how packed codes are ordered", [
      // Each output row's codes are contiguous along K, packed least
      // significant bits first; scales (and minimums) follow as separate arrays.
      I32EnumAttrCase<"row_major", 0>,
    ]> {
  let cppNamespace = "::mlir::fm";
  let genSpecializedAttr = 0;
}

def Fm_TokenizerFormat : I32EnumAttr<"TokenizerFormat",
    "the file format a tokenizer is read from", [
      // llama2.c tok*.bin: SentencePiece-style BPE with scores.
      I32EnumAttrCase<"llama2c", 0>,
      // The tokenizer.ggml.* metadata of a GGUF file (SPM or BPE).
      I32EnumAttrCase<"gguf", 1>,
      // A Hugging Face tokenizer.json (byte-level BPE).
      I32EnumAttrCase<"hf_json", 2>,
    ]> {
  let cppNamespace = "::mlir::fm";
  let genSpecializedAttr = 0;
}

def Fm_TokenizerFormatAttr : EnumAttr<Fm_Dialect, Fm_TokenizerFormat, "tokenizer_format">;
def Fm_StorageTypeAttr : EnumAttr<Fm_Dialect, Fm_StorageType, "dtype">;
def Fm_RopeLayoutAttr : EnumAttr<Fm_Dialect, Fm_RopeLayout, "rope_layout">;
def Fm_AttentionKindAttr : EnumAttr<Fm_Dialect, Fm_AttentionKind, "attention_kind">;
def Fm_CacheKindAttr : EnumAttr<Fm_Dialect, Fm_CacheKind, "cache_kind">;
def Fm_ActivationAttr : EnumAttr<Fm_Dialect, Fm_Activation, "activation">;
def Fm_RouterScoringAttr : EnumAttr<Fm_Dialect, Fm_RouterScoring, "router_scoring">;
def Fm_TrackCombineAttr : EnumAttr<Fm_Dialect, Fm_TrackCombine, "track_combine">;

#endif // FM_BASE_TD
