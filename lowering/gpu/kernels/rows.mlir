// Row-wise data movement over the run's rows, one thread per element.
// - @track_sum (plan.track_combine): y = (a + b) * scale. A combine of G
//   tracks is G - 1 of these in track order (y = t0 + t1, then y = y + t2,
//   ...), the last one scaled by 1 / G for a mean: the CPU backend's
//   summation order. y may be a (in place).
// - @last_row (plan.last_row): row 0 of y and of y_positions = the last row
//   of x and of positions. It reads the row count from slot 0 (`rows_slot`)
//   of the run record; the kernels after it read slot 1 (one row).
gpu.module @kernels {
  gpu.func @track_sum(%a: memref<?xf32>, %b: memref<?xf32>, %y: memref<?xf32>,
                      %run: memref<?xi32>, %width: index, %scale: f32,
                      %rows_slot: index) kernel {
    %rows32 = memref.load %run[%rows_slot] : memref<?xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %count = arith.muli %rows, %width : index
    // i: the thread's index in the grid; the workgroup's index in a grid of (x, y) workgroups (y > 1 when
    // one dimension cannot hold them all), row-major
    %i_x = gpu.block_id x
    %i_y = gpu.block_id y
    %i_gx = gpu.grid_dim x
    %i_yx = arith.muli %i_y, %i_gx : index
    %i_block = arith.addi %i_yx, %i_x : index
    %i_threads = gpu.block_dim x
    %i_first = arith.muli %i_block, %i_threads : index
    %i_tid = gpu.thread_id x
    %i = arith.addi %i_first, %i_tid : index
    %live = arith.cmpi ult, %i, %count : index
    scf.if %live {
      %av = memref.load %a[%i] : memref<?xf32>
      %bv = memref.load %b[%i] : memref<?xf32>
      %s = arith.addf %av, %bv : f32
      %p = arith.mulf %s, %scale : f32
      memref.store %p, %y[%i] : memref<?xf32>
    }
    gpu.return
  }

  gpu.func @last_row(%x: memref<?xf32>, %positions: memref<?xi32>,
                     %y: memref<?xf32>, %y_positions: memref<?xi32>,
                     %run: memref<?xi32>, %width: index,
                     %rows_slot: index) kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %rows32 = memref.load %run[%rows_slot] : memref<?xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %last = arith.subi %rows, %c1 : index
    // i: the thread's index in the grid; the workgroup's index in a grid of (x, y) workgroups (y > 1 when
    // one dimension cannot hold them all), row-major
    %i_x = gpu.block_id x
    %i_y = gpu.block_id y
    %i_gx = gpu.grid_dim x
    %i_yx = arith.muli %i_y, %i_gx : index
    %i_block = arith.addi %i_yx, %i_x : index
    %i_threads = gpu.block_dim x
    %i_first = arith.muli %i_block, %i_threads : index
    %i_tid = gpu.thread_id x
    %i = arith.addi %i_first, %i_tid : index
    %live = arith.cmpi ult, %i, %width : index
    scf.if %live {
      %row = arith.muli %last, %width : index
      %xi = arith.addi %row, %i : index
      %v = memref.load %x[%xi] : memref<?xf32>
      memref.store %v, %y[%i] : memref<?xf32>
    }
    %first = arith.cmpi eq, %i, %c0 : index
    scf.if %first {
      %p = memref.load %positions[%last] : memref<?xi32>
      memref.store %p, %y_positions[%c0] : memref<?xi32>
    }
    gpu.return
  }
}
