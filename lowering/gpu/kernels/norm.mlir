// Normalizations, one workgroup per row (per row and group for RMSNorm):
// threads stride over the features, sums go through gpu.subgroup_reduce and
// one workgroup slot per subgroup. Workgroups past the run's rows do
// nothing (the whole workgroup, so barriers stay uniform).
// - @rms_norm (plan.rms_norm): y = x / sqrt(mean(x^2) + eps) *
//   (w[i] + weight_offset) over each group of `group` features, i the index
//   in the group; `wdtype` 0 f32, 1 f16, 2 bf16, 3 no weight (scale 1).
// - @layer_norm (plan.layer_norm): y = (x - mean) / sqrt(var + eps) * w + b,
//   `wdtype` / `bdtype` as above (3: none).
// Weights are read as i32 words (two 16-bit elements each).
gpu.module @kernels {
  gpu.func @rms_norm(%x: memref<?xf32>, %w: memref<?xi32>, %y: memref<?xf32>,
                     %run: memref<?xi32>, %width: index, %group: index,
                     %wdtype: index, %eps: f32, %weight_offset: f32,
                     %rows_slot: index)
      workgroup(%partial: memref<256xf32, #gpu.address_space<workgroup>>)
      kernel {
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
    %groups = arith.divui %width, %group : index
    // block: the workgroup's index in a grid of (x, y) workgroups (y > 1 when
    // one dimension cannot hold them all), row-major
    %block_x = gpu.block_id x
    %block_y = gpu.block_id y
    %block_gx = gpu.grid_dim x
    %block_yx = arith.muli %block_y, %block_gx : index
    %block = arith.addi %block_yx, %block_x : index
    %t = arith.divui %block, %groups : index
    %g = arith.remui %block, %groups : index
    %live = arith.cmpi ult, %t, %rows : index
    scf.if %live {
      %tid = gpu.thread_id x
      %threads = gpu.block_dim x
      %sg = gpu.subgroup_size : index
      %sg_lane = arith.remui %tid, %sg : index
      %sg_index = arith.divui %tid, %sg : index
      %subgroups = arith.divui %threads, %sg : index
      %row = arith.muli %t, %width : index
      %gstart = arith.muli %g, %group : index
      %base = arith.addi %row, %gstart : index
      %iters0 = arith.addi %group, %threads : index
      %iters1 = arith.subi %iters0, %c1 : index
      %iters = arith.divui %iters1, %threads : index
      %ss = scf.for %j = %c0 to %iters step %c1 iter_args(%a = %zero) -> (f32) {
        %jb = arith.muli %j, %threads : index
        %i = arith.addi %jb, %tid : index
        %in = arith.cmpi ult, %i, %group : index
        %sq = scf.if %in -> (f32) {
          %xi = arith.addi %base, %i : index
          %xv = memref.load %x[%xi] : memref<?xf32>
          %p = arith.mulf %xv, %xv : f32
          scf.yield %p : f32
        } else {
          scf.yield %zero : f32
        }
        %a2 = arith.addf %a, %sq : f32
        scf.yield %a2 : f32
      }
      %sum = gpu.subgroup_reduce add %ss : (f32) -> f32
      %leader = arith.cmpi eq, %sg_lane, %c0 : index
      scf.if %leader {
        memref.store %sum, %partial[%sg_index] : memref<256xf32, #gpu.address_space<workgroup>>
      }
      gpu.barrier
      %total = scf.for %q = %c0 to %subgroups step %c1 iter_args(%s = %zero) -> (f32) {
        %v = memref.load %partial[%q] : memref<256xf32, #gpu.address_space<workgroup>>
        %s2 = arith.addf %s, %v : f32
        scf.yield %s2 : f32
      }
      %groupf0 = arith.index_cast %group : index to i32
      %groupf = arith.uitofp %groupf0 : i32 to f32
      %mean = arith.divf %total, %groupf : f32
      %var = arith.addf %mean, %eps : f32
      %root = math.sqrt %var : f32
      %inv = arith.divf %one, %root : f32
      %has_w = arith.cmpi ne, %wdtype, %c3 : index
      %is_bf16 = arith.cmpi eq, %wdtype, %c2 : index
      %is_f32 = arith.cmpi eq, %wdtype, %c0 : index
      scf.for %j = %c0 to %iters step %c1 {
        %jb = arith.muli %j, %threads : index
        %i = arith.addi %jb, %tid : index
        %in = arith.cmpi ult, %i, %group : index
        scf.if %in {
          %xi = arith.addi %base, %i : index
          %xv = memref.load %x[%xi] : memref<?xf32>
          %n = arith.mulf %xv, %inv : f32
          %wv = scf.if %has_w -> (f32) {
            %r = scf.if %is_f32 -> (f32) {
              %wi = memref.load %w[%i] : memref<?xi32>
              %wf = arith.bitcast %wi : i32 to f32
              scf.yield %wf : f32
            } else {
              %wi = arith.divui %i, %c2 : index
              %word = memref.load %w[%wi] : memref<?xi32>
              %odd = arith.remui %i, %c2 : index
              %odd32 = arith.index_cast %odd : index to i32
              %sh = arith.muli %odd32, %c16_i32 : i32
              %hs = arith.shrui %word, %sh : i32
              %h = arith.andi %hs, %c0xffff_i32 : i32
              // wf: the f32 value of the f16 or bf16 bits in the low half of h
              %wf_bfb = arith.shli %h, %c16_i32 : i32
              %wf_bf = arith.bitcast %wf_bfb : i32 to f32
              %wf_mag = arith.andi %h, %c0x7fff_i32 : i32
              %wf_em = arith.shli %wf_mag, %c13_i32 : i32
              %wf_emf = arith.bitcast %wf_em : i32 to f32
              %wf_scaled = arith.mulf %wf_emf, %two_pow_112 : f32
              %wf_scaledb = arith.bitcast %wf_scaled : f32 to i32
              %wf_expo = arith.andi %h, %c0x7c00_i32 : i32
              %wf_special = arith.cmpi eq, %wf_expo, %c0x7c00_i32 : i32
              %wf_infnan = arith.ori %wf_em, %c0x7f800000_i32 : i32
              %wf_absb = arith.select %wf_special, %wf_infnan, %wf_scaledb : i32
              %wf_sign16 = arith.andi %h, %c0x8000_i32 : i32
              %wf_sign = arith.shli %wf_sign16, %c16_i32 : i32
              %wf_hb = arith.ori %wf_absb, %wf_sign : i32
              %wf_hf = arith.bitcast %wf_hb : i32 to f32
              %wf = arith.select %is_bf16, %wf_bf, %wf_hf : f32
              scf.yield %wf : f32
            }
            %ro = arith.addf %r, %weight_offset : f32
            scf.yield %ro : f32
          } else {
            scf.yield %one : f32
          }
          %yv = arith.mulf %n, %wv : f32
          memref.store %yv, %y[%xi] : memref<?xf32>
        }
      }
    }
    gpu.return
  }

  gpu.func @layer_norm(%x: memref<?xf32>, %w: memref<?xi32>, %b: memref<?xi32>,
                       %y: memref<?xf32>, %run: memref<?xi32>, %width: index,
                       %wdtype: index, %bdtype: index, %eps: f32,
                       %rows_slot: index)
      workgroup(%partial: memref<256xf32, #gpu.address_space<workgroup>>)
      kernel {
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
    // t: the workgroup's index in a grid of (x, y) workgroups (y > 1 when
    // one dimension cannot hold them all), row-major
    %t_x = gpu.block_id x
    %t_y = gpu.block_id y
    %t_gx = gpu.grid_dim x
    %t_yx = arith.muli %t_y, %t_gx : index
    %t = arith.addi %t_yx, %t_x : index
    %live = arith.cmpi ult, %t, %rows : index
    scf.if %live {
      %tid = gpu.thread_id x
      %threads = gpu.block_dim x
      %sg = gpu.subgroup_size : index
      %sg_lane = arith.remui %tid, %sg : index
      %sg_index = arith.divui %tid, %sg : index
      %subgroups = arith.divui %threads, %sg : index
      %leader = arith.cmpi eq, %sg_lane, %c0 : index
      %base = arith.muli %t, %width : index
      %iters0 = arith.addi %width, %threads : index
      %iters1 = arith.subi %iters0, %c1 : index
      %iters = arith.divui %iters1, %threads : index
      %width32 = arith.index_cast %width : index to i32
      %widthf = arith.uitofp %width32 : i32 to f32
      // The mean.
      %s1 = scf.for %j = %c0 to %iters step %c1 iter_args(%a = %zero) -> (f32) {
        %jb = arith.muli %j, %threads : index
        %i = arith.addi %jb, %tid : index
        %in = arith.cmpi ult, %i, %width : index
        %v = scf.if %in -> (f32) {
          %xi = arith.addi %base, %i : index
          %xv = memref.load %x[%xi] : memref<?xf32>
          scf.yield %xv : f32
        } else {
          scf.yield %zero : f32
        }
        %a2 = arith.addf %a, %v : f32
        scf.yield %a2 : f32
      }
      %sum1 = gpu.subgroup_reduce add %s1 : (f32) -> f32
      scf.if %leader {
        memref.store %sum1, %partial[%sg_index] : memref<256xf32, #gpu.address_space<workgroup>>
      }
      gpu.barrier
      %total1 = scf.for %q = %c0 to %subgroups step %c1 iter_args(%s = %zero) -> (f32) {
        %v = memref.load %partial[%q] : memref<256xf32, #gpu.address_space<workgroup>>
        %s2 = arith.addf %s, %v : f32
        scf.yield %s2 : f32
      }
      %mean = arith.divf %total1, %widthf : f32
      gpu.barrier
      // The variance.
      %s2 = scf.for %j = %c0 to %iters step %c1 iter_args(%a = %zero) -> (f32) {
        %jb = arith.muli %j, %threads : index
        %i = arith.addi %jb, %tid : index
        %in = arith.cmpi ult, %i, %width : index
        %v = scf.if %in -> (f32) {
          %xi = arith.addi %base, %i : index
          %xv = memref.load %x[%xi] : memref<?xf32>
          %d = arith.subf %xv, %mean : f32
          %d2 = arith.mulf %d, %d : f32
          scf.yield %d2 : f32
        } else {
          scf.yield %zero : f32
        }
        %a2 = arith.addf %a, %v : f32
        scf.yield %a2 : f32
      }
      %sum2 = gpu.subgroup_reduce add %s2 : (f32) -> f32
      scf.if %leader {
        memref.store %sum2, %partial[%sg_index] : memref<256xf32, #gpu.address_space<workgroup>>
      }
      gpu.barrier
      %total2 = scf.for %q = %c0 to %subgroups step %c1 iter_args(%s = %zero) -> (f32) {
        %v = memref.load %partial[%q] : memref<256xf32, #gpu.address_space<workgroup>>
        %s3 = arith.addf %s, %v : f32
        scf.yield %s3 : f32
      }
      %var0 = arith.divf %total2, %widthf : f32
      %var = arith.addf %var0, %eps : f32
      %root = math.sqrt %var : f32
      %inv = arith.divf %one, %root : f32
      %has_w = arith.cmpi ne, %wdtype, %c3 : index
      %w_f32 = arith.cmpi eq, %wdtype, %c0 : index
      %w_bf16 = arith.cmpi eq, %wdtype, %c2 : index
      %has_b = arith.cmpi ne, %bdtype, %c3 : index
      %b_f32 = arith.cmpi eq, %bdtype, %c0 : index
      %b_bf16 = arith.cmpi eq, %bdtype, %c2 : index
      scf.for %j = %c0 to %iters step %c1 {
        %jb = arith.muli %j, %threads : index
        %i = arith.addi %jb, %tid : index
        %in = arith.cmpi ult, %i, %width : index
        scf.if %in {
          %xi = arith.addi %base, %i : index
          %xv = memref.load %x[%xi] : memref<?xf32>
          %d = arith.subf %xv, %mean : f32
          %n = arith.mulf %d, %inv : f32
          %odd = arith.remui %i, %c2 : index
          %odd32 = arith.index_cast %odd : index to i32
          %sh = arith.muli %odd32, %c16_i32 : i32
          %hi = arith.divui %i, %c2 : index
          %wv = scf.if %has_w -> (f32) {
            %r = scf.if %w_f32 -> (f32) {
              %wi = memref.load %w[%i] : memref<?xi32>
              %wf = arith.bitcast %wi : i32 to f32
              scf.yield %wf : f32
            } else {
              %word = memref.load %w[%hi] : memref<?xi32>
              %hs = arith.shrui %word, %sh : i32
              %h = arith.andi %hs, %c0xffff_i32 : i32
              // wf: the f32 value of the f16 or bf16 bits in the low half of h
              %wf_bfb = arith.shli %h, %c16_i32 : i32
              %wf_bf = arith.bitcast %wf_bfb : i32 to f32
              %wf_mag = arith.andi %h, %c0x7fff_i32 : i32
              %wf_em = arith.shli %wf_mag, %c13_i32 : i32
              %wf_emf = arith.bitcast %wf_em : i32 to f32
              %wf_scaled = arith.mulf %wf_emf, %two_pow_112 : f32
              %wf_scaledb = arith.bitcast %wf_scaled : f32 to i32
              %wf_expo = arith.andi %h, %c0x7c00_i32 : i32
              %wf_special = arith.cmpi eq, %wf_expo, %c0x7c00_i32 : i32
              %wf_infnan = arith.ori %wf_em, %c0x7f800000_i32 : i32
              %wf_absb = arith.select %wf_special, %wf_infnan, %wf_scaledb : i32
              %wf_sign16 = arith.andi %h, %c0x8000_i32 : i32
              %wf_sign = arith.shli %wf_sign16, %c16_i32 : i32
              %wf_hb = arith.ori %wf_absb, %wf_sign : i32
              %wf_hf = arith.bitcast %wf_hb : i32 to f32
              %wf = arith.select %w_bf16, %wf_bf, %wf_hf : f32
              scf.yield %wf : f32
            }
            scf.yield %r : f32
          } else {
            scf.yield %one : f32
          }
          %bv = scf.if %has_b -> (f32) {
            %r = scf.if %b_f32 -> (f32) {
              %bi = memref.load %b[%i] : memref<?xi32>
              %bf = arith.bitcast %bi : i32 to f32
              scf.yield %bf : f32
            } else {
              %word = memref.load %b[%hi] : memref<?xi32>
              %hs = arith.shrui %word, %sh : i32
              %h = arith.andi %hs, %c0xffff_i32 : i32
              // bf: the f32 value of the f16 or bf16 bits in the low half of h
              %bf_bfb = arith.shli %h, %c16_i32 : i32
              %bf_bf = arith.bitcast %bf_bfb : i32 to f32
              %bf_mag = arith.andi %h, %c0x7fff_i32 : i32
              %bf_em = arith.shli %bf_mag, %c13_i32 : i32
              %bf_emf = arith.bitcast %bf_em : i32 to f32
              %bf_scaled = arith.mulf %bf_emf, %two_pow_112 : f32
              %bf_scaledb = arith.bitcast %bf_scaled : f32 to i32
              %bf_expo = arith.andi %h, %c0x7c00_i32 : i32
              %bf_special = arith.cmpi eq, %bf_expo, %c0x7c00_i32 : i32
              %bf_infnan = arith.ori %bf_em, %c0x7f800000_i32 : i32
              %bf_absb = arith.select %bf_special, %bf_infnan, %bf_scaledb : i32
              %bf_sign16 = arith.andi %h, %c0x8000_i32 : i32
              %bf_sign = arith.shli %bf_sign16, %c16_i32 : i32
              %bf_hb = arith.ori %bf_absb, %bf_sign : i32
              %bf_hf = arith.bitcast %bf_hb : i32 to f32
              %bf = arith.select %b_bf16, %bf_bf, %bf_hf : f32
              scf.yield %bf : f32
            }
            scf.yield %r : f32
          } else {
            scf.yield %zero : f32
          }
          %scaled = arith.mulf %n, %wv : f32
          %yv = arith.addf %scaled, %bv : f32
          memref.store %yv, %y[%xi] : memref<?xf32>
        }
      }
    }
    gpu.return
  }
}
