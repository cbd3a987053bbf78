// Token embedding gather (plan.embedding): out[t][c] = table[tokens[t]][c]
// * scale, one thread per output element of the run's rows; an id outside
// [0, vocab) gives a zero row (the runtime checks ids before a run).
// - @embedding: a dense table read as i32 words, `dtype` 0 f32, 1 f16,
//   2 bf16.
// - @embedding_packed: the row_major layout of lowering/quant/QuantMath.h
//   (`bits`, `affine`, `bf16_scales`, `group`, `groups`, `row_bytes`,
//   scales and minimums at byte offsets `scales_at` and `mins_at`).
gpu.module @kernels {
  gpu.func @embedding(%table: memref<?xi32>, %tokens: memref<?xi32>,
                      %out: memref<?xf32>, %run: memref<?xi32>,
                      %width: index, %vocab: index, %dtype: index,
                      %scale: f32, %rows_slot: index) kernel {
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
      %t = arith.divui %i, %width : index
      %c = arith.remui %i, %width : index
      %id32 = memref.load %tokens[%t] : memref<?xi32>
      %vocab32 = arith.index_cast %vocab : index to i32
      %c0_i32 = arith.constant 0 : i32
      %nonneg = arith.cmpi sge, %id32, %c0_i32 : i32
      %below = arith.cmpi slt, %id32, %vocab32 : i32
      %valid = arith.andi %nonneg, %below : i1
      %v = scf.if %valid -> (f32) {
        %id = arith.index_cast %id32 : i32 to index
        %base = arith.muli %id, %width : index
        %e = arith.addi %base, %c : index
        %is_f32 = arith.cmpi eq, %dtype, %c0 : index
        %r = scf.if %is_f32 -> (f32) {
          %wi = memref.load %table[%e] : memref<?xi32>
          %wf = arith.bitcast %wi : i32 to f32
          scf.yield %wf : f32
        } else {
          %wi = arith.divui %e, %c2 : index
          %word = memref.load %table[%wi] : memref<?xi32>
          %odd = arith.remui %e, %c2 : index
          %odd32 = arith.index_cast %odd : index to i32
          %sh = arith.muli %odd32, %c16_i32 : i32
          %hs = arith.shrui %word, %sh : i32
          %h = arith.andi %hs, %c0xffff_i32 : i32
          %is_bf16 = arith.cmpi eq, %dtype, %c2 : index
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
        %scaled = arith.mulf %r, %scale : f32
        scf.yield %scaled : f32
      } else {
        scf.yield %zero : f32
      }
      memref.store %v, %out[%i] : memref<?xf32>
    }
    gpu.return
  }

  gpu.func @embedding_packed(%table: memref<?xi32>, %tokens: memref<?xi32>,
                             %out: memref<?xf32>, %run: memref<?xi32>,
                             %width: index, %vocab: index, %bits: index,
                             %affine: index, %bf16_scales: index,
                             %group: index, %groups: index,
                             %row_bytes: index, %scales_at: index,
                             %mins_at: index, %scale: f32,
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
    %c1_i32 = arith.constant 1 : i32
    %half = arith.constant 0.5 : f32
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
      %t = arith.divui %i, %width : index
      %c = arith.remui %i, %width : index
      %id32 = memref.load %tokens[%t] : memref<?xi32>
      %vocab32 = arith.index_cast %vocab : index to i32
      %c0_i32 = arith.constant 0 : i32
      %nonneg = arith.cmpi sge, %id32, %c0_i32 : i32
      %below = arith.cmpi slt, %id32, %vocab32 : i32
      %valid = arith.andi %nonneg, %below : i1
      %v = scf.if %valid -> (f32) {
        %id = arith.index_cast %id32 : i32 to index
        %is_bf16 = arith.cmpi ne, %bf16_scales, %c0 : index
        %is_affine = arith.cmpi ne, %affine, %c0 : index
        // The code: element c of row id, at bit (c * bits) % 8 of byte
        // id * row_bytes + c * bits / 8.
        %row_at = arith.muli %id, %row_bytes : index
        %bit = arith.muli %c, %bits : index
        %byte_in_row = arith.divui %bit, %c8 : index
        %bit_in_byte = arith.remui %bit, %c8 : index
        %byte = arith.addi %row_at, %byte_in_row : index
        %wi = arith.divui %byte, %c4 : index
        %byte_in_word = arith.remui %byte, %c4 : index
        %shb = arith.muli %byte_in_word, %c8 : index
        %sh = arith.addi %shb, %bit_in_byte : index
        %sh32 = arith.index_cast %sh : index to i32
        %word = memref.load %table[%wi] : memref<?xi32>
        %shifted = arith.shrui %word, %sh32 : i32
        %bits32 = arith.index_cast %bits : index to i32
        %levels = arith.shli %c1_i32, %bits32 : i32
        %mask = arith.subi %levels, %c1_i32 : i32
        %q = arith.andi %shifted, %mask : i32
        %qf = arith.uitofp %q : i32 to f32
        // Its group's scale and minimum.
        %g = arith.divui %c, %group : index
        %row_groups = arith.muli %id, %groups : index
        %gi = arith.addi %row_groups, %g : index
        %gb = arith.muli %gi, %c2 : index
        %sb = arith.addi %scales_at, %gb : index
        // sbits: the 16 bits at byte sb of table (any alignment)
        %sbits_word = arith.divui %sb, %c4 : index
        %sbits_inword = arith.remui %sb, %c4 : index
        %sbits_inword32 = arith.index_cast %sbits_inword : index to i32
        %sbits_shift = arith.muli %sbits_inword32, %c8_i32 : i32
        %sbits_lo = memref.load %table[%sbits_word] : memref<?xi32>
        %sbits_low = arith.shrui %sbits_lo, %sbits_shift : i32
        %sbits_straddles = arith.cmpi eq, %sbits_inword, %c3 : index
        %sbits_bits = scf.if %sbits_straddles -> (i32) {
          %sbits_next = arith.addi %sbits_word, %c1 : index
          %sbits_hi = memref.load %table[%sbits_next] : memref<?xi32>
          %sbits_high = arith.shli %sbits_hi, %c8_i32 : i32
          %sbits_both = arith.ori %sbits_low, %sbits_high : i32
          scf.yield %sbits_both : i32
        } else {
          scf.yield %sbits_low : i32
        }
        %sbits = arith.andi %sbits_bits, %c0xffff_i32 : i32
        // s: the f32 value of the f16 or bf16 bits in the low half of sbits
        %s_bfb = arith.shli %sbits, %c16_i32 : i32
        %s_bf = arith.bitcast %s_bfb : i32 to f32
        %s_mag = arith.andi %sbits, %c0x7fff_i32 : i32
        %s_em = arith.shli %s_mag, %c13_i32 : i32
        %s_emf = arith.bitcast %s_em : i32 to f32
        %s_scaled = arith.mulf %s_emf, %two_pow_112 : f32
        %s_scaledb = arith.bitcast %s_scaled : f32 to i32
        %s_expo = arith.andi %sbits, %c0x7c00_i32 : i32
        %s_special = arith.cmpi eq, %s_expo, %c0x7c00_i32 : i32
        %s_infnan = arith.ori %s_em, %c0x7f800000_i32 : i32
        %s_absb = arith.select %s_special, %s_infnan, %s_scaledb : i32
        %s_sign16 = arith.andi %sbits, %c0x8000_i32 : i32
        %s_sign = arith.shli %s_sign16, %c16_i32 : i32
        %s_hb = arith.ori %s_absb, %s_sign : i32
        %s_hf = arith.bitcast %s_hb : i32 to f32
        %s = arith.select %is_bf16, %s_bf, %s_hf : f32
        %r = scf.if %is_affine -> (f32) {
          %mb = arith.addi %mins_at, %gb : index
          // mbits: the 16 bits at byte mb of table (any alignment)
          %mbits_word = arith.divui %mb, %c4 : index
          %mbits_inword = arith.remui %mb, %c4 : index
          %mbits_inword32 = arith.index_cast %mbits_inword : index to i32
          %mbits_shift = arith.muli %mbits_inword32, %c8_i32 : i32
          %mbits_lo = memref.load %table[%mbits_word] : memref<?xi32>
          %mbits_low = arith.shrui %mbits_lo, %mbits_shift : i32
          %mbits_straddles = arith.cmpi eq, %mbits_inword, %c3 : index
          %mbits_bits = scf.if %mbits_straddles -> (i32) {
            %mbits_next = arith.addi %mbits_word, %c1 : index
            %mbits_hi = memref.load %table[%mbits_next] : memref<?xi32>
            %mbits_high = arith.shli %mbits_hi, %c8_i32 : i32
            %mbits_both = arith.ori %mbits_low, %mbits_high : i32
            scf.yield %mbits_both : i32
          } else {
            scf.yield %mbits_low : i32
          }
          %mbits = arith.andi %mbits_bits, %c0xffff_i32 : i32
          // m: the f32 value of the f16 or bf16 bits in the low half of mbits
          %m_bfb = arith.shli %mbits, %c16_i32 : i32
          %m_bf = arith.bitcast %m_bfb : i32 to f32
          %m_mag = arith.andi %mbits, %c0x7fff_i32 : i32
          %m_em = arith.shli %m_mag, %c13_i32 : i32
          %m_emf = arith.bitcast %m_em : i32 to f32
          %m_scaled = arith.mulf %m_emf, %two_pow_112 : f32
          %m_scaledb = arith.bitcast %m_scaled : f32 to i32
          %m_expo = arith.andi %mbits, %c0x7c00_i32 : i32
          %m_special = arith.cmpi eq, %m_expo, %c0x7c00_i32 : i32
          %m_infnan = arith.ori %m_em, %c0x7f800000_i32 : i32
          %m_absb = arith.select %m_special, %m_infnan, %m_scaledb : i32
          %m_sign16 = arith.andi %mbits, %c0x8000_i32 : i32
          %m_sign = arith.shli %m_sign16, %c16_i32 : i32
          %m_hb = arith.ori %m_absb, %m_sign : i32
          %m_hf = arith.bitcast %m_hb : i32 to f32
          %m = arith.select %is_bf16, %m_bf, %m_hf : f32
          // w = s q + m
          %sq = arith.mulf %s, %qf : f32
          %wv = arith.addf %sq, %m : f32
          scf.yield %wv : f32
        } else {
          // w = s (q - (2^bits - 1) / 2)
          %maskf = arith.uitofp %mask : i32 to f32
          %offset = arith.mulf %maskf, %half : f32
          %qc = arith.subf %qf, %offset : f32
          %wv = arith.mulf %s, %qc : f32
          scf.yield %wv : f32
        }
        %scaled = arith.mulf %r, %scale : f32
        scf.yield %scaled : f32
      } else {
        scf.yield %zero : f32
      }
      memref.store %v, %out[%i] : memref<?xf32>
    }
    gpu.return
  }
}
