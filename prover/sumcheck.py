"""Sumcheck for sums of products of multilinear polynomials.

Statement: H = sum_t c_t * sum_{x in {0,1}^{m_t}} prod_j f_{t,j}(x), where term t's
factors all have m_t <= n variables. A term with m_t < n lives in the LAST m_t of
the n sumcheck variables: over {0,1}^n it is the function 2^-(n-m_t) * prod_j f(x_low),
so it is constant in the leading variables and its hypercube sum is unscaled.

Round i (binding x_{i+1}, most significant remaining variable first): the round
polynomial is g_i(X) = c_0 + c_1 X + ... + c_d X^d, d the public degree bound of that
round (``degree``; the first round may have its own, ``first_degree``: a factor that is
linear in the first variable only, such as eq(beta, b) of a selector variable, raises
that round's degree alone). The prover sends (c_1, ..., c_d) -- exactly d field
elements, absorbed under
``<label>/g`` -- and not c_0: the verifier derives it from the running claim by the
round identity g_i(0) + g_i(1) = 2 c_0 + c_1 + ... + c_d = claim, i.e.
c_0 = (claim - c_1 - ... - c_d) / 2, then draws r_i = challenge(``<label>/r``) and
sets claim = g_i(r_i). The identity holds by construction and g_i is fixed by the
transcript before r_i is drawn, so soundness is that of sending all d + 1
coefficients and checking the identity; a round never fails on its own: a wrong
round polynomial makes the final claim wrong, which the caller's check catches.

The verifier returns a ``SubClaim(point, expected)``: the caller MUST check that
sum_t c_t 2^-(n-m_t) prod_j f_{t,j}(point[n-m_t:]) equals ``expected``, using
evaluations it can trust (computed itself or discharged by commitment openings).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

import numpy as np

from .field import R, native
from .field.smallvec import SmallVec
from .poly.mle import fold

INV2 = pow(2, R - 2, R)


def inv2_pow(k: int) -> int:
    return pow(INV2, k, R)


@dataclass
class Term:
    """coeff * prod(factors); every factor is a list of 2^m evaluations (same m).
    ``scratch``: the caller gives up factors[0] (a native vector it built for this sumcheck),
    which the prover then folds in place instead of allocating its first fold."""
    coeff: int
    factors: list[list[int]]
    scratch: bool = False

    @property
    def num_vars(self) -> int:
        return (len(self.factors[0]) - 1).bit_length() if self.factors else 0


@dataclass(frozen=True)
class SubClaim:
    point: list[int]
    expected: int


@dataclass
class SumcheckOutput:
    point: list[int]
    finals: list[list[int]] = field(default_factory=list)  # finals[t][j] = f_{t,j}(point_low)


@lru_cache(maxsize=None)
def _interp_matrix(d: int) -> tuple[tuple[int, ...], ...]:
    """M with coeffs = M @ evals, for evaluations at X = 0..d."""
    # Lagrange basis polynomials L_k(X) = prod_{j != k} (X - j) / (k - j), expanded.
    rows = []
    for k in range(d + 1):
        poly = [1]
        denom = 1
        for j in range(d + 1):
            if j == k:
                continue
            poly = [((poly[i - 1] if i > 0 else 0) - j * (poly[i] if i < len(poly) else 0)) % R
                    for i in range(len(poly) + 1)]
            denom = denom * (k - j) % R
        dinv = pow(denom, R - 2, R)
        rows.append([c * dinv % R for c in poly])
    return tuple(tuple(rows[k][i] for k in range(d + 1)) for i in range(d + 1))


def evals_to_coeffs(evals: Sequence[int]) -> list[int]:
    m = _interp_matrix(len(evals) - 1)
    return [sum(a * e for a, e in zip(row, evals)) % R for row in m]


def horner(coeffs: Sequence[int], x: int) -> int:
    acc = 0
    for c in reversed(coeffs):
        acc = (acc * x + c) % R
    return acc


def _product_sum(factors: list[list[int]]) -> int:
    if len(factors) == 1:
        return sum(factors[0]) % R
    acc = factors[0]
    for f in factors[1:]:
        acc = [a * b % R for a, b in zip(acc, f)]
    return sum(acc) % R


def _round_evals(factors: list[list[int]], d: int) -> list[int]:
    """sum over the remaining hypercube of prod factors, first variable set to X = 0..d."""
    h = len(factors[0]) // 2
    lows = [f[:h] for f in factors]
    diffs = [[b - a for a, b in zip(f[:h], f[h:])] for f in factors]
    out = []
    cur = lows
    for x in range(d + 1):
        if x > 0:
            cur = [[a + b for a, b in zip(c, df)] for c, df in zip(cur, diffs)]
        if len(cur) == 1:
            out.append(sum(cur[0]) % R)
            continue
        acc = cur[0]
        for f in cur[1:]:
            acc = [a * b % R for a, b in zip(acc, f)]
        out.append(sum(acc) % R)
    return out


def _round_degrees(n: int, degree: int, first_degree: int | None) -> list[int]:
    if degree < 1 or (first_degree is not None and first_degree < 1):
        raise ValueError("a sumcheck round has degree at least 1")
    return [first_degree if (i == 0 and first_degree is not None) else degree for i in range(n)]


def prove(ch, label: str, n: int, degree: int, terms: list[Term], first_degree: int | None = None,
          mask=None) -> SumcheckOutput:
    """Run the prover; sends n round polynomials over ``ch`` (the first of degree
    ``first_degree`` when given, the others of degree ``degree``). ``mask`` (prover of a
    masked sumcheck, ``prover.zk.mask``): ``mask(round, degree)`` gives evaluations at
    0..degree added to the round's, ``mask.bind(round, r)`` hears each challenge; the
    finals stay those of the terms."""
    degrees = _round_degrees(n, degree, first_degree)
    for t in terms:
        if t.num_vars > n:
            raise ValueError("term has more variables than the sumcheck")
        if len(t.factors) > max(degrees, default=degree):
            raise ValueError("term degree exceeds the declared degree bound")
        if any(len(f) != len(t.factors[0]) for f in t.factors):
            raise ValueError("factors of one term must have equal length")
    facs = _working_copies(terms)
    scratch = {id(t.factors[0]) for t in terms if t.scratch and t.factors}
    scales = [t.coeff * inv2_pow(n - t.num_vars) % R for t in terms]
    mvars = [t.num_vars for t in terms]
    sums: dict[int, int] = {}
    point: list[int] = []
    for rnd in range(n):
        k = n - rnd  # variables still free
        degree = degrees[rnd]
        evals = [0] * (degree + 1)
        for ti, fs in enumerate(facs):
            if mvars[ti] < k:
                if ti not in sums:
                    sums[ti] = native.product_sum(fs) if _is_native(fs) else _product_sum(fs)
                c = scales[ti] * sums[ti] % R * pow(2, k - 1 - mvars[ti], R) % R
                evals = [(e + c) % R for e in evals]
            else:
                ev = native.round_evals(fs, degree) if _is_native(fs) else _round_evals(fs, degree)
                evals = [(e + scales[ti] * v) % R for e, v in zip(evals, ev)]
        if mask is not None:
            evals = [(e + m) % R for e, m in zip(evals, mask(rnd, degree))]
        coeffs = evals_to_coeffs(evals)
        ch.send_frs(f"{label}/g", coeffs[1:])  # c_0 follows from the claim
        r = ch.challenge(f"{label}/r")
        point.append(r)
        if mask is not None:
            mask.bind(rnd, r)
        folded: dict[int, object] = {}  # a factor shared by several terms is folded once
        for ti, fs in enumerate(facs):
            if mvars[ti] == k:
                nat = _is_native(fs)
                for f in fs:
                    if id(f) not in folded:
                        folded[id(f)] = native.fold(f, r, inplace=id(f) in scratch) if nat else fold(f, r)
                        scratch.discard(id(f))  # only the caller's original: later folds allocate
                facs[ti] = [folded[id(f)] for f in fs]
                mvars[ti] = k - 1
        del folded
    return SumcheckOutput(point=point, finals=[[_first(f) for f in fs] for fs in facs])


def _is_native(fs) -> bool:
    return isinstance(fs[0], (np.ndarray, SmallVec))


def _first(f) -> int:
    return native.to_ints(f[:1])[0] if isinstance(f, np.ndarray) else f[0]


def _working_copies(terms: list[Term]) -> list[list]:
    """The factors the prover folds: native vectors for large terms when the C kernels are
    available, else list copies; a factor shared by several terms stays shared (one copy,
    folded once a round)."""
    use = native.available() and any(len(f) >= native.MIN_LEN for t in terms for f in t.factors)
    seen: dict[int, object] = {}
    out = []
    for t in terms:
        nat = use and t.factors and len(t.factors[0]) >= native.MIN_LEN and len(t.factors) <= 16
        row = []
        for f in t.factors:
            key = (nat, id(f))
            if key not in seen:
                seen[key] = native.operand(f) if nat else (native.to_ints(f) if isinstance(f, np.ndarray)
                                                           else list(f))
            row.append(seen[key])
        out.append(row)
    return out


def verify(ch, label: str, n: int, degree: int, claim: int, first_degree: int | None = None) -> SubClaim:
    """Check n rounds against ``claim``; returns the claim the caller must discharge."""
    point: list[int] = []
    for degree in _round_degrees(n, degree, first_degree):
        high = ch.recv_frs(f"{label}/g", degree)  # c_1..c_d
        c0 = (claim - sum(high)) * INV2 % R  # g(0) + g(1) = 2 c_0 + c_1 + ... + c_d = claim
        r = ch.challenge(f"{label}/r")
        point.append(r)
        claim = horner([c0, *high], r)
    return SubClaim(point=point, expected=claim)


def term_weight(coeff: int, n: int, m: int) -> int:
    """The factor a term with m of n variables carries in the final check."""
    return coeff * inv2_pow(n - m) % R
