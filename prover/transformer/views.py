"""Zero-cost views and small adapters used by the transformer compiler.

A view is a virtual tensor whose MLE is another tensor's MLE at permuted and/or
dropped point coordinates, so ``reduce`` forwards the claim without a sumcheck:

* ``HeadSplit``:  dst(h, t, j) = src(t, h*hd + j)            (hd a power of two)
* ``HeadMerge``:  dst(t, h*hd + j) = src(h, t, j)
* ``KVExpand``:   dst(h, t, j) = src(h >> g, t, j)          (GQA, 2^g query heads per KV head)
* ``VTExpand``:   dst(h, j, t) = src(t, (h >> g)*hd + j)     (V transposed, GQA-expanded)

Dropping the low head bits is exact: sum_b eq(r, b) = 1, so
dst(r_h, ...) = src(r_h[:-g], ...). Padded entries agree because the padded head
count of dst is that of src times 2^g and zero rows stay zero.

``LinearNB`` is the bias-free linear layer z = x W^T (one degree-2 sumcheck).
``RangeBound`` proves q in [-2^(B-1), 2^(B-1)) for a committed q by committed
base-2^b digits e_k of q + 2^(B-1): at a fresh point, q(r) + 2^(B-1) = sum_k 2^(bk) e_k(r).
It bounds the rescale quotients that no lookup bounds, so every accumulator stays an
integer far below the field modulus.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import sumcheck
from ..errors import QuantizationRangeError, VerificationError
from ..field import R, fast
from ..lookup.tables import RangeTable
from ..poly.mle import eq_eval, eq_table, log2_ceil, prefix_indicator


def _is_pow2(n: int) -> bool:
    return n >= 1 and not n & (n - 1)


@dataclass
class HeadSplit:
    src: str   # (T, H*hd)
    z: str     # (H, T, hd)
    heads: int
    rows: int
    head_dim: int

    def __post_init__(self):
        if not _is_pow2(self.head_dim):
            raise ValueError("head split needs a power-of-two head dimension")

    def forward(self, ints):
        ints[self.z] = ints[self.src].reshape(self.rows, self.heads, self.head_dim).transpose(0, 1).contiguous()

    def reduce(self, ctx, tid, point, value):
        nh, nt = log2_ceil(self.heads), log2_ceil(self.rows)
        ctx.reduce(self.src, point[nh:nh + nt] + point[:nh] + point[nh + nt:], value)


@dataclass
class HeadMerge:
    src: str   # (H, T, hd)
    z: str     # (T, H*hd)
    heads: int
    rows: int
    head_dim: int

    def __post_init__(self):
        if not _is_pow2(self.head_dim):
            raise ValueError("head merge needs a power-of-two head dimension")

    def forward(self, ints):
        ints[self.z] = ints[self.src].transpose(0, 1).reshape(self.rows, self.heads * self.head_dim)

    def reduce(self, ctx, tid, point, value):
        nh, nt = log2_ceil(self.heads), log2_ceil(self.rows)
        ctx.reduce(self.src, point[nt:nt + nh] + point[:nt] + point[nt + nh:], value)


@dataclass
class KVExpand:
    src: str   # (Hkv, T, hd)
    z: str     # (H, T, hd)
    kv_heads: int
    group: int

    def __post_init__(self):
        if not _is_pow2(self.group):
            raise ValueError("GQA expansion needs a power-of-two group size")

    def forward(self, ints):
        ints[self.z] = ints[self.src].repeat_interleave(self.group, dim=0)

    def reduce(self, ctx, tid, point, value):
        nh = log2_ceil(self.kv_heads * self.group)
        g = log2_ceil(self.group)
        ctx.reduce(self.src, point[:nh - g] + point[nh:], value)


@dataclass
class VTExpand:
    src: str   # (T, Hkv*hd)
    z: str     # (H, hd, T)
    kv_heads: int
    group: int
    rows: int
    head_dim: int

    def __post_init__(self):
        if not (_is_pow2(self.group) and _is_pow2(self.head_dim)):
            raise ValueError("V view needs power-of-two group size and head dimension")

    def forward(self, ints):
        v = ints[self.src].reshape(self.rows, self.kv_heads, self.head_dim).permute(1, 2, 0)  # (Hkv, hd, T)
        ints[self.z] = v.repeat_interleave(self.group, dim=0).contiguous()

    def reduce(self, ctx, tid, point, value):
        nh = log2_ceil(self.kv_heads * self.group)
        g, nj = log2_ceil(self.group), log2_ceil(self.head_dim)
        r_h, r_j, r_t = point[:nh], point[nh:nh + nj], point[nh + nj:]
        ctx.reduce(self.src, r_t + r_h[:nh - g] + r_j, value)


@dataclass
class LinearNB:
    """z = x W^T with x (T, I), W (O, I), no bias."""
    x: str
    w: str
    z: str
    rows: int
    d_in: int
    d_out: int
    label: str = "linear"

    def forward(self, ints):
        ints[self.z] = ints[self.x] @ ints[self.w].T

    def reduce(self, ctx, tid, point, value):
        nt, no, ni = log2_ceil(self.rows), log2_ceil(self.d_out), log2_ceil(self.d_in)
        r_t, r_o = point[:nt], point[nt:]
        if ctx.is_prover:
            xf = fast.vec_mat(eq_table(r_t), _padded(ctx.ints[self.x], (1 << nt, 1 << ni)))
            wf = fast.vec_mat(eq_table(r_o), _padded(ctx.ints[self.w], (1 << no, 1 << ni)))
            s = sumcheck.prove(ctx.ch, self.label, ni, 2, [sumcheck.Term(1, [xf, wf])]).point
        else:
            sub = sumcheck.verify(ctx.ch, self.label, ni, 2, value % R)
            s = sub.point
        xv = ctx.claim(self.x, r_t + s, f"{self.label}/x")
        wv = ctx.claim(self.w, r_o + s, f"{self.label}/w")
        if not ctx.is_prover and xv * wv % R != sub.expected:
            raise VerificationError("linear", f"final check of '{self.z}' = '{self.x}' x '{self.w}'^T failed")


def _padded(t, shape) -> np.ndarray:
    out = np.zeros(shape, dtype=np.int64)
    a = t.numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    out[: a.shape[0], : a.shape[1]] = a
    return out


@dataclass
class RangeBound:
    """q in [-2^(bits-1), 2^(bits-1)) via committed digits of q + 2^(bits-1)."""
    q: str
    digit_ids: list[str]
    bits: int
    digit_bits: int
    label: str = "bound"

    def forward(self, ints):
        q = ints[self.q]
        off = 1 << (self.bits - 1)
        if q.numel() and (int(q.min()) < -off or int(q.max()) >= off):
            raise QuantizationRangeError(f"'{self.q}' outside [-2^{self.bits - 1}, 2^{self.bits - 1})")
        u = q + off
        mask = (1 << self.digit_bits) - 1
        for k, did in enumerate(self.digit_ids):
            ints[did] = (u >> (k * self.digit_bits)) & mask

    def pad_values(self) -> dict[str, int]:
        off, mask = 1 << (self.bits - 1), (1 << self.digit_bits) - 1
        return {did: (off >> (k * self.digit_bits)) & mask for k, did in enumerate(self.digit_ids)
                if (off >> (k * self.digit_bits)) & mask}

    def lookups(self):
        t = RangeTable(self.digit_bits)
        return [(t, (did,)) for did in self.digit_ids]

    def root(self, ctx):
        n = ctx.spec(self.q).num_vars
        r = ctx.ch.challenges(f"{self.label}/r", n)
        qv = ctx.claim(self.q, r, f"{self.label}/q")
        acc = 0
        for k, did in enumerate(self.digit_ids):
            acc += pow(2, k * self.digit_bits, R) * ctx.claim(did, r, f"{self.label}/digit")
        if not ctx.is_prover and (qv + (1 << (self.bits - 1)) - acc) % R:
            raise VerificationError("range-bound", f"'{self.q}' is not within its stated range")


@dataclass
class PositionRows:
    """z = src[:T]: the first T rows of a committed (P, d) table, zero rows beyond T.

    A claim z(r_t, r_d) = v becomes a claim on src with the high row bits set to 0;
    when T is not a power of two the rows T..2^nt-1 are masked out by one degree-3
    sumcheck over t:  v = sum_t eq(r_t, t) ind_T(t) src(0.., t, r_d).
    """
    src: str   # (P, d)
    z: str     # (T, d)
    rows: int
    table_rows: int
    dim: int
    label: str = "pos"

    def __post_init__(self):
        if not 1 <= self.rows <= self.table_rows:
            raise ValueError("position rows outside the position table")

    def forward(self, ints):
        ints[self.z] = ints[self.src][: self.rows].clone()

    def reduce(self, ctx, tid, point, value):
        nt, npos, nd = log2_ceil(self.rows), log2_ceil(self.table_rows), log2_ceil(self.dim)
        hi = [0] * (npos - nt)
        r_t, r_d = point[:nt], point[nt:]
        if self.rows == 1 << nt:
            ctx.reduce(self.src, hi + point, value)
            return
        if ctx.is_prover:
            src = ctx.values[self.src]
            ed = eq_table(r_d)
            width = 1 << nd
            pf = [sum(ed[j] * src[t * width + j] for j in range(width)) % R for t in range(1 << nt)]
            mask = [1 if t < self.rows else 0 for t in range(1 << nt)]
            s = sumcheck.prove(ctx.ch, self.label, nt, 3, [sumcheck.Term(1, [eq_table(r_t), mask, pf])]).point
        else:
            sub = sumcheck.verify(ctx.ch, self.label, nt, 3, value % R)
            s = sub.point
        pv = ctx.claim(self.src, hi + s + r_d, f"{self.label}/P")
        if not ctx.is_prover and eq_eval(r_t, s) * prefix_indicator(self.rows, s) % R * pv % R != sub.expected:
            raise VerificationError("position", f"final check of '{self.z}' = first rows of '{self.src}' failed")
