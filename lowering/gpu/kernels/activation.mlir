// Elementwise activations over the run's rows, one thread per element:
// @activation (plan.activation) y = act(x), @glu (plan.glu) y = act(gate) *
// up. `kind`: 0 silu, 1 gelu (erf), 2 gelu_tanh, 3 sigmoid, 4 relu; the
// specialized kernel keeps only its own formula.
gpu.module @kernels {
  gpu.func @activation(%x: memref<?xf32>, %y: memref<?xf32>,
                       %run: memref<?xi32>, %width: index, %kind: index,
                       %rows_slot: index) kernel {
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
      %xv = memref.load %x[%i] : memref<?xf32>
      // %a: activation %kind (0 silu, 1 gelu, 2 gelu_tanh, 3 sigmoid, 4 relu) of %xv
      %act_neg = arith.negf %xv : f32
      %act_e = math.exp %act_neg : f32
      %act_e1 = arith.addf %act_e, %one : f32
      // sigmoid(x) = 1 / (1 + exp(-x))
      %act_sigmoid = arith.divf %one, %act_e1 : f32
      %act_silu = arith.mulf %xv, %act_sigmoid : f32
      %act_pos = arith.cmpf ogt, %xv, %zero : f32
      %act_relu = arith.select %act_pos, %xv, %zero : f32
      // gelu_tanh: 0.5 x (1 + tanh z), z = sqrt(2 / pi) (x + 0.044715 x^3),
      // computed as x / (1 + exp(-2 z)) (the same value, no cancellation)
      %act_k0 = arith.constant 0.79788456080286536 : f32
      %act_k1 = arith.constant 0.044715 : f32
      %act_x2 = arith.mulf %xv, %xv : f32
      %act_x3 = arith.mulf %act_x2, %xv : f32
      %act_c3 = arith.mulf %act_k1, %act_x3 : f32
      %act_in = arith.addf %xv, %act_c3 : f32
      %act_z = arith.mulf %act_k0, %act_in : f32
      %act_2z = arith.addf %act_z, %act_z : f32
      %act_n2z = arith.negf %act_2z : f32
      %act_ez = math.exp %act_n2z : f32
      %act_ez1 = arith.addf %act_ez, %one : f32
      %act_gelu_tanh = arith.divf %xv, %act_ez1 : f32
      // gelu: 0.5 x (1 + erf(u)), u = x / sqrt 2, with erfc |u| = 1 - erf |u| by
      // Abramowitz-Stegun 7.1.26 (absolute error below 1.5e-7):
      // 1 + erf u = 2 - erfc |u| for u >= 0 and erfc |u| for u < 0
      %act_half = arith.constant 0.5 : f32
      %act_halfx = arith.mulf %xv, %act_half : f32
      %act_rsqrt2 = arith.constant 0.70710678118654752 : f32
      %act_u = arith.mulf %xv, %act_rsqrt2 : f32
      %act_au = math.absf %act_u : f32
      %act_p = arith.constant 0.3275911 : f32
      %act_pu = arith.mulf %act_p, %act_au : f32
      %act_pu1 = arith.addf %act_pu, %one : f32
      %act_t = arith.divf %one, %act_pu1 : f32
      %act_a5 = arith.constant 1.061405429 : f32
      %act_a4 = arith.constant -1.453152027 : f32
      %act_a3 = arith.constant 1.421413741 : f32
      %act_a2 = arith.constant -0.284496736 : f32
      %act_a1 = arith.constant 0.254829592 : f32
      %act_h4 = math.fma %act_a5, %act_t, %act_a4 : f32
      %act_h3 = math.fma %act_h4, %act_t, %act_a3 : f32
      %act_h2 = math.fma %act_h3, %act_t, %act_a2 : f32
      %act_h1 = math.fma %act_h2, %act_t, %act_a1 : f32
      %act_poly = arith.mulf %act_h1, %act_t : f32
      %act_u2 = arith.mulf %act_au, %act_au : f32
      %act_nu2 = arith.negf %act_u2 : f32
      %act_eu = math.exp %act_nu2 : f32
      %act_erfc = arith.mulf %act_poly, %act_eu : f32
      %act_two = arith.constant 2.0 : f32
      %act_upper = arith.subf %act_two, %act_erfc : f32
      %act_upos = arith.cmpf oge, %act_u, %zero : f32
      %act_e1p = arith.select %act_upos, %act_upper, %act_erfc : f32
      %act_gelu = arith.mulf %act_halfx, %act_e1p : f32
      %act_is0 = arith.cmpi eq, %kind, %c0 : index
      %act_is1 = arith.cmpi eq, %kind, %c1 : index
      %act_is2 = arith.cmpi eq, %kind, %c2 : index
      %act_is3 = arith.cmpi eq, %kind, %c3 : index
      %act_r3 = arith.select %act_is3, %act_sigmoid, %act_relu : f32
      %act_r2 = arith.select %act_is2, %act_gelu_tanh, %act_r3 : f32
      %act_r1 = arith.select %act_is1, %act_gelu, %act_r2 : f32
      %a = arith.select %act_is0, %act_silu, %act_r1 : f32
      memref.store %a, %y[%i] : memref<?xf32>
    }
    gpu.return
  }

  gpu.func @glu(%gate: memref<?xf32>, %up: memref<?xf32>, %y: memref<?xf32>,
                %run: memref<?xi32>, %width: index, %kind: index,
                %rows_slot: index) kernel {
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
      %gv = memref.load %gate[%i] : memref<?xf32>
      %uv = memref.load %up[%i] : memref<?xf32>
      // %a: activation %kind (0 silu, 1 gelu, 2 gelu_tanh, 3 sigmoid, 4 relu) of %gv
      %act_neg = arith.negf %gv : f32
      %act_e = math.exp %act_neg : f32
      %act_e1 = arith.addf %act_e, %one : f32
      // sigmoid(x) = 1 / (1 + exp(-x))
      %act_sigmoid = arith.divf %one, %act_e1 : f32
      %act_silu = arith.mulf %gv, %act_sigmoid : f32
      %act_pos = arith.cmpf ogt, %gv, %zero : f32
      %act_relu = arith.select %act_pos, %gv, %zero : f32
      // gelu_tanh: 0.5 x (1 + tanh z), z = sqrt(2 / pi) (x + 0.044715 x^3),
      // computed as x / (1 + exp(-2 z)) (the same value, no cancellation)
      %act_k0 = arith.constant 0.79788456080286536 : f32
      %act_k1 = arith.constant 0.044715 : f32
      %act_x2 = arith.mulf %gv, %gv : f32
      %act_x3 = arith.mulf %act_x2, %gv : f32
      %act_c3 = arith.mulf %act_k1, %act_x3 : f32
      %act_in = arith.addf %gv, %act_c3 : f32
      %act_z = arith.mulf %act_k0, %act_in : f32
      %act_2z = arith.addf %act_z, %act_z : f32
      %act_n2z = arith.negf %act_2z : f32
      %act_ez = math.exp %act_n2z : f32
      %act_ez1 = arith.addf %act_ez, %one : f32
      %act_gelu_tanh = arith.divf %gv, %act_ez1 : f32
      // gelu: 0.5 x (1 + erf(u)), u = x / sqrt 2, with erfc |u| = 1 - erf |u| by
      // Abramowitz-Stegun 7.1.26 (absolute error below 1.5e-7):
      // 1 + erf u = 2 - erfc |u| for u >= 0 and erfc |u| for u < 0
      %act_half = arith.constant 0.5 : f32
      %act_halfx = arith.mulf %gv, %act_half : f32
      %act_rsqrt2 = arith.constant 0.70710678118654752 : f32
      %act_u = arith.mulf %gv, %act_rsqrt2 : f32
      %act_au = math.absf %act_u : f32
      %act_p = arith.constant 0.3275911 : f32
      %act_pu = arith.mulf %act_p, %act_au : f32
      %act_pu1 = arith.addf %act_pu, %one : f32
      %act_t = arith.divf %one, %act_pu1 : f32
      %act_a5 = arith.constant 1.061405429 : f32
      %act_a4 = arith.constant -1.453152027 : f32
      %act_a3 = arith.constant 1.421413741 : f32
      %act_a2 = arith.constant -0.284496736 : f32
      %act_a1 = arith.constant 0.254829592 : f32
      %act_h4 = math.fma %act_a5, %act_t, %act_a4 : f32
      %act_h3 = math.fma %act_h4, %act_t, %act_a3 : f32
      %act_h2 = math.fma %act_h3, %act_t, %act_a2 : f32
      %act_h1 = math.fma %act_h2, %act_t, %act_a1 : f32
      %act_poly = arith.mulf %act_h1, %act_t : f32
      %act_u2 = arith.mulf %act_au, %act_au : f32
      %act_nu2 = arith.negf %act_u2 : f32
      %act_eu = math.exp %act_nu2 : f32
      %act_erfc = arith.mulf %act_poly, %act_eu : f32
      %act_two = arith.constant 2.0 : f32
      %act_upper = arith.subf %act_two, %act_erfc : f32
      %act_upos = arith.cmpf oge, %act_u, %zero : f32
      %act_e1p = arith.select %act_upos, %act_upper, %act_erfc : f32
      %act_gelu = arith.mulf %act_halfx, %act_e1p : f32
      %act_is0 = arith.cmpi eq, %kind, %c0 : index
      %act_is1 = arith.cmpi eq, %kind, %c1 : index
      %act_is2 = arith.cmpi eq, %kind, %c2 : index
      %act_is3 = arith.cmpi eq, %kind, %c3 : index
      %act_r3 = arith.select %act_is3, %act_sigmoid, %act_relu : f32
      %act_r2 = arith.select %act_is2, %act_gelu_tanh, %act_r3 : f32
      %act_r1 = arith.select %act_is1, %act_gelu, %act_r2 : f32
      %a = arith.select %act_is0, %act_silu, %act_r1 : f32
      %p = arith.mulf %a, %uv : f32
      memref.store %p, %y[%i] : memref<?xf32>
    }
    gpu.return
  }
}
