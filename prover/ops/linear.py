"""Linear layer: z = x W^T + b, with W and b committed in the model commitment.

Shapes: x (T, I), W (O, I), b (O,), z (T, O); padded as in ``poly.mle``.
A claim z(r_t, r_o) = v is reduced by one degree-2 sumcheck over the I axis:

    v - ind_T(r_t) * b(r_o) = sum_i x(r_t, i) * W(r_o, i)

where ind_T is the MLE of the row mask [t < T] (the bias is not added to padded
rows), evaluated by the verifier in O(log T). The prover folds W with eq(r_o)
by the exact limb-decomposed float64 GEMM (``field.fast.vec_mat``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import sumcheck
from ..zk import mask as zkmask
from ..errors import VerificationError
from ..field import R, fast
from ..poly.mle import eq_table, log2_ceil, prefix_indicator  # noqa: F401 (re-exported)


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
        bval = ctx.claim(self.b, r_o, "linear/bias")
        target = (value - prefix_indicator(self.rows, r_t) * bval) % R
        label = "linear"
        if ctx.is_prover:
            xf = fast.vec_mat(eq_table(r_t), _padded(ctx.ints[self.x], (1 << nt, 1 << ni)))
            wf = fast.vec_mat(eq_table(r_o), _padded(ctx.ints[self.w], (1 << no, 1 << ni)))
            out = zkmask.prove(ctx, label, ni, 2, [sumcheck.Term(1, [xf, wf])])
            s = out.point
        else:
            sub = zkmask.verify(ctx, label, ni, 2, target)
            s = sub.point
        xv = ctx.claim(self.x, r_t + s, "linear/x")
        wv = ctx.claim(self.w, r_o + s, "linear/w")
        if not ctx.is_prover and xv * wv % R != sub.expected:
            raise VerificationError("linear", f"final check of '{self.z}' = '{self.x}' x '{self.w}'^T failed")


def _padded(t: torch.Tensor, shape) -> np.ndarray:
    out = np.zeros(shape, dtype=np.int64)
    a = t.numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    out[: a.shape[0], : a.shape[1]] = a
    return out
