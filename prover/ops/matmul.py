"""Batched matrix product: Z[b] = X[b] @ Y[b]^T for every b of a leading batch axis.

Shapes: X (B, T, I), Y (B, O, I), Z (B, T, O) -- the batch axis is heads or layers.
Both operands may be committed or virtual: their claims go through ``ctx.claim``.
A claim Z(r_b, r_t, r_o) = v is reduced by ONE degree-3 sumcheck over (b, i):

    v = sum_{b, i} eq(r_b, b) * X(b, r_t, i) * Y(b, r_o, i)

ending at (s_b, s_i) with the claims X(s_b, r_t, s_i), Y(s_b, r_o, s_i); the
verifier checks eq(r_b, s_b) * X(..) * Y(..) against the sumcheck's final value.
Padded entries are zero in X and Y, hence in Z, so the relation holds everywhere.

Prover: X is folded over t with eq(r_t) and Y over o with eq(r_o) first (one exact
limb-decomposed float64 GEMM each, ``field.fast.vec_mat``), leaving vectors of
2^(nb+ni) entries; the sumcheck then runs on those.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import sumcheck
from ..zk import mask as zkmask
from ..errors import VerificationError
from ..field import R, fast
from ..field.ref import to_signed
from ..field.smallvec import SmallVec
from ..poly.mle import batch_vars, eq_eval, eq_table, log2_ceil

_SMALL = 1 << 40


def fold_middle(flat: list[int], shape: tuple[int, int, int], weights: list[int]) -> list[int]:
    """For a padded (A, M, K) tensor given as a flat field vector: out[a, k] = sum_m w[m] t[a, m, k].

    Uses the float64 GEMM when the entries are small signed integers, else plain ints.
    """
    a, m, k = shape
    if isinstance(flat, SmallVec):
        return fast.vec_mat(weights, flat.arr.reshape(a, m, k).transpose(1, 0, 2).reshape(m, a * k))
    signed = [to_signed(v) for v in flat]
    if not signed or max(abs(v) for v in signed) < _SMALL:
        arr = np.asarray(signed, dtype=np.int64).reshape(a, m, k).transpose(1, 0, 2).reshape(m, a * k)
        return fast.vec_mat(weights, arr)
    out = [0] * (a * k)
    for ai in range(a):
        for mi in range(m):
            w = weights[mi]
            base = (ai * m + mi) * k
            for ki in range(k):
                out[ai * k + ki] += w * flat[base + ki]
    return [v % R for v in out]


@dataclass
class MatMul:
    x: str
    y: str
    z: str
    batch: int | tuple  # batch axes, e.g. heads or (layers, heads)
    rows: int
    cols: int
    inner: int
    label: str = "matmul"

    def forward(self, ints: dict) -> None:
        ints[self.z] = torch.matmul(ints[self.x], ints[self.y].transpose(-1, -2))  # (B, T, O)

    def reduce(self, ctx, tid: str, point: list[int], value: int) -> None:
        nb, nt = batch_vars(self.batch), log2_ceil(self.rows)
        no, ni = log2_ceil(self.cols), log2_ceil(self.inner)
        r_b, r_t, r_o = point[:nb], point[nb:nb + nt], point[nb + nt:]
        if len(r_o) != no:
            raise ValueError(f"matmul: claim on '{self.z}' has {len(point)} coordinates")
        n = nb + ni
        if ctx.is_prover:
            bp, tp, op, ip = 1 << nb, 1 << nt, 1 << no, 1 << ni
            xf = fold_middle(ctx.values[self.x], (bp, tp, ip), eq_table(r_t))  # (b, i)
            yf = fold_middle(ctx.values[self.y], (bp, op, ip), eq_table(r_o))  # (b, i)
            eb = [e for e in eq_table(r_b) for _ in range(ip)]
            out = zkmask.prove(ctx, self.label, n, 3, [sumcheck.Term(1, [eb, xf, yf])])
            s = out.point
        else:
            sub = zkmask.verify(ctx, self.label, n, 3, value)
            s = sub.point
        s_b, s_i = s[:nb], s[nb:]
        xv = ctx.claim(self.x, s_b + r_t + s_i, f"{self.label}/x")
        yv = ctx.claim(self.y, s_b + r_o + s_i, f"{self.label}/y")
        if not ctx.is_prover and eq_eval(r_b, s_b) * xv % R * yv % R != sub.expected:
            raise VerificationError("matmul", f"final check of '{self.z}' = '{self.x}' x '{self.y}'^T failed")
