//===- PlanAttrs.td - kernel configurations of dispatches -*- tablegen -*-===//
//
// A plan.dispatch holds the kernels that run as one GPU launch (or one short
// sequence of launches) and a kernel configuration: which generator emits
// its code and how that code tiles the work. The configuration is decided by
// plan-form-dispatches and read by the GPU lowering (lowering/gpu), so the
// fusion and tiling decisions are visible in --compile-to=plan and
// testable with lit. The kernels in the body keep the semantics: the CPU
// backend runs them one by one.
//
//===----------------------------------------------------------------------===//

#ifndef PLAN_ATTRS_TD
#define PLAN_ATTRS_TD

include "dialects/plan/IR/PlanBase.td"
include "mlir/IR/EnumAttr.td"

def Plan_KernelConfigAttrInterface
    : AttrInterface<"KernelConfigAttrInterface"> {
  let cppNamespace = "::mlir::plan";
  let description = [{
    The configuration of a plan.dispatch. `verifyRegion` checks that the
    dispatch's body is a region the configured generator can emit (for
    example, a matvec dispatch holds one or more linear products of one
    input, and only the prologue and epilogue kernels its generator fuses).
  }];
  let methods = [
    InterfaceMethod<"Checks the body of `dispatch` against this configuration.",
      "::llvm::LogicalResult", "verifyRegion",
      (ins "::mlir::Operation *":$dispatch)>,
  ];
}

class Plan_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Plan_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Plan_Activations : I32EnumAttr<"Activations",
    "the element type a matvec reads its activations in", [
  I32EnumAttrCase<"f32", 0>,
  I32EnumAttrCase<"i8", 1>,
]> {
  let cppNamespace = "::mlir::plan";
  let genSpecializedAttr = 0;
}

def Plan_RowTiles : I32EnumAttr<"RowTiles",
    "how a matvec's output rows are split among workgroups", [
  I32EnumAttrCase<"rows", 0>,
  I32EnumAttrCase<"heads", 1>,
]> {
  let cppNamespace = "::mlir::plan";
  let genSpecializedAttr = 0;
}

def Plan_Products : I32EnumAttr<"Products",
    "how a matvec's workgroup forms its products", [
  I32EnumAttrCase<"reduce", 0>,
  I32EnumAttrCase<"mma", 1>,
]> {
  let cppNamespace = "::mlir::plan";
  let genSpecializedAttr = 0;
}

def Plan_ProductsParameter : EnumParameter<Plan_Products> {
  let defaultValue = "::mlir::plan::Products::reduce";
}

def Plan_MatvecConfigAttr : Plan_Attr<"MatvecConfig", "matvec", [
    DeclareAttrInterfaceMethods<Plan_KernelConfigAttrInterface>]> {
  let summary = "a fused matrix-vector product";
  let description = [{
    One launch computes every linear product of the dispatch (they share one
    input: q, k and v; gate and up) over the concatenation of their weight
    rows, with the dispatch's other kernels as its prologue (the norm that
    produces the input, applied while the input is staged in workgroup
    memory) and epilogues (bias, scale and soft-cap, a residual add, the GLU
    of a gate and up pair, and per head: qk-norm, RoPE and the KV-cache
    append).

    Each workgroup of `workgroup_size` threads owns `rows_per_workgroup`
    consecutive output rows (a gate/up pair counts as one row; `tiles =
    heads` makes that one attention head, which the per-head epilogues need).
    Teams of `threads_per_row` threads share a row's reduction: each thread
    loads `vector_bytes` of packed or dense weights at a time and decodes
    them in registers against activations it reads from workgroup memory.
    `tokens_per_pass` tokens share each decoded weight (prefill).
    `activations = i8` rounds the activations to int8 per block of 128
    features (the CPU backend's rounding) so that low-bit codes meet them in
    4-way integer dot products; `f32` keeps them as they are.

    `products = mma` (prefill) replaces the teams' reductions by
    matrix-unit tiles: per K tile the workgroup stages the activations of
    `tokens_per_pass` tokens and its rows of the weight in workgroup memory,
    and each subgroup of 32 threads multiplies 16-token by 8-row tiles.
    Packed codes meet int8 activations (`activations = i8`) 32 features a
    step (`mma.sync` m16n8k32 s8 x u8 on CUDA), with the group scales
    applied per run of integer sums; f16 and bf16 weights meet f32
    activations (`activations = f32`) split into two parts of the weights'
    type, 16 features a step (m16n8k16), so the products keep about f32's
    precision. Other targets compute the same tiles per thread.
    `products = reduce` (the default, omitted when printed) is the reduction
    above.

    ```mlir
    #plan.matvec<workgroup_size = 256, rows_per_workgroup = 64,
                 threads_per_row = 32, vector_bytes = 16, tokens_per_pass = 1,
                 activations = i8, tiles = rows>
    ```
  }];
  let parameters = (ins
    "int64_t":$workgroup_size,
    "int64_t":$rows_per_workgroup,
    "int64_t":$threads_per_row,
    "int64_t":$vector_bytes,
    "int64_t":$tokens_per_pass,
    EnumParameter<Plan_Activations>:$activations,
    EnumParameter<Plan_RowTiles>:$tiles,
    Plan_ProductsParameter:$products
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Plan_RowwiseConfigAttr : Plan_Attr<"RowwiseConfig", "rowwise", [
    DeclareAttrInterfaceMethods<Plan_KernelConfigAttrInterface>]> {
  let summary = "one row-local kernel: a norm, RoPE or an elementwise op";
  let description = [{
    One workgroup of `workgroup_size` threads per token row (and per head
    group for RoPE) computes the dispatch's single kernel from and to
    device memory.

    ```mlir
    #plan.rowwise<workgroup_size = 256>
    ```
  }];
  let parameters = (ins "int64_t":$workgroup_size);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Plan_DecodeAttentionConfigAttr : Plan_Attr<"DecodeAttentionConfig",
    "decode_attention", [
    DeclareAttrInterfaceMethods<Plan_KernelConfigAttrInterface>]> {
  let summary = "split-KV (flash-decoding) attention of one query row";
  let description = [{
    The positions a decode step attends to are split into `splits` ranges,
    each attended by its own workgroups (one per KV head, serving all query
    heads of its GQA group); a combine step merges the partial softmax
    statistics when `splits` > 1.

    ```mlir
    #plan.decode_attention<splits = 16>
    ```
  }];
  let parameters = (ins "int64_t":$splits);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Plan_LibraryConfigAttr : Plan_Attr<"LibraryConfig", "library", [
    DeclareAttrInterfaceMethods<Plan_KernelConfigAttrInterface>]> {
  let summary = "one kernel of the GPU kernel library";
  let description = [{
    The dispatch's single kernel runs as its family's hand-written kernels
    (lowering/gpu/kernels): embedding, prefill attention and the KV-cache
    append, mixture of experts, track combine, last row.

    ```mlir
    #plan.library
    ```
  }];
}

def Plan_CollectiveConfigAttr : Plan_Attr<"CollectiveConfig", "collective", [
    DeclareAttrInterfaceMethods<Plan_KernelConfigAttrInterface>]> {
  let summary = "a collective across the ranks of a track-parallel run";
  let description = [{
    The dispatch's single kernel is a plan.all_reduce: no device kernel but
    a call into the run's collective engine (MPI for CPU ranks, NCCL for
    CUDA ranks: plan.collective_launch) between the kernels before and after
    it, which the dispatch list orders it with.

    ```mlir
    #plan.collective
    ```
  }];
}

//===----------------------------------------------------------------------===//
// GPU launches
//===----------------------------------------------------------------------===//

def Plan_BindingMemory : I32EnumAttr<"BindingMemory",
    "the device memory a launch's binding points into", [
  I32EnumAttrCase<"arena", 0>,
  I32EnumAttrCase<"weights", 1>,
  I32EnumAttrCase<"caches", 2>,
  I32EnumAttrCase<"scratch", 3>,
  I32EnumAttrCase<"run", 4>,
]> {
  let cppNamespace = "::mlir::plan";
  let genSpecializedAttr = 0;
}

def Plan_BindingAttr : Plan_Attr<"Binding", "binding"> {
  let summary = "one buffer argument of a GPU launch";
  let description = [{
    `bytes` bytes from `offset` of device memory `memory`: the program's
    activation arena (offset absolute), a parameter or a KV cache named by
    `symbol` (offset relative to it), the program's scratch, or the run
    record (runtime/schema/fmc.fbs, BindingMemory).

    ```mlir
    #plan.binding<arena [128, 4096]>
    #plan.binding<weights @wq [0, 1048576]>
    ```
  }];
  let parameters = (ins
    EnumParameter<Plan_BindingMemory>:$memory,
    OptionalParameter<"::mlir::FlatSymbolRefAttr">:$symbol,
    "uint64_t":$offset,
    "uint64_t":$bytes
  );
  let assemblyFormat = [{
    `<` $memory custom<BindingSymbol>($symbol) `[` $offset `,` $bytes `]` `>`
  }];
  let genVerifyDecl = 1;
}

#endif // PLAN_ATTRS_TD
