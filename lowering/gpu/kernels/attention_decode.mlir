// Flash-decoding attention (plan.attention in a program of one row, as
// lowering/gpu/families/AttentionDecode.cpp dispatches it): the step's
// query row at position p attends to the cached positions [lo, p], which
// every writer has appended first (kv_append in attention.mlir). The cache
// is GpuCacheLayout's (families/AttentionCache.h), slot-major: slot x is the
// `slot_words` 32-bit words at x * slot_words, holding the keys of its
// kv_heads heads (`row_words` words each), their values from `values_base`,
// then for int8 the f32 scales of the keys (from `key_scales`) and of the
// values (from `value_scales`), one per head. A cache of fewer positions (a
// shorter context) is the first slots: the slots past the step's position
// hold no visible position and are never read. Element kinds (`elem`):
// 0 f32, 1 f16, 2 int8, 3 bf16.
//
// Slots, not positions, are split: workgroup (x, s) of grid (kv_heads *
// blocks, splits) reads the slots [s * split_len, (s + 1) * split_len) of KV
// head x / blocks for `block` query heads (the whole GQA group unless it
// does not fit the workgroup memory). Slot x holds a visible position iff
// (x - lo) mod capacity < p - lo + 1: for a linear cache slot = position,
// for a ring slot = position mod capacity, and the visible positions are at
// most `capacity` consecutive ones, so both are the same cyclic interval.
//
// Workgroup memory is one pool of 16-byte units, 2048 of them (32 KB), cut
// into regions by the specialization constants (the lowering checks that
// they fit). Query heads ride the four lanes of a unit ("head quads", `nq`
// of them), so one unit load feeds four heads:
//   q    [dpad][nq]         the block's query rows, feature-major
//   acc  [nq][dpad]         unnormalized outputs
//   kt   [tile][hd4 | 1]    the tile's keys, 4 features a unit, decoded to
//                           f32 (odd row stride: no bank conflicts)
//   vt   [tile][hd4]        the tile's values
//   sp   [parts][nq][tile]  partial scores over 1/parts of the features
//   pr   [tile][nq]         scores, then probabilities
//   m, l, corr [nq]         running max, running sum, this tile's rescale
// with hd4 = ceil(head_dim / 4), dpad = 4 * hd4.
//
// Partials (more than one split) are f32 in the program's scratch:
//   [heads][splits][head_dim]  unnormalized output accumulators
//   [heads][splits]            running max (-inf: the split saw nothing)
//   [heads][splits]            running sum
gpu.module @kernels {
  // One split of one KV head: each tile of `tile` slots is read once
  // (coalesced 32-bit loads, decoded once) and serves every query head of
  // the block. Per tile: load, partial scores, scores, online softmax per
  // head quad, probabilities times values; 5 barriers. A split holding no
  // visible position writes its empty partial and returns; invisible tiles
  // are skipped. With one split the outputs are written directly.
  gpu.func @attention_decode_split(
      %q: memref<?xf32>, %k: memref<?xf32>, %v: memref<?xf32>,
      %positions: memref<?xi32>, %cache: memref<?xi32>, %out: memref<?xf32>,
      %partials: memref<?xf32>, %run: memref<?xi32>,
      %heads: index, %kv_heads: index, %head_dim: index, %block: index,
      %capacity: index, %own_row: index, %kind: index, %window: index,
      %scale: f32,
      %softcap: f32, %elem: index, %values_base: index, %key_scales: index,
      %value_scales: index, %row_words: index, %slot_words: index,
      %splits: index,
      %split_len: index, %tile: index, %parts: index, %rows_slot: index,
      %wg: index)
      workgroup(%pool: memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>)
      kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c4 = arith.constant 4 : index
    %f0 = arith.constant 0.0 : f32
    %ninf = arith.constant 0xFF800000 : f32
    %zero4 = arith.constant dense<0.0> : vector<4xf32>
    %ninf4 = arith.constant dense<0xFF800000> : vector<4xf32>
    %lanes = arith.constant dense<[0, 1, 2, 3]> : vector<4xi32>
    %bx = gpu.block_id x
    %s = gpu.block_id y
    %tid = gpu.thread_id x
    %rows32 = memref.load %run[%rows_slot] : memref<?xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %has_row = arith.cmpi ugt, %rows, %c0 : index
    scf.if %has_row {
      %group = arith.divui %heads, %kv_heads : index
      %blocks = arith.divui %group, %block : index
      %g = arith.divui %bx, %blocks : index
      %blk = arith.remui %bx, %blocks : index
      // KV head g's row within a slot's keys or values.
      %g_row = arith.muli %g, %row_words : index
      %h0a = arith.muli %g, %group : index
      %h0b = arith.muli %blk, %block : index
      %h0 = arith.addi %h0a, %h0b : index
      %block3 = arith.addi %block, %c3 : index
      %nq = arith.divui %block3, %c4 : index
      %hd3 = arith.addi %head_dim, %c3 : index
      %hd4 = arith.divui %hd3, %c4 : index
      %hd4s = arith.ori %hd4, %c1 : index
      %dpad = arith.muli %hd4, %c4 : index
      %multi = arith.cmpi ugt, %splits, %c1 : index
      // Partials: accumulators, then maxima, then sums.
      %hs = arith.muli %heads, %splits : index
      %max_at = arith.muli %hs, %head_dim : index
      %sum_at = arith.addi %max_at, %hs : index
      // Pool regions.
      %qn = arith.muli %dpad, %nq : index
      %acc_at = arith.addi %qn, %c0 : index
      %kt_at = arith.addi %acc_at, %qn : index
      %kt_n = arith.muli %tile, %hd4s : index
      %vt_at = arith.addi %kt_at, %kt_n : index
      %vt_n = arith.muli %tile, %hd4 : index
      %sp_at = arith.addi %vt_at, %vt_n : index
      %pr_n = arith.muli %tile, %nq : index
      %sp_n = arith.muli %parts, %pr_n : index
      %pr_at = arith.addi %sp_at, %sp_n : index
      %m_at = arith.addi %pr_at, %pr_n : index
      %l_at = arith.addi %m_at, %nq : index
      %corr_at = arith.addi %l_at, %nq : index

      // The visible positions [lo, p] (with one row, hi = p causal or not),
      // as slots: the cyclic interval of n slots from lo mod capacity.
      %p32 = memref.load %positions[%c0] : memref<?xi32>
      %p = arith.index_cast %p32 : i32 to index
      %p1 = arith.addi %p, %c1 : index
      %wlo = arith.subi %p1, %window : index
      %local_lo = arith.maxsi %wlo, %c0 : index
      %chunk = arith.divui %p, %window : index
      %chunk_lo = arith.muli %chunk, %window : index
      %is_local = arith.cmpi eq, %kind, %c1 : index
      %is_chunked = arith.cmpi eq, %kind, %c2 : index
      %lo_a = arith.select %is_chunked, %chunk_lo, %c0 : index
      %lo_b = arith.select %is_local, %local_lo, %lo_a : index
      // What a cache of `capacity` slots still holds (a no-op for a linear
      // cache, whose positions stay below its capacity).
      %held_lo = arith.subi %p1, %capacity : index
      %lo = arith.maxsi %lo_b, %held_lo : index
      %n0 = arith.subi %p1, %lo : index
      %n = arith.minsi %n0, %capacity : index
      %start = arith.remui %lo, %capacity : index
      %p_slot = arith.remui %p, %capacity : index
      %own_row_on = arith.cmpi ne, %own_row, %c0 : index
      %cap_start = arith.subi %capacity, %start : index

      // Slots [first, end) of this split.
      %first = arith.muli %s, %split_len : index
      %past = arith.addi %first, %split_len : index
      %end = arith.minui %past, %capacity : index
      %first_rel0 = arith.addi %first, %cap_start : index
      %first_rel = arith.remui %first_rel0, %capacity : index
      %first_seen = arith.cmpi ult, %first_rel, %n : index
      %start_after = arith.cmpi uge, %start, %first : index
      %start_before = arith.cmpi ult, %start, %end : index
      %start_inside = arith.andi %start_after, %start_before : i1
      %any = arith.ori %first_seen, %start_inside : i1
      %nonempty = arith.cmpi ult, %first, %end : index
      %split_seen = arith.andi %nonempty, %any : i1
      scf.if %split_seen {
        // The block's query rows: unit (d, quad) holds feature d of heads
        // 4 quad .. 4 quad + 3 (zero past the block or head_dim).
        %last_head = arith.subi %heads, %c1 : index
        %last_d = arith.subi %head_dim, %c1 : index
        %block32 = arith.index_cast %block : index to i32
        %blockv = vector.broadcast %block32 : i32 to vector<4xi32>
        scf.for %i = %tid to %qn step %wg {
          %d = arith.divui %i, %nq : index
          %hq = arith.remui %i, %nq : index
          %hq4 = arith.muli %hq, %c4 : index
          %hb = arith.addi %h0, %hq4 : index
          %dc = arith.minui %d, %last_d : index
          %ha1 = arith.addi %hb, %c1 : index
          %ha2 = arith.addi %hb, %c2 : index
          %ha3 = arith.addi %hb, %c3 : index
          %hc0 = arith.minui %hb, %last_head : index
          %hc1 = arith.minui %ha1, %last_head : index
          %hc2 = arith.minui %ha2, %last_head : index
          %hc3 = arith.minui %ha3, %last_head : index
          %r0 = arith.muli %hc0, %head_dim : index
          %r1 = arith.muli %hc1, %head_dim : index
          %r2 = arith.muli %hc2, %head_dim : index
          %r3 = arith.muli %hc3, %head_dim : index
          %i0 = arith.addi %r0, %dc : index
          %i1 = arith.addi %r1, %dc : index
          %i2 = arith.addi %r2, %dc : index
          %i3 = arith.addi %r3, %dc : index
          %x0 = memref.load %q[%i0] : memref<?xf32>
          %x1 = memref.load %q[%i1] : memref<?xf32>
          %x2 = memref.load %q[%i2] : memref<?xf32>
          %x3 = memref.load %q[%i3] : memref<?xf32>
          %xv = vector.from_elements %x0, %x1, %x2, %x3 : vector<4xf32>
          %hq4_32 = arith.index_cast %hq4 : index to i32
          %hq4v = vector.broadcast %hq4_32 : i32 to vector<4xi32>
          %lane_heads = arith.addi %hq4v, %lanes : vector<4xi32>
          %in_block = arith.cmpi ult, %lane_heads, %blockv : vector<4xi32>
          %d_in = arith.cmpi ult, %d, %head_dim : index
          %d_inv = vector.broadcast %d_in : i1 to vector<4xi1>
          %live = arith.andi %in_block, %d_inv : vector<4xi1>
          %qv = arith.select %live, %xv, %zero4 : vector<4xi1>, vector<4xf32>
          memref.store %qv, %pool[%i] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
          %ai = arith.addi %acc_at, %i : index
          memref.store %zero4, %pool[%ai] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
        }
        scf.for %i = %tid to %nq step %wg {
          %mi = arith.addi %m_at, %i : index
          %li = arith.addi %l_at, %i : index
          memref.store %ninf4, %pool[%mi] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
          memref.store %zero4, %pool[%li] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
        }
        gpu.barrier

        %is_f32 = arith.cmpi eq, %elem, %c0 : index
        %is_f16 = arith.cmpi eq, %elem, %c1 : index
        %is_i8 = arith.cmpi eq, %elem, %c2 : index
        %has_cap = arith.cmpf ogt, %softcap, %f0 : f32
        %last_word = arith.subi %row_words, %c1 : index
        %hd32 = arith.index_cast %head_dim : index to i32
        %hdv = vector.broadcast %hd32 : i32 to vector<4xi32>
        %units = arith.muli %tile, %hd4 : index
        %both = arith.muli %units, %c2 : index
        %per_part = arith.divui %hd4, %parts : index
        %tile_m1 = arith.subi %tile, %c1 : index
        %len_up = arith.addi %split_len, %tile_m1 : index
        %tiles = arith.divui %len_up, %tile : index
        scf.for %t = %c0 to %tiles step %c1 {
          %toff = arith.muli %t, %tile : index
          %a = arith.addi %first, %toff : index
          %a_past = arith.addi %a, %tile : index
          %e = arith.minui %a_past, %end : index
          %a_rel0 = arith.addi %a, %cap_start : index
          %a_rel = arith.remui %a_rel0, %capacity : index
          %a_seen = arith.cmpi ult, %a_rel, %n : index
          %st_after = arith.cmpi uge, %start, %a : index
          %st_before = arith.cmpi ult, %start, %e : index
          %st_inside = arith.andi %st_after, %st_before : i1
          %t_any = arith.ori %a_seen, %st_inside : i1
          %t_nonempty = arith.cmpi ult, %a, %e : index
          %tile_seen = arith.andi %t_nonempty, %t_any : i1
          scf.if %tile_seen {
            // 1. Keys (i < units) and values of the tile's visible slots,
            //    4 features a thread, decoded to f32 (int8 times its row's
            //    scale); zero elsewhere.
            scf.for %i = %tid to %both step %wg {
              %is_v = arith.cmpi uge, %i, %units : index
              %iv = arith.subi %i, %units : index
              %u = arith.select %is_v, %iv, %i : index
              %r = arith.divui %u, %hd4 : index
              %d4 = arith.remui %u, %hd4 : index
              %x = arith.addi %a, %r : index
              %x_in = arith.cmpi ult, %x, %e : index
              %x_rel0 = arith.addi %x, %cap_start : index
              %x_rel = arith.remui %x_rel0, %capacity : index
              %x_seen = arith.cmpi ult, %x_rel, %n : index
              %x_live = arith.andi %x_in, %x_seen : i1
              %unit = scf.if %x_live -> (vector<4xf32>) {
                %is_p = arith.cmpi eq, %x, %p_slot : index
                %own = arith.andi %own_row_on, %is_p : i1
                %dec = scf.if %own -> (vector<4xf32>) {
                  // The writer's own row, unrounded (the CPU attends to it in
                  // flight): features 4 d4 .. 4 d4 + 3 of KV head g of k or v.
                  %e0a = arith.muli %d4, %c4 : index
                  %gr = arith.muli %g, %head_dim : index
                  %fc0 = arith.minui %e0a, %last_d : index
                  %fi0 = arith.addi %gr, %fc0 : index
                  %fe1 = arith.addi %e0a, %c1 : index
                  %fc1 = arith.minui %fe1, %last_d : index
                  %fi1 = arith.addi %gr, %fc1 : index
                  %fe2 = arith.addi %e0a, %c2 : index
                  %fc2 = arith.minui %fe2, %last_d : index
                  %fi2 = arith.addi %gr, %fc2 : index
                  %fe3 = arith.addi %e0a, %c3 : index
                  %fc3 = arith.minui %fe3, %last_d : index
                  %fi3 = arith.addi %gr, %fc3 : index
                  %flight = scf.if %is_v -> (vector<4xf32>) {
                    %vx0 = memref.load %v[%fi0] : memref<?xf32>
                    %vx1 = memref.load %v[%fi1] : memref<?xf32>
                    %vx2 = memref.load %v[%fi2] : memref<?xf32>
                    %vx3 = memref.load %v[%fi3] : memref<?xf32>
                    %vu = vector.from_elements %vx0, %vx1, %vx2, %vx3 : vector<4xf32>
                    scf.yield %vu : vector<4xf32>
                  } else {
                    %kx0 = memref.load %k[%fi0] : memref<?xf32>
                    %kx1 = memref.load %k[%fi1] : memref<?xf32>
                    %kx2 = memref.load %k[%fi2] : memref<?xf32>
                    %kx3 = memref.load %k[%fi3] : memref<?xf32>
                    %ku = vector.from_elements %kx0, %kx1, %kx2, %kx3 : vector<4xf32>
                    scf.yield %ku : vector<4xf32>
                  }
                  scf.yield %flight : vector<4xf32>
                } else {
                  %slot_at = arith.muli %x, %slot_words : index
                  %base = arith.select %is_v, %values_base, %c0 : index
                  %rw0 = arith.addi %slot_at, %base : index
                  %rbase = arith.addi %rw0, %g_row : index
                  %cached = scf.if %is_i8 -> (vector<4xf32>) {
                    %at = arith.addi %rbase, %d4 : index
                    %w = memref.load %cache[%at] : memref<?xi32>
                    %wv = vector.broadcast %w : i32 to vector<4xi32>
                    %shl = arith.constant dense<[24, 16, 8, 0]> : vector<4xi32>
                    %c24 = arith.constant dense<24> : vector<4xi32>
                    %up = arith.shli %wv, %shl : vector<4xi32>
                    %codes = arith.shrsi %up, %c24 : vector<4xi32>
                    %cf = arith.sitofp %codes : vector<4xi32> to vector<4xf32>
                    %sbase = arith.select %is_v, %value_scales, %key_scales : index
                    %sat0 = arith.addi %slot_at, %sbase : index
                    %sat = arith.addi %sat0, %g : index
                    %sw = memref.load %cache[%sat] : memref<?xi32>
                    %sf = arith.bitcast %sw : i32 to f32
                    %sv = vector.broadcast %sf : f32 to vector<4xf32>
                    %deq = arith.mulf %cf, %sv : vector<4xf32>
                    scf.yield %deq : vector<4xf32>
                  } else {
                    %fl = scf.if %is_f32 -> (vector<4xf32>) {
                      %w0i = arith.muli %d4, %c4 : index
                      %w1i = arith.addi %w0i, %c1 : index
                      %w2i = arith.addi %w0i, %c2 : index
                      %w3i = arith.addi %w0i, %c3 : index
                      %w1c = arith.minui %w1i, %last_word : index
                      %w2c = arith.minui %w2i, %last_word : index
                      %w3c = arith.minui %w3i, %last_word : index
                      %at0 = arith.addi %rbase, %w0i : index
                      %at1 = arith.addi %rbase, %w1c : index
                      %at2 = arith.addi %rbase, %w2c : index
                      %at3 = arith.addi %rbase, %w3c : index
                      %w0 = memref.load %cache[%at0] : memref<?xi32>
                      %w1 = memref.load %cache[%at1] : memref<?xi32>
                      %w2 = memref.load %cache[%at2] : memref<?xi32>
                      %w3 = memref.load %cache[%at3] : memref<?xi32>
                      %ws = vector.from_elements %w0, %w1, %w2, %w3 : vector<4xi32>
                      %fs = arith.bitcast %ws : vector<4xi32> to vector<4xf32>
                      scf.yield %fs : vector<4xf32>
                    } else {
                      // 16-bit elements: two words, low half first.
                      %w0i = arith.muli %d4, %c2 : index
                      %w1i = arith.addi %w0i, %c1 : index
                      %w1c = arith.minui %w1i, %last_word : index
                      %at0 = arith.addi %rbase, %w0i : index
                      %at1 = arith.addi %rbase, %w1c : index
                      %w0 = memref.load %cache[%at0] : memref<?xi32>
                      %w1 = memref.load %cache[%at1] : memref<?xi32>
                      %hx = scf.if %is_f16 -> (vector<4xf32>) {
                        %pair = vector.from_elements %w0, %w1 : vector<2xi32>
                        %halves = vector.bitcast %pair : vector<2xi32> to vector<4xf16>
                        %hf = arith.extf %halves : vector<4xf16> to vector<4xf32>
                        scf.yield %hf : vector<4xf32>
                      } else {
                        // bf16: the upper 16 bits of an f32.
                        %ww = vector.from_elements %w0, %w0, %w1, %w1 : vector<4xi32>
                        %shl = arith.constant dense<[16, 0, 16, 0]> : vector<4xi32>
                        %himask = arith.constant dense<-65536> : vector<4xi32>
                        %up = arith.shli %ww, %shl : vector<4xi32>
                        %bits = arith.andi %up, %himask : vector<4xi32>
                        %bf = arith.bitcast %bits : vector<4xi32> to vector<4xf32>
                        scf.yield %bf : vector<4xf32>
                      }
                      scf.yield %hx : vector<4xf32>
                    }
                    scf.yield %fl : vector<4xf32>
                  }
                  scf.yield %cached : vector<4xf32>
                }
                // Features past head_dim (a ragged last unit) are zero.
                %d4_4 = arith.muli %d4, %c4 : index
                %d4_32 = arith.index_cast %d4_4 : index to i32
                %dv = vector.broadcast %d4_32 : i32 to vector<4xi32>
                %feat = arith.addi %dv, %lanes : vector<4xi32>
                %feat_in = arith.cmpi ult, %feat, %hdv : vector<4xi32>
                %kept = arith.select %feat_in, %dec, %zero4 : vector<4xi1>, vector<4xf32>
                scf.yield %kept : vector<4xf32>
              } else {
                scf.yield %zero4 : vector<4xf32>
              }
              %krow0 = arith.muli %r, %hd4s : index
              %krow1 = arith.addi %kt_at, %krow0 : index
              %kat = arith.addi %krow1, %d4 : index
              %vrow0 = arith.muli %r, %hd4 : index
              %vrow1 = arith.addi %vt_at, %vrow0 : index
              %vat = arith.addi %vrow1, %d4 : index
              %at = arith.select %is_v, %vat, %kat : index
              memref.store %unit, %pool[%at] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
            }
            gpu.barrier

            // 2. Partial scores: item (j, quad, part) sums its part of the
            //    features for four heads (slot j fastest: the key rows of a
            //    subgroup's lanes differ, their query units are shared).
            //    `contract`: multiply-adds may fuse (PTX fma).
            scf.for %i = %tid to %sp_n step %wg {
              %j = arith.remui %i, %tile : index
              %rest = arith.divui %i, %tile : index
              %hq = arith.remui %rest, %nq : index
              %part = arith.divui %rest, %nq : index
              %u0 = arith.muli %part, %per_part : index
              %krow0 = arith.muli %j, %hd4s : index
              %krow = arith.addi %kt_at, %krow0 : index
              %dot = scf.for %w = %c0 to %per_part step %c1
                  iter_args(%acc = %zero4) -> (vector<4xf32>) {
                %d4 = arith.addi %u0, %w : index
                %kat = arith.addi %krow, %d4 : index
                %kv = memref.load %pool[%kat] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
                %d0 = arith.muli %d4, %c4 : index
                %q00 = arith.muli %d0, %nq : index
                %qa0 = arith.addi %q00, %hq : index
                %qa1 = arith.addi %qa0, %nq : index
                %qa2 = arith.addi %qa1, %nq : index
                %qa3 = arith.addi %qa2, %nq : index
                %qv0 = memref.load %pool[%qa0] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
                %qv1 = memref.load %pool[%qa1] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
                %qv2 = memref.load %pool[%qa2] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
                %qv3 = memref.load %pool[%qa3] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
                %k0 = vector.extract %kv[0] : f32 from vector<4xf32>
                %k1 = vector.extract %kv[1] : f32 from vector<4xf32>
                %k2 = vector.extract %kv[2] : f32 from vector<4xf32>
                %k3 = vector.extract %kv[3] : f32 from vector<4xf32>
                %kb0 = vector.broadcast %k0 : f32 to vector<4xf32>
                %kb1 = vector.broadcast %k1 : f32 to vector<4xf32>
                %kb2 = vector.broadcast %k2 : f32 to vector<4xf32>
                %kb3 = vector.broadcast %k3 : f32 to vector<4xf32>
                %m0 = arith.mulf %qv0, %kb0 fastmath<contract> : vector<4xf32>
                %m1 = arith.mulf %qv1, %kb1 fastmath<contract> : vector<4xf32>
                %m2 = arith.mulf %qv2, %kb2 fastmath<contract> : vector<4xf32>
                %m3 = arith.mulf %qv3, %kb3 fastmath<contract> : vector<4xf32>
                %s0 = arith.addf %acc, %m0 fastmath<contract> : vector<4xf32>
                %s1 = arith.addf %s0, %m1 fastmath<contract> : vector<4xf32>
                %s2 = arith.addf %s1, %m2 fastmath<contract> : vector<4xf32>
                %s3 = arith.addf %s2, %m3 fastmath<contract> : vector<4xf32>
                scf.yield %s3 : vector<4xf32>
              }
              %spi = arith.addi %sp_at, %i : index
              memref.store %dot, %pool[%spi] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
            }
            gpu.barrier

            // 3. Scores of (j, quad): scaled, soft-capped, -inf where slot
            //    j holds no visible position.
            %scale4 = vector.broadcast %scale : f32 to vector<4xf32>
            %cap4 = vector.broadcast %softcap : f32 to vector<4xf32>
            scf.for %i = %tid to %pr_n step %wg {
              %j = arith.remui %i, %tile : index
              %hq = arith.divui %i, %tile : index
              %pri0 = arith.muli %j, %nq : index
              %pri = arith.addi %pri0, %hq : index
              %sum = scf.for %part = %c0 to %parts step %c1
                  iter_args(%acc = %zero4) -> (vector<4xf32>) {
                %sp0 = arith.muli %part, %pr_n : index
                %sp1 = arith.addi %sp_at, %sp0 : index
                %spi = arith.addi %sp1, %i : index
                %ps = memref.load %pool[%spi] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
                %acc2 = arith.addf %acc, %ps : vector<4xf32>
                scf.yield %acc2 : vector<4xf32>
              }
              %raw = arith.mulf %sum, %scale4 : vector<4xf32>
              %capped = scf.if %has_cap -> (vector<4xf32>) {
                %r = arith.divf %raw, %cap4 : vector<4xf32>
                // Lane by lane: the PTX lowering expands scalar math.
                %th_x0 = vector.extract %r[0] : f32 from vector<4xf32>
                %th_x1 = vector.extract %r[1] : f32 from vector<4xf32>
                %th_x2 = vector.extract %r[2] : f32 from vector<4xf32>
                %th_x3 = vector.extract %r[3] : f32 from vector<4xf32>
                %th_y0 = math.tanh %th_x0 : f32
                %th_y1 = math.tanh %th_x1 : f32
                %th_y2 = math.tanh %th_x2 : f32
                %th_y3 = math.tanh %th_x3 : f32
                %th = vector.from_elements %th_y0, %th_y1, %th_y2, %th_y3 : vector<4xf32>
                %c = arith.mulf %th, %cap4 : vector<4xf32>
                scf.yield %c : vector<4xf32>
              } else {
                scf.yield %raw : vector<4xf32>
              }
              %x = arith.addi %a, %j : index
              %x_in = arith.cmpi ult, %x, %e : index
              %x_rel0 = arith.addi %x, %cap_start : index
              %x_rel = arith.remui %x_rel0, %capacity : index
              %x_seen = arith.cmpi ult, %x_rel, %n : index
              %x_live = arith.andi %x_in, %x_seen : i1
              // (A vector condition: SPIR-V 1.3 selects lane by lane.)
              %live4 = vector.broadcast %x_live : i1 to vector<4xi1>
              %score = arith.select %live4, %capped, %ninf4 : vector<4xi1>, vector<4xf32>
              %prat = arith.addi %pr_at, %pri : index
              memref.store %score, %pool[%prat] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
            }
            gpu.barrier

            // 4. Online softmax of each head quad over the tile (a visible
            //    tile has a finite score in every lane): new max, the
            //    rescale of what came before, probabilities, running sum.
            scf.for %hq = %tid to %nq step %wg {
              %tmax = scf.for %j = %c0 to %tile step %c1
                  iter_args(%mx = %ninf4) -> (vector<4xf32>) {
                %pj0 = arith.muli %j, %nq : index
                %pj1 = arith.addi %pr_at, %pj0 : index
                %pj = arith.addi %pj1, %hq : index
                %sj = memref.load %pool[%pj] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
                %mx2 = arith.maximumf %mx, %sj : vector<4xf32>
                scf.yield %mx2 : vector<4xf32>
              }
              %mi = arith.addi %m_at, %hq : index
              %li = arith.addi %l_at, %hq : index
              %ci = arith.addi %corr_at, %hq : index
              %m_old = memref.load %pool[%mi] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
              %l_old = memref.load %pool[%li] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
              %m_new = arith.maximumf %m_old, %tmax : vector<4xf32>
              %dm = arith.subf %m_old, %m_new : vector<4xf32>
              %corr_x0 = vector.extract %dm[0] : f32 from vector<4xf32>
              %corr_x1 = vector.extract %dm[1] : f32 from vector<4xf32>
              %corr_x2 = vector.extract %dm[2] : f32 from vector<4xf32>
              %corr_x3 = vector.extract %dm[3] : f32 from vector<4xf32>
              %corr_y0 = math.exp %corr_x0 : f32
              %corr_y1 = math.exp %corr_x1 : f32
              %corr_y2 = math.exp %corr_x2 : f32
              %corr_y3 = math.exp %corr_x3 : f32
              %corr = vector.from_elements %corr_y0, %corr_y1, %corr_y2, %corr_y3 : vector<4xf32>
              %tsum = scf.for %j = %c0 to %tile step %c1
                  iter_args(%acc = %zero4) -> (vector<4xf32>) {
                %pj0 = arith.muli %j, %nq : index
                %pj1 = arith.addi %pr_at, %pj0 : index
                %pj = arith.addi %pj1, %hq : index
                %sj = memref.load %pool[%pj] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
                %ds = arith.subf %sj, %m_new : vector<4xf32>
                %pe_x0 = vector.extract %ds[0] : f32 from vector<4xf32>
                %pe_x1 = vector.extract %ds[1] : f32 from vector<4xf32>
                %pe_x2 = vector.extract %ds[2] : f32 from vector<4xf32>
                %pe_x3 = vector.extract %ds[3] : f32 from vector<4xf32>
                %pe_y0 = math.exp %pe_x0 : f32
                %pe_y1 = math.exp %pe_x1 : f32
                %pe_y2 = math.exp %pe_x2 : f32
                %pe_y3 = math.exp %pe_x3 : f32
                %pe = vector.from_elements %pe_y0, %pe_y1, %pe_y2, %pe_y3 : vector<4xf32>
                memref.store %pe, %pool[%pj] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
                %acc2 = arith.addf %acc, %pe : vector<4xf32>
                scf.yield %acc2 : vector<4xf32>
              }
              %l_scaled = arith.mulf %l_old, %corr : vector<4xf32>
              %l_new = arith.addf %l_scaled, %tsum : vector<4xf32>
              memref.store %m_new, %pool[%mi] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
              memref.store %l_new, %pool[%li] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
              memref.store %corr, %pool[%ci] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
            }
            gpu.barrier

            // 5. Outputs: item (quad, d4) owns 4 features x 4 heads,
            //    acc = acc * corr + sum_j p_j v_j.
            %pv_items = arith.muli %nq, %hd4 : index
            scf.for %i = %tid to %pv_items step %wg {
              %hq = arith.divui %i, %hd4 : index
              %d4 = arith.remui %i, %hd4 : index
              %mix:4 = scf.for %j = %c0 to %tile step %c1
                  iter_args(%o0 = %zero4, %o1 = %zero4, %o2 = %zero4, %o3 = %zero4)
                  -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
                %pj0 = arith.muli %j, %nq : index
                %pj1 = arith.addi %pr_at, %pj0 : index
                %pj = arith.addi %pj1, %hq : index
                %pv = memref.load %pool[%pj] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
                %vj0 = arith.muli %j, %hd4 : index
                %vj1 = arith.addi %vt_at, %vj0 : index
                %vj = arith.addi %vj1, %d4 : index
                %vv = memref.load %pool[%vj] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
                %v0 = vector.extract %vv[0] : f32 from vector<4xf32>
                %v1 = vector.extract %vv[1] : f32 from vector<4xf32>
                %v2 = vector.extract %vv[2] : f32 from vector<4xf32>
                %v3 = vector.extract %vv[3] : f32 from vector<4xf32>
                %vb0 = vector.broadcast %v0 : f32 to vector<4xf32>
                %vb1 = vector.broadcast %v1 : f32 to vector<4xf32>
                %vb2 = vector.broadcast %v2 : f32 to vector<4xf32>
                %vb3 = vector.broadcast %v3 : f32 to vector<4xf32>
                %t0 = arith.mulf %pv, %vb0 fastmath<contract> : vector<4xf32>
                %t1 = arith.mulf %pv, %vb1 fastmath<contract> : vector<4xf32>
                %t2 = arith.mulf %pv, %vb2 fastmath<contract> : vector<4xf32>
                %t3 = arith.mulf %pv, %vb3 fastmath<contract> : vector<4xf32>
                %n0a = arith.addf %o0, %t0 fastmath<contract> : vector<4xf32>
                %n1a = arith.addf %o1, %t1 fastmath<contract> : vector<4xf32>
                %n2a = arith.addf %o2, %t2 fastmath<contract> : vector<4xf32>
                %n3a = arith.addf %o3, %t3 fastmath<contract> : vector<4xf32>
                scf.yield %n0a, %n1a, %n2a, %n3a : vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>
              }
              %ci = arith.addi %corr_at, %hq : index
              %corr = memref.load %pool[%ci] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
              %arow0 = arith.muli %hq, %dpad : index
              %arow1 = arith.addi %acc_at, %arow0 : index
              %d0 = arith.muli %d4, %c4 : index
              %ai0 = arith.addi %arow1, %d0 : index
              %ai1 = arith.addi %ai0, %c1 : index
              %ai2 = arith.addi %ai0, %c2 : index
              %ai3 = arith.addi %ai0, %c3 : index
              %a0 = memref.load %pool[%ai0] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
              %a1 = memref.load %pool[%ai1] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
              %a2 = memref.load %pool[%ai2] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
              %a3 = memref.load %pool[%ai3] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
              %b0 = arith.mulf %a0, %corr : vector<4xf32>
              %b1 = arith.mulf %a1, %corr : vector<4xf32>
              %b2 = arith.mulf %a2, %corr : vector<4xf32>
              %b3 = arith.mulf %a3, %corr : vector<4xf32>
              %e0 = arith.addf %b0, %mix#0 : vector<4xf32>
              %e1 = arith.addf %b1, %mix#1 : vector<4xf32>
              %e2 = arith.addf %b2, %mix#2 : vector<4xf32>
              %e3 = arith.addf %b3, %mix#3 : vector<4xf32>
              memref.store %e0, %pool[%ai0] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
              memref.store %e1, %pool[%ai1] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
              memref.store %e2, %pool[%ai2] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
              memref.store %e3, %pool[%ai3] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
            }
            // The next tile rewrites the tiles, scores and rescales.
            gpu.barrier
          }
        }

        // 6. Item (quad, d) writes feature d of the quad's heads in the
        //    block: the output row (one split) or the split's partial.
        scf.for %i = %tid to %qn step %wg {
          %hq = arith.divui %i, %dpad : index
          %d = arith.remui %i, %dpad : index
          %d_in = arith.cmpi ult, %d, %head_dim : index
          scf.if %d_in {
            %ai = arith.addi %acc_at, %i : index
            %acc = memref.load %pool[%ai] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
            %mi = arith.addi %m_at, %hq : index
            %li = arith.addi %l_at, %hq : index
            %mv = memref.load %pool[%mi] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
            %lv = memref.load %pool[%li] : memref<2048xvector<4xf32>, #gpu.address_space<workgroup>>
            %y = arith.divf %acc, %lv : vector<4xf32>
            %hq4 = arith.muli %hq, %c4 : index
            %first_d = arith.cmpi eq, %d, %c0 : index
            scf.for %c = %c0 to %c4 step %c1 {
              %hl = arith.addi %hq4, %c : index
              %in_block = arith.cmpi ult, %hl, %block : index
              scf.if %in_block {
                // Lane c, without a dynamic extract (a stack slot on PTX).
                %c32 = arith.index_cast %c : index to i32
                %cv = vector.broadcast %c32 : i32 to vector<4xi32>
                %pick = arith.cmpi eq, %lanes, %cv : vector<4xi32>
                %h = arith.addi %h0, %hl : index
                scf.if %multi {
                  %acc_c = arith.select %pick, %acc, %zero4 : vector<4xi1>, vector<4xf32>
                  %av = vector.reduction <add>, %acc_c : vector<4xf32> into f32
                  %hs0 = arith.muli %h, %splits : index
                  %hsi = arith.addi %hs0, %s : index
                  %pa0 = arith.muli %hsi, %head_dim : index
                  %pa = arith.addi %pa0, %d : index
                  memref.store %av, %partials[%pa] : memref<?xf32>
                  scf.if %first_d {
                    %m_c = arith.select %pick, %mv, %zero4 : vector<4xi1>, vector<4xf32>
                    %l_c = arith.select %pick, %lv, %zero4 : vector<4xi1>, vector<4xf32>
                    %mx = vector.reduction <add>, %m_c : vector<4xf32> into f32
                    %lx = vector.reduction <add>, %l_c : vector<4xf32> into f32
                    %pm = arith.addi %max_at, %hsi : index
                    %pl = arith.addi %sum_at, %hsi : index
                    memref.store %mx, %partials[%pm] : memref<?xf32>
                    memref.store %lx, %partials[%pl] : memref<?xf32>
                  }
                } else {
                  %y_c = arith.select %pick, %y, %zero4 : vector<4xi1>, vector<4xf32>
                  %yv = vector.reduction <add>, %y_c : vector<4xf32> into f32
                  %o0 = arith.muli %h, %head_dim : index
                  %o = arith.addi %o0, %d : index
                  memref.store %yv, %out[%o] : memref<?xf32>
                }
              }
            }
          }
        }
      } else {
        // No visible slot in this split (one split always has one): an
        // empty partial, max -inf and sum 0; its accumulators are not read.
        scf.if %multi {
          scf.for %hl = %tid to %block step %wg {
            %h = arith.addi %h0, %hl : index
            %hs0 = arith.muli %h, %splits : index
            %hsi = arith.addi %hs0, %s : index
            %pm = arith.addi %max_at, %hsi : index
            %pl = arith.addi %sum_at, %hsi : index
            memref.store %ninf, %partials[%pm] : memref<?xf32>
            memref.store %f0, %partials[%pl] : memref<?xf32>
          }
        }
      }
    }
    gpu.return
  }

  // Merges the splits of head h (grid (heads)): with M the largest split
  // max, out = sum_s e^(m_s - M) acc_s / sum_s e^(m_s - M) l_s. Empty
  // splits (m_s = -inf) weigh nothing and their accumulators are not read
  // (never written). Thread d < head_dim computes feature d.
  gpu.func @attention_decode_combine(
      %partials: memref<?xf32>, %out: memref<?xf32>, %run: memref<?xi32>,
      %heads: index, %head_dim: index, %splits: index, %rows_slot: index,
      %wg: index) kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %f0 = arith.constant 0.0 : f32
    %ninf = arith.constant 0xFF800000 : f32
    %h = gpu.block_id x
    %d = gpu.thread_id x
    %rows32 = memref.load %run[%rows_slot] : memref<?xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %has_row = arith.cmpi ugt, %rows, %c0 : index
    %owns = arith.cmpi ult, %d, %head_dim : index
    %live = arith.andi %has_row, %owns : i1
    scf.if %live {
      %hs = arith.muli %heads, %splits : index
      %max_at = arith.muli %hs, %head_dim : index
      %sum_at = arith.addi %max_at, %hs : index
      %base = arith.muli %h, %splits : index
      %mbase = arith.addi %max_at, %base : index
      %lbase = arith.addi %sum_at, %base : index
      // splits >= 2 (a specialization constant): the loops run.
      %top = scf.for %s = %c0 to %splits step %c1 iter_args(%mx = %ninf) -> (f32) {
        %mi = arith.addi %mbase, %s : index
        %m = memref.load %partials[%mi] : memref<?xf32>
        %mx2 = arith.maximumf %mx, %m : f32
        scf.yield %mx2 : f32
      }
      %sums:2 = scf.for %s = %c0 to %splits step %c1
          iter_args(%o = %f0, %l = %f0) -> (f32, f32) {
        %mi = arith.addi %mbase, %s : index
        %m = memref.load %partials[%mi] : memref<?xf32>
        %seen = arith.cmpf ogt, %m, %ninf : f32
        %next:2 = scf.if %seen -> (f32, f32) {
          %dm = arith.subf %m, %top : f32
          %w = math.exp %dm : f32
          %li = arith.addi %lbase, %s : index
          %ls = memref.load %partials[%li] : memref<?xf32>
          %ai0 = arith.addi %base, %s : index
          %ai1 = arith.muli %ai0, %head_dim : index
          %ai = arith.addi %ai1, %d : index
          %as = memref.load %partials[%ai] : memref<?xf32>
          %wa = arith.mulf %w, %as : f32
          %wl = arith.mulf %w, %ls : f32
          %o2 = arith.addf %o, %wa : f32
          %l2 = arith.addf %l, %wl : f32
          scf.yield %o2, %l2 : f32, f32
        } else {
          scf.yield %o, %l : f32, f32
        }
        scf.yield %next#0, %next#1 : f32, f32
      }
      %y = arith.divf %sums#0, %sums#1 : f32
      %o0 = arith.muli %h, %head_dim : index
      %oi = arith.addi %o0, %d : index
      memref.store %y, %out[%oi] : memref<?xf32>
    }
    gpu.return
  }
}
