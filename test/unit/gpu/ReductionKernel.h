//===- ReductionKernel.h - a kernel with what the families use ------------===//
//
// Shared by the GPU lowering tests (PTX, SPIR-V) and the Metal target tests
// (MSL): one gpu.module written the way the kernel templates are.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_TEST_UNIT_GPU_REDUCTIONKERNEL_H
#define FMC_TEST_UNIT_GPU_REDUCTIONKERNEL_H

namespace fmc::test {

/// What kernels use beyond elementwise code: math functions, subgroup
/// reductions and the subgroup size, workgroup memory and barriers, and a
/// loop whose trip count is zero for some lanes.
inline constexpr const char *kReductionKernel = R"mlir(
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @reduce(%x: memref<64xf32>, %y: memref<64xf32>)
        workgroup(%partial: memref<64xf32, #gpu.address_space<workgroup>>)
        kernel attributes {known_block_size = array<i32: 64, 1, 1>} {
      %c0 = arith.constant 0 : index
      %c3 = arith.constant 3 : index
      %c64 = arith.constant 64 : index
      %zero = arith.constant 0.0 : f32
      %tid = gpu.thread_id x
      %lanes = gpu.subgroup_size : index
      // Lanes 3 and up run this loop zero times.
      %sum = scf.for %i = %tid to %c3 step %c64 iter_args(%acc = %zero) -> f32 {
        %v = memref.load %x[%i] : memref<64xf32>
        %e = math.exp %v : f32
        %s = arith.addf %acc, %e : f32
        scf.yield %s : f32
      }
      %m = arith.maxnumf %sum, %zero : f32
      %t0 = math.tanh %m : f32
      %t = arith.minnumf %t0, %sum : f32
      %r = math.rsqrt %t : f32
      %total = gpu.subgroup_reduce add %r : (f32) -> f32
      memref.store %total, %partial[%tid] : memref<64xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %first = memref.load %partial[%c0] : memref<64xf32, #gpu.address_space<workgroup>>
      %n = arith.index_cast %lanes : index to i32
      %nf = arith.sitofp %n : i32 to f32
      %out = arith.mulf %first, %nf : f32
      memref.store %out, %y[%tid] : memref<64xf32>
      gpu.return
    }
  }
}
)mlir";

} // namespace fmc::test

#endif // FMC_TEST_UNIT_GPU_REDUCTIONKERNEL_H
