"""kernels/attention_decode.mlir on a Vulkan device against a numpy
transcription of runtime/cpu/Attention.cpp: decode steps (runs of one row)
through the dispatches lowering/gpu/families/AttentionDecode.cpp emits
(a writer's kv_append from kernels/attention.mlir, attention_decode_split,
then attention_decode_combine with more than one split), over a cache in
GpuCacheLayout's layout that numpy fills with the positions before the
steps, as a prefill would have.

A ring cache's writer is checked against the CPU's in-flight semantics (the
step's own row from k and v, int8 rounded; earlier positions from the
cache), which the GPU's append-first must reproduce. Partials start as NaN:
a combine that reads an empty split's accumulators fails.
usage: attention_decode_cases.py KERNELS_DIR WORKDIR VKRUN (fmc-specialize-kernel on PATH)"""
import os
import sys

import numpy as np

from attention_cases import bf16, cache_layout, int8_round_trip, reference_attend, stored
from template_kernels import Session

TOLERANCE = 2e-5
POOL_UNITS = 2048  # attention_decode.mlir's workgroup pool, 16-byte units


def pool_units(head_dim, block, tile, parts):
    """The pool regions of attention_decode_split (its header comment)."""
    hd4, quads = -(-head_dim // 4), -(-block // 4)
    return 8 * hd4 * quads + tile * ((hd4 | 1) + hd4) + (parts + 1) * tile * quads + 3 * quads


def encode(x, elem):
    """One (slot, head) row of head_dim elements as GpuCacheLayout's words,
    and its int8 scale (kv_append's quantization)."""
    if elem == 0:
        return x.astype(np.float32).view(np.int32), 0.0
    if elem == 1:
        return x.astype(np.float16).view(np.int32), 0.0
    if elem == 3:
        bits = (bf16(x).view(np.uint32) >> 16).astype(np.uint16)
        return bits.view(np.int32), 0.0
    scale = np.float32(np.abs(x).max() / np.float32(127))
    q = np.minimum(np.floor(np.abs(x) / scale + np.float32(0.5)), 127) * np.sign(x)
    return q.astype(np.int8).view(np.int32), scale


def case(session, heads, kv_heads, head_dim, capacity, ring, kind, window, softcap,
         elem, steps, splits, block, tile, parts, wg, reader=False, seed=0, slots=None):
    """`slots`: the cache array holds only that many slots (a linear cache
    of a run opened with a shorter context than the compiled `capacity`)."""
    assert pool_units(head_dim, block, tile, parts) <= POOL_UNITS
    rng = np.random.default_rng(seed)
    scale = 0.3
    group = heads // kv_heads
    layout = cache_layout(kv_heads, head_dim, elem)
    row_words, slot_words = layout['row_words'], layout['slot_words']
    cache = np.zeros((slots or capacity) * slot_words, np.int32)
    # What each slot holds, as the CPU backend reads it back.
    cached_k = np.zeros((capacity, kv_heads, head_dim), np.float32)
    cached_v = np.zeros_like(cached_k)
    slot = (lambda p: p % capacity) if ring else (lambda p: p)
    split_len = -(-capacity // splits)
    wg_append = 64 if head_dim <= 64 else 128 if head_dim <= 128 else 256

    def fill(p):
        """Writes position p's random keys and values as numpy (a prefill)."""
        s = slot(p)
        for g in range(kv_heads):
            for src, base, scales, held in ((cached_k, 0, layout['key_scales'], True),
                                            (cached_v, layout['values_base'], layout['value_scales'], False)):
                x = rng.standard_normal(head_dim).astype(np.float32)
                words, sc = encode(x, elem)
                at = s * slot_words + base + g * row_words
                cache[at:at + row_words] = words
                if elem == 2:
                    cache[s * slot_words + scales + g] = np.float32(sc).view(np.int32)
                src[s, g] = stored(x, elem)

    def visible(p):
        lo = (max(0, p - window + 1) if kind == 1 else p // window * window if kind == 2 else 0)
        return lo, p

    checks = []
    written = 0
    for p in steps:
        # A reader's writer (another layer) has written p too.
        upto = p + 1 if reader else p
        if written < upto:
            session.execute()  # the cache array is current before numpy writes it
            for j in range(written, upto):
                fill(j)
        written = p + 1
        positions = np.array([p], np.int32)
        run = np.array([1, 1, 0, 0], np.int32)
        q = rng.standard_normal((1, heads, head_dim)).astype(np.float32)
        k, v = (rng.standard_normal((1, kv_heads, head_dim)).astype(np.float32) for _ in range(2))
        out = np.full((1, heads, head_dim), 7.0, np.float32)
        partials = np.full(heads * splits * (head_dim + 2), np.nan, np.float32)

        # Reference: Attention.cpp. A ring writer attends in flight: earlier
        # positions from the cache, its own row from k and v (int8 rounded).
        lo, hi = visible(p)
        in_flight = ring and not reader
        if ring:
            lo = max(lo, (p if in_flight else p + 1) - capacity)
        rk, rv = ((int8_round_trip(k), int8_round_trip(v)) if in_flight and elem == 2 else (k, v))
        if not reader and not in_flight:
            cached_k[slot(p)], cached_v[slot(p)] = stored(rk[0], elem), stored(rv[0], elem)
        ref = np.zeros((heads, head_dim), np.float32)
        for h in range(heads):
            g = h // group
            js = range(lo, hi + 1)
            keys = np.array([rk[0, g] if in_flight and j == p else cached_k[slot(j), g] for j in js])
            vals = np.array([rv[0, g] if in_flight and j == p else cached_v[slot(j), g] for j in js])
            ref[h] = reference_attend(q[0, h], keys, vals, scale, softcap)
        if in_flight:
            cached_k[slot(p)], cached_v[slot(p)] = stored(rk[0], elem), stored(rv[0], elem)
        checks.append((out, ref, partials))

        # GPU: the dispatches of families/AttentionDecode.cpp.
        if not reader:
            for src, base, scales in ((k, 0, layout['key_scales']),
                                      (v, layout['values_base'], layout['value_scales'])):
                session.dispatch('kv_append', dict(kv_heads=kv_heads, head_dim=head_dim,
                                 capacity=capacity, ring=int(ring), elem=elem, base=base,
                                 scale_base=scales, row_words=row_words, slot_words=slot_words,
                                 rows_slot=0, wg=wg_append),
                                 [src.reshape(-1), positions, cache, run], (1, kv_heads, 1), wg_append)
        stand_in = partials if splits > 1 else out.reshape(-1)
        session.dispatch('attention_decode_split', dict(
            heads=heads, kv_heads=kv_heads, head_dim=head_dim, block=block, capacity=capacity,
            own_row=int(in_flight and elem in (1, 3)), kind=kind, window=window if kind else 1, scale=scale, softcap=softcap, elem=elem,
            splits=splits, split_len=split_len, tile=tile, parts=parts, rows_slot=0, wg=wg,
            **layout), [q.reshape(-1), *((q.reshape(-1),) * 2 if reader else (k.reshape(-1), v.reshape(-1))),
                        positions, cache, out.reshape(-1), stand_in, run],
            (kv_heads * group // block, splits, 1), wg)
        if splits > 1:
            session.dispatch('attention_decode_combine', dict(
                heads=heads, head_dim=head_dim, splits=splits, rows_slot=0, wg=wg_append),
                [partials, out.reshape(-1), run], (heads, 1, 1), wg_append)
    session.execute()
    return max(np.abs(out[0] - ref).max() for out, ref, _ in checks)


# name: heads, kv_heads, head_dim, capacity, ring, kind, window, softcap, elem,
#       steps, splits, block, tile, parts, wg, [reader]
CASES = {
    # p = 21 and 22 in the middle of split 1 (slots 16..31); splits 2, 3
    # empty; tiles of 5 slots do not divide a split of 16.
    'linear f32 GQA 2 four splits position mid-split':
        (4, 2, 16, 64, False, 0, 0, 0.0, 0, [21, 22], 4, 2, 5, 2, 64),
    # The AFM on-device shape (GQA 8, head_dim 128, int8), capacity 203 in
    # splits of 51 (the last one 50), up to the last slot.
    'linear int8 GQA 8 head_dim 128 capacity not a multiple of the split':
        (16, 2, 128, 203, False, 0, 0, 0.0, 2, [120, 121, 202], 4, 8, 16, 8, 256),
    # The ring has wrapped several times; its window (10) is smaller than a
    # split (16) and its slots straddle two splits.
    'ring local f16 GQA 4 head_dim 64 wrapped window smaller than a split':
        (4, 1, 64, 48, True, 1, 10, 0.0, 1, [100, 101, 106], 3, 4, 8, 4, 64),
    # Window 24 over splits of 6 slots; GQA 1 (one query head per KV head).
    'ring local bf16 GQA 1 head_dim 8 window larger than a split':
        (2, 2, 8, 24, True, 1, 24, 0.0, 3, [50, 51], 4, 1, 6, 1, 64),
    # A reader (KV sharing): the window [26, 45] spans splits 1 and 2.
    'linear local int8 reader window across splits':
        (4, 2, 64, 96, False, 1, 20, 0.0, 2, [45], 6, 2, 16, 4, 64, True),
    # A ring reader sized past its window (capacity 20, window 8).
    'ring local f32 reader larger than its window':
        (4, 2, 16, 20, True, 1, 8, 0.0, 0, [30, 31], 2, 2, 10, 2, 64, True),
    # Position 36 starts a chunk: it sees only itself.
    'ring chunked f32 GQA 4':
        (4, 1, 16, 12, True, 2, 12, 0.0, 0, [34, 35, 36], 3, 4, 4, 2, 64),
    # One split: the split kernel writes the output rows itself.
    'linear f16 softcap GQA 8 head_dim 256 one split':
        (8, 1, 256, 40, False, 0, 0, 5.0, 1, [17], 1, 8, 6, 8, 256),
    'linear f32 GQA 1 head_dim 8 one split':
        (2, 2, 8, 20, False, 0, 0, 0.0, 0, [9], 1, 1, 20, 1, 64),
    # A group of 16 served by two workgroups of 8 heads (head_dim 256 does
    # not fit 16 heads' queries and outputs in the pool).
    'linear int8 GQA 16 in two blocks head_dim 256':
        (16, 1, 256, 64, False, 0, 0, 0.0, 2, [40], 2, 8, 6, 8, 256),
    # head_dim 6: the last unit of 4 features is half padding.
    'linear f32 head_dim 6 ragged unit':
        (2, 1, 6, 20, False, 0, 0, 0.0, 0, [10, 11], 3, 2, 3, 1, 64),
    # Early step: 15 of 16 splits see nothing (empty partials, cheaply).
    'linear bf16 head_dim 128 early step mostly empty splits':
        (4, 2, 128, 256, False, 0, 0, 0.0, 3, [3], 16, 2, 16, 4, 128),
    # As many splits as slots.
    'linear int8 one slot a split':
        (4, 2, 16, 8, False, 0, 0, 0.0, 2, [5, 6, 7], 8, 2, 1, 4, 64),
    # Softcap and int8 across a ring wrap, several tiles per split.
    'ring local int8 softcap GQA 2 head_dim 64':
        (4, 2, 64, 64, True, 1, 64, 3.0, 2, [150, 151], 2, 2, 12, 8, 64),
    # A context of 40 of the 128 compiled positions: the cache is 40 slots,
    # splits 2 and 3 (slots 64..127) lie past it and stay empty; the last
    # step is the context's last position.
    'linear int8 GQA 4 context shorter than compiled':
        (8, 2, 32, 128, False, 0, 0, 0.0, 2, [30, 38, 39], 4, 4, 8, 4, 64, False, 0, 40),
    'linear f16 reader local context shorter than compiled':
        (4, 1, 16, 96, False, 1, 16, 0.0, 1, [20, 25], 3, 4, 8, 2, 64, True, 0, 26),
}

if __name__ == '__main__':
    kernels, workdir, vkrun = sys.argv[1:4]
    session = Session([os.path.join(kernels, name) for name in ('attention.mlir', 'attention_decode.mlir')],
                      workdir, vkrun)
    failed = False
    for name, args in CASES.items():
        error = case(session, *args)
        ok = error < TOLERANCE
        failed |= not ok
        print(f'{"ok" if ok else "FAIL"}: decode attention {name}: max |gpu - cpu| {error:.1e}')
    sys.exit(1 if failed else 0)
