//===- FmAttrs.td - fm attributes --------------------------*- tablegen -*-===//

#ifndef FM_ATTRS_TD
#define FM_ATTRS_TD

include "dialects/fm/IR/FmBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

class Fm_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Fm_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Fm_ExternalAttr : Fm_Attr<"External", "external"> {
  let summary = "where a parameter's bytes live";
  let description = [{
    A parameter's bytes are `file` from byte `offset` on, stored as `dtype`
    in row-major order of the parameter's shape. Nothing is read while the IR
    is parsed: passes and the artifact writer memory-map the file when they
    need the values. A relative path is relative to the directory of the IR
    file (stdin: the current directory); tools rebase it when they read or
    write IR (FmFilePaths.h), so an IR file compiles from any directory.

    With a `row_stride`, each row (the last dimension) is contiguous but
    rows start `row_stride` bytes apart: a block of columns of a larger
    matrix, as a tensor-parallel rank's share of a row-parallel projection
    (fm-partition-tensor). Only dense f32, f16 and bf16 rows are strided.

    ```mlir
    #fm.external<"model.safetensors", offset = 1024, dtype = f16>
    #fm.external<"model.safetensors", offset = 1152, dtype = f16, row_stride = 256>
    ```
  }];
  let parameters = (ins
    StringRefParameter<"file the bytes are read from">:$file,
    "uint64_t":$offset,
    EnumParameter<Fm_StorageType>:$dtype,
    DefaultValuedParameter<"uint64_t", "0",
        "bytes from one row's start to the next's; 0: rows follow each other">:$row_stride
  );
  let builders = [
    AttrBuilder<(ins "::llvm::StringRef":$file, "uint64_t":$offset,
                     "StorageType":$dtype), [{
      return $_get($_ctxt, file, offset, dtype, /*row_stride=*/0);
    }]>
  ];
  let assemblyFormat = [{
    `<` $file `,` `offset` `=` $offset `,` `dtype` `=` $dtype
    (`,` `row_stride` `=` $row_stride^)? `>`
  }];
  let genVerifyDecl = 1;
}

/// An f64 value printed and parsed as a float literal.
class Fm_F64Parameter<string desc> : APFloatParameter<desc> {
  let parser = [{ [&]() -> ::mlir::FailureOr<::llvm::APFloat> {
    double value;
    if ($_parser.parseFloat(value))
      return ::mlir::failure();
    return ::llvm::APFloat(value);
  }() }];
  let printer = [{ $_printer << $_self.convertToDouble() }];
}

def Fm_LoraDeltaAttr : Fm_Attr<"LoraDelta", "lora_delta"> {
  let summary = "a LoRA adapter folded into a parameter when it is written";
  let description = [{
    The parameter's values are its source's plus `scale * B A`, with A
    `[rank, in]` and B `[out, rank]` read from their files (a PEFT adapter's
    safetensors): fmc-compile --adapter DIR --merge attaches it, and the
    artifact writer computes the sum, rounded to the parameter's own float
    type, so the model runs with the adapter at no cost per token.

    ```mlir
    #fm.lora_delta<a = #fm.external<"adapter_model.safetensors", offset = 8,
        dtype = f32>, b = #fm.external<"adapter_model.safetensors",
        offset = 2056, dtype = f32>, rank = 8, scale = 2.0>
    ```
  }];
  let parameters = (ins
    "ExternalAttr":$a,
    "ExternalAttr":$b,
    "int64_t":$rank,
    Fm_F64Parameter<"the LoRA scale, alpha / rank">:$scale
  );
  let assemblyFormat = [{
    `<` `a` `=` $a `,` `b` `=` $b `,` `rank` `=` $rank `,` `scale` `=` $scale `>`
  }];
  let genVerifyDecl = 1;
}

def Fm_QuantAttr : Fm_Attr<"Quant", "quant"> {
  let summary = "the encoding of a quantized parameter";
  let description = [{
    Attached as the encoding of a parameter's tensor type; the element type
    stays the float type the codes stand for. Codes of `bits` bits take the
    values of `grid`, with one `scale_type` scale (and, on the affine grid,
    one minimum) per `group_size` consecutive elements along the reduction
    (last) dimension; `group_size = 0` means one group per row (per output
    channel). A final group shorter than `group_size` is allowed.

    ```mlir
    tensor<2048x2048xf32, #fm.quant<bits = 2, grid = balanced, group_size = 64,
                                    scale_type = f16, layout = row_major>>
    ```
  }];
  let parameters = (ins
    "unsigned":$bits,
    EnumParameter<Fm_QuantGrid>:$grid,
    "int64_t":$group_size,
    "::mlir::Type":$scale_type,
    EnumParameter<Fm_QuantLayout>:$layout
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // FM_ATTRS_TD
