"""Zero-cost views and small adapters used by the transformer compiler.

Every per-layer tensor is stacked across layers: a leading layer axis of ``layers``
entries (``nl = log2_ceil(layers)`` point coordinates, passed through unchanged; 0 when
the tensor has no layer axis).

A view is a virtual tensor whose MLE is another tensor's MLE at permuted and/or
dropped point coordinates, so ``reduce`` forwards the claim without a sumcheck:

* ``HeadSplit``:  dst(l, h, t, j) = src(l, t, h*hd + j)        (hd a power of two)
* ``HeadMerge``:  dst(l, t, h*hd + j) = src(l, h, t, j)
* ``KVExpand``:   dst(l, h, t, j) = src(l, h // g, t, j)      (GQA, g query heads per KV head)
* ``VTExpand``:   dst(l, h, j, t) = src(l, t, (h // g)*hd + j) (V transposed, GQA-expanded)
* ``LayerSlice``: dst(t, i) = src(k, t, i)                    (one layer of a stacked tensor)

For a power-of-two group g = 2^e, h // g drops the low e head bits, which is exact:
sum_b eq(r, b) = 1, so dst(r_h, ...) = src(r_h[:-e], ...). Any other group is reduced by
a small sumcheck over the KV heads (``_group_reduce``): dst(r_h, x) = sum_k w_k src(k, x),
w_k = sum_{h < H, h // g = k} eq(r_h, h), whose weights the verifier computes in O(H log H).

``LinearNB`` is the bias-free linear layer z = x W^T (one degree-2 sumcheck).
``BiasAdd`` adds a (stacked) bias row to every real row: z = zz + [t < T] b.
``RangeBound`` proves q in [-2^(B-1), 2^(B-1)) for a committed q by committed
base-2^b digits e_k of q + 2^(B-1): at a fresh point, q(r) + 2^(B-1) = sum_k 2^(bk) e_k(r).
It bounds the rescale quotients that no lookup bounds, so every accumulator stays an
integer far below the field modulus.
``ResidualChain`` ties the committed layer inputs X (L, T, d) to the embedding x0 and the
layer outputs Y: X[0] = x0 and X[l] = Y[l-1], with the succinct shift MLE (``next_eval``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import sumcheck
from ..zk import mask as zkmask
from ..errors import QuantizationRangeError, VerificationError
from ..field import R, fast
from ..lookup.tables import RangeTable
from ..quant import check_decomposition, require, signed_digits, signed_pad_digits
from ..poly.mle import (bits_msb, eq_eval, eq_table, evaluate, log2_ceil, next_eval, prefix_indicator)


def _is_pow2(n: int) -> bool:
    return n >= 1 and not n & (n - 1)


def _nl(layers: int) -> int:
    return log2_ceil(layers) if layers else 0


def _group_weights(r_h: list[int], heads: int, kv_heads: int, group: int) -> list[int]:
    """w_k = sum over the query heads h < heads with h // group = k of eq(r_h, h), k < 2^nkv."""
    nh, nkv = len(r_h), log2_ceil(kv_heads)
    w = [0] * (1 << nkv)
    for h in range(heads):
        w[h // group] = (w[h // group] + eq_eval(r_h, bits_msb(h, nh))) % R
    return w


def _group_reduce(ctx, src: str, label: str, r_h: list[int], heads: int, kv_heads: int, group: int,
                  src_point, value: int) -> None:
    """Reduce a claim on an expanded view at head point ``r_h`` to one claim on ``src``.

    ``src_point(k_point)`` places the KV-head coordinates in src's point. One degree-2
    sumcheck over the KV heads of w(k) src(k, ...), w from ``_group_weights``."""
    nkv = log2_ceil(kv_heads)
    w = _group_weights(r_h, heads, kv_heads, group)
    if ctx.is_prover:
        vals = ctx.values[src]
        f = [evaluate(vals, src_point(bits_msb(k, nkv))) if w[k] else 0 for k in range(1 << nkv)]
        s = zkmask.prove(ctx, label, nkv, 2, [sumcheck.Term(1, [w, f])]).point
    else:
        sub = zkmask.verify(ctx, label, nkv, 2, value % R)
        s = sub.point
    sv = ctx.claim(src, src_point(s), f"{label}/src")
    if not ctx.is_prover and evaluate(w, s) * sv % R != sub.expected:
        raise VerificationError("gqa", f"final check of the grouped-query expansion of '{src}' failed")


@dataclass
class HeadSplit:
    src: str   # ([L,] T, H*hd)
    z: str     # ([L,] H, T, hd)
    heads: int
    rows: int
    head_dim: int
    layers: int = 0

    def __post_init__(self):
        if not _is_pow2(self.head_dim):
            raise ValueError("head split needs a power-of-two head dimension")

    def forward(self, ints):
        x = ints[self.src]
        ints[self.z] = x.reshape(*x.shape[:-2], self.rows, self.heads, self.head_dim).transpose(-3, -2).contiguous()

    def reduce(self, ctx, tid, point, value):
        nl, nh, nt = _nl(self.layers), log2_ceil(self.heads), log2_ceil(self.rows)
        p = point[nl:]
        ctx.reduce(self.src, point[:nl] + p[nh:nh + nt] + p[:nh] + p[nh + nt:], value)


@dataclass
class HeadMerge:
    src: str   # ([L,] H, T, hd)
    z: str     # ([L,] T, H*hd)
    heads: int
    rows: int
    head_dim: int
    layers: int = 0

    def __post_init__(self):
        if not _is_pow2(self.head_dim):
            raise ValueError("head merge needs a power-of-two head dimension")

    def forward(self, ints):
        x = ints[self.src]
        ints[self.z] = x.transpose(-3, -2).reshape(*x.shape[:-3], self.rows, self.heads * self.head_dim)

    def reduce(self, ctx, tid, point, value):
        nl, nh, nt = _nl(self.layers), log2_ceil(self.heads), log2_ceil(self.rows)
        p = point[nl:]
        ctx.reduce(self.src, point[:nl] + p[nt:nt + nh] + p[:nt] + p[nt + nh:], value)


@dataclass
class KVExpand:
    src: str   # ([L,] Hkv, T, hd)
    z: str     # ([L,] H, T, hd)
    kv_heads: int
    group: int
    layers: int = 0
    label: str = "gqa"

    def forward(self, ints):
        ints[self.z] = ints[self.src].repeat_interleave(self.group, dim=-3)

    def reduce(self, ctx, tid, point, value):
        nl, nkv = _nl(self.layers), log2_ceil(self.kv_heads)
        heads = self.kv_heads * self.group
        nh = log2_ceil(heads)
        pre, r_h, rest = point[:nl], point[nl:nl + nh], point[nl + nh:]
        if _is_pow2(self.group):
            ctx.reduce(self.src, pre + r_h[:nkv] + rest, value)
            return
        _group_reduce(ctx, self.src, f"{self.label}/k", r_h, heads, self.kv_heads, self.group,
                      lambda k: pre + list(k) + rest, value)


@dataclass
class VTExpand:
    src: str   # ([L,] T, Hkv*hd)
    z: str     # ([L,] H, hd, T)
    kv_heads: int
    group: int
    rows: int
    head_dim: int
    layers: int = 0
    label: str = "gqa"

    def __post_init__(self):
        if not _is_pow2(self.head_dim):
            raise ValueError("V view needs a power-of-two head dimension")

    def forward(self, ints):
        x = ints[self.src]
        lead = x.shape[:-2]
        v = x.reshape(*lead, self.rows, self.kv_heads, self.head_dim)
        v = v.permute(*range(len(lead)), -2, -1, -3)  # ([L,] Hkv, hd, T)
        ints[self.z] = v.repeat_interleave(self.group, dim=-3).contiguous()

    def reduce(self, ctx, tid, point, value):
        nl, nkv = _nl(self.layers), log2_ceil(self.kv_heads)
        heads = self.kv_heads * self.group
        nh, nj = log2_ceil(heads), log2_ceil(self.head_dim)
        pre, r_h, r_j, r_t = point[:nl], point[nl:nl + nh], point[nl + nh:nl + nh + nj], point[nl + nh + nj:]
        if _is_pow2(self.group):
            ctx.reduce(self.src, pre + r_t + r_h[:nkv] + r_j, value)
            return
        _group_reduce(ctx, self.src, f"{self.label}/v", r_h, heads, self.kv_heads, self.group,
                      lambda k: pre + r_t + list(k) + r_j, value)


@dataclass
class LayerSlice:
    """dst = src[layer]: one layer of a tensor stacked across ``layers`` layers."""
    src: str
    z: str
    layer: int
    layers: int

    def forward(self, ints):
        ints[self.z] = ints[self.src][self.layer]

    def reduce(self, ctx, tid, point, value):
        ctx.reduce(self.src, bits_msb(self.layer, _nl(self.layers)) + list(point), value)


@dataclass
class BiasAdd:
    """z = zz + [t < rows] b: a ([L,] O) bias added to every real row of a ([L,] T, O) tensor."""
    zz: str
    b: str
    z: str
    rows: int
    layers: int = 0
    label: str = "bias"

    def forward(self, ints):
        b = ints[self.b]
        ints[self.z] = ints[self.zz] + (b.unsqueeze(-2) if b.dim() > 1 else b)

    def reduce(self, ctx, tid, point, value):
        nl, nt = _nl(self.layers), log2_ceil(self.rows)
        r_t = point[nl:nl + nt]
        bv = ctx.claim(self.b, point[:nl] + point[nl + nt:], f"{self.label}/b")
        ctx.reduce(self.zz, point, (value - prefix_indicator(self.rows, r_t) * bv) % R)


@dataclass
class ResidualChain:
    """X[0] = x0, X[l] = Y[l-1] for the committed layer inputs X (L, T, d).

    At a fresh point (r_l, r):  X(r_l, r) = eq(r_l, 0) x0(r) + sum_m next(r_l, m) [m < L-1] Y(m, r),
    the sum by one degree-3 sumcheck over the layer bits; the verifier evaluates next and the
    prefix indicator in O(log L). Padded layers of X are zero: next(a, m) [m < L-1] vanishes
    for every a >= L."""
    x: str      # (L, T, d) committed
    x0: str     # (T, d)
    y: str      # (L, T, d)
    layers: int
    label: str = "chain"

    def root(self, ctx):
        nl = _nl(self.layers)
        n = ctx.spec(self.x).num_vars
        r = ctx.ch.challenges(f"{self.label}/r", n)
        r_l, rest = r[:nl], r[nl:]
        xv = ctx.claim(self.x, r, f"{self.label}/x")
        x0v = ctx.claim(self.x0, rest, f"{self.label}/x0")
        target = (xv - eq_eval(r_l, [0] * nl) * x0v) % R
        if self.layers == 1:
            if not ctx.is_prover and target:
                raise VerificationError("residual-chain", f"'{self.x}' is not the embedding")
            return
        if ctx.is_prover:
            nxt = [next_eval(r_l, bits_msb(m, nl)) for m in range(1 << nl)]
            ind = [1 if m < self.layers - 1 else 0 for m in range(1 << nl)]
            yv = ctx.values[self.y]
            size = len(yv) >> nl
            ys = [evaluate(yv[m * size:(m + 1) * size], rest) for m in range(1 << nl)]
            s = zkmask.prove(ctx, self.label, nl, 3, [sumcheck.Term(1, [nxt, ind, ys])]).point
        else:
            sub = zkmask.verify(ctx, self.label, nl, 3, target)
            s = sub.point
        yv = ctx.claim(self.y, s + rest, f"{self.label}/y")
        if not ctx.is_prover:
            if next_eval(r_l, s) * prefix_indicator(self.layers - 1, s) % R * yv % R != sub.expected:
                raise VerificationError("residual-chain", f"'{self.x}' is not the embedding followed by the layer outputs")


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
            s = zkmask.prove(ctx, self.label, ni, 2, [sumcheck.Term(1, [xf, wf])]).point
        else:
            sub = zkmask.verify(ctx, self.label, ni, 2, value % R)
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

    def __post_init__(self):
        check_decomposition(self.bits, self.digit_bits, "bound-width")
        require(len(self.digit_ids) * self.digit_bits == self.bits, "bound-width",
                f"{len(self.digit_ids)} digits do not cover {self.bits} bits")

    def forward(self, ints):
        q = ints[self.q]
        off = 1 << (self.bits - 1)
        if q.numel() and (int(q.min()) < -off or int(q.max()) >= off):
            raise QuantizationRangeError(f"'{self.q}' outside [-2^{self.bits - 1}, 2^{self.bits - 1})")
        ints.update(zip(self.digit_ids, signed_digits(q, self.bits, self.digit_bits, len(self.digit_ids))))

    def pad_values(self) -> dict[str, int]:
        return signed_pad_digits(self.bits, self.digit_bits, self.digit_ids)

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
            s = zkmask.prove(ctx, self.label, nt, 3, [sumcheck.Term(1, [eq_table(r_t), mask, pf])]).point
        else:
            sub = zkmask.verify(ctx, self.label, nt, 3, value % R)
            s = sub.point
        pv = ctx.claim(self.src, hi + s + r_d, f"{self.label}/P")
        if not ctx.is_prover and eq_eval(r_t, s) * prefix_indicator(self.rows, s) % R * pv % R != sub.expected:
            raise VerificationError("position", f"final check of '{self.z}' = first rows of '{self.src}' failed")
