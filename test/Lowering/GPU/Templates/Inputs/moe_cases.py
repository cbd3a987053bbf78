"""kernels/moe.mlir on a Vulkan device against numpy transcriptions of
runtime/cpu's MoeRoute, MoeCombine and Moe.cpp, through the dispatches
lowering/gpu/families/Moe.cpp emits, for f32, f16, bf16 and packed 2-/4-bit
(balanced and affine grids, f16 and bf16 scales, lowering/quant/QuantMath.h
layout) expert stacks, with and without a (gated) shared expert. Programs
of more than one row group the slots by expert (moe_group, checked against
numpy's stable sort) and the grouped matvec must give the slot-major one's
bits.
usage: moe_cases.py MOE_MLIR WORKDIR VKRUN (fmc-specialize-kernel on PATH)"""
import math
import sys

import numpy as np

from template_kernels import Session

TOLERANCE = 1e-5  # relative to the largest output
rng = np.random.default_rng(1)


def as_words(data):
    data = np.frombuffer(data, np.uint8)
    return np.concatenate([data, np.zeros((-len(data)) % 4, np.uint8)]).view(np.int32).copy()


def bf16_bits(x):
    return (x.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)


def weight(rows, k, wtype, bits=2, affine=False, group=64, bf16_scales=False):
    """(words as the kernel reads them, the f32 values they stand for, spec)."""
    spec = dict(wtype=wtype, bits=0, affine=0, group=1, groups=1, scales_half=0,
                mins_half=0, scale_bf16=0, row_bytes=0)
    w = (rng.standard_normal((rows, k)) * 0.2).astype(np.float32)
    if wtype == 0:
        return w.view(np.int32).reshape(-1).copy(), w, spec
    if wtype == 1:
        h = w.astype(np.float16)
        return as_words(h.tobytes()), h.astype(np.float32), spec
    if wtype == 3:
        h = bf16_bits(w)
        return as_words(h.tobytes()), (h.astype(np.uint32) << 16).view(np.float32), spec
    g = min(group, k) if group else k
    groups = (k + g - 1) // g
    row_bytes = (k * bits + 7) // 8
    codes = rng.integers(0, 2 ** bits, (rows, k))
    packed = np.zeros((rows, row_bytes), np.uint8)
    for i in range(k):
        packed[:, i * bits // 8] |= (codes[:, i] << (i * bits % 8)).astype(np.uint8)

    def half(x):
        if bf16_scales:
            h = bf16_bits(x)
            return h.tobytes(), (h.astype(np.uint32) << 16).view(np.float32)
        return x.astype(np.float16).tobytes(), x.astype(np.float16).astype(np.float32)
    scale_bytes, scales = half((rng.random((rows, groups)) * 0.1 + 0.01).astype(np.float32))
    min_bytes, mins = half((rng.standard_normal((rows, groups)) * 0.1).astype(np.float32))
    group_of = np.arange(k) // g
    if affine:
        values = scales[:, group_of] * codes + mins[:, group_of]
    else:
        values = scales[:, group_of] * (codes - (2 ** bits - 1) / 2)
    scales_at = rows * row_bytes
    spec.update(bits=bits, affine=int(affine), group=g, groups=groups, scales_half=scales_at // 2,
                mins_half=(scales_at + rows * groups * 2) // 2, scale_bf16=int(bf16_scales),
                row_bytes=row_bytes)
    blob = packed.tobytes() + scale_bytes + (min_bytes if affine else b'')
    return as_words(blob), values.astype(np.float32), spec


def activation(x, kind):
    if kind == 0:
        return x / (1 + np.exp(-x))
    if kind == 1:
        return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    if kind == 2:
        return 0.5 * x * (1 + np.tanh(0.79788456080286536 * (x + 0.044715 * x ** 3)))
    if kind == 3:
        return 1 / (1 + np.exp(-x))
    return np.maximum(x, 0)


def route(logits, top_k, softmax, normalize):
    """MoeRoute: best not yet taken, ties to the lower expert."""
    if softmax:
        e = np.exp(logits - logits.max())
        scores = e / e.sum()
    else:
        scores = 1 / (1 + np.exp(-logits))
    picked = []
    for _ in range(top_k):
        best = -1
        for e in range(len(scores)):
            if e not in picked and (best < 0 or scores[e] > scores[best]):
                best = e
        picked.append(best)
    w = scores[picked]
    if normalize and w.sum() > 0:
        w = w / w.sum()
    return w, np.array(picked, np.int32)


def grid1(n, threads):
    return ((n + threads - 1) // threads, 1, 1)


def moe(session, H, E, I, top_k, max_tokens, rows, softmax, normalize, act, wtype,
        shared=0, gated=False, tied=False, **packing):
    f32 = lambda n: np.zeros(n, np.float32)
    x = rng.standard_normal((max_tokens, H)).astype(np.float32)
    router_w, router, router_spec = weight(E, H, 0)
    if tied:  # experts 1 and 3 score alike: the lower one goes first
        router[3] = router[1]
        router_w = router.view(np.int32).reshape(-1).copy()
    gate_up_w, gate_up, gate_up_spec = weight(E * 2 * I, H, wtype, **packing)
    down_w, down, down_spec = weight(E * H, I, wtype, **packing)
    run = np.array([rows, 1, 0, 0], np.int32)
    logits, weights = f32(max_tokens * E), f32(max_tokens * top_k)
    indices = np.zeros(max_tokens * top_k, np.int32)
    gu, hidden = f32(max_tokens * top_k * 2 * I), f32(max_tokens * top_k * I)
    expert_out = f32(max_tokens * top_k * H)
    out = np.full(max_tokens * H, 5.0, np.float32)

    # Prefill groups the slots by expert (moe_group), decode does not.
    grouped = max_tokens > 1
    lists = np.full(E + 1 + max_tokens * top_k, -1, np.int32)

    def matvec(x_rows, w, spec, y, n, k, slots, gather, slot_input, by_expert=False):
        session.dispatch('moe_matvec', dict(spec, k=k, n=n, top_k=slots, gather=gather,
                         slot_input=slot_input, grouped=int(by_expert),
                         experts=E if by_expert else 0, rows_slot=0, wg=64),
                         [x_rows, w, indices, lists if by_expert else indices, y, run],
                         (E if by_expert else max_tokens * slots, n, 1), 64)

    def glu(gu_rows, h, inter, slots):
        session.dispatch('moe_glu', dict(inter=inter, top_k=slots, act=act, rows_slot=0),
                         [gu_rows, h, run], grid1(max_tokens * slots * inter, 256), 256)

    matvec(x.reshape(-1), router_w, router_spec, logits, E, H, 1, 0, 1)
    session.dispatch('moe_route', dict(experts=E, top_k=top_k, softmax=int(softmax),
                     normalize=int(normalize), rows_slot=0),
                     [logits, weights, indices, run], grid1(max_tokens, 64), 64)
    if grouped:
        session.dispatch('moe_group', dict(experts=E, top_k=top_k, rows_slot=0, wg=256),
                         [indices, lists, run], (E, 1, 1), 256)
    matvec(x.reshape(-1), gate_up_w, gate_up_spec, gu, 2 * I, H, top_k, 1, 0, grouped)
    glu(gu, hidden, I, top_k)
    matvec(hidden, down_w, down_spec, expert_out, H, I, top_k, 1, 1, grouped)
    # Grouped, each slot's sums are the slot-major kernel's, to the bit.
    gu_slot_major = f32(max_tokens * top_k * 2 * I)
    if grouped:
        matvec(x.reshape(-1), gate_up_w, gate_up_spec, gu_slot_major, 2 * I, H, top_k, 1, 0)
    session.dispatch('moe_weighted_sum', dict(width=H, top_k=top_k, rows_slot=0),
                     [weights, expert_out, out, run], grid1(max_tokens * H, 256), 256)
    reference = np.zeros((rows, H))
    expected_indices = []
    for t in range(rows):
        w, picked = route(router @ x[t], top_k, softmax, normalize)
        expected_indices.append(picked)
        for j, e in enumerate(picked):
            g = gate_up[e * 2 * I:(e + 1) * 2 * I] @ x[t]
            reference[t] += w[j] * (down[e * H:(e + 1) * H] @ (activation(g[:I], act) * g[I:]))
    if shared:
        sgu_w, sgu, sgu_spec = weight(2 * shared, H, wtype, **packing)
        sdown_w, sdown, sdown_spec = weight(H, shared, wtype, **packing)
        gate_w, gate, gate_spec = weight(1, H, 0)
        s_gu, s_hidden, s_out, s_gate = (f32(max_tokens * 2 * shared), f32(max_tokens * shared),
                                         f32(max_tokens * H), f32(max_tokens))
        matvec(x.reshape(-1), sgu_w, sgu_spec, s_gu, 2 * shared, H, 1, 0, 1)
        glu(s_gu, s_hidden, shared, 1)
        matvec(s_hidden, sdown_w, sdown_spec, s_out, H, shared, 1, 0, 1)
        if gated:
            matvec(x.reshape(-1), gate_w, gate_spec, s_gate, 1, H, 1, 0, 1)
        session.dispatch('moe_add_shared', dict(width=H, gated=int(gated), rows_slot=0),
                         [s_out, s_gate, out, run], grid1(max_tokens * H, 256), 256)
        for t in range(rows):
            g = sgu @ x[t]
            y = sdown @ (activation(g[:shared], act) * g[shared:])
            reference[t] += y * (1 / (1 + np.exp(-(gate[0] @ x[t]))) if gated else 1)
    session.execute()
    out = out.reshape(max_tokens, H)
    same_experts = (indices.reshape(max_tokens, top_k)[:rows] == np.array(expected_indices)).all()
    error = np.abs(out[:rows] - reference).max() / np.abs(reference).max()
    exact = same_experts and (out[rows:] == 5.0).all()
    if grouped:
        # moe_group: starts, then each expert's slots in slot order.
        picks = indices[:rows * top_k]
        starts = np.concatenate([[0], np.cumsum(np.bincount(picks, minlength=E))])
        order = np.argsort(picks, kind='stable')
        exact &= (lists[:E + 1] == starts).all() and (lists[E + 1:E + 1 + len(order)] == order).all()
        used = rows * top_k * 2 * I
        exact &= (gu[:used].view(np.int32) == gu_slot_major[:used].view(np.int32)).all()
    return error, exact


def combine(session, H, E, top_k, max_tokens, rows):
    weights = rng.random(max_tokens * top_k).astype(np.float32)
    indices = np.array([rng.permutation(E)[:top_k] for _ in range(max_tokens)], np.int32).reshape(-1)
    experts = [rng.standard_normal(max_tokens * H).astype(np.float32) for _ in range(E)]
    out = np.full(max_tokens * H, 3.0, np.float32)
    run = np.array([rows, 1, 0, 0], np.int32)
    for e in range(E):
        session.dispatch('moe_combine_expert', dict(width=H, top_k=top_k, expert=e,
                         first=int(e == 0), rows_slot=0),
                         [weights, indices, experts[e], out, run], grid1(max_tokens * H, 256), 256)
    session.execute()
    reference = np.zeros((rows, H))
    for t in range(rows):
        for j in range(top_k):
            reference[t] += weights[t * top_k + j] * experts[indices[t * top_k + j]].reshape(max_tokens, H)[t]
    out = out.reshape(max_tokens, H)
    return np.abs(out[:rows] - reference).max() / np.abs(reference).max(), (out[rows:] == 3.0).all()


CASES = {
    'f32 softmax top2, k < workgroup': dict(H=48, E=6, I=24, top_k=2, max_tokens=5, rows=3, softmax=True,
                                            normalize=False, act=0, wtype=0),
    'f32 tied router scores': dict(H=48, E=5, I=16, top_k=3, max_tokens=2, rows=2, softmax=True,
                                   normalize=True, act=0, wtype=0, tied=True),
    'f16 sigmoid top3 normalized gelu': dict(H=48, E=6, I=24, top_k=3, max_tokens=4, rows=4, softmax=False,
                                             normalize=True, act=1, wtype=1),
    'bf16 gated shared expert gelu_tanh': dict(H=130, E=4, I=70, top_k=2, max_tokens=3, rows=1, softmax=True,
                                               normalize=True, act=2, wtype=3, shared=40, gated=True),
    '2-bit balanced group 64': dict(H=128, E=4, I=64, top_k=2, max_tokens=3, rows=2, softmax=True,
                                    normalize=False, act=0, wtype=2, bits=2, group=64),
    '4-bit affine group 32 shared relu': dict(H=128, E=4, I=64, top_k=2, max_tokens=3, rows=2, softmax=True,
                                              normalize=False, act=4, wtype=2, bits=4, group=32,
                                              affine=True, shared=64),
    '4-bit per-row bf16 scales sigmoid': dict(H=96, E=3, I=40, top_k=1, max_tokens=2, rows=2, softmax=False,
                                              normalize=False, act=3, wtype=2, bits=4, group=0,
                                              bf16_scales=True),
    # Prefills grouped by expert with more slots than a pass of 4 per
    # expert, experts no slot picked, rows past the run; one decode row.
    'f32 prefill of 11 grouped top2 of 5': dict(H=48, E=5, I=24, top_k=2, max_tokens=13, rows=11,
                                                softmax=True, normalize=False, act=0, wtype=0),
    '2-bit prefill of 9 grouped top3 of 12': dict(H=128, E=12, I=64, top_k=3, max_tokens=9, rows=9,
                                                  softmax=True, normalize=True, act=0, wtype=2, bits=2,
                                                  group=32, shared=32),
    # More slots than moe_group's 256 threads: runs of 3 slots a thread,
    # the last threads' runs short or empty.
    'f32 prefill of 300 grouped top2 of 6': dict(H=32, E=6, I=16, top_k=2, max_tokens=320, rows=300,
                                                 softmax=True, normalize=False, act=0, wtype=0),
    'f16 decode slot-major top2 of 8': dict(H=64, E=8, I=32, top_k=2, max_tokens=1, rows=1, softmax=True,
                                            normalize=False, act=0, wtype=1),
}

if __name__ == '__main__':
    template, workdir, vkrun = sys.argv[1:4]
    session = Session(template, workdir, vkrun)
    results = [('combine 5 experts top2', combine(session, 40, 5, 2, 6, 4))]
    results += [(name, moe(session, **args)) for name, args in CASES.items()]
    failed = False
    for name, (error, exact) in results:
        ok = error < TOLERANCE and exact
        failed |= not ok
        print(f'{"ok" if ok else "FAIL"}: moe {name}: max relative |gpu - cpu| {error:.1e}'
              f'{"" if exact else ", wrong experts or rows past the run written"}')
    sys.exit(1 if failed else 0)
