// Kernels for test/Metal: a subgroup + workgroup-memory reduction, an f16
// load, a 2-D workgroup with a strided loop, a shuffle and a max reduction,
// f16 workgroup memory, a specialized elementwise add. kernels.spvasm is
// their SPIR-V (how: see its header).
module attributes {gpu.container_module} {
gpu.module @kernels attributes {spirv.target_env = #spirv.target_env<#spirv.vce<v1.3, [Shader, Float16, StorageBuffer16BitAccess, GroupNonUniform, GroupNonUniformArithmetic, GroupNonUniformShuffle], [SPV_KHR_16bit_storage, SPV_KHR_storage_buffer_storage_class]>, #spirv.resource_limits<subgroup_size = 32>>} {
  gpu.func @row_sum(%x: memref<256xf32>, %out: memref<4xf32>, %run: memref<4xi32>) kernel attributes {spirv.entry_point_abi = #spirv.entry_point_abi<workgroup_size = [64, 1, 1]>} {
    %tid = gpu.thread_id x
    %row = gpu.block_id x
    %c0 = arith.constant 0 : index
    %c64 = arith.constant 64 : index
    %rows_i = memref.load %run[%c0] : memref<4xi32>
    %rows = arith.index_cast %rows_i : i32 to index
    %inr = arith.cmpi ult, %row, %rows : index
    scf.if %inr {
    %base = arith.muli %row, %c64 : index
    %i = arith.addi %base, %tid : index
    %v = memref.load %x[%i] : memref<256xf32>
    %s = gpu.subgroup_reduce add %v : (f32) -> f32
    %shared = memref.alloc() : memref<2xf32, 3>
    %sgid = gpu.subgroup_id : index
    %lane = gpu.lane_id
    %c0l = arith.cmpi eq, %lane, %c0 : index
    scf.if %c0l {
      memref.store %s, %shared[%sgid] : memref<2xf32, 3>
    }
    gpu.barrier
    %t0 = arith.cmpi eq, %tid, %c0 : index
    scf.if %t0 {
      %c1 = arith.constant 1 : index
      %a = memref.load %shared[%c0] : memref<2xf32, 3>
      %b = memref.load %shared[%c1] : memref<2xf32, 3>
      %sum = arith.addf %a, %b : f32
      memref.store %sum, %out[%row] : memref<4xf32>
    }
    }
    gpu.return
  }
  gpu.func @scale(%x: memref<256xf16>, %out: memref<256xf32>) kernel attributes {spirv.entry_point_abi = #spirv.entry_point_abi<workgroup_size = [128, 1, 1]>} {
    %tid = gpu.thread_id x
    %b = gpu.block_id x
    %c128 = arith.constant 128 : index
    %base = arith.muli %b, %c128 : index
    %i = arith.addi %base, %tid : index
    %v = memref.load %x[%i] : memref<256xf16>
    %e = arith.extf %v : f16 to f32
    %c2 = arith.constant 2.0 : f32
    %m = arith.mulf %e, %c2 : f32
    memref.store %m, %out[%i] : memref<256xf32>
    gpu.return
  }
  gpu.func @row_max(%x: memref<512xf32>, %out: memref<8xf32>) kernel attributes {spirv.entry_point_abi = #spirv.entry_point_abi<workgroup_size = [32, 2, 1]>} {
    %tx = gpu.thread_id x
    %ty = gpu.thread_id y
    %b = gpu.block_id x
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c32 = arith.constant 32 : index
    %c64 = arith.constant 64 : index
    %row = arith.addi %ty, %b : index
    %base = arith.muli %row, %c64 : index
    %init = arith.constant 0xFF800000 : f32
    %m = scf.for %j = %tx to %c64 step %c32 iter_args(%acc = %init) -> f32 {
      %i = arith.addi %base, %j : index
      %v = memref.load %x[%i] : memref<512xf32>
      %n = arith.maximumf %acc, %v : f32
      scf.yield %n : f32
    }
    %w = arith.constant 16 : i32
    %sz = arith.constant 32 : i32
    %sh, %valid = gpu.shuffle xor %m, %w, %sz : f32
    %mm = arith.maximumf %m, %sh : f32
    %r = gpu.subgroup_reduce maximumf %mm : (f32) -> f32
    %first = arith.cmpi eq, %tx, %c0 : index
    scf.if %first {
      memref.store %r, %out[%row] : memref<8xf32>
    }
    gpu.return
  }
  gpu.func @half_copy(%x: memref<64xf16>, %out: memref<64xf16>, %run: memref<4xi32>) kernel attributes {spirv.entry_point_abi = #spirv.entry_point_abi<workgroup_size = [64, 1, 1]>} {
    %t = gpu.thread_id x
    %s = memref.alloc() : memref<64xf16, 3>
    %v = memref.load %x[%t] : memref<64xf16>
    memref.store %v, %s[%t] : memref<64xf16, 3>
    gpu.barrier
    %c63 = arith.constant 63 : index
    %o = arith.subi %c63, %t : index
    %w = memref.load %s[%o] : memref<64xf16, 3>
    memref.store %w, %out[%t] : memref<64xf16>
    gpu.return
  }
  // The elementwise family's add (lowering/gpu/kernels/elementwise.mlir)
  // specialized as the GPU core does: width 64, rows slot 1.
  gpu.func @add(%lhs: memref<256xf32>, %rhs: memref<256xf32>, %out: memref<256xf32>, %run: memref<4xi32>) kernel attributes {spirv.entry_point_abi = #spirv.entry_point_abi<workgroup_size = [64, 1, 1]>} {
    %width = arith.constant 64 : index
    %rows_slot = arith.constant 1 : index
    %rows32 = memref.load %run[%rows_slot] : memref<4xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %n = arith.muli %rows, %width : index
    %i = gpu.global_id x
    %live = arith.cmpi ult, %i, %n : index
    scf.if %live {
      %a = memref.load %lhs[%i] : memref<256xf32>
      %b = memref.load %rhs[%i] : memref<256xf32>
      %s = arith.addf %a, %b : f32
      memref.store %s, %out[%i] : memref<256xf32>
    }
    gpu.return
  }
}
}
