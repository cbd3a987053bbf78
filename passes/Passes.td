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

#endif // FMC_PASSES_TD
