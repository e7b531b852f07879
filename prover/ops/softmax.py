"""Causal softmax without division (zkAttn): per-row shift, digit-wise exp tables.

Tensors (ids derived from ``prefix``; shapes natural, padded per axis):
  S  (heads, T, T)  input scores at scale 2^s_in (the op's ``s``; any kind)
  P  (heads, T, T)  output probabilities at scale 2^p_out, COMMITTED advice
The (heads, T, T) layout gives the causal mask M[h, t, j] = [j <= t] (zero on
padded heads/rows/keys) a succinct MLE for any T; for a power-of-two T it is
bit-identical to the flattened (heads*T, T) layout.

Advice (all committed):
  z            (heads, T)     per-row shift, scale 2^s_in
  d_k          (heads,T,T)    k < K: digits of D = z - S, D = sum_k 2^(b k) d_k
  F_k          (heads,T,T)    F_k = E_k(d_k) = round(2^p exp(-d_k 2^(b k) / 2^s))
  g_{k,i}      (heads,T,T)    1 <= k < K: digits (rb bits) of G_k
  r_{k,i}      (heads,T,T)    1 <= k < K: digits (rb bits) of the rescale remainder
  ulo_i, uhi_i (heads, T)     digits (rb bits) of the row-sum slacks
with G_0 = F_0 and, for k >= 1, G_k = round(G_{k-1} F_k / 2^p) (ties up).

Relations (h, t, j over the padded hypercube, M the public mask):
  (1) M (sum_k 2^(bk) d_k + S - z) = 0                  D = z - S where unmasked
  (2) G_{k-1} F_k + 2^(p-1) = 2^p G_k + rem_k,  k >= 1  rounded products
  (3) P = M G_{K-1}                                     masked entries exactly 0
  (4) sum_j P[h,t,j] = ind(h,t) (2^p - B) + ulo[h,t]
  (5) ulo + uhi = 2B ind(h,t)                           so ulo in [0, 2B]
with ind(h,t) = [h < heads][t < T]. Lookups: (d_k, F_k) in ExpTable k (this also
range-checks d_k in [0, 2^b): the table input column is the range [0, 2^b)); every
g, r, ulo, uhi digit in RangeTable(rb). All quantities are < 2^(2p+rb) in magnitude,
so (2) holds over the integers and pins G_k uniquely; D >= 0 makes z >= max_j S.

Proof (``root``): (1)-(3) as one zero-check, alpha-combined,
  0 = sum_x eq(r, x) [ M(x) A(x) + L(x) + sum_{k>=1} alpha^k G_{k-1}(x) F_k(x) ]
  A = D + S - z - alpha^K G_{K-1},  L = sum_{k>=1} alpha^k (2^(p-1) - 2^p G_k - rem_k) + alpha^K P
(one degree-3 sumcheck; G_k, rem_k, D are linear in their digit claims; M(s) is
``causal_mask_mle``, O(log T)). (4)-(5) at a fresh row point r': the key sum is
2^(log T) P(r', 1/2, ..., 1/2), one claim on P, then linear checks.

P is committed: its consumer's claims are plain openings. The op bounds S only
relative to z on unmasked entries; softmax is invariant to a common row shift, so
no absolute bound on S is needed here, and masked entries of S are unconstrained
(they never reach P).

Error bound (any accepted proof; a = (K - 1/2) 2^-p, n = T keys, B the row-sum bound):
each unmasked P_j / 2^p is within a of exp((S_j - z)/2^s) = c sigma_j (each table
value is within 2^-(p+1) of its exp and <= 1, each rescale adds <= 2^-(p+1)), so
  |P_j / 2^p - sigma_j| <= (B 2^-p + n a) sigma_j + a     (sigma = float softmax of S/2^s).
The default B = ceil(2^p (exp(2^-(s+1)) - 1) + n a 2^p) makes the honest prover
(z = the best of round(2^s logsumexp) +- 1) always succeed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .. import sumcheck
from ..context import TensorSpec
from ..errors import QuantizationRangeError, VerificationError
from ..field import R
from ..lookup.exp_tables import ExpTable, exp_tables
from ..lookup.tables import RangeTable
from ..poly.mle import batch_dims, batch_indicator, batch_mask, batch_size, batch_vars, eq_eval, eq_table, log2_ceil
from ..quant import check_decomposition, check_digit_bits, require, rescale
from ..poly.mle import prefix_indicator


def causal_mask_mle(T: int, t_pt, j_pt) -> int:
    """MLE of [j <= t < T] over (t, j) in {0,1}^m x {0,1}^m, m = log2_ceil(T), O(m)."""
    m = len(t_pt)
    if len(j_pt) != m or (T > 1 << m) or (T <= (1 << m) >> 1 and m > 0):
        raise ValueError("causal mask: point length does not match T")
    lim = T - 1
    # state (c_jt, c_tl): comparison so far of j vs t and of t vs T-1: 0 equal, 1 less, 2 greater
    w = {(0, 0): 1}
    for i in range(m):
        tz, jz = t_pt[i] % R, j_pt[i] % R
        lb = (lim >> (m - 1 - i)) & 1
        nxt: dict = {}
        for (a, c), wt in w.items():
            for tb in (0, 1):
                ft = tz if tb else (1 - tz)
                for jb in (0, 1):
                    fj = jz if jb else (1 - jz)
                    na = a if a else (0 if jb == tb else (1 if jb < tb else 2))
                    nc = c if c else (0 if tb == lb else (1 if tb < lb else 2))
                    nxt[(na, nc)] = (nxt.get((na, nc), 0) + wt * ft % R * fj) % R
        w = nxt
    return sum(v for (a, c), v in w.items() if a < 2 and c < 2) % R


def _digits(x: torch.Tensor, bits: int, count: int) -> list[torch.Tensor]:
    """Little-endian digits; the top digit takes whatever is left (out of range if x is)."""
    mask = (1 << bits) - 1
    out = [(x >> (bits * i)) & mask for i in range(count - 1)]
    out.append(x >> (bits * (count - 1)))
    return out


@dataclass
class Softmax:
    s: str                 # scores (heads, T, T), scale 2^s_in
    p: str                 # probabilities (heads, T, T), scale 2^p_out (committed advice)
    heads: int | tuple     # batch axes: heads, or (layers, heads)
    T: int
    prefix: str = "sm"
    s_in: int = 8
    p_out: int = 16
    digit_bits: int = 8    # b: D-digit width (exp-table size 2^b)
    num_digits: int = 2    # K: D < 2^(K b)
    range_bits: int = 8    # rb: width of rescale / G / row-sum digits
    bound: int | None = None  # B: |row sum - 2^p_out| <= B; default from the error analysis

    def __post_init__(self):
        check_digit_bits(self.range_bits)
        require(isinstance(self.num_digits, int) and self.num_digits >= 1, "exp-width", "softmax needs a digit")
        check_decomposition(self.num_digits * self.digit_bits, self.digit_bits, "exp-width")
        if self.p_out % self.range_bits or self.num_digits < 1 or batch_size(self.heads) < 1 or self.T < 1:
            raise ValueError("softmax: p_out must be a multiple of range_bits; K, heads, T >= 1")
        if self.bound is None:
            self.bound = math.ceil((1 << self.p_out) * math.expm1(2.0 ** -(self.s_in + 1))
                                   + self.T * (self.num_digits - 0.5)) + 1
        self.n_rem = self.p_out // self.range_bits
        self.n_g = -(-(self.p_out + 1) // self.range_bits)
        self.n_u = 1
        while (1 << (self.range_bits * self.n_u)) <= 2 * self.bound:
            self.n_u += 1
        pf = self.prefix
        self.z = f"{pf}.z"
        self.d = [f"{pf}.d{k}" for k in range(self.num_digits)]
        self.f = [f"{pf}.e{k}" for k in range(self.num_digits)]
        self.g = {k: [f"{pf}.g{k}.{i}" for i in range(self.n_g)] for k in range(1, self.num_digits)}
        self.r = {k: [f"{pf}.r{k}.{i}" for i in range(self.n_rem)] for k in range(1, self.num_digits)}
        self.ulo = [f"{pf}.ulo{i}" for i in range(self.n_u)]
        self.uhi = [f"{pf}.uhi{i}" for i in range(self.n_u)]

    # ---- static description
    @property
    def tables(self) -> list[ExpTable]:
        return exp_tables(self.digit_bits, self.num_digits, self.s_in, self.p_out)

    @property
    def range_table(self) -> RangeTable:
        return RangeTable(self.range_bits)

    def advice_ids(self) -> list[str]:
        """Committed tensors in commitment order (P included)."""
        ids = [self.z] + self.d + self.f
        for k in range(1, self.num_digits):
            ids += self.g[k] + self.r[k]
        return ids + [self.p] + self.ulo + self.uhi

    def tensor_specs(self) -> dict[str, TensorSpec]:
        full, row = (*batch_dims(self.heads), self.T, self.T), (*batch_dims(self.heads), self.T)
        out = {t: TensorSpec(t, full, "advice") for t in self.advice_ids()}
        for t in [self.z] + self.ulo + self.uhi:
            out[t] = TensorSpec(t, row, "advice")
        return out

    def lookups(self) -> list[tuple]:
        out = [(t, (d, f)) for t, d, f in zip(self.tables, self.d, self.f)]
        rt = self.range_table
        for k in range(1, self.num_digits):
            out += [(rt, (x,)) for x in self.g[k] + self.r[k]]
        return out + [(rt, (x,)) for x in self.ulo + self.uhi]

    def pad_values(self) -> dict[str, int]:
        """Padded entries carry D = 0: F_k = 2^p, G_k = 2^p, rem_k = 2^(p-1), P = 0."""
        one, half, rb = 1 << self.p_out, 1 << (self.p_out - 1), self.range_bits
        pv = {f: one for f in self.f}
        for k in range(1, self.num_digits):
            pv.update({x: (one >> (rb * i)) & ((1 << rb) - 1) for i, x in enumerate(self.g[k])})
            pv.update({x: (half >> (rb * i)) & ((1 << rb) - 1) for i, x in enumerate(self.r[k])})
        return pv

    def error_bound(self) -> tuple[float, float]:
        """(rel, a): |P/2^p - sigma| <= rel * sigma + a entrywise, for any accepted proof."""
        a = (self.num_digits - 0.5) / (1 << self.p_out)
        return self.bound / (1 << self.p_out) + self.T * a, a

    # ---- the quantized forward pass
    def mask(self, lead: tuple | None = None) -> torch.Tensor:
        """The causal mask over leading axes ``lead`` (default: the op's batch axes)."""
        lead = batch_dims(self.heads) if lead is None else tuple(lead)
        return torch.tril(torch.ones(self.T, self.T, dtype=torch.bool)).expand(*lead, self.T, self.T)

    def _chain(self, S, z):
        m = self.mask(S.shape[:-2])
        D = torch.where(m, z.unsqueeze(-1) - S, torch.zeros_like(S))
        ds = [(D >> (self.digit_bits * k)) & ((1 << self.digit_bits) - 1) for k in range(self.num_digits)]
        if self.num_digits > 1:
            ds[-1] = D >> (self.digit_bits * (self.num_digits - 1))
        return D, ds

    def witness(self, S: torch.Tensor, z: torch.Tensor | None = None, lenient: bool = False) -> dict:
        """All advice and P from scores S; ``z`` overrides the shift; ``lenient`` skips range errors."""
        S = S.to(torch.int64)
        if S.dim() < 3:
            S = S.reshape(*batch_dims(self.heads), self.T, self.T)
        m = self.mask(S.shape[:-2])
        if z is None:
            z = self._best_shift(S)
        D, ds = self._chain(S, z)
        top = 1 << (self.digit_bits * self.num_digits)
        if not lenient and (int(D.min()) < 0 or int(D.max()) >= top):
            raise QuantizationRangeError(f"softmax: score spread needs more than {self.digit_bits * self.num_digits} bits")
        out = {self.z: z}
        fs = []
        for k, (t, d) in enumerate(zip(self.tables, ds)):
            out[self.d[k]] = d
            fs.append(torch.tensor(t.outputs(), dtype=torch.int64)[d.clamp(0, t.size - 1)] if lenient else t.apply(d))
            out[self.f[k]] = fs[-1]
        G = fs[0]
        for k in range(1, self.num_digits):
            G, rem = rescale(G * fs[k], self.p_out)
            for x, v in zip(self.g[k], _digits(G, self.range_bits, self.n_g)):
                out[x] = v
            for x, v in zip(self.r[k], _digits(rem, self.range_bits, self.n_rem)):
                out[x] = v
        P = torch.where(m, G, torch.zeros_like(G))
        out[self.p] = P
        ulo = P.sum(-1) - (1 << self.p_out) + self.bound
        uhi = 2 * self.bound - ulo
        if not lenient and (int(ulo.min()) < 0 or int(uhi.min()) < 0):
            raise QuantizationRangeError("softmax: a row sum is outside the bound")
        for x, v in zip(self.ulo, _digits(ulo, self.range_bits, self.n_u)):
            out[x] = v
        for x, v in zip(self.uhi, _digits(uhi, self.range_bits, self.n_u)):
            out[x] = v
        return out

    def _best_shift(self, S: torch.Tensor) -> torch.Tensor:
        m = self.mask(S.shape[:-2])
        Sf = S.double().masked_fill(~m, float("-inf"))
        mx = S.masked_fill(~m, torch.iinfo(torch.int64).min).max(-1).values
        lse = torch.logsumexp(Sf / (1 << self.s_in), -1) * (1 << self.s_in)
        z0 = torch.round(lse).to(torch.int64)
        best, err = None, None
        for dz in (0, -1, 1):
            z = torch.maximum(z0 + dz, mx)
            P = self.witness(S, z, lenient=True)[self.p]
            e = (P.sum(-1) - (1 << self.p_out)).abs()
            if best is None:
                best, err = z, e
            else:
                take = e < err
                best, err = torch.where(take, z, best), torch.where(take, e, err)
        return best

    def forward(self, ints: dict) -> None:
        ints.update(self.witness(ints[self.s]))

    # ---- the proof
    def _comb(self, ctx, ids, point, label, base):
        acc = 0
        for i, x in enumerate(ids):
            acc += pow(2, base * i, R) * ctx.claim(x, point, label)
        return acc % R

    def root(self, ctx) -> None:
        nh, nt = batch_vars(self.heads), log2_ceil(self.T)
        n = nh + 2 * nt
        K, p, rb = self.num_digits, self.p_out, self.range_bits
        one, half = 1 << p, 1 << (p - 1)
        r = ctx.ch.challenges("softmax/r", n)
        alpha = ctx.ch.challenge("softmax/alpha")
        al = [pow(alpha, k, R) for k in range(K + 1)]
        if ctx.is_prover:
            v = ctx.values
            N = 1 << n

            def comb(ids, base):
                acc = [0] * len(v[ids[0]])
                for i, x in enumerate(ids):
                    c = pow(2, base * i, R)
                    acc = [(a + c * y) % R for a, y in zip(acc, v[x])]
                return acc

            G = [v[self.f[0]]] + [comb(self.g[k], rb) for k in range(1, K)]
            D = comb(self.d, self.digit_bits)
            zb = [zz for zz in v[self.z] for _ in range(1 << nt)]
            mask = self._mask_vector(nh, nt)
            A = [(a + s - zz - al[K] * g) % R for a, s, zz, g in zip(D, v[self.s], zb, G[K - 1])]
            L = [al[K] * x % R for x in v[self.p]]
            for k in range(1, K):
                rem = comb(self.r[k], rb)
                L = [(x + al[k] * (half - one * g - rr)) % R for x, g, rr in zip(L, G[k], rem)]
            eq = eq_table(r)
            terms = [sumcheck.Term(1, [eq, mask, A]), sumcheck.Term(1, [eq, L])]
            terms += [sumcheck.Term(al[k], [eq, G[k - 1], v[self.f[k]]]) for k in range(1, K)]
            assert all(len(f) == N for t in terms for f in t.factors)
            s = sumcheck.prove(ctx.ch, "softmax/zero", n, 3, terms).point
        else:
            sub = sumcheck.verify(ctx.ch, "softmax/zero", n, 3, 0)
            s = sub.point
        sv = ctx.claim(self.s, s, "softmax/S")
        zv = ctx.claim(self.z, s[:nh + nt], "softmax/z")
        Dv = self._comb(ctx, self.d, s, "softmax/d", self.digit_bits)
        Fv = [ctx.claim(f, s, "softmax/F") for f in self.f]
        Gv = [Fv[0]] + [self._comb(ctx, self.g[k], s, "softmax/g", rb) for k in range(1, K)]
        remv = {k: self._comb(ctx, self.r[k], s, "softmax/rem", rb) for k in range(1, K)}
        pv = ctx.claim(self.p, s, "softmax/P")
        if not ctx.is_prover:
            mv = batch_indicator(self.heads, s[:nh]) * causal_mask_mle(self.T, s[nh:nh + nt], s[nh + nt:]) % R
            Av = (Dv + sv - zv - al[K] * Gv[K - 1]) % R
            Lv = al[K] * pv + sum(al[k] * (half - one * Gv[k] - remv[k]) for k in range(1, K))
            prod = sum(al[k] * Gv[k - 1] * Fv[k] for k in range(1, K))
            if eq_eval(r, s) * ((mv * Av + Lv + prod) % R) % R != sub.expected:
                raise VerificationError("softmax", "final check of the exp-digit / product / mask relations failed")
        # row sums
        rr = ctx.ch.challenges("softmax/row", nh + nt)
        inv2 = sumcheck.INV2
        psum = pow(2, nt, R) * ctx.claim(self.p, rr + [inv2] * nt, "softmax/Psum") % R
        ulo = self._comb(ctx, self.ulo, rr, "softmax/u", rb)
        uhi = self._comb(ctx, self.uhi, rr, "softmax/u", rb)
        if not ctx.is_prover:
            ind = batch_indicator(self.heads, rr[:nh]) * prefix_indicator(self.T, rr[nh:]) % R
            if (psum - ind * (one - self.bound) - ulo) % R or (ulo + uhi - 2 * self.bound * ind) % R:
                raise VerificationError("softmax-rowsum", "a row sum of P is not within the bound of 2^p_out")

    def _mask_vector(self, nh: int, nt: int) -> list[int]:
        T = 1 << nt
        return [1 if (hb and t < self.T and j <= t) else 0
                for hb in batch_mask(self.heads) for t in range(T) for j in range(T)]
