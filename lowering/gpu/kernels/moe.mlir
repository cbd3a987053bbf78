// Mixture of experts (plan.moe_route, plan.moe_combine, plan.moe), as
// runtime/cpu (KernelInstances.cpp MoeRoute/MoeCombine, Moe.cpp) computes
// them. plan.moe runs as moe_matvec (router) -> moe_route -> moe_matvec
// (the selected experts' gate_up) -> moe_glu -> moe_matvec (their down) ->
// moe_weighted_sum, plus the shared expert's matvecs, moe_glu and
// moe_add_shared; intermediates live in the program's scratch.
//
// Weights are read as 32-bit words (`wtype`): 0 f32, 1 f16, 2 packed 2-/4-bit
// codes (lowering/quant/QuantMath.h row_major: codes, then f16/bf16 scales,
// then affine minimums), 3 bf16. Activations (`act`): 0 silu, 1 gelu (erf),
// 2 gelu_tanh, 3 sigmoid, 4 relu.
gpu.module @kernels {
  // Routing of one row per thread: scores (softmax or sigmoid of the
  // router logits), the top_k in descending score with ties to the lower
  // expert (each choice is the best expert ordered after the previous one),
  // optionally renormalized to sum to one.
  gpu.func @moe_route(%logits: memref<?xf32>, %weights: memref<?xf32>,
                      %indices: memref<?xi32>, %run: memref<?xi32>,
                      %experts: index, %top_k: index, %softmax: index,
                      %normalize: index, %rows_slot: index) kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %f0 = arith.constant 0.0 : f32
    %f1 = arith.constant 1.0 : f32
    %ninf = arith.constant 0xFF800000 : f32
    %pinf = arith.constant 0x7F800000 : f32
    %rows32 = memref.load %run[%rows_slot] : memref<?xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %t = gpu.global_id x
    %live = arith.cmpi ult, %t, %rows : index
    scf.if %live {
      %base = arith.muli %t, %experts : index
      %out_base = arith.muli %t, %top_k : index
      %is_softmax = arith.cmpi ne, %softmax, %c0 : index
      %max = scf.for %e = %c0 to %experts step %c1 iter_args(%m = %ninf) -> (f32) {
        %i = arith.addi %base, %e : index
        %l = memref.load %logits[%i] : memref<?xf32>
        %m2 = arith.maximumf %m, %l : f32
        scf.yield %m2 : f32
      }
      %sum = scf.for %e = %c0 to %experts step %c1 iter_args(%s = %f0) -> (f32) {
        %i = arith.addi %base, %e : index
        %l = memref.load %logits[%i] : memref<?xf32>
        %d = arith.subf %l, %max : f32
        %x = math.exp %d : f32
        %s2 = arith.addf %s, %x : f32
        scf.yield %s2 : f32
      }
      %m1 = arith.constant -1 : index
      %picked:3 = scf.for %j = %c0 to %top_k step %c1
          iter_args(%prev_s = %pinf, %prev_e = %m1, %total = %f0) -> (f32, index, f32) {
        %best:2 = scf.for %e = %c0 to %experts step %c1
            iter_args(%bs = %ninf, %be = %m1) -> (f32, index) {
          %i = arith.addi %base, %e : index
          %l = memref.load %logits[%i] : memref<?xf32>
          %score = scf.if %is_softmax -> (f32) {
            %d = arith.subf %l, %max : f32
            %x = math.exp %d : f32
            %p = arith.divf %x, %sum : f32
            scf.yield %p : f32
          } else {
            %n = arith.negf %l : f32
            %x = math.exp %n : f32
            %d = arith.addf %f1, %x : f32
            %p = arith.divf %f1, %d : f32
            scf.yield %p : f32
          }
          // After the previous choice in (score desc, expert asc) order.
          %lower = arith.cmpf olt, %score, %prev_s : f32
          %tie = arith.cmpf oeq, %score, %prev_s : f32
          %later = arith.cmpi sgt, %e, %prev_e : index
          %tie_later = arith.andi %tie, %later : i1
          %eligible = arith.ori %lower, %tie_later : i1
          %none = arith.cmpi slt, %be, %c0 : index
          %better = arith.cmpf ogt, %score, %bs : f32
          %wins0 = arith.ori %none, %better : i1
          %wins = arith.andi %eligible, %wins0 : i1
          %bs2 = arith.select %wins, %score, %bs : f32
          %be2 = arith.select %wins, %e, %be : index
          scf.yield %bs2, %be2 : f32, index
        }
        %o = arith.addi %out_base, %j : index
        memref.store %best#0, %weights[%o] : memref<?xf32>
        %be32 = arith.index_cast %best#1 : index to i32
        memref.store %be32, %indices[%o] : memref<?xi32>
        %total2 = arith.addf %total, %best#0 : f32
        scf.yield %best#0, %best#1, %total2 : f32, index, f32
      }
      %do_norm = arith.cmpi ne, %normalize, %c0 : index
      %positive = arith.cmpf ogt, %picked#2, %f0 : f32
      %norm = arith.andi %do_norm, %positive : i1
      scf.if %norm {
        scf.for %j = %c0 to %top_k step %c1 {
          %o = arith.addi %out_base, %j : index
          %w = memref.load %weights[%o] : memref<?xf32>
          %wn = arith.divf %w, %picked#2 : f32
          memref.store %wn, %weights[%o] : memref<?xf32>
        }
      }
    }
    gpu.return
  }

  // plan.moe_combine, one dispatch per expert: out[t, i] (+)= w[t, j] *
  // x[t, i] for the choices j of row t that picked `expert`; the first
  // dispatch (`first`) starts from zero. One thread per element.
  gpu.func @moe_combine_expert(%weights: memref<?xf32>, %indices: memref<?xi32>,
                               %x: memref<?xf32>, %out: memref<?xf32>,
                               %run: memref<?xi32>, %width: index,
                               %top_k: index, %expert: index, %first: index,
                               %rows_slot: index) kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %f0 = arith.constant 0.0 : f32
    %rows32 = memref.load %run[%rows_slot] : memref<?xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %n = arith.muli %rows, %width : index
    %i = gpu.global_id x
    %live = arith.cmpi ult, %i, %n : index
    scf.if %live {
      %t = arith.divui %i, %width : index
      %is_first = arith.cmpi ne, %first, %c0 : index
      %init = scf.if %is_first -> (f32) {
        scf.yield %f0 : f32
      } else {
        %y = memref.load %out[%i] : memref<?xf32>
        scf.yield %y : f32
      }
      %xv = memref.load %x[%i] : memref<?xf32>
      %expert32 = arith.index_cast %expert : index to i32
      %wbase = arith.muli %t, %top_k : index
      %acc = scf.for %j = %c0 to %top_k step %c1 iter_args(%a = %init) -> (f32) {
        %o = arith.addi %wbase, %j : index
        %e = memref.load %indices[%o] : memref<?xi32>
        %hit = arith.cmpi eq, %e, %expert32 : i32
        %w = memref.load %weights[%o] : memref<?xf32>
        %p = arith.mulf %w, %xv : f32
        %a2 = arith.addf %a, %p : f32
        %a3 = arith.select %hit, %a2, %a : f32
        scf.yield %a3 : f32
      }
      memref.store %acc, %out[%i] : memref<?xf32>
    }
    gpu.return
  }

  // Groups the run's slots by expert for the grouped moe_matvec and expert
  // GEMMs: `lists` gets [experts + 1] starts, then the slots s = t * top_k
  // + j whose indices[s] is e at [experts + 1 + starts[e], experts + 1 +
  // starts[e + 1]), in slot order (deterministic: no atomics). Workgroup e
  // (grid experts) lists expert e: thread i takes the i-th of `wg`
  // consecutive runs of slots and counts, in one pass, the slots of
  // experts before e (their sum is e's start) and of e; an exclusive scan
  // of the threads' counts places each thread's slots of e, which a second
  // pass over its run writes in order. Workgroup e writes starts[e + 1],
  // workgroup 0 starts[0] too. Each thread reads about 2 * slots / wg
  // indices, whatever the number of experts.
  gpu.func @moe_group(%indices: memref<?xi32>, %lists: memref<?xi32>,
                      %run: memref<?xi32>, %experts: index, %top_k: index,
                      %rows_slot: index, %wg: index)
      workgroup(%mine_at: memref<256xi32, #gpu.address_space<workgroup>>,
                %before_at: memref<256xi32, #gpu.address_space<workgroup>>)
      kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %z = arith.constant 0 : i32
    %one = arith.constant 1 : i32
    %e = gpu.block_id x
    %tid = gpu.thread_id x
    %e32 = arith.index_cast %e : index to i32
    %rows32 = memref.load %run[%rows_slot] : memref<?xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %slots = arith.muli %rows, %top_k : index
    // Thread tid's run of slots: [from, to).
    %wg_m1 = arith.subi %wg, %c1 : index
    %slots_up = arith.addi %slots, %wg_m1 : index
    %per = arith.divui %slots_up, %wg : index
    %from0 = arith.muli %tid, %per : index
    %from = arith.minui %from0, %slots : index
    %to0 = arith.addi %from, %per : index
    %to = arith.minui %to0, %slots : index
    %mine, %before = scf.for %s = %from to %to step %c1
        iter_args(%m = %z, %b = %z) -> (i32, i32) {
      %pick = memref.load %indices[%s] : memref<?xi32>
      %is_mine = arith.cmpi eq, %pick, %e32 : i32
      %is_before = arith.cmpi slt, %pick, %e32 : i32
      %m1 = arith.addi %m, %one : i32
      %b1 = arith.addi %b, %one : i32
      %m2 = arith.select %is_mine, %m1, %m : i32
      %b2 = arith.select %is_before, %b1, %b : i32
      scf.yield %m2, %b2 : i32, i32
    }
    memref.store %mine, %mine_at[%tid] : memref<256xi32, #gpu.address_space<workgroup>>
    memref.store %before, %before_at[%tid] : memref<256xi32, #gpu.address_space<workgroup>>
    gpu.barrier
    // Thread 0: the exclusive scan of the counts of e (in place) and the
    // start of e.
    %is_t0 = arith.cmpi eq, %tid, %c0 : index
    scf.if %is_t0 {
      %start, %count = scf.for %i = %c0 to %wg step %c1
          iter_args(%st = %z, %at = %z) -> (i32, i32) {
        %b = memref.load %before_at[%i] : memref<256xi32, #gpu.address_space<workgroup>>
        %m = memref.load %mine_at[%i] : memref<256xi32, #gpu.address_space<workgroup>>
        memref.store %at, %mine_at[%i] : memref<256xi32, #gpu.address_space<workgroup>>
        %st1 = arith.addi %st, %b : i32
        %at1 = arith.addi %at, %m : i32
        scf.yield %st1, %at1 : i32, i32
      }
      memref.store %start, %before_at[%c0] : memref<256xi32, #gpu.address_space<workgroup>>
      %end = arith.addi %start, %count : i32
      %e1 = arith.addi %e, %c1 : index
      memref.store %end, %lists[%e1] : memref<?xi32>
      %first = arith.cmpi eq, %e, %c0 : index
      scf.if %first {
        memref.store %z, %lists[%c0] : memref<?xi32>
      }
    }
    gpu.barrier
    %start32 = memref.load %before_at[%c0] : memref<256xi32, #gpu.address_space<workgroup>>
    %offset32 = memref.load %mine_at[%tid] : memref<256xi32, #gpu.address_space<workgroup>>
    %start = arith.index_cast %start32 : i32 to index
    %offset = arith.index_cast %offset32 : i32 to index
    %base = arith.addi %experts, %c1 : index
    %at0 = arith.addi %base, %start : index
    %at_first = arith.addi %at0, %offset : index
    %end = scf.for %s = %from to %to step %c1 iter_args(%at = %at_first) -> (index) {
      %pick = memref.load %indices[%s] : memref<?xi32>
      %is_mine = arith.cmpi eq, %pick, %e32 : i32
      %at2 = scf.if %is_mine -> (index) {
        %s32 = arith.index_cast %s : index to i32
        memref.store %s32, %lists[%at] : memref<?xi32>
        %at1 = arith.addi %at, %c1 : index
        scf.yield %at1 : index
      } else {
        scf.yield %at : index
      }
      scf.yield %at2 : index
    }
    gpu.return
  }

  // y[s, o] = x[row(s)] . W[r(s, o)] over `k` features. Slot-major
  // (`grouped` 0): one workgroup per (slot s, output o) over grid (slots,
  // n). With `gather`, slot s = t * top_k + j runs row o of expert
  // indices[s] (r = e * n + o) and reads input row s (`slot_input`) or t;
  // without, r = o and slot s is row s. Grouped (prefill; `lists` from
  // moe_group): one workgroup per (expert e, output o) over grid (experts,
  // n) runs row r = e * n + o for every slot of e's list, 4 slots a pass:
  // each weight element is read and decoded once for the 4, and an expert
  // no slot picked costs nothing. Threads take features tid, tid + wg, ...
  // in ceil(k / wg) uniform steps; a slot's sum is taken in the same order
  // either way (the same bits).
  gpu.func @moe_matvec(%x: memref<?xf32>, %w: memref<?xi32>,
                       %indices: memref<?xi32>, %lists: memref<?xi32>,
                       %y: memref<?xf32>,
                       %run: memref<?xi32>, %k: index, %n: index,
                       %top_k: index, %gather: index, %slot_input: index,
                       %grouped: index, %experts: index,
                       %wtype: index, %bits: index, %affine: index,
                       %group: index, %groups: index, %scales_half: index,
                       %mins_half: index, %scale_bf16: index,
                       %row_bytes: index, %rows_slot: index, %wg: index)
      workgroup(%red: memref<256xf32, #gpu.address_space<workgroup>>)
      kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c4 = arith.constant 4 : index
    %c8 = arith.constant 8 : index
    %f0 = arith.constant 0.0 : f32
    %bx = gpu.block_id x
    %o = gpu.block_id y
    %tid = gpu.thread_id x
    %rows32 = memref.load %run[%rows_slot] : memref<?xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %slots = arith.muli %rows, %top_k : index
    %is_grouped = arith.cmpi ne, %grouped, %c0 : index
    // The workgroup's slots: list[first, first + count) of `lists` when
    // grouped (expert bx's), else the one slot bx.
    %first, %count = scf.if %is_grouped -> (index, index) {
      %e1 = arith.addi %bx, %c1 : index
      %a32 = memref.load %lists[%bx] : memref<?xi32>
      %b32 = memref.load %lists[%e1] : memref<?xi32>
      %a = arith.index_cast %a32 : i32 to index
      %b = arith.index_cast %b32 : i32 to index
      %base = arith.addi %experts, %c1 : index
      %f = arith.addi %base, %a : index
      %nl = arith.subi %b, %a : index
      scf.yield %f, %nl : index, index
    } else {
      %in_run = arith.cmpi ult, %bx, %slots : index
      %one = arith.select %in_run, %c1, %c0 : index
      scf.yield %c0, %one : index, index
    }
    %any = arith.cmpi ugt, %count, %c0 : index
    scf.if %any {
      // The weight row: the same for every slot of the workgroup.
      %is_gather = arith.cmpi ne, %gather, %c0 : index
      %r = scf.if %is_grouped -> (index) {
        %en = arith.muli %bx, %n : index
        %ro = arith.addi %en, %o : index
        scf.yield %ro : index
      } else {
        %rs = scf.if %is_gather -> (index) {
          %e32 = memref.load %indices[%bx] : memref<?xi32>
          %e = arith.index_cast %e32 : i32 to index
          %en = arith.muli %e, %n : index
          %ro = arith.addi %en, %o : index
          scf.yield %ro : index
        } else {
          scf.yield %o : index
        }
        scf.yield %rs : index
      }
      %by_slot = arith.cmpi ne, %slot_input, %c0 : index
      %is_f32 = arith.cmpi eq, %wtype, %c0 : index
      %is_f16 = arith.cmpi eq, %wtype, %c1 : index
      %is_packed = arith.cmpi eq, %wtype, %c2 : index
      %is_affine = arith.cmpi ne, %affine, %c0 : index
      %is_sbf16 = arith.cmpi ne, %scale_bf16, %c0 : index
      %rk = arith.muli %r, %k : index
      %wg_m1 = arith.subi %wg, %c1 : index
      %k_up = arith.addi %k, %wg_m1 : index
      %steps = arith.divui %k_up, %wg : index
      %sg = gpu.subgroup_size : index
      %sid = arith.divui %tid, %sg : index
      %lane = arith.remui %tid, %sg : index
      %nsg = arith.divui %wg, %sg : index
      %first_lane = arith.cmpi eq, %lane, %c0 : index
      %last = arith.subi %count, %c1 : index
      %count3 = arith.addi %count, %c3 : index
      %passes = arith.divui %count3, %c4 : index
      scf.for %pass = %c0 to %passes step %c1 {
        %p0 = arith.muli %pass, %c4 : index
        // Slot j of the pass (the last slot again past the count: computed,
        // never written) and its input row's start.
        %j1 = arith.addi %p0, %c1 : index
        %j2 = arith.addi %p0, %c2 : index
        %j3 = arith.addi %p0, %c3 : index
        %q0 = arith.minui %p0, %last : index
        %q1 = arith.minui %j1, %last : index
        %q2 = arith.minui %j2, %last : index
        %q3 = arith.minui %j3, %last : index
        %xb:4 = scf.if %is_grouped -> (index, index, index, index) {
          %l0 = arith.addi %first, %q0 : index
          %l1 = arith.addi %first, %q1 : index
          %l2 = arith.addi %first, %q2 : index
          %l3 = arith.addi %first, %q3 : index
          %v0 = memref.load %lists[%l0] : memref<?xi32>
          %v1 = memref.load %lists[%l1] : memref<?xi32>
          %v2 = memref.load %lists[%l2] : memref<?xi32>
          %v3 = memref.load %lists[%l3] : memref<?xi32>
          %s0 = arith.index_cast %v0 : i32 to index
          %s1 = arith.index_cast %v1 : i32 to index
          %s2 = arith.index_cast %v2 : i32 to index
          %s3 = arith.index_cast %v3 : i32 to index
          %t0 = arith.divui %s0, %top_k : index
          %t1 = arith.divui %s1, %top_k : index
          %t2 = arith.divui %s2, %top_k : index
          %t3 = arith.divui %s3, %top_k : index
          %r0 = arith.select %by_slot, %s0, %t0 : index
          %r1 = arith.select %by_slot, %s1, %t1 : index
          %r2 = arith.select %by_slot, %s2, %t2 : index
          %r3 = arith.select %by_slot, %s3, %t3 : index
          %b0 = arith.muli %r0, %k : index
          %b1 = arith.muli %r1, %k : index
          %b2 = arith.muli %r2, %k : index
          %b3 = arith.muli %r3, %k : index
          scf.yield %b0, %b1, %b2, %b3 : index, index, index, index
        } else {
          %t = arith.divui %bx, %top_k : index
          %in_row = arith.select %by_slot, %bx, %t : index
          %b = arith.muli %in_row, %k : index
          scf.yield %b, %b, %b, %b : index, index, index, index
        }
      %partial:4 = scf.for %step = %c0 to %steps step %c1
          iter_args(%a0 = %f0, %a1 = %f0, %a2 = %f0, %a3 = %f0) -> (f32, f32, f32, f32) {
        %sb = arith.muli %step, %wg : index
        %i = arith.addi %sb, %tid : index
        %has = arith.cmpi ult, %i, %k : index
        %next:4 = scf.if %has -> (f32, f32, f32, f32) {
          %xi0 = arith.addi %xb#0, %i : index
          %xi1 = arith.addi %xb#1, %i : index
          %xi2 = arith.addi %xb#2, %i : index
          %xi3 = arith.addi %xb#3, %i : index
          %xv0 = memref.load %x[%xi0] : memref<?xf32>
          %xv1 = memref.load %x[%xi1] : memref<?xf32>
          %xv2 = memref.load %x[%xi2] : memref<?xf32>
          %xv3 = memref.load %x[%xi3] : memref<?xf32>
          %wv = scf.if %is_f32 -> (f32) {
            %at = arith.addi %rk, %i : index
            %word = memref.load %w[%at] : memref<?xi32>
            %f = arith.bitcast %word : i32 to f32
            scf.yield %f : f32
          } else {
            %v = scf.if %is_packed -> (f32) {
              // Code i of row r: byte r * row_bytes + i * bits / 8, at bit
              // (i * bits) % 8 of it.
              %ib = arith.muli %i, %bits : index
              %ibyte = arith.divui %ib, %c8 : index
              %ibit = arith.remui %ib, %c8 : index
              %rb = arith.muli %r, %row_bytes : index
              %byte = arith.addi %rb, %ibyte : index
              %wi = arith.divui %byte, %c4 : index
              %word = memref.load %w[%wi] : memref<?xi32>
              %bw = arith.remui %byte, %c4 : index
              %bws = arith.muli %bw, %c8 : index
              %shift = arith.addi %bws, %ibit : index
              %shift32 = arith.index_cast %shift : index to i32
              %moved = arith.shrui %word, %shift32 : i32
              %bits32 = arith.index_cast %bits : index to i32
              %one = arith.constant 1 : i32
              %top = arith.shli %one, %bits32 : i32
              %qmax = arith.subi %top, %one : i32
              %q = arith.andi %moved, %qmax : i32
              %qf = arith.uitofp %q : i32 to f32
              %gi = arith.divui %i, %group : index
              %rg = arith.muli %r, %groups : index
              %sidx = arith.addi %rg, %gi : index
              // The group's scale: half-word scales_half + sidx.
              %sh = arith.addi %scales_half, %sidx : index
              %sw_i = arith.divui %sh, %c2 : index
              %sw = memref.load %w[%sw_i] : memref<?xi32>
              %sodd = arith.remui %sh, %c2 : index
              %scale = scf.if %is_sbf16 -> (f32) {
                %c16 = arith.constant 16 : i32
                %himask = arith.constant -65536 : i32
                %lo16 = arith.shli %sw, %c16 : i32
                %hi16 = arith.andi %sw, %himask : i32
                %is_odd = arith.cmpi ne, %sodd, %c0 : index
                %b = arith.select %is_odd, %hi16, %lo16 : i32
                %f = arith.bitcast %b : i32 to f32
                scf.yield %f : f32
              } else {
                %w1 = vector.broadcast %sw : i32 to vector<1xi32>
                %pair = vector.bitcast %w1 : vector<1xi32> to vector<2xf16>
                %hh = vector.extract %pair[%sodd] : f16 from vector<2xf16>
                %f = arith.extf %hh : f16 to f32
                scf.yield %f : f32
              }
              %val = scf.if %is_affine -> (f32) {
                %mh = arith.addi %mins_half, %sidx : index
                %mw_i = arith.divui %mh, %c2 : index
                %mw = memref.load %w[%mw_i] : memref<?xi32>
                %modd = arith.remui %mh, %c2 : index
                %min = scf.if %is_sbf16 -> (f32) {
                  %c16 = arith.constant 16 : i32
                  %himask = arith.constant -65536 : i32
                  %lo16 = arith.shli %mw, %c16 : i32
                  %hi16 = arith.andi %mw, %himask : i32
                  %is_odd = arith.cmpi ne, %modd, %c0 : index
                  %b = arith.select %is_odd, %hi16, %lo16 : i32
                  %f = arith.bitcast %b : i32 to f32
                  scf.yield %f : f32
                } else {
                  %w1 = vector.broadcast %mw : i32 to vector<1xi32>
                  %pair = vector.bitcast %w1 : vector<1xi32> to vector<2xf16>
                  %hh = vector.extract %pair[%modd] : f16 from vector<2xf16>
                  %f = arith.extf %hh : f16 to f32
                  scf.yield %f : f32
                }
                %sq = arith.mulf %scale, %qf : f32
                %am = arith.addf %sq, %min : f32
                scf.yield %am : f32
              } else {
                // Balanced grid: s * (q - (2^bits - 1) / 2).
                %qmaxf = arith.uitofp %qmax : i32 to f32
                %halfc = arith.constant 0.5 : f32
                %off = arith.mulf %qmaxf, %halfc : f32
                %centered = arith.subf %qf, %off : f32
                %bv = arith.mulf %scale, %centered : f32
                scf.yield %bv : f32
              }
              scf.yield %val : f32
            } else {
              // 16-bit elements: element r * k + i is half-word of a word.
              %at = arith.addi %rk, %i : index
              %wi = arith.divui %at, %c2 : index
              %word = memref.load %w[%wi] : memref<?xi32>
              %odd = arith.remui %at, %c2 : index
              %hv = scf.if %is_f16 -> (f32) {
                %w1 = vector.broadcast %word : i32 to vector<1xi32>
                %pair = vector.bitcast %w1 : vector<1xi32> to vector<2xf16>
                %hh = vector.extract %pair[%odd] : f16 from vector<2xf16>
                %f = arith.extf %hh : f16 to f32
                scf.yield %f : f32
              } else {
                %c16 = arith.constant 16 : i32
                %himask = arith.constant -65536 : i32
                %lo16 = arith.shli %word, %c16 : i32
                %hi16 = arith.andi %word, %himask : i32
                %is_odd = arith.cmpi ne, %odd, %c0 : index
                %b = arith.select %is_odd, %hi16, %lo16 : i32
                %f = arith.bitcast %b : i32 to f32
                scf.yield %f : f32
              }
              scf.yield %hv : f32
            }
            scf.yield %v : f32
          }
          %m0 = arith.mulf %xv0, %wv : f32
          %m1 = arith.mulf %xv1, %wv : f32
          %m2 = arith.mulf %xv2, %wv : f32
          %m3 = arith.mulf %xv3, %wv : f32
          %n0 = arith.addf %a0, %m0 : f32
          %n1 = arith.addf %a1, %m1 : f32
          %n2 = arith.addf %a2, %m2 : f32
          %n3 = arith.addf %a3, %m3 : f32
          scf.yield %n0, %n1, %n2, %n3 : f32, f32, f32, f32
        } else {
          scf.yield %a0, %a1, %a2, %a3 : f32, f32, f32, f32
        }
        scf.yield %next#0, %next#1, %next#2, %next#3 : f32, f32, f32, f32
      }
      // Slot j's subgroup sums at red[j * 64 + subgroup]; thread j adds
      // them and writes the slot's output. Slot-major launches have one
      // slot: the other three sums are not taken (`grouped` folds).
      %sub0 = gpu.subgroup_reduce add %partial#0 : (f32) -> f32
      scf.if %first_lane {
        memref.store %sub0, %red[%sid] : memref<256xf32, #gpu.address_space<workgroup>>
      }
      scf.if %is_grouped {
        %sub1 = gpu.subgroup_reduce add %partial#1 : (f32) -> f32
        %sub2 = gpu.subgroup_reduce add %partial#2 : (f32) -> f32
        %sub3 = gpu.subgroup_reduce add %partial#3 : (f32) -> f32
        scf.if %first_lane {
          %c64 = arith.constant 64 : index
          %c128 = arith.constant 128 : index
          %c192 = arith.constant 192 : index
          %i1 = arith.addi %sid, %c64 : index
          %i2 = arith.addi %sid, %c128 : index
          %i3 = arith.addi %sid, %c192 : index
          memref.store %sub1, %red[%i1] : memref<256xf32, #gpu.address_space<workgroup>>
          memref.store %sub2, %red[%i2] : memref<256xf32, #gpu.address_space<workgroup>>
          memref.store %sub3, %red[%i3] : memref<256xf32, #gpu.address_space<workgroup>>
        }
      }
      gpu.barrier
      %jw = arith.addi %p0, %tid : index
      %is_writer = arith.cmpi ult, %tid, %c4 : index
      %in_list = arith.cmpi ult, %jw, %count : index
      %writes = arith.andi %is_writer, %in_list : i1
      scf.if %writes {
        %c64 = arith.constant 64 : index
        %rb = arith.muli %tid, %c64 : index
        %total = scf.for %i = %c0 to %nsg step %c1 iter_args(%a = %f0) -> (f32) {
          %ri = arith.addi %rb, %i : index
          %part = memref.load %red[%ri] : memref<256xf32, #gpu.address_space<workgroup>>
          %a2 = arith.addf %a, %part : f32
          scf.yield %a2 : f32
        }
        %s = scf.if %is_grouped -> (index) {
          %li = arith.addi %first, %jw : index
          %v = memref.load %lists[%li] : memref<?xi32>
          %sv = arith.index_cast %v : i32 to index
          scf.yield %sv : index
        } else {
          scf.yield %bx : index
        }
        %sn = arith.muli %s, %n : index
        %yi = arith.addi %sn, %o : index
        memref.store %total, %y[%yi] : memref<?xf32>
      }
      // The partials are rewritten by the next pass.
      gpu.barrier
      }
    }
    gpu.return
  }

  // h[s, i] = act(gu[s, i]) * gu[s, inter + i] for the run's rows * top_k
  // slots (top_k 1 for the shared expert). One thread per element.
  gpu.func @moe_glu(%gu: memref<?xf32>, %h: memref<?xf32>, %run: memref<?xi32>,
                    %inter: index, %top_k: index, %act: index,
                    %rows_slot: index) kernel {
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c4 = arith.constant 4 : index
    %f0 = arith.constant 0.0 : f32
    %f1 = arith.constant 1.0 : f32
    %half = arith.constant 0.5 : f32
    %rows32 = memref.load %run[%rows_slot] : memref<?xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %slots = arith.muli %rows, %top_k : index
    %n = arith.muli %slots, %inter : index
    %idx = gpu.global_id x
    %live = arith.cmpi ult, %idx, %n : index
    scf.if %live {
      %s = arith.divui %idx, %inter : index
      %i = arith.remui %idx, %inter : index
      %two_inter = arith.muli %inter, %c2 : index
      %gb = arith.muli %s, %two_inter : index
      %gi = arith.addi %gb, %i : index
      %ui = arith.addi %gi, %inter : index
      %g = memref.load %gu[%gi] : memref<?xf32>
      %u = memref.load %gu[%ui] : memref<?xf32>
      %a = scf.index_switch %act -> f32
      case 0 {
        %ng = arith.negf %g : f32
        %e = math.exp %ng : f32
        %d = arith.addf %f1, %e : f32
        %y = arith.divf %g, %d : f32
        scf.yield %y : f32
      }
      case 1 {
        // erf by Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7).
        %c = arith.constant 0.70710678118654752 : f32
        %z = arith.mulf %g, %c : f32
        %az = math.absf %z : f32
        %p = arith.constant 0.3275911 : f32
        %pz = arith.mulf %p, %az : f32
        %den = arith.addf %f1, %pz : f32
        %tt = arith.divf %f1, %den : f32
        %a1 = arith.constant 0.254829592 : f32
        %a2 = arith.constant -0.284496736 : f32
        %a3 = arith.constant 1.421413741 : f32
        %a4 = arith.constant -1.453152027 : f32
        %a5 = arith.constant 1.061405429 : f32
        %h5 = arith.mulf %a5, %tt : f32
        %h4 = arith.addf %h5, %a4 : f32
        %h4t = arith.mulf %h4, %tt : f32
        %h3 = arith.addf %h4t, %a3 : f32
        %h3t = arith.mulf %h3, %tt : f32
        %h2 = arith.addf %h3t, %a2 : f32
        %h2t = arith.mulf %h2, %tt : f32
        %h1 = arith.addf %h2t, %a1 : f32
        %poly = arith.mulf %h1, %tt : f32
        %z2 = arith.mulf %az, %az : f32
        %nz2 = arith.negf %z2 : f32
        %ex = math.exp %nz2 : f32
        %pe = arith.mulf %poly, %ex : f32
        %erf_abs = arith.subf %f1, %pe : f32
        %neg = arith.cmpf olt, %z, %f0 : f32
        %erf_neg = arith.negf %erf_abs : f32
        %erf = arith.select %neg, %erf_neg, %erf_abs : f32
        %one_plus = arith.addf %f1, %erf : f32
        %hx = arith.mulf %half, %g : f32
        %y = arith.mulf %hx, %one_plus : f32
        scf.yield %y : f32
      }
      case 2 {
        %c = arith.constant 0.79788456080286536 : f32
        %c3f = arith.constant 0.044715 : f32
        %g2 = arith.mulf %g, %g : f32
        %g3 = arith.mulf %g2, %g : f32
        %t3 = arith.mulf %c3f, %g3 : f32
        %in = arith.addf %g, %t3 : f32
        %arg = arith.mulf %c, %in : f32
        %th = math.tanh %arg : f32
        %one_plus = arith.addf %f1, %th : f32
        %hx = arith.mulf %half, %g : f32
        %y = arith.mulf %hx, %one_plus : f32
        scf.yield %y : f32
      }
      case 3 {
        %ng = arith.negf %g : f32
        %e = math.exp %ng : f32
        %d = arith.addf %f1, %e : f32
        %y = arith.divf %f1, %d : f32
        scf.yield %y : f32
      }
      default {
        %y = arith.maximumf %g, %f0 : f32
        scf.yield %y : f32
      }
      %r = arith.mulf %a, %u : f32
      memref.store %r, %h[%idx] : memref<?xf32>
    }
    gpu.return
  }

  // out[t, i] = sum_j weights[t, j] * experts[t * top_k + j, i], in
  // selection order. One thread per element.
  gpu.func @moe_weighted_sum(%weights: memref<?xf32>, %experts: memref<?xf32>,
                             %out: memref<?xf32>, %run: memref<?xi32>,
                             %width: index, %top_k: index,
                             %rows_slot: index) kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %f0 = arith.constant 0.0 : f32
    %rows32 = memref.load %run[%rows_slot] : memref<?xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %n = arith.muli %rows, %width : index
    %idx = gpu.global_id x
    %live = arith.cmpi ult, %idx, %n : index
    scf.if %live {
      %t = arith.divui %idx, %width : index
      %i = arith.remui %idx, %width : index
      %wb = arith.muli %t, %top_k : index
      %acc = scf.for %j = %c0 to %top_k step %c1 iter_args(%a = %f0) -> (f32) {
        %q = arith.addi %wb, %j : index
        %w = memref.load %weights[%q] : memref<?xf32>
        %qw = arith.muli %q, %width : index
        %ei = arith.addi %qw, %i : index
        %e = memref.load %experts[%ei] : memref<?xf32>
        %p = arith.mulf %w, %e : f32
        %a2 = arith.addf %a, %p : f32
        scf.yield %a2 : f32
      }
      memref.store %acc, %out[%idx] : memref<?xf32>
    }
    gpu.return
  }

  // out[t, i] += shared[t, i] * g, g = sigmoid(gate[t]) when `gated`, else 1.
  gpu.func @moe_add_shared(%shared: memref<?xf32>, %gate: memref<?xf32>,
                           %out: memref<?xf32>, %run: memref<?xi32>,
                           %width: index, %gated: index,
                           %rows_slot: index) kernel {
    %c0 = arith.constant 0 : index
    %f1 = arith.constant 1.0 : f32
    %rows32 = memref.load %run[%rows_slot] : memref<?xi32>
    %rows = arith.index_cast %rows32 : i32 to index
    %n = arith.muli %rows, %width : index
    %idx = gpu.global_id x
    %live = arith.cmpi ult, %idx, %n : index
    scf.if %live {
      %t = arith.divui %idx, %width : index
      %is_gated = arith.cmpi ne, %gated, %c0 : index
      %g = scf.if %is_gated -> (f32) {
        %z = memref.load %gate[%t] : memref<?xf32>
        %nz = arith.negf %z : f32
        %e = math.exp %nz : f32
        %d = arith.addf %f1, %e : f32
        %s = arith.divf %f1, %d : f32
        scf.yield %s : f32
      } else {
        scf.yield %f1 : f32
      }
      %sh = memref.load %shared[%idx] : memref<?xf32>
      %y = memref.load %out[%idx] : memref<?xf32>
      %p = arith.mulf %sh, %g : f32
      %r = arith.addf %y, %p : f32
      memref.store %r, %out[%idx] : memref<?xf32>
    }
    gpu.return
  }
}
