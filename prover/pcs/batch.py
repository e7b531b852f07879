"""Batch opening: every claim on every committed tensor, one pairing check.

Claims (p_k, z_k, v_k) -- polynomial p_k of m_p <= n variables at point z_k -- are
reduced to one point by a degree-2 sumcheck (label ``open``), then the polynomials
are combined into one, Phi, and Phi alone is opened:

1. alpha <- transcript. H = sum_k alpha^k v_k = sum_p sum_x W_p(x) f_p(x),
   W_p = sum_{k: p_k = p} alpha^k eq(z_k, .). Sumcheck over n = max m_p variables
   (each p lives in the last m_p of them) gives a point s and an expected value
   that must equal sum_p Wt_p f_p(s[n-m_p:]), Wt_p = 2^-(n-m_p) W_p(s[n-m_p:])
   (``sumcheck.term_weight``; both sides compute W_p).
2. Phi(x) = sum_p Wt_p f_p(x[n-m_p:]) is committed by C_Phi = sum_p Wt_p C_p (blind
   sum_p Wt_p rho_p), which both sides compute; nothing is sent for it.
3. P sends the n quotient commitments and the hiding term of one multilinear-KZG
   opening of Phi at s to the value ``expected``; V checks it with one multi-pairing
   of n + 2 pairs (check ``opening``). That pairing carries the sumcheck's final check.

A weighted claim k (``context.Claim.terms``: v_k = sum_l c_l f_{p_l}(z_l)) contributes
alpha^k c_l eq(z_l, .) to W_{p_l} for each of its terms; everything else is unchanged. Its
terms may name several polynomials (``context.combined_claim``), each of which has a plain
or weighted claim of its own (so that it has a slot).

No evaluation f_p(s) is sent: the verifier learns only Phi(s) = expected, which the
sumcheck transcript already fixes, and the opening itself is hiding.

Soundness. Every C_p is absorbed before alpha (commitments come first in the transcript;
derived C' below are public functions of absorbed commitments and claim points), so the
committed f_p are fixed before any challenge here. The claims, alpha and the sumcheck
fix s and ``expected``; the coefficients Wt_p are then public functions of the claims,
alpha and s, computed by the verifier itself. C_Phi is therefore a public linear
combination of bound commitments with coefficients fixed after s, and by the binding of
the commitments and the soundness of multilinear KZG, an accepted opening means
sum_p Wt_p f_p(s[n-m_p:]) = expected for the committed f_p -- exactly the sumcheck's
final check with the true evaluations. If sum_k alpha^k v_k differs from
sum_p sum_x W_p(x) f_p(x), the sumcheck fails that check except with probability
2n/r; if some claim is false, that sum differs except with probability (#claims)/r
over alpha. (The previous protocol sent u_p = f_p(s) and tied them to the one opening
with a further challenge mu; Phi's coefficients need no separate challenge because
they are fixed by s, after the prover has committed to everything.)

A claim f(r) = v on a chunked commitment (``chunked.ChunkedCommitment``) first becomes
the claim g(r_lo) = v on the derived polynomial g = sum_c eq(r_hi, c) f_c, committed by
C' = sum_c eq(r_hi, c) C_c (both sides compute it; nothing is sent), and takes part in
steps 1-3 as a polynomial of its own. Weighted claims on chunked commitments are refused.
"""
from __future__ import annotations

import numpy as np

from ..context import Claim
from ..errors import VerificationError
from ..field import R, native
from .. import sumcheck
from ..poly.mle import boolean_prefix, eq_block, eq_eval, eq_table_fast
from . import chunked, kzg
from .curve import msm, randbelow


def _group(claims):
    order: list[str] = []
    idx: dict[str, list[int]] = {}
    for k, c in enumerate(claims):
        if c.tid not in idx:
            idx[c.tid] = []
            order.append(c.tid)
        idx[c.tid].append(k)
    return order, idx


def _native_ok(*sizes) -> bool:
    return max(sizes) >= native.MIN_LEN and native.available()


def _combine(polys, coeffs, size: int) -> list[int]:
    """sum_p coeffs[p] * tile(polys[p]) as a vector of ``size`` entries.

    A polynomial of 2^m entries in the last m of n variables is the vector tiled
    2^(n-m) times; same-size polynomials are summed first, then tiled once.
    """
    if _native_ok(size):
        groups: dict[int, list] = {}
        for f, a in zip(polys, coeffs):
            groups.setdefault(len(f), []).append((native.operand(f), a))
        cur = None
        for sz in sorted(groups):
            vec = native.lincomb([f for f, _ in groups[sz]], [a for _, a in groups[sz]])
            cur = vec if cur is None else native.lincomb([vec, np.tile(cur, (sz // len(cur), 1))], [1, 1])
        if len(cur) < size:
            cur = np.tile(cur, (size // len(cur), 1))
        return native.to_ints(cur)
    by_size: dict[int, list[int]] = {}
    for f, a in zip(polys, coeffs):
        acc = by_size.get(len(f))
        by_size[len(f)] = [a * x for x in f] if acc is None else [u + a * x for u, x in zip(acc, f)]
    cur = [0]
    for sz in sorted(by_size) + ([size] if size not in by_size else []):
        vec = by_size.get(sz, [0] * sz)
        cur = [u + v for u, v in zip(vec, cur * (sz // len(cur)))]
    return [x % R for x in cur]


def _weights(points, coeffs, m: int):
    """W = sum_k coeffs[k] eq(points[k], .) over 2^m entries; a claim whose point starts
    with boolean coordinates (a pooled member) fills its block only."""
    if _native_ok(1 << m):
        w = np.zeros((1 << m, 4), dtype=np.uint64)
        for z, a in zip(points, coeffs):
            p, off = boolean_prefix(z)
            e = native.eq_table(z[p:])
            w[off:off + len(e)] = native.lincomb([w[off:off + len(e)], e], [1, a])
        return w
    w = [0] * (1 << m)
    for z, a in zip(points, coeffs):
        off, e = eq_block(z)
        w[off:off + len(e)] = [(x + a * y) % R for x, y in zip(w[off:off + len(e)], e)]
    return w


def unchunk(ctx, claims: list) -> list:
    """Claims on chunked commitments replaced by claims on their derived polynomials
    (id ``tid#k`` for the k-th claim), whose values, blinds (prover) and commitments C'
    are added to ``ctx``; a claim whose r_hi is boolean is a claim on chunk c itself (id
    ``tid#c<c>``, commitment C_c, shared by every claim on that chunk); other claims
    unchanged. A combined claim's terms are replaced one by one (``tid#k.l`` for term l)."""
    out = []
    for k, c in enumerate(claims):
        if c.term_tids is not None:
            terms = [_unchunk_one(ctx, t, z, f"{k}.{l}") for l, (t, _, z) in enumerate(c.weighted_terms())]
            out.append(Claim(terms[0][0], [], c.value, [(coef, z) for (_, z), (coef, _) in zip(terms, c.terms)],
                             [t for t, _ in terms]))
            continue
        if c.terms is not None and isinstance(ctx.commitments.get(c.tid), chunked.ChunkedCommitment):
            raise ValueError(f"weighted claim on {c.tid}: weighted claims on chunked commitments are not supported")
        if c.terms is not None:
            out.append(c)
            continue
        tid, point = _unchunk_one(ctx, c.tid, c.point, str(k))
        out.append(c if tid == c.tid else Claim(tid, point, c.value))
    return out


def _unchunk_one(ctx, tid: str, point: list, key: str) -> tuple[str, list]:
    """(the polynomial, its point) that an evaluation of ``tid`` at ``point`` is opened on:
    unchanged for a commitment in one piece; for a chunked one, the chunk that a boolean r_hi
    selects (``tid#c<c>``), else the derived polynomial sum_c eq(r_hi, c) f_c (``tid#<key>``)."""
    cc = ctx.commitments.get(tid)
    if not isinstance(cc, chunked.ChunkedCommitment):
        return tid, point
    nhi = cc.num_vars - cc.chunk_vars
    p, _ = boolean_prefix(point[:nhi])
    if p == nhi:  # r_hi selects one chunk (a pooled member's claim): that chunk, shared by its claims
        ci = int("".join(str(b) for b in point[:nhi]) or "0", 2)
        did = f"{tid}#c{ci}"
        if did not in ctx.commitments:
            ctx.commitments[did] = cc.chunks[ci]
            if ctx.is_prover:
                size = 1 << cc.chunk_vars
                ctx.values[did] = ctx.values[tid][ci * size:(ci + 1) * size]
                ctx.blinds[did] = ctx.blinds[tid][ci]
        return did, list(point[nhi:])
    did = f"{tid}#{key}"
    if ctx.is_prover:
        g, blind, r_lo = chunked.reduce_values(ctx.values[tid], cc.chunk_vars, point, ctx.blinds[tid])
        ctx.values[did], ctx.blinds[did] = g, blind
        ctx.commitments[did] = None  # the prover never needs C' itself
    else:
        ctx.commitments[did], r_lo = chunked.reduce_commitment(cc, point)
    return did, r_lo


def _claim_weights(claims, apow: list[int]) -> dict[str, tuple[list, list]]:
    """Per polynomial p: (points, coefficients) of W_p = sum_k alpha^k sum_{l: t_l = p} c_l
    eq(z_l, .) over every term of every claim on p (a plain claim: one term of coefficient 1
    on its own polynomial)."""
    out: dict[str, tuple[list, list]] = {}
    for k, claim in enumerate(claims):
        for t, c, z in claim.weighted_terms():
            points, coeffs = out.setdefault(t, ([], []))
            points.append(z)
            coeffs.append(apow[k] * c % R)
    return out


def _linear_table(coeffs: list[int], n: int) -> list[int]:
    """R(x) = c + sum_i a_i x_i on the hypercube of n variables (x_1 most significant)."""
    table = [coeffs[0] % R]
    for a in reversed(coeffs[1:n + 1]):  # each new variable becomes the most significant bit
        table = table + [(t + a) % R for t in table]
    return table


def _linear_eval(coeffs: list[int], point: list[int]) -> int:
    return (coeffs[0] + sum(a * x for a, x in zip(coeffs[1:], point))) % R


def commit_linear(srs, coeffs: list[int], blind: int):
    """The hiding PST commitment to R(x) = c + sum_i a_i x_i in the last n SRS variables:
    c g + sum_i a_i tau_g1[o+i] + blind xi_g1 (n + 2 points, not 2^n)."""
    n = len(coeffs) - 1
    o = srs.num_vars - n
    return msm([srs.g1, *srs.tau_g1[o:o + n], srs.xi_g1], [*coeffs, blind])


def _opening_masks(ctx, n: int):
    """ZK: two random linear masks R_1, R_2 of the opening's n variables, committed before
    any challenge of the opening (``open/R``); then z_1, z_2. Returns (z, coefficient lists
    (prover) or None, commitments, blinds (prover))."""
    ch = ctx.ch
    coeffs, blinds, comms = None, None, []
    if ctx.is_prover:
        coeffs = [[randbelow(ctx.rng, R) for _ in range(n + 1)] for _ in range(2)]
        blinds = [randbelow(ctx.rng, R) for _ in range(2)]
        for c, b in zip(coeffs, blinds):
            comms.append(commit_linear(ctx.srs, c, b))
            ch.send_g1("open/R", comms[-1])
    else:
        comms = [ch.recv_g1("open/R") for _ in range(2)]
    z = [ch.challenges("open/z1", n), ch.challenges("open/z2", n)]
    return z, coeffs, comms, blinds


def open_claims(ctx, vk=None) -> None:
    """Prover or verifier side of the batch opening of ``ctx.claims`` (and, with a mask
    pool, of the pool's claims, then masked by two random linear polynomials: see
    ``prover.zk.mask``'s docstring and docs/zero-knowledge.md)."""
    ch = ctx.ch
    zk = ctx.mask is not None
    claims = unchunk(ctx, ctx.claims) + (list(ctx.mask.claims) if zk else [])
    order, idx = _group(claims)
    mvars = {t: claims[idx[t][0]].num_vars for t in order}
    for c in claims:  # a derived chunk polynomial named only by a combined claim's term: its own slot
        for t, _, z in c.weighted_terms():
            if t not in mvars and t.partition("#")[2]:
                order.append(t)
                mvars[t] = len(z)
    n = max(mvars.values())
    if zk:
        z, rco, rcomms, rblinds = _opening_masks(ctx, n)
    alpha = ch.challenge("open/alpha")
    apow = [1] * len(claims)
    for k in range(1, len(claims)):
        apow[k] = apow[k - 1] * alpha % R
    H = sum(a * c.value for a, c in zip(apow, claims)) % R
    if zk:
        if ctx.is_prover:
            g_open = (_linear_eval(rco[0], z[0]) + _linear_eval(rco[1], z[1])) % R
            ch.send_fr("open/G", g_open)
        else:
            g_open = ch.recv_fr("open/G")
        rho = ch.challenge("open/rho")
        H = (H + rho * g_open) % R

    weights = _claim_weights(claims, apow)
    if set(weights) - set(order):
        raise ValueError(f"a term names a polynomial without a claim of its own: {sorted(set(weights) - set(order))}")
    if ctx.is_prover:
        terms = []
        for t in order:
            w = _weights(*weights[t], mvars[t])
            terms.append(sumcheck.Term(1, [w, ctx.values[t]], scratch=True))  # W is folded in place
            del w
        polys = [ctx.values[t] for t in order]
        blinds = [ctx.blinds.get(t, 0) for t in order]
        if zk:
            rtabs = [_linear_table(c, n) for c in rco]
            for zm, tab in zip(z, rtabs):
                terms.append(sumcheck.Term(rho, [eq_table_fast(zm), tab]))
        out = sumcheck.prove(ch, "open", n, 2, terms)
        s = out.point
        wt = [sumcheck.term_weight(fin[0], n, mvars[t]) for t, fin in zip(order, out.finals)]
        if zk:
            wt += [rho * eq_eval(zm, s) % R for zm in z]
            polys += rtabs
            blinds += rblinds
        phi = _combine(polys, wt, 1 << n)
        blind = sum(a * b for a, b in zip(wt, blinds)) % R
        _, proof = kzg.open(ctx.srs, phi, s, blind, ctx.rng)
        del phi
        for q in proof.quotients:
            ch.send_g1("open/quotient", q)
        ch.send_g1("open/hiding", proof.pi_xi)
    else:
        sub = sumcheck.verify(ch, "open", n, 2, H)
        s = sub.point
        wt = []
        for t in order:
            m = mvars[t]
            points, coeffs = weights[t]
            w = sum(a * eq_eval(pt, s[n - m:]) for pt, a in zip(points, coeffs)) % R
            wt.append(sumcheck.term_weight(w, n, m))
        quotients = [ch.recv_g1("open/quotient") for _ in range(n)]
        pi_xi = ch.recv_g1("open/hiding")
        comms = [ctx.commitments[t] for t in order]
        if zk:
            wt += [rho * eq_eval(zm, s) % R for zm in z]
            comms += rcomms
        c_phi = msm(comms, wt)
        if not kzg.verify(vk, c_phi, s, sub.expected, kzg.OpeningProof(quotients, pi_xi)):
            raise VerificationError("opening", "pairing check of the batch opening failed "
                                    "(Phi = sum_p Wt_p f_p does not open to the sumcheck's final claim at s)")
