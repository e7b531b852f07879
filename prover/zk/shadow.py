"""Shadowed sumchecks: an op's operand evaluations and its sumcheck's final value reveal nothing.

A Libra-masked sumcheck (``mask``) hides its rounds, but its final value f(r) is what the
caller's check consumes, so f(r) and every operand evaluation sent for that check are public
values. An op reduces a claim sum_x f(x) = v, f = sum_t c_t prod_j f_{t,j}, by a sumcheck over
one more variable b, first:

    F(b, x) = (1 - b) sum_t c_t prod_j (f_{t,j}(x) + b S_{t,j})  [+ 2^-n (b K + (1 - 2b) P_F)]

where S_{t,j} is a fresh shadow entry of the mask pool for each operand that is not public
(the same entry wherever the same operand appears) and 0 for public factors (eq tables,
public tensors). At b = 0 the sum is v; at b = 1 the selector (1 - b) removes the shadows.
The sumcheck ends at (r_b, s); the operands are sent as f~ = f(s) + r_b S, each uniform, and
each becomes a combined claim on the operand and the pool (``mask.shadowed_claim``). The final
check is (1 - r_b) sum_t c_t prod_j f~_{t,j} (+ the bracket) = expected.

Absorbing a hidden claim. A claim on a virtual tensor may arrive as an obligation:
T(z) = v + sum_l c_l g_l(z_l) over committed tensors g_l (``Rescale``: the quotient and
digits, never sent). Then the op proves sum F = v with the bracket: K = v - T(z) =
-sum_l c_l g_l(z_l) is constant over x, and P_F is a fresh pool entry whose term sums to zero
(1 - 2b over b). Its final check holds unknowns (K, P_F), so it becomes a combined claim for
the batch opening:

    sum_l (-r_b 2^-n c_l) g_l(z_l) + (1 - 2 r_b) 2^-n P_F = expected - (1 - r_b) lhs,

lhs = sum_t c_t prod_j f~_{t,j}: sound, because F is fixed by committed data before the
sumcheck's challenges (Schwartz-Zippel on F as usual), and the claim binds K to the committed
g_l; hiding, because P_F is fresh and uniform (r_b != 1/2), so the revealed final value says
nothing about K, i.e. about T(z).
"""
from __future__ import annotations

import numpy as np

from .. import sumcheck
from ..context import PUBLIC
from ..errors import VerificationError
from ..field import R, native
from ..field.smallvec import SmallVec
from ..poly.mle import evaluate_fast
from ..sumcheck import inv2_pow
from . import mask as zkmask


def take(ctx, public: bool = False) -> int | None:
    """A shadow block for one operand (None for a public operand: nothing to hide)."""
    return None if public else zkmask.take_shadow(ctx)


def _shift(f, c: int):
    """f + c, entrywise (a list, SmallVec or native vector)."""
    c %= R
    if len(f) >= native.MIN_LEN and native.available():
        return native.lincomb([native.operand(f), native.operand([1] * len(f))], [1, c])
    vals = native.to_ints(f) if isinstance(f, (np.ndarray, SmallVec)) else f
    return [(v + c) % R for v in vals]


def _product_sum(factors) -> int:
    if len(factors[0]) >= native.MIN_LEN and native.available():
        return native.product_sum([native.operand(f) for f in factors])
    lists = [native.to_ints(f) if isinstance(f, (np.ndarray, SmallVec)) else f for f in factors]
    acc = lists[0]
    for f in lists[1:]:
        acc = [a * b % R for a, b in zip(acc, f)]
    return sum(acc) % R


class _Offset:
    """The round mask of rounds 1..n (round 0, b, is run by ``prove`` itself)."""

    def __init__(self, g):
        self.g = g

    def __call__(self, rnd: int, degree: int) -> list[int]:
        return self.g(rnd + 1, degree)

    def bind(self, rnd: int, r: int) -> None:
        self.g.bind(rnd + 1, r)


def absorb_value(ctx, terms) -> int:
    """Prover: sum_l c_l g_l(z_l) of an obligation's terms."""
    return sum(c * evaluate_fast(ctx.values[t], z) for t, c, z in terms) % R


def prove(ctx, label: str, n: int, degree: int, first_degree: int, terms: list, shifts: dict,
          absorb: list | None = None, fblock: int | None = None) -> list[int]:
    """Prover: the masked sumcheck of F over (b, x) (n + 1 rounds, the first of degree
    ``first_degree``); ``shifts`` maps id(factor) to its shadow value S. Returns (r_b, s)."""
    ch = ctx.ch
    ids, g = zkmask.begin(ctx, label, [first_degree] + [degree] * n)
    k_val = pf = 0
    if absorb:
        k_val = (-absorb_value(ctx, absorb)) % R
        pf = zkmask.shadow_value(ctx, fblock)
    evals = []
    for x in range(first_degree + 1):
        e = 0
        if x != 1:
            e = (1 - x) * sum(t.coeff * _product_sum(fs) for t, fs in zip(terms, _shifted(terms, shifts, x)))
        if absorb:
            e += x * k_val + (1 - 2 * x) * pf
        evals.append(e % R)
    evals = [(e + m) % R for e, m in zip(evals, g(0, first_degree))]
    coeffs = sumcheck.evals_to_coeffs(evals)
    ch.send_frs(f"{label}/g", coeffs[1:])
    rb = ch.challenge(f"{label}/r")
    g.bind(0, rb)
    bound = [sumcheck.Term(t.coeff * (1 - rb) % R, fs) for t, fs in zip(terms, _shifted(terms, shifts, rb))]
    if absorb:
        bound.append(sumcheck.Term((rb * k_val + (1 - 2 * rb) * pf) % R, [[1]]))
    out = sumcheck.prove(ch, label, n, degree, bound, mask=_Offset(g))
    point = [rb] + out.point
    zkmask.finish(ctx, label, ids, g, point)
    return point


def _shifted(terms: list, shifts: dict, b: int) -> list[list]:
    """Every term's factors at the selector value b: f + b S for a shadowed factor (each
    shifted once, however many terms share it), f itself otherwise or when b = 0."""
    cache: dict[int, object] = {}
    out = []
    for t in terms:
        fs = []
        for f in t.factors:
            if b and id(f) in shifts:
                if id(f) not in cache:
                    cache[id(f)] = _shift(f, b * shifts[id(f)])
                fs.append(cache[id(f)])
            else:
                fs.append(f)
        out.append(fs)
    return out


def verify(ctx, label: str, n: int, degree: int, first_degree: int, claim: int) -> sumcheck.SubClaim:
    """Verifier: the masked sumcheck of F (n + 1 rounds); the point starts with r_b."""
    return zkmask.verify(ctx, label, n + 1, degree, claim, first_degree=first_degree)


def claim(ctx, tid: str, point: list[int], rb: int, block: int | None, label: str) -> int:
    """An operand's value at the sumcheck's point: a public tensor's evaluation (``block``
    None), or a committed tensor's f(point) + r_b S, sent and recorded as a combined claim."""
    kind = ctx.spec(tid).kind
    if block is None:
        if kind not in PUBLIC:
            raise ValueError(f"operand '{tid}' ({kind}) needs a shadow")
        return ctx.claim(tid, point, label)
    if kind == "virtual" or kind in PUBLIC:
        raise ValueError(f"operand '{tid}' ({kind}): only committed operands take a shadow here")
    return zkmask.shadowed_claim(ctx, tid, point, rb, block, label)


def close(ctx, point: list[int], expected: int | None, lhs: int, n: int, absorb: list | None,
          fblock: int | None, op: str, message: str) -> None:
    """The final check (1 - r_b) lhs (+ the bracket) = expected: checked here, or, when the
    op absorbed an obligation, recorded as a combined claim on its tensors and P_F.
    ``expected`` is None on the prover's side."""
    rb = point[0]
    if not absorb:
        if expected is not None and (1 - rb) * lhs % R != expected:
            raise VerificationError(op, message)
        return
    w = inv2_pow(n)
    terms = [(t, (-rb * w * c) % R, list(z)) for t, c, z in absorb]
    terms.append((zkmask.POOL, (1 - 2 * rb) * w % R, zkmask.shadow_point(ctx, fblock)))
    if expected is None:
        value = ((-rb * w) * absorb_value(ctx, absorb) + (1 - 2 * rb) * w * zkmask.shadow_value(ctx, fblock)) % R
    else:
        value = (expected - (1 - rb) * lhs) % R
    ctx.combined_claim(terms, value)
