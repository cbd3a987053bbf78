//===- PlanBase.td - the plan dialect, its types and enums -*- tablegen -*-===//
//
// The plan dialect is fmc's dispatch IR (DESIGN.md, phase 4): what the fm
// graph becomes once every op is a kernel instance of a kernel family with its
// static specialization, every activation a buffer at a fixed offset of one
// arena, and every KV cache a sized entry of the KV plan. A module at this
// level keeps the fm.param, fm.kv_cache and fm.tokenizer declarations and
// holds one plan.program per phase (@prefill, @decode). The artifact writer
// serializes it one to one into the .fmc FlatBuffer.
//
//===----------------------------------------------------------------------===//

#ifndef PLAN_BASE_TD
#define PLAN_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Plan_Dialect : Dialect {
  let name = "plan";
  let cppNamespace = "::mlir::plan";
  let summary = "Dispatch programs: kernel instances over arena buffers";
  let description = [{
    A `plan.program` is a straight-line sequence of kernel ops. Each kernel
    op is one instance of a kernel family (linear, rms_norm, attention, ...)
    whose attributes are its static specialization; its operands are
    `!plan.rows` buffers, each declared once by `plan.buffer` at a byte
    offset of the program's arena. Parameters and KV caches are the module's
    fm.param and fm.kv_cache symbols. The number of tokens a run processes is
    the only dynamic quantity: at most the program's `max_tokens`.
  }];
  let dependentDialects = ["::mlir::fm::FmDialect"];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerTypes();
    void registerAttributes();
  }];
}

class Plan_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Plan_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

def Plan_RowsType : Plan_Type<"Rows", "rows"> {
  let summary = "an arena buffer of token rows";
  let description = [{
    Up to `max_tokens` rows (the enclosing program's) of `width` elements of
    `elementType` each, row-major: the storage of one activation tensor
    `tensor<?x{width}x{elementType}>` for the tokens of one run.

    ```mlir
    !plan.rows<64, f32>
    ```
  }];
  let parameters = (ins "int64_t":$width, "::mlir::Type":$elementType);
  let assemblyFormat = "`<` $width `,` $elementType `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Bytes of one row.
    int64_t getRowBytes() const;
  }];
}

def Plan_Rows : Type<CPred<"::llvm::isa<::mlir::plan::RowsType>($_self)">,
                     "plan rows buffer", "::mlir::plan::RowsType">;

#endif // PLAN_BASE_TD
