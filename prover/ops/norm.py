"""RMSNorm (LLaMA) and LayerNorm (GPT-2) with a proven inverse square root.

Notation: x (T, d) at scale 2^a, gain g (d,) at scale 2^w (model), bias b (d,) at
scale 2^a (model, LayerNorm only); with ``groups`` = L the op normalises the rows of a
stack x (L, T, d) with per-layer gains and biases g, b (L, d): the row variables below
are then (l, t) and a claim on g or b takes the layer and feature coordinates, eps_q = round(eps * 2^(2a)), K a precision
exponent chosen below. All relations hold on the padded hypercube.

Centred input c (virtual, (T, d)):
    RMSNorm:   c = x
    LayerNorm: c_ti = d x_ti - [i < d] sum_j x_tj              (exact, no rounded mean)
    A claim c(r_t, r_i) reduces without a sumcheck, since the row sum of a multilinear
    polynomial is 2^n_i times its value at (1/2, ..., 1/2):
        c(r_t, r_i) = d x(r_t, r_i) - ind_d(r_i) 2^n_i x(r_t, 1/2, ..., 1/2).
Sum of squares m (virtual, (T,)):
    m_t = sum_i c_ti^2 + E,  E = d eps_q (RMSNorm) or d^3 eps_q (LayerNorm),
    so that m_t / (d 2^(2a)) = mean(x^2) + eps and m_t / (d^3 2^(2a)) = var + eps.
    Claim m(s) = v: one degree-3 sumcheck  v - E = sum_{t,i} eq(s, t) c_ti^2.
Inverse square root (advice inv, (T,), committed): with C = d 2^(2K),
    inv_t = floor(sqrt(C / m_t)), i.e. the integer with inv^2 m <= C < (inv+1)^2 m.
    So inv_t / 2^K approximates sqrt(d / m_t) = 2^-a / sqrt(mean(x^2) + eps) for
    RMSNorm and 2^-a / (d sqrt(var + eps)) for LayerNorm. Proven by
        lo_t = C - inv_t^2 m_t          in [0, 2^S)   (committed digits, range table)
        hi_t = (inv_t+1)^2 m_t - C - 1  in [0, 2^S)   (committed digits, range table)
        inv_t = sum_k 2^(bk) e_k        e_k in [0, 2^b): inv_t in [0, 2^B)
    checked at a fresh point r with one degree-4 sumcheck (rho random):
        lo(r) + rho hi(r) - C + rho (C+1) = sum_t eq(r,t) m_t ((rho-1) inv_t^2 + 2 rho inv_t + rho).
    Given |x| < 2^(x_bits-1) (the producer of x must bound it), m_t is an integer in
    [E, M); with inv < 2^B and C + 2^(2B+2) M + 2^S < r (checked at construction) both
    congruences are integer equalities, so inv_t is the unique floor square root.
Output (Rescale pattern): z = c g inv + 2^shift ind_T b (virtual, (T, d)),
    y = round(z / 2^shift), shift = K + w - a, committed y and remainder digits
    (``Rescale``). A claim z(r) reduces by one degree-4 sumcheck over (t, i):
        z(r) - 2^shift ind_T(r_t) b(r_i) = sum_{t,i} eq(r, (t,i)) c_ti g_i inv_t.
    As for every Rescale, y must be bounded by its consumer.

Error bound (tested): against the float64 norm of the same quantized x, g, b
(b = 0 for RMSNorm), from the floor in inv, the rounding of eps and the output rounding,
    |y / 2^a - ref| <= |ref - b| (1 / inv_t + 2^-(2a+2) / eps) (1 + 2^-20) + 2^-(a+1),
    and inv_t ~ 2^p / rms_t (RMSNorm), 2^p / std_t or more (LayerNorm), p = precision.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from math import isqrt

import numpy as np
import torch

from .. import sumcheck
from ..zk import mask as zkmask
from ..context import TensorSpec
from ..errors import QuantizationRangeError, VerificationError
from ..field import R
from ..lookup.tables import RangeTable
from ..poly.mle import eq_eval, eq_table, log2_ceil, eq_table_fast
from ..quant import QuantSpec
from ..poly.mle import prefix_indicator
from .rescale import Rescale


def _roundup(v: int, m: int) -> int:
    return max(m, -(-v // m) * m)


def _digits(vals, count: int, bits: int, strict: bool) -> list[list[int]]:
    """Little-endian digits of each value; lenient: the top digit absorbs what is left."""
    mask = (1 << bits) - 1
    out = [[0] * len(vals) for _ in range(count)]
    for j, v in enumerate(vals):
        if strict and not 0 <= v < 1 << (bits * count):
            raise QuantizationRangeError(f"value {v} outside [0, 2^{bits * count})")
        rest = v
        for k in range(count - 1):
            out[k][j] = rest & mask
            rest >>= bits
        out[count - 1][j] = rest
    return out


@dataclass
class Norm:
    x: str
    g: str
    b: str | None
    y: str
    rows: int
    dim: int
    eps_q: int
    k: int
    act_frac: int
    weight_frac: int
    digit_bits: int
    x_bits: int
    weight_bits: int
    center: bool
    prefix: str = "norm"
    label: str = "norm"
    groups: int = 0  # layers of a stacked input (0: x is (T, d))
    # derived
    inv: str = field(init=False)
    m: str = field(init=False)
    z: str = field(init=False)
    c: str = field(init=False)
    inv_digits: list[str] = field(init=False)
    lo_digits: list[str] = field(init=False)
    hi_digits: list[str] = field(init=False)
    y_digits: list[str] = field(init=False)
    rescale: Rescale = field(init=False)

    def __post_init__(self):
        if self.eps_q < 1:
            raise ValueError("eps must quantize to at least 1 unit of 2^-2a")
        if (self.b is not None) != self.center:
            raise ValueError("LayerNorm has a bias, RMSNorm has none")
        p, bd = self.prefix, self.digit_bits
        if self.shift <= 0 or self.shift % bd:
            raise ValueError(f"norm rescale shift {self.shift} must be a positive multiple of {bd}")
        self.inv, self.m, self.z = f"{p}.inv", f"{p}.m", f"{p}.z"
        self.c = f"{p}.c" if self.center else self.x
        self.inv_digits = [f"{p}.ie{k}" for k in range(self.inv_bits // bd)]
        self.lo_digits = [f"{p}.lo{k}" for k in range(self.slack_bits // bd)]
        self.hi_digits = [f"{p}.hi{k}" for k in range(self.slack_bits // bd)]
        self.y_digits = [f"{p}.d{k}" for k in range(self.shift // bd)]
        self.rescale = Rescale(self.z, self.y, self.y_digits, self.shift, bd)
        inv_lim = 1 << self.inv_bits
        if self.C + (inv_lim + 1) ** 2 * self.m_max + (1 << self.slack_bits) >= R // 2:
            raise ValueError("norm parameters too large for the field")
        z_max = self.c_max * (1 << (self.weight_bits - 1)) * inv_lim + (1 << (self.shift + self.weight_bits))
        if 2 * z_max + (1 << self.shift) >= R // 2:
            raise ValueError("norm output accumulator too large for the field")

    # ---- constants
    @property
    def eps_term(self) -> int:
        return (self.dim ** 3 if self.center else self.dim) * self.eps_q

    @property
    def C(self) -> int:
        return self.dim << (2 * self.k)

    @property
    def shift(self) -> int:
        return self.k + self.weight_frac - self.act_frac

    @property
    def c_max(self) -> int:
        xm = 1 << (self.x_bits - 1)
        return (self.dim - 1) * 2 * xm if self.center else xm

    @property
    def m_max(self) -> int:
        return self.dim * self.c_max ** 2 + self.eps_term

    @property
    def inv_max(self) -> int:
        return isqrt(self.C // self.eps_term)

    @property
    def inv_bits(self) -> int:
        return _roundup(self.inv_max.bit_length(), self.digit_bits)

    @property
    def slack_bits(self) -> int:
        bound = 2 * isqrt(self.C * self.m_max) + 2 + self.m_max
        return _roundup(bound.bit_length(), self.digit_bits)

    @property
    def _ng(self) -> int:
        return log2_ceil(self.groups) if self.groups else 0

    @property
    def _nt(self) -> int:
        """Row variables: the layer bits (stacked input) then the row bits."""
        return self._ng + log2_ceil(self.rows)

    @property
    def row_shape(self) -> tuple[int, ...]:
        return (self.groups, self.rows) if self.groups else (self.rows,)

    def _row_indicator(self, r_rows) -> int:
        """MLE of [t < rows] over the row variables: the bias row is added to real rows only
        (padded layers need no indicator: a stacked bias is zero there)."""
        return prefix_indicator(self.rows, r_rows[self._ng:])

    def _per_row(self, vals: list[int]) -> list[int]:
        """A padded gain/bias vector (d,) or stack (L, d) broadcast over the padded rows."""
        nt = log2_ceil(self.rows)
        if not self.groups:
            return list(vals) * (1 << nt)
        width = 1 << self._ni
        out = []
        for gi in range(1 << self._ng):
            out += vals[gi * width:(gi + 1) * width] * (1 << nt)
        return out

    @property
    def _ni(self) -> int:
        return log2_ceil(self.dim)

    # ---- wiring
    def specs(self) -> dict[str, TensorSpec]:
        """Specs of the tensors this op owns (x, g, b belong to the caller)."""
        rs, d = self.row_shape, self.dim
        out = {self.y: TensorSpec(self.y, (*rs, d), "advice"),
               self.inv: TensorSpec(self.inv, rs, "advice"),
               self.m: TensorSpec(self.m, rs, "virtual"),
               self.z: TensorSpec(self.z, (*rs, d), "virtual")}
        if self.center:
            out[self.c] = TensorSpec(self.c, (*rs, d), "virtual")
        for did in self.inv_digits + self.lo_digits + self.hi_digits:
            out[did] = TensorSpec(did, rs, "advice")
        for did in self.y_digits:
            out[did] = TensorSpec(did, (*rs, d), "advice")
        return out

    def witness(self) -> list[str]:
        """Committed advice, in commitment order."""
        return [self.inv] + self.inv_digits + self.lo_digits + self.hi_digits + [self.y] + self.y_digits

    def virtuals(self) -> list[str]:
        return [self.z, self.m] + ([self.c] if self.center else [])

    def lookups(self) -> list[tuple[RangeTable, tuple[str]]]:
        t = RangeTable(self.digit_bits)
        return [(t, (did,)) for did in self.inv_digits + self.lo_digits + self.hi_digits + self.y_digits]

    def pad_values(self) -> dict[str, int]:
        """Padded rows have c = 0, so m = E and the advice of that row."""
        e = self.eps_term
        inv = self.inv_max
        lo, hi = self.C - inv * inv * e, (inv + 1) ** 2 * e - self.C - 1
        bd = self.digit_bits
        out = {self.m: e, self.inv: inv}
        for ids, v in ((self.inv_digits, inv), (self.lo_digits, lo), (self.hi_digits, hi)):
            for k, did in enumerate(ids):
                out[did] = (v >> (bd * k)) & ((1 << bd) - 1)
        out.update(self.rescale.pad_values())
        return {t: v for t, v in out.items() if v}

    # ---- quantized forward pass
    def forward(self, ints: dict) -> None:
        x = ints[self.x]
        lim = 1 << (self.x_bits - 1)
        if x.numel() and (int(x.min()) < -lim or int(x.max()) >= lim):
            raise QuantizationRangeError(f"norm input outside [-2^{self.x_bits - 1}, 2^{self.x_bits - 1})")
        c = np.array(x.tolist(), dtype=object).reshape(-1, self.dim)
        if self.center:
            c = self.dim * c - c.sum(axis=1, keepdims=True)
            ints[self.c] = torch.tensor(c.tolist(), dtype=torch.int64).reshape(x.shape)
        m = (c * c).sum(axis=1) + self.eps_term
        inv = [isqrt(self.C // int(mt)) for mt in m]
        self._fill(ints, c, m, inv, strict=True, shape=tuple(x.shape))

    def _fill(self, ints: dict, c, m, inv, strict: bool, shape: tuple | None = None) -> None:
        """Advice for given centred input, sum of squares and inverse square roots; ``shape`` is
        x's shape (default: the op's), e.g. one layer (1, T, d) of a stacked input."""
        C, bd = self.C, self.digit_bits
        m = [int(v) for v in m]
        ints[self.m] = np.array(m, dtype=object)
        ints[self.inv] = torch.tensor(inv, dtype=torch.int64)
        lo = [C - i * i * mt for i, mt in zip(inv, m)]
        hi = [(i + 1) ** 2 * mt - C - 1 for i, mt in zip(inv, m)]
        for ids, vals in ((self.inv_digits, inv), (self.lo_digits, lo), (self.hi_digits, hi)):
            for did, dv in zip(ids, _digits(vals, len(ids), bd, strict)):
                ints[did] = torch.tensor(dv, dtype=torch.int64)
        def rows_of(t):  # (d,) or (L, d) -> one row per input row
            a = np.array(t.tolist(), dtype=object).reshape(-1, self.dim)
            return np.repeat(a, len(m) // a.shape[0], axis=0)

        z = np.asarray(c, dtype=object) * rows_of(ints[self.g]) * np.array(inv, dtype=object)[:, None]
        if self.center:
            z = z + (rows_of(ints[self.b]) << self.shift)
        half = 1 << (self.shift - 1)
        zz = z + half
        q = zz >> self.shift
        rem = zz - (q << self.shift)
        full = tuple(shape) if shape is not None else (*self.row_shape, self.dim)
        rows = full[:-1]
        ints[self.y] = torch.tensor(q.tolist(), dtype=torch.int64).reshape(full)
        for k, did in enumerate(self.y_digits):
            ints[did] = torch.tensor(((rem >> (k * bd)) & ((1 << bd) - 1)).tolist(), dtype=torch.int64).reshape(full)
        for tid in [self.inv] + self.inv_digits + self.lo_digits + self.hi_digits:
            ints[tid] = ints[tid].reshape(rows)
        ints[self.m] = ints[self.m].reshape(rows)

    # ---- proof
    def root(self, ctx) -> None:
        """Check the inverse-square-root inequalities at a fresh point, then the output rescale."""
        L, bd, C = self.label, self.digit_bits, self.C
        nt = self._nt
        r = ctx.ch.challenges(f"{L}/r", nt)
        rho = ctx.ch.challenge(f"{L}/rho")

        def digit_sum(ids):
            return sum(pow(2, bd * k, R) * ctx.claim(did, r, f"{L}/digit") for k, did in enumerate(ids)) % R

        inv_r = ctx.claim(self.inv, r, f"{L}/inv")
        if digit_sum(self.inv_digits) != inv_r and not ctx.is_prover:
            raise VerificationError("norm-inv-range", f"'{self.inv}' is not the sum of its digits")
        lo, hi = digit_sum(self.lo_digits), digit_sum(self.hi_digits)
        claim = (lo + rho * hi - C + rho * (C + 1)) % R
        c2, c1, c0 = (rho - 1) % R, 2 * rho % R, rho
        if ctx.is_prover:
            v = ctx.values
            eq, iv, mv = eq_table(r), v[self.inv], v[self.m]
            out = zkmask.prove(ctx, f"{L}/isqrt", nt, 4,
                                 [sumcheck.Term(c2, [eq, iv, iv, mv]), sumcheck.Term(c1, [eq, iv, mv]),
                                  sumcheck.Term(c0, [eq, mv])])
            s = out.point
        else:
            sub = zkmask.verify(ctx, f"{L}/isqrt", nt, 4, claim)
            s = sub.point
        inv_s = ctx.claim(self.inv, s, f"{L}/inv")
        m_s = ctx.claim(self.m, s, f"{L}/m")
        if not ctx.is_prover:
            exp = eq_eval(r, s) * m_s % R * ((c2 * inv_s % R * inv_s + c1 * inv_s + c0) % R) % R
            if exp != sub.expected:
                raise VerificationError("norm-isqrt", f"'{self.inv}' is not the inverse square root of '{self.m}'")
        self.rescale.root(ctx)

    def reduce(self, ctx, tid: str, point: list[int], value: int) -> None:
        if tid == self.z:
            self._reduce_z(ctx, point, value)
        elif tid == self.m:
            self._reduce_m(ctx, point, value)
        elif self.center and tid == self.c:
            self._reduce_c(ctx, point, value)
        else:
            raise KeyError(tid)

    def _reduce_z(self, ctx, point, value):
        L, nt, ni = self.label, self._nt, self._ni
        r_t, r_i = point[:nt], point[nt:]
        target = value % R
        if self.center:
            bv = ctx.claim(self.b, r_t[:self._ng] + r_i, f"{L}/bias")
            target = (value - pow(2, self.shift, R) * self._row_indicator(r_t) % R * bv) % R
        if ctx.is_prover:
            v = ctx.values
            gb = self._per_row(v[self.g])
            ib = [iv for iv in v[self.inv] for _ in range(1 << ni)]
            out = zkmask.prove(ctx, f"{L}/out", nt + ni, 4,
                                 [sumcheck.Term(1, [eq_table_fast(point), v[self.c], gb, ib])])
            s = out.point
        else:
            sub = zkmask.verify(ctx, f"{L}/out", nt + ni, 4, target)
            s = sub.point
        cv = ctx.claim(self.c, s, f"{L}/c")
        gv = ctx.claim(self.g, s[:self._ng] + s[nt:], f"{L}/gain")
        iv = ctx.claim(self.inv, s[:nt], f"{L}/inv")
        if not ctx.is_prover and eq_eval(point, s) * cv % R * gv % R * iv % R != sub.expected:
            raise VerificationError("norm-output", f"final check of '{self.z}' = c * '{self.g}' * '{self.inv}' failed")

    def _reduce_m(self, ctx, point, value):
        L, nt, ni = self.label, self._nt, self._ni
        target = (value - self.eps_term) % R
        if ctx.is_prover:
            v = ctx.values
            eb = [e for e in eq_table(point) for _ in range(1 << ni)]
            cv = v[self.c]
            out = zkmask.prove(ctx, f"{L}/sumsq", nt + ni, 3, [sumcheck.Term(1, [eb, cv, cv])])
            u = out.point
        else:
            sub = zkmask.verify(ctx, f"{L}/sumsq", nt + ni, 3, target)
            u = sub.point
        cu = ctx.claim(self.c, u, f"{L}/c")
        if not ctx.is_prover and eq_eval(point, u[:nt]) * cu % R * cu % R != sub.expected:
            raise VerificationError("norm-sumsq", f"'{self.m}' is not the row sum of squares")

    def _reduce_c(self, ctx, point, value):
        L, nt, ni = self.label, self._nt, self._ni
        xa = ctx.claim(self.x, point, f"{L}/x")
        xm = ctx.claim(self.x, point[:nt] + [sumcheck.INV2] * ni, f"{L}/xrow")
        derived = (self.dim * xa - prefix_indicator(self.dim, point[nt:]) * pow(2, ni, R) % R * xm) % R
        if not ctx.is_prover and derived != value % R:
            raise VerificationError("norm-centre", f"'{self.c}' is not '{self.x}' minus its row mean")


def _k_for(quant: QuantSpec, dim: int, center: bool, precision: int) -> int:
    """Smallest K >= a + precision (+ log2 d for LayerNorm) whose shift is a digit multiple."""
    want = quant.act_frac_bits + precision + (log2_ceil(dim) if center else 0)
    shift = _roundup(want + quant.weight_frac_bits - quant.act_frac_bits, quant.digit_bits)
    return shift - quant.weight_frac_bits + quant.act_frac_bits


def _make(prefix, x, g, b, rows, dim, eps, quant, center, x_bits, precision, groups=0) -> Norm:
    a = quant.act_frac_bits
    return Norm(x=x, g=g, b=b, y=f"{prefix}.y", rows=rows, dim=dim,
                eps_q=max(1, round(eps * (1 << (2 * a)))), k=_k_for(quant, dim, center, precision),
                act_frac=a, weight_frac=quant.weight_frac_bits, digit_bits=quant.digit_bits,
                x_bits=x_bits if x_bits is not None else a + 13, weight_bits=quant.weight_bits,
                center=center, prefix=prefix, label=prefix[-16:], groups=groups)


def rms_norm(prefix: str, x: str, g: str, rows: int, dim: int, eps: float, quant: QuantSpec, *,
             x_bits: int | None = None, precision: int = 16, groups: int = 0) -> Norm:
    """LLaMA RMSNorm ``x / sqrt(mean(x^2) + eps) * g``; inv carries ``precision`` bits for rms ~ 1."""
    return _make(prefix, x, g, None, rows, dim, eps, quant, False, x_bits, precision, groups)


def layer_norm(prefix: str, x: str, g: str, b: str, rows: int, dim: int, eps: float, quant: QuantSpec, *,
               x_bits: int | None = None, precision: int = 16, groups: int = 0) -> Norm:
    """GPT-2 LayerNorm ``(x - mean) / sqrt(var + eps) * g + b`` (biased variance, as torch)."""
    return _make(prefix, x, g, b, rows, dim, eps, quant, True, x_bits, precision, groups)
