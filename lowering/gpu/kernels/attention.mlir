// Attention over a KV cache (plan.attention), as runtime/cpu/Attention.cpp
// computes it. The cache is one binding read as 32-bit words; its layout is
// GpuCacheLayout's (lowering/gpu/families/AttentionCache.h), slot-major:
// slot s is the `slot_words` words at s * slot_words, holding the keys of
// its kv_heads heads (head_dim elements of f32, f16, bf16 or int8, a row of
// `row_words` words each), then their values from `values_base`, then for
// int8 caches the f32 scales of the keys (from `key_scales`) and of the
// values (from `value_scales`), one per head. A cache of fewer positions
// (a shorter context) is the first slots of it.
//
// Element kinds (`elem`): 0 f32, 1 f16, 2 int8, 3 bf16. The append
// kernels' workgroup size `wg` is at least head_dim and a multiple of 64, so
// each thread owns at most one feature and no lane runs a loop the others
// skip; the attention kernel's is its own (see there).
gpu.module @kernels {
  // Writes row t of `src` (this run's keys or values, [rows][kv_heads]
  // [head_dim]) for KV head g into its slot's keys or values at word `base`
  // of the slot (scales at `scale_base` for int8). Grid (max_tokens,
  // kv_heads); one workgroup per (row, head). A ring cache keeps only the
  // last `capacity` positions of a run longer than that, so earlier rows
  // that would share a slot are skipped (no two workgroups write one slot).
  gpu.func @kv_append(%src: memref<?xf32>, %positions: memref<?xi32>,
                      %cache: memref<?xi32>, %run: memref<?xi32>,
                      %kv_heads: index, %head_dim: index, %capacity: index,
                      %ring: index, %elem: index, %base: index,
                      %scale_base: index, %row_words: index,
                      %slot_words: index, %rows_slot: index, %wg: index)
      workgroup(%red: memref<64xf32, #gpu.address_space<workgroup>>)
      kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c4 = arith.constant 4 : index
    %f0 = arith.constant 0.0 : f32
    %t = gpu.block_id x
    %g = gpu.block_id y
    %tid = gpu.thread_id x
    %rows32 = memref.load %run[%rows_slot] : memref<?xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %last_row = arith.subi %rows, %c1 : index
    %in_run = arith.cmpi ult, %t, %rows : index
    scf.if %in_run {
      %p32 = memref.load %positions[%t] : memref<?xi32>
      %p = arith.index_cast %p32 : i32 to index
      %last32 = memref.load %positions[%last_row] : memref<?xi32>
      %last = arith.index_cast %last32 : i32 to index
      %is_ring = arith.cmpi ne, %ring, %c0 : index
      %wrapped = arith.remui %p, %capacity : index
      %slot = arith.select %is_ring, %wrapped, %p : index
      // Kept: a linear slot inside the cache; for a ring, one of the run's
      // last `capacity` positions.
      %p_cap = arith.addi %p, %capacity : index
      %newest = arith.cmpi ugt, %p_cap, %last : index
      %fits = arith.cmpi ult, %p, %capacity : index
      %keep = arith.select %is_ring, %newest, %fits : i1
      scf.if %keep {
        %srow0 = arith.muli %t, %kv_heads : index
        %srow1 = arith.addi %srow0, %g : index
        %src_row = arith.muli %srow1, %head_dim : index
        %slot_at = arith.muli %slot, %slot_words : index
        %head_at = arith.muli %g, %row_words : index
        %block_at = arith.addi %slot_at, %base : index
        %row = arith.addi %block_at, %head_at : index
        %is_f32 = arith.cmpi eq, %elem, %c0 : index
        %is_f16 = arith.cmpi eq, %elem, %c1 : index
        %is_i8 = arith.cmpi eq, %elem, %c2 : index
        scf.if %is_f32 {
          %live = arith.cmpi ult, %tid, %head_dim : index
          scf.if %live {
            %i = arith.addi %src_row, %tid : index
            %x = memref.load %src[%i] : memref<?xf32>
            %w = arith.bitcast %x : f32 to i32
            %at = arith.addi %row, %tid : index
            memref.store %w, %cache[%at] : memref<?xi32>
          }
        } else {
          scf.if %is_i8 {
            // scale = max|x| / 127 over the head's features.
            %live = arith.cmpi ult, %tid, %head_dim : index
            %ax = scf.if %live -> (f32) {
              %i = arith.addi %src_row, %tid : index
              %x = memref.load %src[%i] : memref<?xf32>
              %a = math.absf %x : f32
              scf.yield %a : f32
            } else {
              scf.yield %f0 : f32
            }
            %sub_max = gpu.subgroup_reduce maximumf %ax : (f32) -> f32
            %sg = gpu.subgroup_size : index
            %sid = arith.divui %tid, %sg : index
            %lane = arith.remui %tid, %sg : index
            %nsg = arith.divui %wg, %sg : index
            %first_lane = arith.cmpi eq, %lane, %c0 : index
            scf.if %first_lane {
              memref.store %sub_max, %red[%sid] : memref<64xf32, #gpu.address_space<workgroup>>
            }
            gpu.barrier
            %amax = scf.for %s = %c0 to %nsg step %c1 iter_args(%m = %f0) -> (f32) {
              %part = memref.load %red[%s] : memref<64xf32, #gpu.address_space<workgroup>>
              %mm = arith.maximumf %m, %part : f32
              scf.yield %mm : f32
            }
            %c127 = arith.constant 127.0 : f32
            %scale = arith.divf %amax, %c127 : f32
            %is_t0 = arith.cmpi eq, %tid, %c0 : index
            scf.if %is_t0 {
              %sbits = arith.bitcast %scale : f32 to i32
              %scales_at = arith.addi %slot_at, %scale_base : index
              %sat = arith.addi %scales_at, %g : index
              memref.store %sbits, %cache[%sat] : memref<?xi32>
            }
            // Thread w packs features 4w .. 4w+3 into one word.
            %words = arith.divui %head_dim, %c4 : index
            %packs = arith.cmpi ult, %tid, %words : index
            scf.if %packs {
              %zero_scale = arith.cmpf oeq, %scale, %f0 : f32
              %half = arith.constant 0.5 : f32
              %mask = arith.constant 255 : i32
              %d0 = arith.muli %tid, %c4 : index
              %i0 = arith.addi %src_row, %d0 : index
              %zero = arith.constant 0 : i32
              %word = scf.for %b = %c0 to %c4 step %c1 iter_args(%acc = %zero) -> (i32) {
                %ib = arith.addi %i0, %b : index
                %x = memref.load %src[%ib] : memref<?xf32>
                %a = math.absf %x : f32
                %r = arith.divf %a, %scale : f32
                %r2 = arith.addf %r, %half : f32
                %fl = math.floor %r2 : f32
                %qa = arith.minimumf %fl, %c127 : f32
                %neg = arith.cmpf olt, %x, %f0 : f32
                %qn = arith.negf %qa : f32
                %qs = arith.select %neg, %qn, %qa : f32
                %q0 = arith.select %zero_scale, %f0, %qs : f32
                %qi = arith.fptosi %q0 : f32 to i32
                %qb = arith.andi %qi, %mask : i32
                %b32 = arith.index_cast %b : index to i32
                %c8 = arith.constant 8 : i32
                %sh = arith.muli %b32, %c8 : i32
                %placed = arith.shli %qb, %sh : i32
                %next = arith.ori %acc, %placed : i32
                scf.yield %next : i32
              }
              %at = arith.addi %row, %tid : index
              memref.store %word, %cache[%at] : memref<?xi32>
            }
          } else {
            // f16 or bf16: thread w packs features 2w, 2w+1 (low half first).
            %words = arith.divui %head_dim, %c2 : index
            %packs = arith.cmpi ult, %tid, %words : index
            scf.if %packs {
              %d0 = arith.muli %tid, %c2 : index
              %i0 = arith.addi %src_row, %d0 : index
              %i1 = arith.addi %i0, %c1 : index
              %x0 = memref.load %src[%i0] : memref<?xf32>
              %x1 = memref.load %src[%i1] : memref<?xf32>
              %word = scf.if %is_f16 -> (i32) {
                %pair = vector.from_elements %x0, %x1 : vector<2xf32>
                %h = arith.truncf %pair : vector<2xf32> to vector<2xf16>
                %hw = vector.bitcast %h : vector<2xf16> to vector<1xi32>
                %w = vector.extract %hw[0] : i32 from vector<1xi32>
                scf.yield %w : i32
              } else {
                // bf16, round to nearest even (Float16.h floatToBf16; NaN
                // keeps a quiet mantissa bit).
                %b0 = arith.bitcast %x0 : f32 to i32
                %b1 = arith.bitcast %x1 : f32 to i32
                %c16 = arith.constant 16 : i32
                %one = arith.constant 1 : i32
                %bias = arith.constant 32767 : i32
                %absmask = arith.constant 2147483647 : i32
                %inf = arith.constant 2139095040 : i32
                %quiet = arith.constant 64 : i32
                %lowmask = arith.constant 65535 : i32
                %a0 = arith.andi %b0, %absmask : i32
                %nan0 = arith.cmpi ugt, %a0, %inf : i32
                %s0 = arith.shrui %b0, %c16 : i32
                %l0 = arith.andi %s0, %one : i32
                %r0a = arith.addi %b0, %bias : i32
                %r0b = arith.addi %r0a, %l0 : i32
                %r0 = arith.shrui %r0b, %c16 : i32
                %q0 = arith.ori %s0, %quiet : i32
                %h0a = arith.select %nan0, %q0, %r0 : i32
                %h0 = arith.andi %h0a, %lowmask : i32
                %a1 = arith.andi %b1, %absmask : i32
                %nan1 = arith.cmpi ugt, %a1, %inf : i32
                %s1 = arith.shrui %b1, %c16 : i32
                %l1 = arith.andi %s1, %one : i32
                %r1a = arith.addi %b1, %bias : i32
                %r1b = arith.addi %r1a, %l1 : i32
                %r1 = arith.shrui %r1b, %c16 : i32
                %q1 = arith.ori %s1, %quiet : i32
                %h1 = arith.select %nan1, %q1, %r1 : i32
                %h1s = arith.shli %h1, %c16 : i32
                %w = arith.ori %h0, %h1s : i32
                scf.yield %w : i32
              }
              %at = arith.addi %row, %tid : index
              memref.store %word, %cache[%at] : memref<?xi32>
            }
          }
        }
      }
    }
    gpu.return
  }

  // In-flight rows of an int8 ring cache's writer are attended to as the
  // cache will give them back: x = round(x / s) * s in place, s = max|x| /
  // 127 per (row, head). Grid (max_tokens, kv_heads).
  gpu.func @kv_round_trip(%src: memref<?xf32>, %run: memref<?xi32>,
                          %kv_heads: index, %head_dim: index,
                          %rows_slot: index, %wg: index)
      workgroup(%red: memref<64xf32, #gpu.address_space<workgroup>>)
      kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %f0 = arith.constant 0.0 : f32
    %t = gpu.block_id x
    %g = gpu.block_id y
    %tid = gpu.thread_id x
    %rows32 = memref.load %run[%rows_slot] : memref<?xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %in_run = arith.cmpi ult, %t, %rows : index
    scf.if %in_run {
      %srow0 = arith.muli %t, %kv_heads : index
      %srow1 = arith.addi %srow0, %g : index
      %src_row = arith.muli %srow1, %head_dim : index
      %i = arith.addi %src_row, %tid : index
      %live = arith.cmpi ult, %tid, %head_dim : index
      %x = scf.if %live -> (f32) {
        %v = memref.load %src[%i] : memref<?xf32>
        scf.yield %v : f32
      } else {
        scf.yield %f0 : f32
      }
      %ax = math.absf %x : f32
      %sub_max = gpu.subgroup_reduce maximumf %ax : (f32) -> f32
      %sg = gpu.subgroup_size : index
      %sid = arith.divui %tid, %sg : index
      %lane = arith.remui %tid, %sg : index
      %nsg = arith.divui %wg, %sg : index
      %first_lane = arith.cmpi eq, %lane, %c0 : index
      scf.if %first_lane {
        memref.store %sub_max, %red[%sid] : memref<64xf32, #gpu.address_space<workgroup>>
      }
      gpu.barrier
      %amax = scf.for %s = %c0 to %nsg step %c1 iter_args(%m = %f0) -> (f32) {
        %part = memref.load %red[%s] : memref<64xf32, #gpu.address_space<workgroup>>
        %mm = arith.maximumf %m, %part : f32
        scf.yield %mm : f32
      }
      %c127 = arith.constant 127.0 : f32
      %scale = arith.divf %amax, %c127 : f32
      scf.if %live {
        %zero_scale = arith.cmpf oeq, %scale, %f0 : f32
        %half = arith.constant 0.5 : f32
        %r = arith.divf %ax, %scale : f32
        %r2 = arith.addf %r, %half : f32
        %fl = math.floor %r2 : f32
        %qa = arith.minimumf %fl, %c127 : f32
        %neg = arith.cmpf olt, %x, %f0 : f32
        %qn = arith.negf %qa : f32
        %qs = arith.select %neg, %qn, %qa : f32
        %q0 = arith.select %zero_scale, %f0, %qs : f32
        %y = arith.mulf %q0, %scale : f32
        memref.store %y, %src[%i] : memref<?xf32>
      }
    }
    gpu.return
  }

  // Flash attention over a tile of query rows: workgroup (x, y) of grid
  // (ceil(max_tokens / tile_rows), kv_heads * blocks) serves rows
  // [x * tile_rows, (x + 1) * tile_rows) of the run for `block` query heads
  // of KV head y / blocks (the whole GQA group unless it does not fit):
  // nqry = tile_rows * block queries, query i being row i / block, head
  // i % block of the block. Row t at position p sees [lo, hi] (as
  // Attention.cpp computes them): [lo, first - 1] from the cache and the
  // rest from this run's k and v rows when a ring's writer attends in flight,
  // all of it from the cache otherwise. The workgroup walks the union of its
  // rows' intervals in tiles of `tile` positions; each tile's keys and
  // values are read once (coalesced 32-bit loads, decoded to f32 once) and
  // serve every query, with an online softmax per query. Per tile: load;
  // scores (item = query x position); the running max (item = query);
  // probabilities (item = query x position); probabilities times values
  // (item = query x 4 output features, its accumulator held in registers
  // across the tiles, the running sum taken by the query's first unit);
  // 5 barriers.
  //
  // Workgroup memory, `pool` in 16-byte units of 4 features (hd4 =
  // ceil(head_dim / 4) a row, hd4s = hd4 | 1: odd row strides, so the
  // lanes of a subgroup reading a column of rows hit distinct banks):
  //   q    [nqry][hd4s]   the queries, zero past head_dim
  //   kt   [tile][hd4s]   the tile's keys, decoded (int8 times its scale)
  //   vt   [tile][hd4s]   the tile's values
  // `fl` in f32: scores then probabilities [nqry][tile], then running max,
  // running sum and this tile's rescale [nqry] each; `span`: each row's lo
  // (at r) and hi (at 64 + r). The lowering (families/Attention.cpp) picks
  // block, tile_rows, tile and wg so that they fit: nqry * hd4 <= wg (one
  // output item a thread), tile_rows <= 64.
  gpu.func @attention(%q: memref<?xf32>, %k: memref<?xf32>, %v: memref<?xf32>,
                      %positions: memref<?xi32>, %cache: memref<?xi32>,
                      %out: memref<?xf32>, %run: memref<?xi32>,
                      %heads: index, %kv_heads: index, %head_dim: index,
                      %block: index, %tile_rows: index,
                      %capacity: index, %ring: index, %in_flight: index,
                      %kind: index, %window: index, %causal: index,
                      %scale: f32, %softcap: f32, %elem: index,
                      %values_base: index, %key_scales: index,
                      %value_scales: index, %row_words: index,
                      %slot_words: index, %tile: index, %rows_slot: index,
                      %wg: index)
      workgroup(%pool: memref<1792xvector<4xf32>, #gpu.address_space<workgroup>>,
                %fl: memref<896xf32, #gpu.address_space<workgroup>>,
                %span: memref<128xi32, #gpu.address_space<workgroup>>)
      kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c4 = arith.constant 4 : index
    %c64 = arith.constant 64 : index
    %f0 = arith.constant 0.0 : f32
    %ninf = arith.constant 0xFF800000 : f32
    %zero4 = arith.constant dense<0.0> : vector<4xf32>
    %lanes = arith.constant dense<[0, 1, 2, 3]> : vector<4xi32>
    %rt = gpu.block_id x
    %by = gpu.block_id y
    %tid = gpu.thread_id x
    %rows32 = memref.load %run[%rows_slot] : memref<?xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %t0 = arith.muli %rt, %tile_rows : index
    %live = arith.cmpi ult, %t0, %rows : index
    scf.if %live {
      %last_row = arith.subi %rows, %c1 : index
      %first32 = memref.load %positions[%c0] : memref<?xi32>
      %first_in = arith.index_cast %first32 : i32 to index
      %last32 = memref.load %positions[%last_row] : memref<?xi32>
      %last_in = arith.index_cast %last32 : i32 to index
      // Bound check: the runtime's positions are consecutive from
      // first >= 0 and, for a linear cache, below its capacity; row t is at
      // first + t. Anything else (a corrupt artifact binding other rows as
      // positions) is replaced by rows 0.. of the run, so no slot or
      // in-flight row index leaves its buffer.
      %first_ok = arith.cmpi sge, %first_in, %c0 : index
      %span_in = arith.subi %last_in, %first_in : index
      %span_ok = arith.cmpi eq, %span_in, %last_row : index
      %last_fits = arith.cmpi slt, %last_in, %capacity : index
      %is_ring = arith.cmpi ne, %ring, %c0 : index
      %fits = arith.ori %is_ring, %last_fits : i1
      %ok0 = arith.andi %first_ok, %span_ok : i1
      %sane = arith.andi %ok0, %fits : i1
      %first = arith.select %sane, %first_in, %c0 : index
      %last = arith.addi %first, %last_row : index
      %group = arith.divui %heads, %kv_heads : index
      %blocks = arith.divui %group, %block : index
      %g = arith.divui %by, %blocks : index
      %blk = arith.remui %by, %blocks : index
      %h0a = arith.muli %g, %group : index
      %h0b = arith.muli %blk, %block : index
      %h0 = arith.addi %h0a, %h0b : index
      // KV head g's row within a slot's keys or values.
      %g_row = arith.muli %g, %row_words : index
      %nqry = arith.muli %block, %tile_rows : index
      %hd3 = arith.addi %head_dim, %c3 : index
      %hd4 = arith.divui %hd3, %c4 : index
      %hd4s = arith.ori %hd4, %c1 : index
      %last_d = arith.subi %head_dim, %c1 : index
      %last_word = arith.subi %row_words, %c1 : index
      %hd32 = arith.index_cast %head_dim : index to i32
      %hdv = vector.broadcast %hd32 : i32 to vector<4xi32>
      // Pool and fl regions.
      %kt_at = arith.muli %nqry, %hd4s : index
      %tile_units = arith.muli %tile, %hd4s : index
      %vt_at = arith.addi %kt_at, %tile_units : index
      %m_at = arith.muli %nqry, %tile : index
      %l_at = arith.addi %m_at, %nqry : index
      %corr_at = arith.addi %l_at, %nqry : index
      %is_in_flight = arith.cmpi ne, %in_flight, %c0 : index
      %not_in_flight = arith.cmpi eq, %in_flight, %c0 : index
      %is_causal = arith.cmpi ne, %causal, %c0 : index
      %is_local = arith.cmpi eq, %kind, %c1 : index
      %is_chunked = arith.cmpi eq, %kind, %c2 : index
      %is_f32 = arith.cmpi eq, %elem, %c0 : index
      %is_f16 = arith.cmpi eq, %elem, %c1 : index
      %is_i8 = arith.cmpi eq, %elem, %c2 : index
      %has_cap = arith.cmpf ogt, %softcap, %f0 : f32

      // 1. Each row's visible positions [lo, hi] (empty, [1, 0], for rows
      //    past the run), the queries, and the softmax state.
      scf.for %r = %tid to %tile_rows step %wg {
        %t = arith.addi %t0, %r : index
        %p = arith.addi %first, %t : index
        %hi = arith.select %is_causal, %p, %last : index
        // lo: local windows end at p, chunks start at a multiple of window.
        %p1 = arith.addi %p, %c1 : index
        %wlo = arith.subi %p1, %window : index
        %local_lo = arith.maxsi %wlo, %c0 : index
        %chunk = arith.divui %p, %window : index
        %chunk_lo = arith.muli %chunk, %window : index
        %lo_a = arith.select %is_chunked, %chunk_lo, %c0 : index
        %lo_b = arith.select %is_local, %local_lo, %lo_a : index
        // A ring holds the `capacity` positions before the run (in
        // flight) or up to hi (appended first).
        %hi1 = arith.addi %hi, %c1 : index
        %held_end = arith.select %is_in_flight, %first, %hi1 : index
        %held_lo = arith.subi %held_end, %capacity : index
        %ring_lo = arith.maxsi %lo_b, %held_lo : index
        %lo = arith.select %is_ring, %ring_lo, %lo_b : index
        %in_run = arith.cmpi ult, %t, %rows : index
        %lo_r = arith.select %in_run, %lo, %c1 : index
        %hi_r = arith.select %in_run, %hi, %c0 : index
        %lo32 = arith.index_cast %lo_r : index to i32
        %hi32 = arith.index_cast %hi_r : index to i32
        %hi_at = arith.addi %r, %c64 : index
        memref.store %lo32, %span[%r] : memref<128xi32, #gpu.address_space<workgroup>>
        memref.store %hi32, %span[%hi_at] : memref<128xi32, #gpu.address_space<workgroup>>
      }
      %items = arith.muli %nqry, %hd4 : index
      scf.for %i = %tid to %items step %wg {
        %qi = arith.divui %i, %hd4 : index
        %d4 = arith.remui %i, %hd4 : index
        %r = arith.divui %qi, %block : index
        %hb = arith.remui %qi, %block : index
        %t = arith.addi %t0, %r : index
        %tc = arith.minui %t, %last_row : index
        %h = arith.addi %h0, %hb : index
        %qr0 = arith.muli %tc, %heads : index
        %qr1 = arith.addi %qr0, %h : index
        %qrow = arith.muli %qr1, %head_dim : index
        %e0 = arith.muli %d4, %c4 : index
        %e1 = arith.addi %e0, %c1 : index
        %e2 = arith.addi %e0, %c2 : index
        %e3 = arith.addi %e0, %c3 : index
        %f1 = arith.minui %e1, %last_d : index
        %f2 = arith.minui %e2, %last_d : index
        %f3 = arith.minui %e3, %last_d : index
        %i0 = arith.addi %qrow, %e0 : index
        %i1 = arith.addi %qrow, %f1 : index
        %i2 = arith.addi %qrow, %f2 : index
        %i3 = arith.addi %qrow, %f3 : index
        %x0 = memref.load %q[%i0] : memref<?xf32>
        %x1 = memref.load %q[%i1] : memref<?xf32>
        %x2 = memref.load %q[%i2] : memref<?xf32>
        %x3 = memref.load %q[%i3] : memref<?xf32>
        %xv = vector.from_elements %x0, %x1, %x2, %x3 : vector<4xf32>
        %e032 = arith.index_cast %e0 : index to i32
        %ev = vector.broadcast %e032 : i32 to vector<4xi32>
        %feat = arith.addi %ev, %lanes : vector<4xi32>
        %feat_in = arith.cmpi ult, %feat, %hdv : vector<4xi32>
        %qv = arith.select %feat_in, %xv, %zero4 : vector<4xi1>, vector<4xf32>
        %qa0 = arith.muli %qi, %hd4s : index
        %qa = arith.addi %qa0, %d4 : index
        memref.store %qv, %pool[%qa] : memref<1792xvector<4xf32>, #gpu.address_space<workgroup>>
      }
      scf.for %i = %tid to %nqry step %wg {
        %mi = arith.addi %m_at, %i : index
        %li = arith.addi %l_at, %i : index
        memref.store %ninf, %fl[%mi] : memref<896xf32, #gpu.address_space<workgroup>>
        memref.store %f0, %fl[%li] : memref<896xf32, #gpu.address_space<workgroup>>
      }
      gpu.barrier

      // The union of the rows' intervals, [lo of the first row, hi of the
      // last row in the run]: lo and hi do not decrease along the rows.
      %lo_min32 = memref.load %span[%c0] : memref<128xi32, #gpu.address_space<workgroup>>
      %lo_min = arith.index_cast %lo_min32 : i32 to index
      %t_past = arith.addi %t0, %tile_rows : index
      %t_end = arith.minui %t_past, %rows : index
      %r_last0 = arith.subi %t_end, %t0 : index
      %r_last = arith.subi %r_last0, %c1 : index
      %hi_last_at = arith.addi %r_last, %c64 : index
      %hi_max32 = memref.load %span[%hi_last_at] : memref<128xi32, #gpu.address_space<workgroup>>
      %hi_max = arith.index_cast %hi_max32 : i32 to index
      %hi_max1 = arith.addi %hi_max, %c1 : index
      %n0 = arith.subi %hi_max1, %lo_min : index
      %n = arith.maxsi %n0, %c0 : index
      %tile_m1 = arith.subi %tile, %c1 : index
      %n_up = arith.addi %n, %tile_m1 : index
      %tiles = arith.divui %n_up, %tile : index
      %units = arith.muli %tile, %hd4 : index
      %both = arith.muli %units, %c2 : index
      %scores = arith.muli %nqry, %tile : index
      // This thread's output item: query qo, features 4 uo .. 4 uo + 3.
      %owns = arith.cmpi ult, %tid, %items : index
      %qo = arith.divui %tid, %hd4 : index
      %uo = arith.remui %tid, %hd4 : index
      %acc = scf.for %ti = %c0 to %tiles step %c1
          iter_args(%a = %zero4) -> (vector<4xf32>) {
        %toff = arith.muli %ti, %tile : index
        %pos0 = arith.addi %lo_min, %toff : index
        // 2. Keys (i < units) and values of the tile's positions, 4
        //    features a thread, decoded to f32 (int8 times its row's
        //    scale); zero past hi_max and past head_dim.
        scf.for %i = %tid to %both step %wg {
          %is_v = arith.cmpi uge, %i, %units : index
          %iv = arith.subi %i, %units : index
          %u = arith.select %is_v, %iv, %i : index
          %j = arith.divui %u, %hd4 : index
          %d4 = arith.remui %u, %hd4 : index
          %pos = arith.addi %pos0, %j : index
          %seen = arith.cmpi sle, %pos, %hi_max : index
          %unit = scf.if %seen -> (vector<4xf32>) {
            %before = arith.cmpi slt, %pos, %first : index
            %from_cache = arith.ori %not_in_flight, %before : i1
            %dec = scf.if %from_cache -> (vector<4xf32>) {
              %wrapped = arith.remui %pos, %capacity : index
              %slot = arith.select %is_ring, %wrapped, %pos : index
              %slot_at = arith.muli %slot, %slot_words : index
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
                %wide = scf.if %is_f32 -> (vector<4xf32>) {
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
                scf.yield %wide : vector<4xf32>
              }
              scf.yield %cached : vector<4xf32>
            } else {
              // In flight: features 4 d4 .. 4 d4 + 3 of KV head g of this
              // run's row pos - first of k or v.
              %rel = arith.subi %pos, %first : index
              %fr0 = arith.muli %rel, %kv_heads : index
              %fr1 = arith.addi %fr0, %g : index
              %frow = arith.muli %fr1, %head_dim : index
              %e0 = arith.muli %d4, %c4 : index
              %e1 = arith.addi %e0, %c1 : index
              %e2 = arith.addi %e0, %c2 : index
              %e3 = arith.addi %e0, %c3 : index
              %f1 = arith.minui %e1, %last_d : index
              %f2 = arith.minui %e2, %last_d : index
              %f3 = arith.minui %e3, %last_d : index
              %i0 = arith.addi %frow, %e0 : index
              %i1 = arith.addi %frow, %f1 : index
              %i2 = arith.addi %frow, %f2 : index
              %i3 = arith.addi %frow, %f3 : index
              %flight = scf.if %is_v -> (vector<4xf32>) {
                %vx0 = memref.load %v[%i0] : memref<?xf32>
                %vx1 = memref.load %v[%i1] : memref<?xf32>
                %vx2 = memref.load %v[%i2] : memref<?xf32>
                %vx3 = memref.load %v[%i3] : memref<?xf32>
                %vu = vector.from_elements %vx0, %vx1, %vx2, %vx3 : vector<4xf32>
                scf.yield %vu : vector<4xf32>
              } else {
                %kx0 = memref.load %k[%i0] : memref<?xf32>
                %kx1 = memref.load %k[%i1] : memref<?xf32>
                %kx2 = memref.load %k[%i2] : memref<?xf32>
                %kx3 = memref.load %k[%i3] : memref<?xf32>
                %ku = vector.from_elements %kx0, %kx1, %kx2, %kx3 : vector<4xf32>
                scf.yield %ku : vector<4xf32>
              }
              scf.yield %flight : vector<4xf32>
            }
            // Features past head_dim (a ragged last unit) are zero.
            %e0 = arith.muli %d4, %c4 : index
            %e032 = arith.index_cast %e0 : index to i32
            %ev = vector.broadcast %e032 : i32 to vector<4xi32>
            %feat = arith.addi %ev, %lanes : vector<4xi32>
            %feat_in = arith.cmpi ult, %feat, %hdv : vector<4xi32>
            %kept = arith.select %feat_in, %dec, %zero4 : vector<4xi1>, vector<4xf32>
            scf.yield %kept : vector<4xf32>
          } else {
            scf.yield %zero4 : vector<4xf32>
          }
          %region = arith.select %is_v, %vt_at, %kt_at : index
          %row0 = arith.muli %j, %hd4s : index
          %row = arith.addi %region, %row0 : index
          %at = arith.addi %row, %d4 : index
          memref.store %unit, %pool[%at] : memref<1792xvector<4xf32>, #gpu.address_space<workgroup>>
        }
        gpu.barrier

        // 3. Scores: item (query, position), the position fastest (the
        //    key rows of a subgroup's lanes differ, their query row is
        //    shared); -inf where the query's row does not see the position.
        //    `contract`: multiply-adds may fuse (PTX fma).
        scf.for %i = %tid to %scores step %wg {
          %j = arith.remui %i, %tile : index
          %qi = arith.divui %i, %tile : index
          %qrow = arith.muli %qi, %hd4s : index
          %krow0 = arith.muli %j, %hd4s : index
          %krow = arith.addi %kt_at, %krow0 : index
          %dot4 = scf.for %w = %c0 to %hd4 step %c1
              iter_args(%s4 = %zero4) -> (vector<4xf32>) {
            %qa = arith.addi %qrow, %w : index
            %ka = arith.addi %krow, %w : index
            %qv = memref.load %pool[%qa] : memref<1792xvector<4xf32>, #gpu.address_space<workgroup>>
            %kv = memref.load %pool[%ka] : memref<1792xvector<4xf32>, #gpu.address_space<workgroup>>
            %prod = arith.mulf %qv, %kv fastmath<contract> : vector<4xf32>
            %sum = arith.addf %s4, %prod fastmath<contract> : vector<4xf32>
            scf.yield %sum : vector<4xf32>
          }
          %dot = vector.reduction <add>, %dot4 : vector<4xf32> into f32
          %raw = arith.mulf %dot, %scale : f32
          %capped = scf.if %has_cap -> (f32) {
            %x = arith.divf %raw, %softcap : f32
            %th = math.tanh %x : f32
            %c = arith.mulf %th, %softcap : f32
            scf.yield %c : f32
          } else {
            scf.yield %raw : f32
          }
          %r = arith.divui %qi, %block : index
          %hi_at = arith.addi %r, %c64 : index
          %lo32 = memref.load %span[%r] : memref<128xi32, #gpu.address_space<workgroup>>
          %hi32 = memref.load %span[%hi_at] : memref<128xi32, #gpu.address_space<workgroup>>
          %lo = arith.index_cast %lo32 : i32 to index
          %hi = arith.index_cast %hi32 : i32 to index
          %pos = arith.addi %pos0, %j : index
          %after_lo = arith.cmpi sge, %pos, %lo : index
          %before_hi = arith.cmpi sle, %pos, %hi : index
          %visible = arith.andi %after_lo, %before_hi : i1
          %score = arith.select %visible, %capped, %ninf : f32
          memref.store %score, %fl[%i] : memref<896xf32, #gpu.address_space<workgroup>>
        }
        gpu.barrier

        // 4. Online softmax per query: the tile's maximum and the rescale
        //    of what came before (item = query), then the probabilities in
        //    place of the scores (item = query x position), so no thread
        //    takes a tile's exponentials in turn. A query that has seen
        //    nothing yet keeps max -inf (its probabilities are 0, its
        //    rescale 0, and so its sum stays 0).
        scf.for %i = %tid to %nqry step %wg {
          %srow = arith.muli %i, %tile : index
          %tmax = scf.for %j = %c0 to %tile step %c1 iter_args(%x = %ninf) -> (f32) {
            %at = arith.addi %srow, %j : index
            %sj = memref.load %fl[%at] : memref<896xf32, #gpu.address_space<workgroup>>
            %x2 = arith.maximumf %x, %sj : f32
            scf.yield %x2 : f32
          }
          %mi = arith.addi %m_at, %i : index
          %ci = arith.addi %corr_at, %i : index
          %m_old = memref.load %fl[%mi] : memref<896xf32, #gpu.address_space<workgroup>>
          %m_new = arith.maximumf %m_old, %tmax : f32
          %none = arith.cmpf oeq, %m_new, %ninf : f32
          %base = arith.select %none, %f0, %m_new : f32
          %was_none = arith.cmpf oeq, %m_old, %ninf : f32
          %dm = arith.subf %m_old, %base : f32
          %edm = math.exp %dm : f32
          %corr = arith.select %was_none, %f0, %edm : f32
          memref.store %m_new, %fl[%mi] : memref<896xf32, #gpu.address_space<workgroup>>
          memref.store %corr, %fl[%ci] : memref<896xf32, #gpu.address_space<workgroup>>
        }
        gpu.barrier
        scf.for %i = %tid to %scores step %wg {
          %qi = arith.divui %i, %tile : index
          %mi = arith.addi %m_at, %qi : index
          %m = memref.load %fl[%mi] : memref<896xf32, #gpu.address_space<workgroup>>
          %none = arith.cmpf oeq, %m, %ninf : f32
          %base = arith.select %none, %f0, %m : f32
          %sj = memref.load %fl[%i] : memref<896xf32, #gpu.address_space<workgroup>>
          %masked = arith.cmpf oeq, %sj, %ninf : f32
          %ds = arith.subf %sj, %base : f32
          %ex = math.exp %ds : f32
          %pj = arith.select %masked, %f0, %ex : f32
          memref.store %pj, %fl[%i] : memref<896xf32, #gpu.address_space<workgroup>>
        }
        gpu.barrier

        // 5. Probabilities times values into this thread's accumulator;
        //    the thread of a query's first unit also adds up its
        //    probabilities (in position order) into the running sum.
        %a_new = scf.if %owns -> (vector<4xf32>) {
          %ci = arith.addi %corr_at, %qo : index
          %corr = memref.load %fl[%ci] : memref<896xf32, #gpu.address_space<workgroup>>
          %corr4 = vector.broadcast %corr : f32 to vector<4xf32>
          %a_scaled = arith.mulf %a, %corr4 : vector<4xf32>
          %prow = arith.muli %qo, %tile : index
          %mixed:2 = scf.for %j = %c0 to %tile step %c1
              iter_args(%x = %a_scaled, %psum = %f0) -> (vector<4xf32>, f32) {
            %pa = arith.addi %prow, %j : index
            %pj = memref.load %fl[%pa] : memref<896xf32, #gpu.address_space<workgroup>>
            %pj4 = vector.broadcast %pj : f32 to vector<4xf32>
            %vrow0 = arith.muli %j, %hd4s : index
            %vrow = arith.addi %vt_at, %vrow0 : index
            %va = arith.addi %vrow, %uo : index
            %vv = memref.load %pool[%va] : memref<1792xvector<4xf32>, #gpu.address_space<workgroup>>
            %pv = arith.mulf %pj4, %vv fastmath<contract> : vector<4xf32>
            %x2 = arith.addf %x, %pv fastmath<contract> : vector<4xf32>
            %psum2 = arith.addf %psum, %pj : f32
            scf.yield %x2, %psum2 : vector<4xf32>, f32
          }
          %sums = arith.cmpi eq, %uo, %c0 : index
          scf.if %sums {
            %li = arith.addi %l_at, %qo : index
            %l_old = memref.load %fl[%li] : memref<896xf32, #gpu.address_space<workgroup>>
            %l_scaled = arith.mulf %l_old, %corr : f32
            %l_new = arith.addf %l_scaled, %mixed#1 : f32
            memref.store %l_new, %fl[%li] : memref<896xf32, #gpu.address_space<workgroup>>
          }
          scf.yield %mixed#0 : vector<4xf32>
        } else {
          scf.yield %a : vector<4xf32>
        }
        // The tile's keys, values and probabilities are rewritten next.
        gpu.barrier
        scf.yield %a_new : vector<4xf32>
      }

      // 6. Outputs of the rows in the run: the accumulator over the sum
      //    (zero where a row sees no position).
      %ro = arith.divui %qo, %block : index
      %hbo = arith.remui %qo, %block : index
      %to = arith.addi %t0, %ro : index
      %to_in = arith.cmpi ult, %to, %rows : index
      %writes = arith.andi %owns, %to_in : i1
      scf.if %writes {
        %li = arith.addi %l_at, %qo : index
        %l = memref.load %fl[%li] : memref<896xf32, #gpu.address_space<workgroup>>
        %l4 = vector.broadcast %l : f32 to vector<4xf32>
        %y4 = arith.divf %acc, %l4 : vector<4xf32>
        %seen = arith.cmpf ogt, %l, %f0 : f32
        %seen4 = vector.broadcast %seen : i1 to vector<4xi1>
        %y = arith.select %seen4, %y4, %zero4 : vector<4xi1>, vector<4xf32>
        %ho = arith.addi %h0, %hbo : index
        %or0 = arith.muli %to, %heads : index
        %or1 = arith.addi %or0, %ho : index
        %orow = arith.muli %or1, %head_dim : index
        %e0 = arith.muli %uo, %c4 : index
        %o0 = arith.addi %orow, %e0 : index
        %y0 = vector.extract %y[0] : f32 from vector<4xf32>
        memref.store %y0, %out[%o0] : memref<?xf32>
        %e1 = arith.addi %e0, %c1 : index
        %in1 = arith.cmpi ult, %e1, %head_dim : index
        scf.if %in1 {
          %o1 = arith.addi %orow, %e1 : index
          %y1 = vector.extract %y[1] : f32 from vector<4xf32>
          memref.store %y1, %out[%o1] : memref<?xf32>
        }
        %e2 = arith.addi %e0, %c2 : index
        %in2 = arith.cmpi ult, %e2, %head_dim : index
        scf.if %in2 {
          %o2 = arith.addi %orow, %e2 : index
          %y2 = vector.extract %y[2] : f32 from vector<4xf32>
          memref.store %y2, %out[%o2] : memref<?xf32>
        }
        %e3 = arith.addi %e0, %c3 : index
        %in3 = arith.cmpi ult, %e3, %head_dim : index
        scf.if %in3 {
          %o3 = arith.addi %orow, %e3 : index
          %y3 = vector.extract %y[3] : f32 from vector<4xf32>
          memref.store %y3, %out[%o3] : memref<?xf32>
        }
      }
    }
    gpu.return
  }
}
