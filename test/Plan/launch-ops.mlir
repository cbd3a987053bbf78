// RUN: fmc-opt %s | FileCheck %s
// RUN: fmc-opt %s | fmc-opt | FileCheck %s
// RUN: fmc-opt %s --mlir-print-op-generic | fmc-opt | FileCheck %s

// A program's GPU launches as IR (what fmc-compile --compile-to=gpu prints
// beside the gpu.module), round-tripped: each memory a binding can name.

module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @copy(%in: memref<4xf32>, %w: memref<4xf32>, %c: memref<4xf32>,
                   %s: memref<4xf32>, %run: memref<4xi32>) kernel
        attributes {known_block_size = array<i32: 32, 1, 1>} {
      gpu.return
    }
  }
  // CHECK-LABEL: plan.launch_list @decode scratch_bytes = 64 {
  // CHECK-NEXT: plan.launch @kernels::@copy grid [2, 1, 1] source 3 bindings [#plan.binding<arena [0, 16]>, #plan.binding<weights @w [16, 16]>, #plan.binding<caches @c [0, 16]>, #plan.binding<scratch [32, 16]>, #plan.binding<run [0, 16]>]
  // CHECK-NEXT: plan.launch @kernels::@copy grid [1, 4, 1] source 4
  // CHECK-NEXT: plan.collective_launch source 5 bindings [#plan.binding<arena [0, 16]>, #plan.binding<arena [32, 8]>, #plan.binding<arena [16, 16]>, #plan.binding<arena [48, 8]>]
  // CHECK-NEXT: plan.launch @kernels::@copy grid [1, 1, 1] source 6
  plan.launch_list @decode scratch_bytes = 64 {
    plan.launch @kernels::@copy grid [2, 1, 1] source 3 bindings [
        #plan.binding<arena [0, 16]>, #plan.binding<weights @w [16, 16]>,
        #plan.binding<caches @c [0, 16]>, #plan.binding<scratch [32, 16]>,
        #plan.binding<run [0, 16]>]
    plan.launch @kernels::@copy grid [1, 4, 1] source 4 bindings [
        #plan.binding<arena [16, 16]>, #plan.binding<weights @w [0, 16]>,
        #plan.binding<caches @c [16, 16]>, #plan.binding<scratch [0, 16]>,
        #plan.binding<run [0, 16]>]
    // An all-reduce of two buffers (inputs, then outputs) between launches.
    plan.collective_launch source 5 bindings [
        #plan.binding<arena [0, 16]>, #plan.binding<arena [32, 8]>,
        #plan.binding<arena [16, 16]>, #plan.binding<arena [48, 8]>]
    plan.launch @kernels::@copy grid [1, 1, 1] source 6 bindings [
        #plan.binding<arena [16, 16]>, #plan.binding<weights @w [0, 16]>,
        #plan.binding<caches @c [16, 16]>, #plan.binding<scratch [0, 16]>,
        #plan.binding<run [0, 16]>]
  }
}
