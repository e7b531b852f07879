"""Linear layer: z = x W^T + b, with W and b committed in the model commitment.

Shapes: x (T, I), W (O, I), b (O,), z (T, O); padded as in ``poly.mle``.
A claim z(r_t, r_o) = v is reduced by one shadowed sumcheck (``prover.zk.shadow``) over a
selector b and the I axis:

    v = sum_{b, i} (1 - b) (x~(b, i) W~(b, i) + ind_T(r_t) 2^-ni B~(b))  [+ the obligation's bracket]
    x~ = x(r_t, i) + b S_x,   W~ = W(r_o, i) + b S_w,   B~ = b(r_o) + b S_b

where ind_T is the MLE of the row mask [t < T] (the bias is not added to padded rows),
evaluated by the verifier in O(log T), and S_x, S_w, S_b are fresh shadow entries of the
proof's mask pool (a public input x takes none). The sumcheck ends at (r_b, s); the final
check is on the sent x~(r_b, s), W~(r_b, s), B~(r_b), each uniform: neither the model's nor
the activations' evaluations are revealed. Each becomes a combined claim on its tensor and the
pool, which the batch opening proves. The claim on z usually arrives from a ``Rescale`` as an
obligation (z(r) = 2^S q(r) + sum_k 2^(bk) d_k(r) - 2^(S-1), nothing sent): the sumcheck
absorbs it and its final check becomes a combined claim on q, the digits and the pool
(``shadow.close``). The prover folds x and W with eq(r_t), eq(r_o) by the exact
limb-decomposed float64 GEMM (``field.fast.vec_mat``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import sumcheck
from ..context import PUBLIC
from ..zk import mask as zkmask
from ..zk import shadow
from ..field import R, fast
from ..poly.mle import eq_table, evaluate_fast, log2_ceil, prefix_indicator  # noqa: F401 (re-exported)
from ..sumcheck import inv2_pow


@dataclass
class Linear:
    x: str
    w: str
    b: str
    z: str
    rows: int
    d_in: int
    d_out: int
    absorbs = True  # takes obligations (``context.reduce``)

    def forward(self, ints: dict) -> None:
        ints[self.z] = ints[self.x] @ ints[self.w].T + ints[self.b]  # (T, O)

    def reduce(self, ctx, tid: str, point: list[int], value: int, terms=None) -> None:
        nt, no, ni = log2_ceil(self.rows), log2_ceil(self.d_out), log2_ceil(self.d_in)
        r_t, r_o = point[:nt], point[nt:]
        ind = prefix_indicator(self.rows, r_t)
        x_public = ctx.spec(self.x).kind in PUBLIC
        sx = shadow.take(ctx, x_public)
        sw, sb = shadow.take(ctx), shadow.take(ctx)
        sf = shadow.take(ctx) if terms else None
        first = 2 if x_public else 3  # (1 - b) x~ W~ in the selector round
        label = "linear"
        if ctx.is_prover:
            xf = fast.vec_mat(eq_table(r_t), _padded(ctx.ints[self.x], (1 << nt, 1 << ni)))
            wf = fast.vec_mat(eq_table(r_o), _padded(ctx.ints[self.w], (1 << no, 1 << ni)))
            bt = [evaluate_fast(ctx.values[self.b], r_o)]
            shifts = {id(wf): zkmask.shadow_value(ctx, sw), id(bt): zkmask.shadow_value(ctx, sb)}
            if not x_public:
                shifts[id(xf)] = zkmask.shadow_value(ctx, sx)
            terms_sc = [sumcheck.Term(1, [xf, wf]), sumcheck.Term(ind, [bt])]
            s = shadow.prove(ctx, label, ni, 2, first, terms_sc, shifts, absorb=terms, fblock=sf)
            expected = None
        else:
            sub = shadow.verify(ctx, label, ni, 2, first, value)
            s, expected = sub.point, sub.expected
        rb, si = s[0], s[1:]
        xv = shadow.claim(ctx, self.x, r_t + si, rb, sx, "linear/x")
        wv = shadow.claim(ctx, self.w, r_o + si, rb, sw, "linear/w")
        bv = shadow.claim(ctx, self.b, r_o, rb, sb, "linear/bias")
        lhs = (xv * wv + ind * inv2_pow(ni) * bv) % R
        shadow.close(ctx, s, expected, lhs, ni, terms, sf, "linear",
                     f"final check of '{self.z}' = '{self.x}' x '{self.w}'^T failed")


def _padded(t: torch.Tensor, shape) -> np.ndarray:
    out = np.zeros(shape, dtype=np.int64)
    a = t.numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    out[: a.shape[0], : a.shape[1]] = a
    return out
