// Elementwise kernels over the run's rows of flat f32 buffers: one thread
// per element; spec (width, rows_slot).
gpu.module @kernels {
  gpu.func @add(%lhs: memref<?xf32>, %rhs: memref<?xf32>, %out: memref<?xf32>,
                %run: memref<?xi32>, %width: index, %rows_slot: index) kernel {
    %rows32 = memref.load %run[%rows_slot] : memref<?xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %n = arith.muli %rows, %width : index
    %i = gpu.global_id x
    %live = arith.cmpi ult, %i, %n : index
    scf.if %live {
      %a = memref.load %lhs[%i] : memref<?xf32>
      %b = memref.load %rhs[%i] : memref<?xf32>
      %s = arith.addf %a, %b : f32
      memref.store %s, %out[%i] : memref<?xf32>
    }
    gpu.return
  }

  gpu.func @mul(%lhs: memref<?xf32>, %rhs: memref<?xf32>, %out: memref<?xf32>,
                %run: memref<?xi32>, %width: index, %rows_slot: index) kernel {
    %rows32 = memref.load %run[%rows_slot] : memref<?xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %n = arith.muli %rows, %width : index
    %i = gpu.global_id x
    %live = arith.cmpi ult, %i, %n : index
    scf.if %live {
      %a = memref.load %lhs[%i] : memref<?xf32>
      %b = memref.load %rhs[%i] : memref<?xf32>
      %p = arith.mulf %a, %b : f32
      memref.store %p, %out[%i] : memref<?xf32>
    }
    gpu.return
  }

  // rhs has one value per row.
  gpu.func @mul_broadcast(%lhs: memref<?xf32>, %rhs: memref<?xf32>,
                          %out: memref<?xf32>, %run: memref<?xi32>,
                          %width: index, %rows_slot: index) kernel {
    %rows32 = memref.load %run[%rows_slot] : memref<?xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %n = arith.muli %rows, %width : index
    %i = gpu.global_id x
    %live = arith.cmpi ult, %i, %n : index
    scf.if %live {
      %row = arith.divui %i, %width : index
      %a = memref.load %lhs[%i] : memref<?xf32>
      %b = memref.load %rhs[%row] : memref<?xf32>
      %p = arith.mulf %a, %b : f32
      memref.store %p, %out[%i] : memref<?xf32>
    }
    gpu.return
  }
}
