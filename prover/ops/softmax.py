"""Causal softmax (zkAttn): row-max shift, digit-wise exp tables, exact per-row normalisation.

Tensors (ids derived from ``prefix``; shapes natural, padded per axis):
  S  (heads, T, T)  input scores at scale 2^s_in (the op's ``s``; any kind)
  P  (heads, T, T)  output probabilities at scale 2^p_out, COMMITTED advice
The (heads, T, T) layout gives the causal mask M[h, t, j] = [j <= t] (zero on
padded heads/rows/keys) a succinct MLE for any T; for a power-of-two T it is
bit-identical to the flattened (heads*T, T) layout. p = p_out, s = s_in, q = recip_bits
(default p_out: the reciprocal's rounding then costs as much as P's own).

Advice (all committed):
  z            (heads, T)     per-row shift = the row maximum of S (scale 2^s_in)
  o            (heads,T,T)    selector of a maximum: one-hot at the first j with S_j = z
  d_k          (heads,T,T)    k < K: digits of D = M (z - S), D = sum_k 2^(b k) d_k
  F_k          (heads,T,T)    F_k = E_k(d_k) = round(2^p exp(-d_k 2^(b k) / 2^s))
  g_{k,i}      (heads,T,T)    1 <= k < K: digits (rb bits) of G_k
  r_{k,i}      (heads,T,T)    1 <= k < K: digits (rb bits) of the rescale remainder
  U            (heads,T,T)    unnormalised exps U = M G_{K-1}, in [0, 2^p]
  iota_i       (heads, T)     digits of the row reciprocal iota = floor((2^(p+q) - 1) / sigma)
  rho_i, rhc_i (heads, T)     digits of the reciprocal's remainder rho and of sigma - 1 - rho
  P digits     (heads,T,T)    digits (rb bits) of P
  c_i          (heads,T,T)    digits of the normalisation remainder (q / rb of them)
with G_0 = F_0 and, for k >= 1, G_k = round(G_{k-1} F_k / 2^p) (ties up), sigma[h, t] =
sum_j U[h, t, j] and P = round(U iota / 2^q) (ties up).

Relations (h, t, j over the padded hypercube, M the public mask, ind(h,t) = [h < heads][t < T]):
  (1) D + M (S - z) = 0                               D = z - S unmasked, 0 elsewhere
  (2) G_{k-1} F_k + 2^(p-1) = 2^p G_k + rem_k,  k >= 1  rounded products
  (3) U = M G_{K-1}                                   masked entries exactly 0
  (4) 2^q P + c = U iota[h,t] + 2^(q-1)               P = round(U iota / 2^q)
  (5) P = sum_i 2^(rb i) Pd_i                         P range-checked
  (6) o D = 0,  o (1 - M) = 0                         o only on unmasked zeros of D
per row (h, t):
  (7) sigma iota + rho = (2^(p+q) - 1) ind           iota = floor((2^(p+q) - 1) / sigma)
  (8) rho + rhc = sigma - ind                         so 0 <= rho <= sigma - 1
  (9) sum_j o[h,t,j] = ind                            some unmasked D_j = 0: z = max_j S_j
 (10) (1 - ind) iota = 0,  (1 - ind) z = 0            padded rows pinned
Lookups: (d_k, F_k) in ExpTable k (this also range-checks d_k in [0, 2^b): the table
input column is the range [0, 2^b)); every g, r, iota, rho, rhc, P and c digit in
RangeTable(rb).

Every value is pinned (the output is a function of S): D >= 0 gives z >= max_j S_j, and (6)
with (9) force z = max_j S_j on every real row: over the field o_j D_j = 0 with D_j an
integer in [1, 2^(Kb)) forces o_j = 0, so a row whose o sums to 1 has an unmasked D_j = 0.
No booleanity of o is needed (only with ties is o itself free, and it reaches nothing
else). Then D, its digits, F_k, G_k, rem_k and U are unique as before, U <= 2^p and the
max entry has U = 2^p (E_k(0) = 2^p), so sigma in [2^p, T 2^p]; (7)-(8) with rho, rhc
range-checked pin iota (< 2^q: sigma >= 2^p); (4)-(5) with P and c range-checked pin P and c
(P < 2^p for q <= p: U iota + 2^(q-1) <= 2^p (2^q - 1) + 2^(q-1) < 2^(p+q), so P needs only
p / rb digits; the reciprocal is a floor, not a rounding, for this).
Without the digits of P the prover could shift c and take P = X / 2^q mod r, a huge
"fractional" element. Integer bounds (all far below r ~ 2^254): every product is at most
2^p 2^(rb nI) + 2^(q-1) (4), T 2^p 2^(rb nI) + 2^(rb nR) (7), 2^(2p+rb) (2).

Proof (``root``): (1)-(6) as one zero-check, alpha-combined, over (h, t, j):
  0 = sum_x eq(r, x) [ M(x) A(x) + L(x) + sum_{k>=1} alpha^k G_{k-1} F_k
                       - alpha^(K+1) U iota + alpha^(K+3) o D - alpha^(K+4) o M ]
  A = S - z - alpha^K G_{K-1},  L = D + sum_{k>=1} alpha^k (2^(p-1) - 2^p G_k - rem_k)
      + alpha^K U + alpha^(K+1) (2^q P + c - 2^(q-1)) + alpha^(K+2) (P - sum_i 2^(rb i) Pd_i)
      + alpha^(K+4) o
(one degree-3 sumcheck; G_k, rem_k, D, c are linear in their digit claims; iota's MLE is
taken at the row part of the point; M(s) is ``causal_mask_mle``, O(log T)). Then (7)-(10)
as a second zero-check over the rows (h, t) at a fresh point r':
  0 = sum_y eq(r', y) [ sigma iota + rho - (2^(p+q) - 1) ind + alpha (rho + rhc - sigma + ind)
                        + alpha^2 (osum - ind) + (1 - ind)(alpha^3 iota + alpha^4 z) ]
where sigma(y) = 2^(log T) U(y, 1/2, ..., 1/2) and osum(y) = 2^(log T) o(y, 1/2, ..., 1/2)
(one claim each on U and o), ind is the verifier's own prefix indicator.

P is committed: its consumer's claims are plain openings. The op bounds S only
relative to z on unmasked entries; softmax is invariant to a common row shift, so
no absolute bound on S is needed here, and masked entries of S are unconstrained
(they never reach P).

Error bound (a = (K - 1/2) 2^-p, n = T keys): each unmasked U_j / 2^p is within a of
e_j = exp((S_j - z)/2^s) (each table value is within 2^-(p+1) of its exp and <= 1, each
rescale adds <= 2^-(p+1)); with E = sum_j e_j and u = sigma / 2^p >= 1 (the maximum entry
is exact), |U_j / sigma - e_j / E| <= (a E + e_j n a) / (u E) <= a + n a sigma_j, where
sigma_j = e_j / E is the float softmax of S / 2^s. The reciprocal (2^(p+q) / sigma - iota in
[1 / sigma, 1 + 1 / sigma)) adds U_j |iota 2^-q - 2^p / sigma| 2^-p <= 2^-q + 2^-(p+q) and the
final rounding 2^-(p+1), so
  |P_j / 2^p - sigma_j| <= n a sigma_j + a + 2^-(p+1) + 2^-q + 2^-(p+q).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import sumcheck
from ..zk import mask as zkmask
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


def _ndig(bits: int, rb: int) -> int:
    return max(1, -(-bits // rb))


def _digit_values(values: dict, ids: list[str], base: int) -> list[int]:
    """The prover's field vector sum_i 2^(base i) values[ids[i]] (a value from its digits)."""
    acc = [0] * len(values[ids[0]])
    for i, x in enumerate(ids):
        c = pow(2, base * i, R)
        acc = [(a + c * y) % R for a, y in zip(acc, values[x])]
    return acc


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
    range_bits: int = 8    # rb: width of rescale / G / P / reciprocal digits
    recip_bits: int | None = None  # q: the row reciprocal iota = floor((2^(p+q) - 1) / sigma); default p_out

    def __post_init__(self):
        check_digit_bits(self.range_bits)
        require(isinstance(self.num_digits, int) and self.num_digits >= 1, "exp-width", "softmax needs a digit")
        check_decomposition(self.num_digits * self.digit_bits, self.digit_bits, "exp-width")
        if self.recip_bits is None:
            self.recip_bits = self.p_out
        if (self.p_out % self.range_bits or self.recip_bits % self.range_bits or self.recip_bits < 1
                or self.num_digits < 1 or batch_size(self.heads) < 1 or self.T < 1):
            raise ValueError("softmax: p_out and recip_bits must be positive multiples of range_bits; "
                             "K, heads, T >= 1")
        rb = self.range_bits
        self.n_rem = self.p_out // rb
        self.n_g = _ndig(self.p_out + 1, rb)
        self.n_pd = _ndig(self.p_out + (self.recip_bits > self.p_out), rb)  # P < 2^p if q <= p
        self.n_c = self.recip_bits // rb                                # c < 2^q
        self.n_iota = _ndig(self.recip_bits, rb)                        # iota < 2^q
        self.n_rho = _ndig(self.p_out + log2_ceil(self.T), rb)          # rho, rhc < T 2^p
        pf = self.prefix
        self.z = f"{pf}.z"
        self.o = f"{pf}.o"
        self.u = f"{pf}.u"
        self.d = [f"{pf}.d{k}" for k in range(self.num_digits)]
        self.f = [f"{pf}.e{k}" for k in range(self.num_digits)]
        self.g = {k: [f"{pf}.g{k}.{i}" for i in range(self.n_g)] for k in range(1, self.num_digits)}
        self.r = {k: [f"{pf}.r{k}.{i}" for i in range(self.n_rem)] for k in range(1, self.num_digits)}
        self.iota = [f"{pf}.iota{i}" for i in range(self.n_iota)]
        self.rho = [f"{pf}.rho{i}" for i in range(self.n_rho)]
        self.rhc = [f"{pf}.rhc{i}" for i in range(self.n_rho)]
        self.pd = [f"{pf}.pd{i}" for i in range(self.n_pd)]
        self.c = [f"{pf}.c{i}" for i in range(self.n_c)]

    # ---- static description
    @property
    def tables(self) -> list[ExpTable]:
        return exp_tables(self.digit_bits, self.num_digits, self.s_in, self.p_out)

    @property
    def range_table(self) -> RangeTable:
        return RangeTable(self.range_bits)

    def _row_ids(self) -> list[str]:
        return [self.z] + self.iota + self.rho + self.rhc

    def advice_ids(self) -> list[str]:
        """Committed tensors in commitment order (P included)."""
        ids = [self.z, self.o] + self.d + self.f
        for k in range(1, self.num_digits):
            ids += self.g[k] + self.r[k]
        return ids + [self.u, self.p] + self.iota + self.rho + self.rhc + self.pd + self.c

    def tensor_specs(self) -> dict[str, TensorSpec]:
        full, row = (*batch_dims(self.heads), self.T, self.T), (*batch_dims(self.heads), self.T)
        out = {t: TensorSpec(t, full, "advice") for t in self.advice_ids()}
        for t in self._row_ids():
            out[t] = TensorSpec(t, row, "advice")
        return out

    def lookups(self) -> list[tuple]:
        out = [(t, (d, f)) for t, d, f in zip(self.tables, self.d, self.f)]
        rt = self.range_table
        for k in range(1, self.num_digits):
            out += [(rt, (x,)) for x in self.g[k] + self.r[k]]
        return out + [(rt, (x,)) for x in self.iota + self.rho + self.rhc + self.pd + self.c]

    def pad_values(self) -> dict[str, int]:
        """Padded entries carry D = 0: F_k = 2^p, G_k = 2^p, rem_k = 2^(p-1), U = P = 0, c = 2^(q-1)."""
        one, half, rb = 1 << self.p_out, 1 << (self.p_out - 1), self.range_bits
        lo = (1 << rb) - 1
        pv = {f: one for f in self.f}
        for k in range(1, self.num_digits):
            pv.update({x: (one >> (rb * i)) & lo for i, x in enumerate(self.g[k])})
            pv.update({x: (half >> (rb * i)) & lo for i, x in enumerate(self.r[k])})
        pv.update({x: ((1 << (self.recip_bits - 1)) >> (rb * i)) & lo for i, x in enumerate(self.c)})
        return pv

    @property
    def row_bound(self) -> int:
        """|sum_j P[h,t,j] - 2^p| for any accepted proof: each P_j is within 1/2 of U_j iota / 2^q
        and sum_j U_j |iota / 2^q - 2^p / sigma| < (sigma + 1) 2^-q <= (T 2^p + 1) 2^-q."""
        return ((self.T << self.recip_bits >> 1) + (self.T << self.p_out) + 1) >> self.recip_bits

    def error_bound(self) -> tuple[float, float]:
        """(rel, a): |P/2^p - sigma| <= rel * sigma + a entrywise, for any accepted proof."""
        a = (self.num_digits - 0.5) / (1 << self.p_out)
        p, q = self.p_out, self.recip_bits
        return self.T * a, a + 2.0 ** -(p + 1) + 2.0 ** -q + 2.0 ** -(p + q)

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
        """All advice and P from scores S; ``z`` overrides the shift (the row maximum);
        ``lenient`` skips range errors (tests play cheating provers with it)."""
        S = S.to(torch.int64)
        if S.dim() < 3:
            S = S.reshape(*batch_dims(self.heads), self.T, self.T)
        m = self.mask(S.shape[:-2])
        if z is None:
            z = S.masked_fill(~m, torch.iinfo(torch.int64).min).max(-1).values
        D, ds = self._chain(S, z)
        top = 1 << (self.digit_bits * self.num_digits)
        if not lenient and (int(D.min()) < 0 or int(D.max()) >= top):
            raise QuantizationRangeError(f"softmax: score spread needs more than {self.digit_bits * self.num_digits} bits")
        zero = m & (D == 0)
        first = zero.to(torch.int64).argmax(-1, keepdim=True)
        o = torch.zeros_like(S).scatter(-1, first, 1) * zero.any(-1, keepdim=True)
        out = {self.z: z, self.o: o}
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
        U = torch.where(m, G, torch.zeros_like(G))
        out[self.u] = U
        iota = self.reciprocal(U.sum(-1))
        return self.normalise(out, U, iota)

    def reciprocal(self, sigma: torch.Tensor) -> torch.Tensor:
        """iota = floor((2^(p+q) - 1) / sigma) (sigma >= 2^p on real rows, so iota < 2^q)."""
        return ((1 << (self.p_out + self.recip_bits)) - 1) // sigma.clamp(min=1)

    def normalise(self, out: dict, U: torch.Tensor, iota: torch.Tensor) -> dict:
        """Fill the reciprocal's remainders, P and its digits into ``out`` for a given iota."""
        rb, q = self.range_bits, self.recip_bits
        sigma = U.sum(-1)
        rho = (1 << (self.p_out + q)) - 1 - sigma * iota
        rhc = sigma - 1 - rho
        X = U * iota.unsqueeze(-1) + (1 << (q - 1))
        P, c = X >> q, X & ((1 << q) - 1)
        out[self.p] = P
        for ids, val in ((self.iota, iota), (self.rho, rho), (self.rhc, rhc), (self.pd, P), (self.c, c)):
            for x, v in zip(ids, _digits(val, rb, len(ids))):
                out[x] = v
        return out

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
        n, nr = nh + 2 * nt, nh + nt
        K, p, q, rb = self.num_digits, self.p_out, self.recip_bits, self.range_bits
        one, half, qhalf, qone = 1 << p, 1 << (p - 1), 1 << (q - 1), 1 << q
        r = ctx.ch.challenges("softmax/r", n)
        alpha = ctx.ch.challenge("softmax/alpha")
        al = [pow(alpha, k, R) for k in range(K + 5)]
        if ctx.is_prover:
            v = ctx.values
            N = 1 << n

            def comb(ids, base):
                return _digit_values(v, ids, base)

            def bcast(row):
                return [x for x in row for _ in range(1 << nt)]

            G = [v[self.f[0]]] + [comb(self.g[k], rb) for k in range(1, K)]
            D = comb(self.d, self.digit_bits)
            zb = bcast(v[self.z])
            iota = comb(self.iota, rb)
            Pd, C = comb(self.pd, rb), comb(self.c, rb)
            U, P, o = v[self.u], v[self.p], v[self.o]
            mask = self._mask_vector(nh, nt)
            A = [(s - zz - al[K] * g) % R for s, zz, g in zip(v[self.s], zb, G[K - 1])]
            L = [(d + al[K] * u + al[K + 1] * (qone * pp + cc - qhalf) + al[K + 2] * (pp - pd) + al[K + 4] * oo) % R
                 for d, u, pp, cc, pd, oo in zip(D, U, P, C, Pd, o)]
            for k in range(1, K):
                rem = comb(self.r[k], rb)
                L = [(x + al[k] * (half - one * g - rr)) % R for x, g, rr in zip(L, G[k], rem)]
            eq = eq_table(r)
            terms = [sumcheck.Term(1, [eq, mask, A]), sumcheck.Term(1, [eq, L])]
            terms += [sumcheck.Term(al[k], [eq, G[k - 1], v[self.f[k]]]) for k in range(1, K)]
            terms += [sumcheck.Term(R - al[K + 1], [eq, U, bcast(iota)]), sumcheck.Term(al[K + 3], [eq, o, D]),
                      sumcheck.Term(R - al[K + 4], [eq, o, mask])]
            assert all(len(f) == N for t in terms for f in t.factors)
            s = zkmask.prove(ctx, "softmax/zero", n, 3, terms).point
        else:
            sub = zkmask.verify(ctx, "softmax/zero", n, 3, 0)
            s = sub.point
        srow = s[:nr]
        sv = ctx.claim(self.s, s, "softmax/S")
        zv = ctx.claim(self.z, srow, "softmax/z")
        Dv = self._comb(ctx, self.d, s, "softmax/d", self.digit_bits)
        Fv = [ctx.claim(f, s, "softmax/F") for f in self.f]
        Gv = [Fv[0]] + [self._comb(ctx, self.g[k], s, "softmax/g", rb) for k in range(1, K)]
        remv = {k: self._comb(ctx, self.r[k], s, "softmax/rem", rb) for k in range(1, K)}
        uv = ctx.claim(self.u, s, "softmax/U")
        pv = ctx.claim(self.p, s, "softmax/P")
        ov = ctx.claim(self.o, s, "softmax/o")
        iv = self._comb(ctx, self.iota, srow, "softmax/iota", rb)
        pdv = self._comb(ctx, self.pd, s, "softmax/pd", rb)
        cv = self._comb(ctx, self.c, s, "softmax/c", rb)
        if not ctx.is_prover:
            mv = batch_indicator(self.heads, s[:nh]) * causal_mask_mle(self.T, s[nh:nr], s[nr:]) % R
            Av = (sv - zv - al[K] * Gv[K - 1]) % R
            Lv = (Dv + al[K] * uv + al[K + 1] * (qone * pv + cv - qhalf) + al[K + 2] * (pv - pdv) + al[K + 4] * ov
                  + sum(al[k] * (half - one * Gv[k] - remv[k]) for k in range(1, K)))
            prod = (sum(al[k] * Gv[k - 1] * Fv[k] for k in range(1, K)) - al[K + 1] * uv * iv
                    + al[K + 3] * ov * Dv - al[K + 4] * ov * mv)
            if eq_eval(r, s) * ((mv * Av + Lv + prod) % R) % R != sub.expected:
                raise VerificationError("softmax", "final check of the exp-digit / product / mask / "
                                        "normalisation relations failed")
        self._rows(ctx, nh, nt, al)

    def _rows(self, ctx, nh: int, nt: int, al: list[int]) -> None:
        """(7)-(10): the reciprocal, its remainders, the selector's row sums, padded rows."""
        nr, rb = nh + nt, self.range_bits
        big = (1 << (self.p_out + self.recip_bits)) - 1
        rr = ctx.ch.challenges("softmax/row", nr)
        if ctx.is_prover:
            v, W = ctx.values, 1 << nt

            def comb(ids):
                return _digit_values(v, ids, rb)

            def rowsum(x):
                return [sum(x[i:i + W]) % R for i in range(0, len(x), W)]

            sig, osum = rowsum(v[self.u]), rowsum(v[self.o])
            iota, rho, rhc = comb(self.iota), comb(self.rho), comb(self.rhc)
            ind = self._row_indicator(nh, nt)
            lin = [(rh - big * i + al[1] * (rh + rc - sg + i) + al[2] * (os - i)) % R
                   for rh, rc, sg, os, i in zip(rho, rhc, sig, osum, ind)]
            pad = [(al[3] * io + al[4] * zz) % R for io, zz in zip(iota, v[self.z])]
            eq = eq_table(rr)
            terms = [sumcheck.Term(1, [eq, sig, iota]), sumcheck.Term(1, [eq, lin]),
                     sumcheck.Term(1, [eq, [1 - i for i in ind], pad])]
            y = zkmask.prove(ctx, "softmax/rows", nr, 3, terms).point
        else:
            sub = zkmask.verify(ctx, "softmax/rows", nr, 3, 0)
            y = sub.point
        halves = [sumcheck.INV2] * nt
        sg = pow(2, nt, R) * ctx.claim(self.u, y + halves, "softmax/Usum") % R
        osum = pow(2, nt, R) * ctx.claim(self.o, y + halves, "softmax/osum") % R
        iv = self._comb(ctx, self.iota, y, "softmax/iota", rb)
        rho = self._comb(ctx, self.rho, y, "softmax/rho", rb)
        rhc = self._comb(ctx, self.rhc, y, "softmax/rho", rb)
        zv = ctx.claim(self.z, y, "softmax/z")
        if not ctx.is_prover:
            ind = batch_indicator(self.heads, y[:nh]) * prefix_indicator(self.T, y[nh:]) % R
            tot = (sg * iv + rho - big * ind + al[1] * (rho + rhc - sg + ind) + al[2] * (osum - ind)
                   + (1 - ind) * (al[3] * iv + al[4] * zv))
            if eq_eval(rr, y) * (tot % R) % R != sub.expected:
                raise VerificationError("softmax-rows", "a row's reciprocal, its remainder or its maximum "
                                        "selector is wrong")

    def _mask_vector(self, nh: int, nt: int) -> list[int]:
        T = 1 << nt
        return [1 if (hb and t < self.T and j <= t) else 0
                for hb in batch_mask(self.heads) for t in range(T) for j in range(T)]

    def _row_indicator(self, nh: int, nt: int) -> list[int]:
        return [1 if (hb and t < self.T) else 0 for hb in batch_mask(self.heads) for t in range(1 << nt)]
