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
// Element kinds (`elem`): 0 f32, 1 f16, 2 int8, 3 bf16. The workgroup size
// `wg` is at least head_dim and a multiple of 64, so each thread owns at
// most one feature and no lane runs a loop the others skip.
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

  // One workgroup per (row t, query head h) over grid (max_tokens, heads):
  // the query sees positions [lo, hi] (as Attention.cpp computes them),
  // [lo, cached_hi] from the cache and the rest from this run's k and v
  // rows (in flight: a ring cache's writer). Keys are taken in tiles of
  // `wg` positions, one per thread, with an online softmax (running max
  // and sum, the output rescaled per tile); thread d < head_dim accumulates
  // output feature d.
  gpu.func @attention(%q: memref<?xf32>, %k: memref<?xf32>, %v: memref<?xf32>,
                      %positions: memref<?xi32>, %cache: memref<?xi32>,
                      %out: memref<?xf32>, %run: memref<?xi32>,
                      %heads: index, %kv_heads: index, %head_dim: index,
                      %capacity: index, %ring: index, %in_flight: index,
                      %kind: index, %window: index, %causal: index,
                      %scale: f32, %softcap: f32, %elem: index,
                      %values_base: index, %key_scales: index,
                      %value_scales: index, %row_words: index,
                      %slot_words: index, %rows_slot: index, %wg: index)
      workgroup(%qs: memref<256xf32, #gpu.address_space<workgroup>>,
                %sc: memref<256xf32, #gpu.address_space<workgroup>>,
                %red: memref<64xf32, #gpu.address_space<workgroup>>)
      kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c4 = arith.constant 4 : index
    %f0 = arith.constant 0.0 : f32
    %ninf = arith.constant 0xFF800000 : f32
    %t = gpu.block_id x
    %h = gpu.block_id y
    %tid = gpu.thread_id x
    %rows32 = memref.load %run[%rows_slot] : memref<?xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %in_run = arith.cmpi ult, %t, %rows : index
    scf.if %in_run {
      %last_row = arith.subi %rows, %c1 : index
      %p32 = memref.load %positions[%t] : memref<?xi32>
      %p_in = arith.index_cast %p32 : i32 to index
      %first32 = memref.load %positions[%c0] : memref<?xi32>
      %first_in = arith.index_cast %first32 : i32 to index
      %last32 = memref.load %positions[%last_row] : memref<?xi32>
      %last_in = arith.index_cast %last32 : i32 to index
      // Bound check: the runtime's positions are consecutive from
      // first >= 0 and, for a linear cache, below its capacity. Anything
      // else (a corrupt artifact binding other rows as positions) is
      // replaced by rows 0.. of the run, so no slot or in-flight row index
      // leaves its buffer.
      %first_ok = arith.cmpi sge, %first_in, %c0 : index
      %p_rel = arith.subi %p_in, %first_in : index
      %p_ok = arith.cmpi eq, %p_rel, %t : index
      %span = arith.subi %last_in, %first_in : index
      %span_ok = arith.cmpi eq, %span, %last_row : index
      %last_fits = arith.cmpi slt, %last_in, %capacity : index
      %is_ring_cache = arith.cmpi ne, %ring, %c0 : index
      %fits = arith.ori %is_ring_cache, %last_fits : i1
      %ok0 = arith.andi %first_ok, %p_ok : i1
      %ok1 = arith.andi %ok0, %span_ok : i1
      %sane = arith.andi %ok1, %fits : i1
      %p = arith.select %sane, %p_in, %t : index
      %first = arith.select %sane, %first_in, %c0 : index
      %last = arith.select %sane, %last_in, %last_row : index
      %is_causal = arith.cmpi ne, %causal, %c0 : index
      %hi = arith.select %is_causal, %p, %last : index
      // lo: local windows end at p, chunks start at a multiple of window.
      %p1 = arith.addi %p, %c1 : index
      %wlo = arith.subi %p1, %window : index
      %local_lo = arith.maxsi %wlo, %c0 : index
      %chunk = arith.divui %p, %window : index
      %chunk_lo = arith.muli %chunk, %window : index
      %is_local = arith.cmpi eq, %kind, %c1 : index
      %is_chunked = arith.cmpi eq, %kind, %c2 : index
      %lo_a = arith.select %is_chunked, %chunk_lo, %c0 : index
      %lo_b = arith.select %is_local, %local_lo, %lo_a : index
      // A ring holds the `capacity` positions before the run (in flight)
      // or up to hi (appended first).
      %is_ring = arith.cmpi ne, %ring, %c0 : index
      %is_in_flight = arith.cmpi ne, %in_flight, %c0 : index
      // Without rows in flight every position comes from the cache (this
      // folds the k/v branches away).
      %not_in_flight = arith.cmpi eq, %in_flight, %c0 : index
      %hi1 = arith.addi %hi, %c1 : index
      %held_end = arith.select %is_in_flight, %first, %hi1 : index
      %held_lo = arith.subi %held_end, %capacity : index
      %ring_lo = arith.maxsi %lo_b, %held_lo : index
      %lo = arith.select %is_ring, %ring_lo, %lo_b : index
      %first_m1 = arith.subi %first, %c1 : index
      %flight_hi = arith.minsi %hi, %first_m1 : index
      %cached_hi = arith.select %is_in_flight, %flight_hi, %hi : index
      %group = arith.divui %heads, %kv_heads : index
      %g = arith.divui %h, %group : index
      %kv_width = arith.muli %kv_heads, %head_dim : index
      %g_off = arith.muli %g, %head_dim : index
      // Head g's row within a slot's keys or values.
      %g_row = arith.muli %g, %row_words : index
      %out0 = arith.muli %t, %heads : index
      %out1 = arith.addi %out0, %h : index
      %out_row = arith.muli %out1, %head_dim : index
      %owns = arith.cmpi ult, %tid, %head_dim : index
      scf.if %owns {
        %qi = arith.addi %out_row, %tid : index
        %qv = memref.load %q[%qi] : memref<?xf32>
        memref.store %qv, %qs[%tid] : memref<256xf32, #gpu.address_space<workgroup>>
      }
      gpu.barrier
      %n0 = arith.subi %hi1, %lo : index
      %empty = arith.cmpi sle, %n0, %c0 : index
      scf.if %empty {
        scf.if %owns {
          %oi = arith.addi %out_row, %tid : index
          memref.store %f0, %out[%oi] : memref<?xf32>
        }
      } else {
        %n = arith.maxsi %n0, %c1 : index
        %wg_m1 = arith.subi %wg, %c1 : index
        %n_up = arith.addi %n, %wg_m1 : index
        %tiles = arith.divui %n_up, %wg : index
        %sg = gpu.subgroup_size : index
        %sid = arith.divui %tid, %sg : index
        %lane = arith.remui %tid, %sg : index
        %nsg = arith.divui %wg, %sg : index
        %first_lane = arith.cmpi eq, %lane, %c0 : index
        %is_f32 = arith.cmpi eq, %elem, %c0 : index
        %is_f16 = arith.cmpi eq, %elem, %c1 : index
        %is_i8 = arith.cmpi eq, %elem, %c2 : index
        %has_cap = arith.cmpf ogt, %softcap, %f0 : f32
        // Every tile has at least one position: the loop runs >= 1 time.
        %res:3 = scf.for %tile = %c0 to %tiles step %c1
            iter_args(%m = %ninf, %l = %f0, %acc = %f0) -> (f32, f32, f32) {
          %tbase = arith.muli %tile, %wg : index
          %j = arith.addi %tbase, %tid : index
          %valid = arith.cmpi ult, %j, %n : index
          %pos = arith.addi %lo, %j : index
          %s = scf.if %valid -> (f32) {
            %held = arith.cmpi sle, %pos, %cached_hi : index
            %from_cache = arith.ori %not_in_flight, %held : i1
            %raw = scf.if %from_cache -> (f32) {
              %wrapped = arith.remui %pos, %capacity : index
              %slot = arith.select %is_ring, %wrapped, %pos : index
              %slot_at = arith.muli %slot, %slot_words : index
              %row = arith.addi %slot_at, %g_row : index
              %dot = scf.for %d = %c0 to %head_dim step %c1 iter_args(%a = %f0) -> (f32) {
                %qd = memref.load %qs[%d] : memref<256xf32, #gpu.address_space<workgroup>>
                // Key element d of the row (the element kind folds away).
                %kd = scf.if %is_f32 -> (f32) {
                  %at = arith.addi %row, %d : index
                  %w = memref.load %cache[%at] : memref<?xi32>
                  %x = arith.bitcast %w : i32 to f32
                  scf.yield %x : f32
                } else {
                  %x = scf.if %is_i8 -> (f32) {
                    %dw = arith.divui %d, %c4 : index
                    %at = arith.addi %row, %dw : index
                    %w = memref.load %cache[%at] : memref<?xi32>
                    %db = arith.remui %d, %c4 : index
                    %db32 = arith.index_cast %db : index to i32
                    %c8 = arith.constant 8 : i32
                    %c24 = arith.constant 24 : i32
                    %bsh = arith.muli %db32, %c8 : i32
                    %lsh = arith.subi %c24, %bsh : i32
                    %up = arith.shli %w, %lsh : i32
                    %code = arith.shrsi %up, %c24 : i32
                    %cf = arith.sitofp %code : i32 to f32
                    scf.yield %cf : f32
                  } else {
                    %dw = arith.divui %d, %c2 : index
                    %at = arith.addi %row, %dw : index
                    %w = memref.load %cache[%at] : memref<?xi32>
                    %odd = arith.remui %d, %c2 : index
                    %hx = scf.if %is_f16 -> (f32) {
                      %w1 = vector.broadcast %w : i32 to vector<1xi32>
                      %pair = vector.bitcast %w1 : vector<1xi32> to vector<2xf16>
                      %half = vector.extract %pair[%odd] : f16 from vector<2xf16>
                      %hf = arith.extf %half : f16 to f32
                      scf.yield %hf : f32
                    } else {
                      %c16 = arith.constant 16 : i32
                      %himask = arith.constant -65536 : i32
                      %lo16 = arith.shli %w, %c16 : i32
                      %hi16 = arith.andi %w, %himask : i32
                      %is_odd = arith.cmpi ne, %odd, %c0 : index
                      %bits = arith.select %is_odd, %hi16, %lo16 : i32
                      %bf = arith.bitcast %bits : i32 to f32
                      scf.yield %bf : f32
                    }
                    scf.yield %hx : f32
                  }
                  scf.yield %x : f32
                }
                %prod = arith.mulf %qd, %kd : f32
                %a2 = arith.addf %a, %prod : f32
                scf.yield %a2 : f32
              }
              %sv = scf.if %is_i8 -> (f32) {
                %sat0 = arith.addi %slot_at, %key_scales : index
                %sat = arith.addi %sat0, %g : index
                %sw = memref.load %cache[%sat] : memref<?xi32>
                %ks = arith.bitcast %sw : i32 to f32
                %both = arith.mulf %scale, %ks : f32
                %x = arith.mulf %dot, %both : f32
                scf.yield %x : f32
              } else {
                %x = arith.mulf %dot, %scale : f32
                scf.yield %x : f32
              }
              scf.yield %sv : f32
            } else {
              %rel = arith.subi %pos, %first : index
              %k0 = arith.muli %rel, %kv_width : index
              %krow = arith.addi %k0, %g_off : index
              %dot = scf.for %d = %c0 to %head_dim step %c1 iter_args(%a = %f0) -> (f32) {
                %qd = memref.load %qs[%d] : memref<256xf32, #gpu.address_space<workgroup>>
                %at = arith.addi %krow, %d : index
                %kd = memref.load %k[%at] : memref<?xf32>
                %prod = arith.mulf %qd, %kd : f32
                %a2 = arith.addf %a, %prod : f32
                scf.yield %a2 : f32
              }
              %x = arith.mulf %dot, %scale : f32
              scf.yield %x : f32
            }
            %capped = scf.if %has_cap -> (f32) {
              %r = arith.divf %raw, %softcap : f32
              %th = math.tanh %r : f32
              %c = arith.mulf %th, %softcap : f32
              scf.yield %c : f32
            } else {
              scf.yield %raw : f32
            }
            scf.yield %capped : f32
          } else {
            scf.yield %ninf : f32
          }
          // The tile's maximum score.
          %sub_max = gpu.subgroup_reduce maximumf %s : (f32) -> f32
          scf.if %first_lane {
            memref.store %sub_max, %red[%sid] : memref<64xf32, #gpu.address_space<workgroup>>
          }
          gpu.barrier
          %tmax = scf.for %i = %c0 to %nsg step %c1 iter_args(%a = %ninf) -> (f32) {
            %part = memref.load %red[%i] : memref<64xf32, #gpu.address_space<workgroup>>
            %a2 = arith.maximumf %a, %part : f32
            scf.yield %a2 : f32
          }
          gpu.barrier
          %m_new = arith.maximumf %m, %tmax : f32
          %dm = arith.subf %m, %m_new : f32
          %corr = math.exp %dm : f32
          %e = scf.if %valid -> (f32) {
            %ds = arith.subf %s, %m_new : f32
            %ex = math.exp %ds : f32
            scf.yield %ex : f32
          } else {
            scf.yield %f0 : f32
          }
          memref.store %e, %sc[%tid] : memref<256xf32, #gpu.address_space<workgroup>>
          %sub_sum = gpu.subgroup_reduce add %e : (f32) -> f32
          scf.if %first_lane {
            memref.store %sub_sum, %red[%sid] : memref<64xf32, #gpu.address_space<workgroup>>
          }
          gpu.barrier
          %tsum = scf.for %i = %c0 to %nsg step %c1 iter_args(%a = %f0) -> (f32) {
            %part = memref.load %red[%i] : memref<64xf32, #gpu.address_space<workgroup>>
            %a2 = arith.addf %a, %part : f32
            scf.yield %a2 : f32
          }
          %l_scaled = arith.mulf %l, %corr : f32
          %l_new = arith.addf %l_scaled, %tsum : f32
          // Positions of this tile: min(wg, n - tbase) >= 1.
          %left = arith.subi %n, %tbase : index
          %count = arith.minui %left, %wg : index
          %acc_new = scf.if %owns -> (f32) {
            %acc_scaled = arith.mulf %acc, %corr : f32
            %mixed = scf.for %i = %c0 to %count step %c1 iter_args(%a = %acc_scaled) -> (f32) {
              %pi = memref.load %sc[%i] : memref<256xf32, #gpu.address_space<workgroup>>
              %ti = arith.addi %tbase, %i : index
              %vpos = arith.addi %lo, %ti : index
              %held = arith.cmpi sle, %vpos, %cached_hi : index
              %from_cache = arith.ori %not_in_flight, %held : i1
              %val = scf.if %from_cache -> (f32) {
                %wrapped = arith.remui %vpos, %capacity : index
                %slot = arith.select %is_ring, %wrapped, %vpos : index
                %slot_at = arith.muli %slot, %slot_words : index
                %r0 = arith.addi %slot_at, %values_base : index
                %row = arith.addi %r0, %g_row : index
                %vd = scf.if %is_f32 -> (f32) {
                  %at = arith.addi %row, %tid : index
                  %w = memref.load %cache[%at] : memref<?xi32>
                  %x = arith.bitcast %w : i32 to f32
                  scf.yield %x : f32
                } else {
                  %x = scf.if %is_i8 -> (f32) {
                    %dw = arith.divui %tid, %c4 : index
                    %at = arith.addi %row, %dw : index
                    %w = memref.load %cache[%at] : memref<?xi32>
                    %db = arith.remui %tid, %c4 : index
                    %db32 = arith.index_cast %db : index to i32
                    %c8 = arith.constant 8 : i32
                    %c24 = arith.constant 24 : i32
                    %bsh = arith.muli %db32, %c8 : i32
                    %lsh = arith.subi %c24, %bsh : i32
                    %up = arith.shli %w, %lsh : i32
                    %code = arith.shrsi %up, %c24 : i32
                    %cf = arith.sitofp %code : i32 to f32
                    %sat0 = arith.addi %slot_at, %value_scales : index
                    %sat = arith.addi %sat0, %g : index
                    %sw = memref.load %cache[%sat] : memref<?xi32>
                    %vs = arith.bitcast %sw : i32 to f32
                    %dq = arith.mulf %cf, %vs : f32
                    scf.yield %dq : f32
                  } else {
                    %dw = arith.divui %tid, %c2 : index
                    %at = arith.addi %row, %dw : index
                    %w = memref.load %cache[%at] : memref<?xi32>
                    %odd = arith.remui %tid, %c2 : index
                    %hx = scf.if %is_f16 -> (f32) {
                      %w1 = vector.broadcast %w : i32 to vector<1xi32>
                      %pair = vector.bitcast %w1 : vector<1xi32> to vector<2xf16>
                      %half = vector.extract %pair[%odd] : f16 from vector<2xf16>
                      %hf = arith.extf %half : f16 to f32
                      scf.yield %hf : f32
                    } else {
                      %c16 = arith.constant 16 : i32
                      %himask = arith.constant -65536 : i32
                      %lo16 = arith.shli %w, %c16 : i32
                      %hi16 = arith.andi %w, %himask : i32
                      %is_odd = arith.cmpi ne, %odd, %c0 : index
                      %bits = arith.select %is_odd, %hi16, %lo16 : i32
                      %bf = arith.bitcast %bits : i32 to f32
                      scf.yield %bf : f32
                    }
                    scf.yield %hx : f32
                  }
                  scf.yield %x : f32
                }
                scf.yield %vd : f32
              } else {
                %rel = arith.subi %vpos, %first : index
                %v0 = arith.muli %rel, %kv_width : index
                %vrow = arith.addi %v0, %g_off : index
                %at = arith.addi %vrow, %tid : index
                %x = memref.load %v[%at] : memref<?xf32>
                scf.yield %x : f32
              }
              %pv = arith.mulf %pi, %val : f32
              %a2 = arith.addf %a, %pv : f32
              scf.yield %a2 : f32
            }
            scf.yield %mixed : f32
          } else {
            scf.yield %f0 : f32
          }
          // Scores and partial sums are rewritten by the next tile.
          gpu.barrier
          scf.yield %m_new, %l_new, %acc_new : f32, f32, f32
        }
        scf.if %owns {
          %y = arith.divf %res#2, %res#1 : f32
          %oi = arith.addi %out_row, %tid : index
          memref.store %y, %out[%oi] : memref<?xf32>
        }
      }
    }
    gpu.return
  }
}
