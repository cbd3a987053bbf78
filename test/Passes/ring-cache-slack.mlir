// fm-ring-cache-slack: ring caches get `slots` more (linear ones none); a
// ring that would then hold the whole context becomes linear; a negative
// count is an error.
// RUN: fmc-opt %s --fm-ring-cache-slack=slots=4 | FileCheck %s --check-prefix=FOUR
// RUN: fmc-opt %s --fm-ring-cache-slack=slots=0 | FileCheck %s --check-prefix=NONE
// RUN: fmc-opt %s --fm-ring-cache-slack=slots=60 | FileCheck %s --check-prefix=ALL
// RUN: not fmc-opt %s --fm-ring-cache-slack=slots=-1 2>&1 | FileCheck %s --check-prefix=NEGATIVE

// FOUR: fm.kv_cache @local ring capacity = 12,
// FOUR: fm.kv_cache @global linear capacity = 64,
// NONE: fm.kv_cache @local ring capacity = 8,
// ALL: fm.kv_cache @local linear capacity = 64,
// NEGATIVE: error: slots must be 0 or more, got -1
module attributes {fm.context_length = 64 : i64} {
  fm.kv_cache @local ring capacity = 8, kv_heads = 1, head_dim = 4 : f32
  fm.kv_cache @global linear capacity = 64, kv_heads = 1, head_dim = 4 : f32
}
