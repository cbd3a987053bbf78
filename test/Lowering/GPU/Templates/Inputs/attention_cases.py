"""kernels/attention.mlir on a Vulkan device against a numpy transcription of
runtime/cpu/Attention.cpp: runs of prefill chunks and decode steps through
the dispatches lowering/gpu/families/Attention.cpp emits (kv_round_trip,
kv_append, attention), with the cache in GpuCacheLayout's layout.
usage: attention_cases.py ATTENTION_MLIR WORKDIR VKRUN (fmc-specialize-kernel on PATH)"""
import sys

import numpy as np

from template_kernels import Session

TOLERANCE = 2e-5


def bf16(x):
    bits = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7fff + ((bits >> 16) & 1)) >> 16
    return (bits.astype(np.uint32) << 16).view(np.float32)


def int8_round_trip(x):
    """Int8Cache.cpp: scale = max|x| / 127 per row, round half away from 0."""
    scale = np.abs(x).max(-1, keepdims=True) / np.float32(127)
    with np.errstate(divide='ignore', invalid='ignore'):
        q = np.minimum(np.floor(np.abs(x) / scale + np.float32(0.5)), 127) * np.sign(x)
    return (np.where(scale == 0, 0, q) * scale).astype(np.float32)


def stored(x, elem):
    return {0: lambda: x.copy(), 1: lambda: x.astype(np.float16).astype(np.float32),
            2: lambda: int8_round_trip(x), 3: lambda: bf16(x)}[elem]()


def reference_attend(q, keys, values, scale, softcap):
    s = (keys.astype(np.float64) @ q) * scale
    if softcap > 0:
        s = softcap * np.tanh(s / softcap)
    e = np.exp(s - s.max())
    return (e @ values) / e.sum()


def cache_layout(kv_heads, head_dim, elem):
    """GpuCacheLayout (lowering/gpu/families/AttentionCache.h), in 32-bit
    words: slot-major, each slot the keys of its kv_heads heads, their
    values, then for int8 the heads' key scales and value scales."""
    row_words = head_dim * {0: 4, 1: 2, 2: 1, 3: 2}[elem] // 4
    key_scales = 2 * kv_heads * row_words
    return dict(values_base=kv_heads * row_words, key_scales=key_scales,
                value_scales=key_scales + kv_heads, row_words=row_words,
                slot_words=key_scales + (2 * kv_heads if elem == 2 else 0))


POOL_UNITS, SCORE_FLOATS, MAX_TILE_ROWS = 1792, 896, 64  # attention.mlir's


def prefill_shape(group, head_dim, rows):
    """prefillAttentionShape (families/Attention.cpp): block, tile_rows,
    tile, wg."""
    hd4 = -(-head_dim // 4)
    queries = min(32, 512 // hd4)
    block = max(b for b in range(1, min(group, queries) + 1) if group % b == 0)
    tile_rows = min(max(min(queries // block, rows), 1), MAX_TILE_ROWS)
    nqry = block * tile_rows
    tile = max(t for t in range(1, 33) if fits(head_dim, nqry, t))
    return block, tile_rows, tile, min(max(-(-nqry * hd4 // 64) * 64, 64), 512)


def fits(head_dim, nqry, tile):
    """The attention kernel's workgroup memory holds these (its comment)."""
    hd4s = -(-head_dim // 4) | 1
    return (nqry + 2 * tile) * hd4s <= POOL_UNITS and nqry * (tile + 3) <= SCORE_FLOATS


def case(session, heads, kv_heads, head_dim, capacity, ring, kind, window,
         causal, softcap, elem, runs, reader=False, seed=0, slots=None, shape=None):
    """`slots`: the cache array holds only that many slots (a linear cache
    of a run opened with a shorter context than the compiled `capacity`).
    `shape`: the attention kernel's (block, tile_rows, tile, wg), else the
    lowering's choice."""
    block, tile_rows, tile, attention_wg = shape or prefill_shape(heads // kv_heads, head_dim, max(runs))
    assert fits(head_dim, block * tile_rows, tile) and tile_rows <= MAX_TILE_ROWS
    assert block * tile_rows * -(-head_dim // 4) <= attention_wg and (heads // kv_heads) % block == 0
    attention_grid = (-(-max(runs) // tile_rows), heads // block, 1)
    rng = np.random.default_rng(seed)
    scale = 0.3
    layout = cache_layout(kv_heads, head_dim, elem)
    # Slots never written hold NaNs (in every element kind): a kernel that
    # reads one, even to weigh it by zero, fails.
    cache = np.full((slots or capacity) * layout['slot_words'], 0x7fc07fc0, np.int32)
    max_tokens = max(runs)
    wg = 64 if head_dim <= 64 else 128 if head_dim <= 128 else 256
    common = dict(kv_heads=kv_heads, head_dim=head_dim, rows_slot=0, wg=wg)
    attend_spec = dict(heads=heads, kv_heads=kv_heads, head_dim=head_dim, rows_slot=0,
                       wg=attention_wg, block=block, tile_rows=tile_rows, tile=tile,
                       capacity=capacity, ring=int(ring),
                       kind=kind, window=window if kind else 1, causal=int(causal),
                       scale=scale, softcap=softcap, elem=elem, **layout)
    cached_k = np.zeros((capacity, kv_heads, head_dim), np.float32)
    cached_v = np.zeros_like(cached_k)
    slot = (lambda p: p % capacity) if ring else (lambda p: p)
    checks = []  # (gpu output, reference, rows)
    start = 0
    for n in runs:
        positions = np.zeros(max_tokens, np.int32)
        positions[:n] = np.arange(start, start + n)
        start += n
        q, k, v = (rng.standard_normal((max_tokens, h, head_dim)).astype(np.float32)
                   for h in (heads, kv_heads, kv_heads))
        out = np.full((max_tokens, heads, head_dim), 7.0, np.float32)
        run = np.array([n, 1, 0, 0], np.int32)
        in_flight = ring
        first, last = positions[0], positions[n - 1]

        # Reference: Attention.cpp.
        rk, rv = k.copy(), v.copy()
        if in_flight and elem == 2:
            rk, rv = int8_round_trip(rk), int8_round_trip(rv)

        def append_reference():
            for t in range(n):
                if ring and positions[t] + capacity <= last:
                    continue
                cached_k[slot(positions[t])] = stored(rk[t], elem)
                cached_v[slot(positions[t])] = stored(rv[t], elem)

        def window_of(p, flight):
            hi = p if causal else last
            lo = (max(0, p - window + 1) if kind == 1 else
                  p // window * window if kind == 2 else 0)
            if ring:
                lo = max(lo, (first if flight else hi + 1) - capacity)
            return lo, hi, (min(hi, first - 1) if flight else hi)

        if not in_flight:
            append_reference()
        ref = np.zeros((n, heads, head_dim), np.float32)
        for t in range(n):
            lo, hi, cached_hi = window_of(positions[t], in_flight)
            for h in range(heads):
                g = h // (heads // kv_heads)
                js = range(lo, hi + 1)
                keys = np.array([cached_k[slot(j), g] if j <= cached_hi else rk[j - first, g] for j in js])
                vals = np.array([cached_v[slot(j), g] if j <= cached_hi else rv[j - first, g] for j in js])
                ref[t, h] = reference_attend(q[t, h], keys, vals, scale, softcap)
        if in_flight:
            append_reference()
        checks.append((out, ref, n))

        # GPU: the dispatches of families/Attention.cpp.
        def append():
            for src, base, scales in ((k, 0, layout['key_scales']),
                                      (v, layout['values_base'], layout['value_scales'])):
                session.dispatch('kv_append', dict(common, capacity=capacity, ring=int(ring),
                                 elem=elem, base=base, scale_base=scales,
                                 row_words=layout['row_words'], slot_words=layout['slot_words']),
                                 [src.reshape(-1), positions, cache, run], (max_tokens, kv_heads, 1), wg)
        if in_flight and elem == 2:
            for src in (k, v):
                session.dispatch('kv_round_trip', common, [src.reshape(-1), run],
                                 (max_tokens, kv_heads, 1), wg)
        if not in_flight:
            append()
        session.dispatch('attention', dict(attend_spec, in_flight=int(in_flight)),
                         [q.reshape(-1), k.reshape(-1), v.reshape(-1), positions, cache,
                          out.reshape(-1), run], attention_grid, attention_wg)
        if in_flight:
            append()

        if reader:
            # KV sharing: a layer without k and v reads what was just written.
            rq = rng.standard_normal((max_tokens, heads, head_dim)).astype(np.float32)
            rout = np.full((max_tokens, heads, head_dim), 7.0, np.float32)
            session.dispatch('attention', dict(attend_spec, in_flight=0),
                             [rq.reshape(-1), rq.reshape(-1), rq.reshape(-1), positions, cache,
                              rout.reshape(-1), run], attention_grid, attention_wg)
            rref = np.zeros((n, heads, head_dim), np.float32)
            for t in range(n):
                lo, hi, _ = window_of(positions[t], False)
                for h in range(heads):
                    g = h // (heads // kv_heads)
                    js = range(lo, hi + 1)
                    rref[t, h] = reference_attend(rq[t, h], cached_k[[slot(j) for j in js], g],
                                                  cached_v[[slot(j) for j in js], g], scale, softcap)
            checks.append((rout, rref, n))
    session.execute()
    error = max(np.abs(out[:n] - ref).max() for out, ref, n in checks)
    untouched = all((out[n:] == 7.0).all() for out, _, n in checks)
    return error, untouched


CASES = {
    # name: heads, kv_heads, head_dim, capacity, ring, kind, window, causal, softcap, elem, runs
    'linear f32 GQA prefill+decode': (4, 2, 16, 40, False, 0, 0, True, 0.0, 0, [7, 1, 1]),
    'linear int8 shared reader': (4, 2, 16, 40, False, 0, 0, True, 0.0, 2, [7, 1], True),
    'linear f16 softcap two tiles': (2, 1, 8, 200, False, 0, 0, True, 5.0, 1, [70, 1]),
    'linear bf16': (2, 2, 8, 40, False, 0, 0, True, 0.0, 3, [5, 1]),
    'ring local f32 chunk longer than window': (4, 2, 16, 8, True, 1, 8, True, 0.0, 0, [13, 1, 9, 1]),
    'ring local int8 in flight': (4, 2, 16, 8, True, 1, 8, True, 0.0, 2, [13, 1, 9, 1]),
    'ring local reader one chunk larger': (2, 1, 16, 12, True, 1, 8, True, 0.0, 0, [4, 4, 1], True),
    'ring chunked': (4, 1, 16, 12, True, 2, 12, True, 0.0, 0, [5, 10, 1]),
    'linear local head_dim 128': (2, 2, 128, 20, False, 1, 4, True, 0.0, 0, [6, 1]),
    'linear non-causal': (2, 2, 8, 20, False, 0, 0, False, 0.0, 0, [6]),
    # A context of 24 of the 64 compiled positions: the cache is 24 slots.
    'linear int8 GQA 2 context shorter than compiled': (4, 2, 16, 64, False, 0, 0, True, 0.0, 2,
                                                        [20, 1, 1, 1, 1], False, 0, 24),
    'linear bf16 reader context shorter than compiled': (2, 1, 8, 40, False, 0, 0, True, 0.0, 3,
                                                         [9, 1], True, 0, 10),
    # Row tiles (the lowering's shapes unless given): the AFM on-device
    # shape, 2 rows of 8 heads a workgroup, a run of 45 ending in half a
    # tile, several position tiles.
    'linear int8 GQA 8 head_dim 128 row tiles': (16, 2, 128, 64, False, 0, 0, True, 0.0, 2,
                                                 [45, 1], True),
    # 8 rows a workgroup over tiles of 3 positions: the first rows see none
    # of the last tiles; a reader after the writer.
    'linear f16 GQA 4 tiles shorter than the row tile': (8, 2, 16, 64, False, 0, 0, True, 0.0, 1,
                                                         [21, 1], True, 1, None, (4, 8, 3, 128)),
    'ring local f32 in flight row tiles across the window': (4, 2, 16, 8, True, 1, 8, True, 0.0, 0,
                                                             [13, 1, 9, 1], False, 2, None,
                                                             (2, 4, 5, 64)),
    'ring local int8 softcap in flight row tiles': (4, 2, 16, 8, True, 1, 8, True, 4.0, 2,
                                                    [11, 10, 1], False, 3, None, (2, 3, 4, 64)),
    'ring chunked row tiles across a chunk boundary': (4, 1, 16, 12, True, 2, 12, True, 0.0, 0,
                                                       [5, 10, 1], False, 4, None, (4, 4, 4, 64)),
    'linear non-causal row tiles': (2, 2, 8, 20, False, 0, 0, False, 0.0, 0, [7], False, 5, None,
                                    (1, 3, 4, 64)),
    'linear bf16 GQA 16 in two blocks head_dim 256': (16, 1, 256, 24, False, 0, 0, True, 0.0, 3,
                                                      [10, 1], False, 6),
    'linear f32 head_dim 6 ragged unit': (4, 2, 6, 24, False, 1, 5, True, 0.0, 0, [17, 2], True, 7),
}

if __name__ == '__main__':
    template, workdir, vkrun = sys.argv[1:4]
    session = Session(template, workdir, vkrun)
    failed = False
    for name, args in CASES.items():
        error, untouched = case(session, *args)
        ok = error < TOLERANCE and untouched
        failed |= not ok
        print(f'{"ok" if ok else "FAIL"}: attention {name}: max |gpu - cpu| {error:.1e}'
              f'{"" if untouched else ", rows past the run written"}')
    sys.exit(1 if failed else 0)
