"""Linear layer: z = x W^T + b, with W and b committed in the model commitment.

Shapes: x (T, I), W (O, I), b (O,), z (T, O); padded as in ``poly.mle``.
A claim z(r_t, r_o) = v is reduced by one degree-2 sumcheck over a shadow selector b
and the I axis (b first, masked as every sumcheck is, ``prover.zk.mask``):

    v = sum_{b, i} (1 - b) x(r_t, i) W~(b, i) + ind_T(r_t) 2^-ni (1 - b) B~(b)
    W~(b, i) = W(r_o, i) + b S_w,    B~(b) = b(r_o) + b S_b

where ind_T is the MLE of the row mask [t < T] (the bias is not added to padded rows),
evaluated by the verifier in O(log T), and S_w, S_b are fresh shadow entries of the
proof's mask pool. At b = 0 the sum is x W^T + b; at b = 1 the selector (1 - b) removes
the shadows. The sumcheck ends at (r_b, s); the final check is

    (1 - r_b) (x(r_t, s) W~(r_b, s) + ind_T(r_t) 2^-ni B~(r_b)) = expected

on the sent W~(r_b, s) = W(r_o, s) + r_b S_w and B~(r_b), each uniform (S fresh, r_b != 0):
the model's evaluations are never revealed. Each becomes a combined claim on the model
tensor and the pool (``mask.shadowed_claim``), which the batch opening proves. The prover
folds W with eq(r_o) by the exact limb-decomposed float64 GEMM (``field.fast.vec_mat``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import sumcheck
from ..zk import mask as zkmask
from ..errors import VerificationError
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

    def forward(self, ints: dict) -> None:
        ints[self.z] = ints[self.x] @ ints[self.w].T + ints[self.b]  # (T, O)

    def reduce(self, ctx, tid: str, point: list[int], value: int) -> None:
        nt, no, ni = log2_ceil(self.rows), log2_ceil(self.d_out), log2_ceil(self.d_in)
        r_t, r_o = point[:nt], point[nt:]
        ind = prefix_indicator(self.rows, r_t)
        cb = ind * inv2_pow(ni) % R  # the bias term's coefficient: it is constant over the 2^ni inputs
        sw, sb = zkmask.take_shadow(ctx), zkmask.take_shadow(ctx)  # the shadows of W's and b's evaluations
        label = "linear"
        if ctx.is_prover:
            half = 1 << ni
            xf = fast.vec_mat(eq_table(r_t), _padded(ctx.ints[self.x], (1 << nt, 1 << ni)))
            wf = fast.vec_mat(eq_table(r_o), _padded(ctx.ints[self.w], (1 << no, 1 << ni)))
            bval = evaluate_fast(ctx.values[self.b], r_o)
            sel = [1] * half + [0] * half
            w1 = [(v + zkmask.shadow_value(ctx, sw)) % R for v in wf]  # W + S_w: the b = 1 half
            terms = [sumcheck.Term(1, [list(xf) + [0] * half, list(wf) + w1]),  # (1 - b) x folded into x's table
                     sumcheck.Term(cb, [sel, [bval] * half + [(bval + zkmask.shadow_value(ctx, sb)) % R] * half])]
            out = zkmask.prove(ctx, label, ni + 1, 2, terms)
            s = out.point
        else:
            sub = zkmask.verify(ctx, label, ni + 1, 2, value)
            s = sub.point
        rb, si = s[0], s[1:]
        xv = ctx.claim(self.x, r_t + si, "linear/x")
        wv = zkmask.shadowed_claim(ctx, self.w, r_o + si, rb, sw, "linear/w")
        bv = zkmask.shadowed_claim(ctx, self.b, r_o, rb, sb, "linear/bias")
        if not ctx.is_prover and (1 - rb) * (xv * wv + cb * bv) % R != sub.expected:
            raise VerificationError("linear", f"final check of '{self.z}' = '{self.x}' x '{self.w}'^T failed")


def _padded(t: torch.Tensor, shape) -> np.ndarray:
    out = np.zeros(shape, dtype=np.int64)
    a = t.numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    out[: a.shape[0], : a.shape[1]] = a
    return out
