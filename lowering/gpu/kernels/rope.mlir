// Rotary position embedding (plan.rope): one thread per feature pair of
// every head of the run's rows, so an in-place rope (output == input) is
// safe. Pair j < rotary / 2 of a head is rotated by position * inv_freq_j,
// inv_freq_j = theta^(-2j / rotary) = exp(-(2j / rotary) ln theta); pairs
// past rotary / 2 copy features rotary + 2 (j - rotary / 2) and the one
// after it unchanged. `interleaved` 1: pair j is (2j, 2j + 1); 0 (rotate
// half): (j, j + rotary / 2). Positions are read from the positions buffer.
gpu.module @kernels {
  gpu.func @rope(%x: memref<?xf32>, %positions: memref<?xi32>,
                 %y: memref<?xf32>, %run: memref<?xi32>, %width: index,
                 %head_dim: index, %rotary: index, %interleaved: index,
                 %log_theta: f32, %rows_slot: index) kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c4 = arith.constant 4 : index
    %c8 = arith.constant 8 : index
    %c8_i32 = arith.constant 8 : i32
    %c13_i32 = arith.constant 13 : i32
    %c16_i32 = arith.constant 16 : i32
    %c0xffff_i32 = arith.constant 65535 : i32
    %c0x7fff_i32 = arith.constant 32767 : i32
    %c0x8000_i32 = arith.constant 32768 : i32
    %c0x7c00_i32 = arith.constant 31744 : i32
    %c0x7f800000_i32 = arith.constant 2139095040 : i32
    %two_pow_112 = arith.constant 5.192296858534828e+33 : f32
    %zero = arith.constant 0.0 : f32
    %one = arith.constant 1.0 : f32
    %rows32 = memref.load %run[%rows_slot] : memref<?xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %pairs_per_row = arith.divui %width, %c2 : index
    %count = arith.muli %rows, %pairs_per_row : index
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
      %half_head = arith.divui %head_dim, %c2 : index
      %half_rot = arith.divui %rotary, %c2 : index
      %t = arith.divui %i, %pairs_per_row : index
      %pr = arith.remui %i, %pairs_per_row : index
      %h = arith.divui %pr, %half_head : index
      %j = arith.remui %pr, %half_head : index
      %row = arith.muli %t, %width : index
      %hd = arith.muli %h, %head_dim : index
      %base = arith.addi %row, %hd : index
      %rotated = arith.cmpi ult, %j, %half_rot : index
      scf.if %rotated {
        %is_inter = arith.cmpi ne, %interleaved, %c0 : index
        %j2 = arith.muli %j, %c2 : index
        %j2b = arith.addi %j2, %c1 : index
        %jh = arith.addi %j, %half_rot : index
        %a = arith.select %is_inter, %j2, %j : index
        %b = arith.select %is_inter, %j2b, %jh : index
        %ia = arith.addi %base, %a : index
        %ib = arith.addi %base, %b : index
        %xa = memref.load %x[%ia] : memref<?xf32>
        %xb = memref.load %x[%ib] : memref<?xf32>
        %pos32 = memref.load %positions[%t] : memref<?xi32>
        %posf = arith.sitofp %pos32 : i32 to f32
        %j2_32 = arith.index_cast %j2 : index to i32
        %j2f = arith.uitofp %j2_32 : i32 to f32
        %rot32 = arith.index_cast %rotary : index to i32
        %rotf = arith.uitofp %rot32 : i32 to f32
        %frac = arith.divf %j2f, %rotf : f32
        %expo0 = arith.mulf %frac, %log_theta : f32
        %expo = arith.negf %expo0 : f32
        %inv_freq = math.exp %expo : f32
        %angle = arith.mulf %posf, %inv_freq : f32
        %c = math.cos %angle : f32
        %s = math.sin %angle : f32
        // (xa, xb) -> (xa c - xb s, xa s + xb c)
        %xac = arith.mulf %xa, %c : f32
        %xbs = arith.mulf %xb, %s : f32
        %ya = arith.subf %xac, %xbs : f32
        %xas = arith.mulf %xa, %s : f32
        %xbc = arith.mulf %xb, %c : f32
        %yb = arith.addf %xas, %xbc : f32
        memref.store %ya, %y[%ia] : memref<?xf32>
        memref.store %yb, %y[%ib] : memref<?xf32>
      } else {
        %k = arith.subi %j, %half_rot : index
        %k2 = arith.muli %k, %c2 : index
        %a = arith.addi %rotary, %k2 : index
        %ia = arith.addi %base, %a : index
        %ib = arith.addi %ia, %c1 : index
        %xa = memref.load %x[%ia] : memref<?xf32>
        %xb = memref.load %x[%ib] : memref<?xf32>
        memref.store %xa, %y[%ia] : memref<?xf32>
        memref.store %xb, %y[%ib] : memref<?xf32>
      }
    }
    gpu.return
  }
}
