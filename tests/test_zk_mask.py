"""Libra masks (prover/zk/mask.py): a masked sumcheck proves what the plain one proves,
every message it adds is bound, and its round polynomials are uniform (the mask's map
onto them has full rank)."""
import random

import pytest

from prover import sumcheck as sc
from prover.channel import ProverChannel, VerifierChannel
from prover.context import ProverCtx, VerifierCtx
from prover.errors import MalformedProofError
from prover.field import R
from prover.pcs import srs as srs_mod
from prover.pcs.curve import g1_to_bytes
from prover.poly.mle import evaluate
from prover.rng import seeded
from prover.transcript import Transcript
from prover.zk import mask as zm

K_BLOCKS = 24


@pytest.fixture(scope="module")
def srs():
    return srs_mod.setup(zm.pool_vars_for(K_BLOCKS), rng=seeded(1))


def _terms(rnd, n, degree, extra):
    half = 1 << (n - 1)
    beta = rnd.randrange(R)
    sel = [(1 - beta) % R] * half + [beta] * half
    out = []
    for _ in range(2):
        fs = [[rnd.randrange(R) for _ in range(1 << n)] for _ in range(degree)]
        out.append(sc.Term(rnd.randrange(R), [sel, *fs] if extra else fs))
    return out


def _oracle(terms, n, point):
    acc = 0
    for t in terms:
        p = 1
        for f in t.factors:
            p = p * evaluate(f, point[n - t.num_vars:]) % R
        acc += sc.term_weight(t.coeff, n, t.num_vars) * p
    return acc % R


def _run(srs, shapes, seed=3):
    """Prove then verify a sequence of masked sumchecks (n, degree, extra-first-degree)
    sharing one pool; returns the prover ctx, the proof streams and the instances."""
    rnd = random.Random(seed)
    pc = ProverCtx(ch=ProverChannel(Transcript()), specs={}, srs=srs, rng=seeded(seed))
    zm.commit_pool(pc, K_BLOCKS)
    insts = []
    for n, d, extra in shapes:
        terms = _terms(rnd, n, d, extra)
        claim = sum(t.coeff * sc._product_sum(t.factors) for t in terms) % R
        zm.prove(pc, "t", n, d, terms, first_degree=d + 1 if extra else None)
        insts.append((n, d, extra, terms, claim))
    return pc, insts


def _verify(pc, insts, frs=None, g1s=None):
    g1s = pc.ch.g1s if g1s is None else g1s
    vc = VerifierCtx(ch=VerifierChannel(Transcript(), g1s, [g1_to_bytes(p) for p in g1s],
                                        pc.ch.frs if frs is None else frs), specs={})
    zm.commit_pool(vc, 0)
    ok = True
    for n, d, extra, terms, claim in insts:
        sub = zm.verify(vc, "t", n, d, claim, first_degree=d + 1 if extra else None)
        ok &= sub.expected == _oracle(terms, n, sub.point)
    return vc, ok


def _pool_claims_hold(ctx, values):
    assert not ctx.claims  # pool claims wait in the pool, after every other claim
    for c in ctx.mask.claims:
        assert c.tid == zm.POOL and c.point == []
        if sum(a * evaluate(values, p) for a, p in c.terms) % R != c.value:
            return False
    return True


SHAPES = [(4, 2, False), (3, 3, True), (5, 4, False), (2, 4, True), (1, 3, False)]


def test_masked_sumchecks_complete_and_their_claims_hold(srs):
    pc, insts = _run(srs, SHAPES)
    vc, ok = _verify(pc, insts)
    assert ok  # every caller-side final check sees f(r) alone
    pool = pc.values[zm.POOL]
    assert _pool_claims_hold(pc, pool) and _pool_claims_hold(vc, pool)
    assert [c.terms for c in vc.mask.claims] == [c.terms for c in pc.mask.claims]
    assert vc.mask.next_block == sum(n for n, *_ in SHAPES)
    # labels: G before rho, y after the rounds
    labels = [lab for lab, kind, _ in pc.ch.log]
    assert labels[:2] == ["zk/mask-vars", "zk/mask"] and labels[2] == "t/G" and labels[-1] == "t/y"


def _first_bad(pc, insts, frs):
    """True if a tampered stream is rejected: a caller's final check or a pool claim fails."""
    try:
        vc, ok = _verify(pc, insts, frs)
    except MalformedProofError:
        return True
    return not ok or not _pool_claims_hold(vc, pc.values[zm.POOL])


def test_every_added_message_is_bound(srs):
    pc, insts = _run(srs, SHAPES)
    where = {}
    for lab, kind, i in pc.ch.log:
        if kind == "fr":
            where.setdefault(lab, []).append(i)
    for lab in ("t/G", "t/y", "t/g"):
        for i in (where[lab][0], where[lab][-1]):
            frs = list(pc.ch.frs)
            frs[i] = (frs[i] + 1) % R
            assert _first_bad(pc, insts, frs), (lab, i)


def test_a_mask_inconsistent_with_its_sum_is_rejected(srs):
    """A prover whose G is not the committed mask's sum (e.g. to cover a false claim)."""
    pc, insts = _run(srs, SHAPES[:1])
    n, d, extra, terms, claim = insts[0]
    bad = [(n, d, extra, terms, (claim + 5) % R)]  # the verifier is told a false sum
    assert _first_bad(pc, bad, list(pc.ch.frs))


def test_a_sumcheck_of_no_rounds_is_not_masked(srs):
    """No rounds: nothing to hide, so nothing is sent and no block is taken. A G and a y of no
    rounds would let the prover move the final value by rho (G - y) after seeing rho."""
    pc = ProverCtx(ch=ProverChannel(Transcript()), specs={}, srs=srs, rng=seeded(5))
    zm.commit_pool(pc, K_BLOCKS)
    before = (len(pc.ch.frs), pc.mask.next_block)
    out = zm.prove(pc, "t", 0, 2, [sc.Term(3, [[7], [11]])])
    assert (len(pc.ch.frs), pc.mask.next_block) == before and out.point == [] and not pc.mask.claims
    vc = VerifierCtx(ch=VerifierChannel(Transcript(), pc.ch.g1s, [g1_to_bytes(p) for p in pc.ch.g1s],
                                        pc.ch.frs), specs={})
    zm.commit_pool(vc, 0)
    sub = zm.verify(vc, "t", 0, 2, 231)
    assert (sub.point, sub.expected) == ([], 231)  # the caller's final check sees the claim itself
    vc.ch.assert_consumed()


def test_pool_size_is_bounded_and_exhaustion_is_malformed(srs):
    pc, insts = _run(srs, SHAPES[:1])
    frs = list(pc.ch.frs)
    frs[0] = zm.MAX_POOL_VARS + 1
    with pytest.raises(MalformedProofError, match="out of range"):
        _verify(pc, insts, frs)
    pool = zm.MaskPool(zm.BLOCK_VARS + 1)
    pool.take(2)
    with pytest.raises(MalformedProofError, match="too small"):
        pool.take(1)


def _rank(rows):
    rows = [list(r) for r in rows]
    rk = 0
    for c in range(len(rows[0])):
        piv = next((i for i in range(rk, len(rows)) if rows[i][c] % R), None)
        if piv is None:
            continue
        rows[rk], rows[piv] = rows[piv], rows[rk]
        inv = pow(rows[rk][c], R - 2, R)
        rows[rk] = [x * inv % R for x in rows[rk]]
        for i in range(len(rows)):
            if i != rk and rows[i][c]:
                f = rows[i][c]
                rows[i] = [(a - f * b) % R for a, b in zip(rows[i], rows[rk])]
        rk += 1
    return rk


@pytest.mark.parametrize("n,degree,first", [(4, 2, None), (3, 3, 4), (3, 4, 5), (5, 3, None)])
def test_round_messages_are_uniform_the_mask_map_has_full_rank(n, degree, first):
    """The revealed values (G, then c_1..c_d of every round) are an affine function of the
    mask's block entries; full row rank means they are uniform whatever f is (Libra's
    condition, checked at random challenges). y is left out: it is the pool claim."""
    rnd = random.Random(n * 7 + degree)
    degrees = zm._degrees(n, degree, first)
    nent = 8 * n
    point = [rnd.randrange(R) for _ in range(n)]
    rho = rnd.randrange(1, R)

    def revealed(entries):
        g = zm._RoundMask([entries[8 * i:8 * i + 8] for i in range(n)], degrees, rho)
        out = [g.total()]
        for i, d in enumerate(degrees):
            out += sc.evals_to_coeffs(g(i, d))[1:]
            g.bind(i, point[i])
        return out

    base = revealed([0] * nent)
    rows = []
    for j in range(nent):  # the map is linear in the entries: its columns are the unit responses
        e = [0] * nent
        e[j] = 1
        rows.append([(a - b) % R for a, b in zip(revealed(e), base)])
    cols = list(map(list, zip(*rows)))  # revealed x entries
    assert len(cols) == 1 + sum(degrees)
    assert _rank(cols) == len(cols)


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5])
def test_curves_give_the_round_degree_with_independent_coefficients(d):
    """g(X) = B(curve_d(X)) has degree <= d and its d + 1 coefficients are independent
    linear forms in the 8 entries."""
    def coeffs(entries):
        return sc.evals_to_coeffs([zm.block_eval(entries, zm.curve(d, x)) for x in range(8)])
    rows = []
    for j in range(8):
        e = [0] * 8
        e[j] = 1
        c = coeffs(e)
        assert all(v == 0 for v in c[d + 1:])
        rows.append(c[:d + 1])
    assert _rank(list(map(list, zip(*rows)))) == d + 1


@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_opening_masks_make_the_opening_rounds_uniform(n):
    """The batch opening's sumcheck adds rho (eq(z1, x) R1(x) + eq(z2, x) R2(x)) with R1, R2
    random linear polynomials (batch._opening_masks): the map from their 2(n + 1)
    coefficients to what the rounds reveal (G, then c_1, c_2 of every round) has full row
    rank 2n + 1 at random challenges, so those messages are uniform. One mask alone would
    leave a public root in every round (rank n + 1)."""
    from prover.pcs.batch import _linear_eval
    rnd = random.Random(n)
    zs = [[rnd.randrange(R) for _ in range(n)] for _ in range(2)]
    r = [rnd.randrange(R) for _ in range(n)]

    def eq1(a, x):
        return ((1 - a) * (1 - x) + a * x) % R

    def revealed(coeffs, masks):
        out = [sum(_linear_eval(coeffs[m], zs[m]) for m in masks) % R]
        for i in range(n):
            evs = []
            for x in (0, 1, 2):
                acc = 0
                for m in masks:
                    e = 1
                    for k in range(i):
                        e = e * eq1(zs[m][k], r[k]) % R
                    pt = r[:i] + [x] + zs[m][i + 1:]  # sum over the later variables of eq(z, .) R = R(.., z_later)
                    acc += e * eq1(zs[m][i], x) * _linear_eval(coeffs[m], pt)
                evs.append(acc % R)
            out += sc.evals_to_coeffs(evs)[1:]
        return out

    for masks, want in (((0, 1), 2 * n + 1), ((0,), n + 1)):
        cols = []
        for j in range(2 * (n + 1)):
            c = [[0] * (n + 1), [0] * (n + 1)]
            c[j // (n + 1)][j % (n + 1)] = 1
            cols.append(revealed(c, masks))
        assert _rank(list(map(list, zip(*cols)))) == want


def test_opening_masks_are_committed_as_the_linear_polynomials(srs):
    """commit_linear(c, a) equals the commitment of R's hypercube table, and the table is
    R on every boolean point (variable 1 most significant)."""
    from prover.pcs import batch, kzg
    rnd = random.Random(4)
    n = 4
    co = [rnd.randrange(R) for _ in range(n + 1)]
    tab = batch._linear_table(co, n)
    assert tab == [batch._linear_eval(co, [(b >> (n - 1 - i)) & 1 for i in range(n)]) for b in range(1 << n)]
    assert batch.commit_linear(srs, co, 7) == kzg.commit(srs, tab, 7)
