"""Generic sumcheck: completeness, the subclaim it returns, and named attacks."""
import random

import pytest
from hypothesis import given, settings, strategies as st

from prover import sumcheck as sc
from prover.channel import ProverChannel, VerifierChannel
from prover.errors import MalformedProofError, VerificationError
from prover.field import R
from prover.poly.mle import evaluate
from prover.transcript import Transcript


def _instance(rnd, n, degree):
    terms = []
    for _ in range(rnd.randint(1, 3)):
        m = rnd.randint(0, n)
        k = rnd.randint(1, degree)
        terms.append(sc.Term(rnd.randrange(R), [[rnd.randrange(R) for _ in range(1 << m)] for _ in range(k)]))
    return terms


def _sum(terms):
    return sum(t.coeff * sc._product_sum(t.factors) for t in terms) % R


def _prove(terms, n, degree):
    pc = ProverChannel(Transcript())
    out = sc.prove(pc, "t", n, degree, terms)
    return pc, out


def _verify(frs, n, degree, claim):
    return sc.verify(VerifierChannel(Transcript(), [], [], frs), "t", n, degree, claim)


def _oracle(terms, n, point):
    acc = 0
    for t in terms:
        m = t.num_vars
        p = 1
        for f in t.factors:
            p = p * evaluate(f, point[n - m:]) % R
        acc += sc.term_weight(t.coeff, n, m) * p
    return acc % R


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 5), st.integers(1, 4), st.randoms(use_true_random=False))
def test_completeness_and_subclaim(n, degree, rnd):
    terms = _instance(rnd, n, degree)
    pc, out = _prove(terms, n, degree)
    assert len(pc.frs) == n * degree  # c_1..c_d per round; c_0 follows from the claim
    sub = _verify(pc.frs, n, degree, _sum(terms))
    assert sub.point == out.point
    assert sub.expected == _oracle(terms, n, sub.point)


@pytest.fixture
def inst():
    rnd = random.Random(5)
    n, d = 4, 3
    terms = _instance(rnd, n, d)
    pc, _ = _prove(terms, n, d)
    return terms, n, d, pc.frs


def _rejected(frs, terms, n, d, claim):
    """The verifier, then the caller's final check (the oracle): True if either rejects."""
    try:
        sub = _verify(frs, n, d, claim)
    except (VerificationError, MalformedProofError):
        return True
    return sub.expected != _oracle(terms, n, sub.point)


def test_round_polynomials_omit_c0_and_every_element_is_bound(inst):
    terms, n, d, frs = inst
    pc = ProverChannel(Transcript())
    sc.prove(pc, "t", n, d, terms)
    assert [label for label, kind, _ in pc.log] == ["t/g"] * (n * d)
    assert len(frs) == n * d
    assert not _rejected(frs, terms, n, d, _sum(terms))
    for i in range(len(frs)):
        for delta in (1, R - 1):
            bad = list(frs)
            bad[i] = (bad[i] + delta) % R
            sub = _verify(bad, n, d, _sum(terms))  # no round check: c_0 is derived
            assert sub.expected != _oracle(terms, n, sub.point), f"round element {i} altered undetected"


def test_wrong_claimed_sum_is_rejected(inst):
    terms, n, d, frs = inst
    assert _rejected(frs, terms, n, d, (_sum(terms) + 1) % R)


def test_replayed_round_is_rejected(inst):
    terms, n, d, frs = inst
    k = d  # rounds 0 and 1 of this instance are constant (all-zero c_1..c_d): replay rounds 2, 3
    bad = frs[:2 * k] + frs[2 * k:3 * k] + frs[2 * k:3 * k]
    assert bad != frs
    assert _rejected(bad, terms, n, d, _sum(terms))


def test_swapped_rounds_are_rejected(inst):
    terms, n, d, frs = inst
    k = d
    bad = frs[:2 * k] + frs[3 * k:4 * k] + frs[2 * k:3 * k]
    assert bad != frs
    assert _rejected(bad, terms, n, d, _sum(terms))


def test_wrong_polynomial_same_sum_fails_oracle_check(inst):
    terms, n, d, frs = inst
    other = [sc.Term(t.coeff, [list(f) for f in t.factors]) for t in terms]
    other.append(sc.Term(1, [[1, R - 1]]))  # sums to zero, but is not the zero polynomial
    assert _sum(other) == _sum(terms)
    pc, _ = _prove(other, n, d)
    sub = _verify(pc.frs, n, d, _sum(terms))
    assert sub.expected != _oracle(terms, n, sub.point)


def test_too_few_coefficients_is_malformed(inst):
    terms, n, d, frs = inst
    with pytest.raises(MalformedProofError):
        _verify(frs[:-1], n, d, _sum(terms))


def test_prover_rejects_bad_terms():
    with pytest.raises(ValueError):
        sc.prove(ProverChannel(Transcript()), "t", 1, 1, [sc.Term(1, [[1, 2], [3, 4]])])
    with pytest.raises(ValueError):
        sc.prove(ProverChannel(Transcript()), "t", 1, 2, [sc.Term(1, [[1, 2, 3, 4]])])


def test_native_and_python_provers_send_identical_proofs(monkeypatch):
    """Terms over 2^10+ entries run on the C kernels; the proof bytes and finals are those of
    the Python path, bit for bit (mixed sizes: native and Python terms in one sumcheck)."""
    from prover.field import native
    assert native.available(), native._error
    rnd = random.Random(7)
    n = 12
    shared = [rnd.randrange(R) for _ in range(1 << n)]
    terms = [sc.Term(3, [shared, [rnd.randrange(R) for _ in range(1 << n)]]),
             sc.Term(R - 1, [shared, shared, [rnd.randrange(R) for _ in range(1 << n)]]),
             sc.Term(5, [[rnd.randrange(R) for _ in range(1 << 11)]]),
             sc.Term(7, [[rnd.randrange(R) for _ in range(8)]] * 2)]
    pc_native, out_native = _prove(terms, n, 3)
    monkeypatch.setattr(native, "available", lambda: False)
    pc_py, out_py = _prove(terms, n, 3)
    assert pc_native.frs == pc_py.frs and out_native.point == out_py.point
    assert out_native.finals == out_py.finals
    sub = _verify(pc_py.frs, n, 3, _sum(terms))
    assert sub.expected == _oracle(terms, n, sub.point)


def test_scratch_factor_is_folded_in_place_with_the_same_proof(monkeypatch):
    """A caller-owned native weight table (Term.scratch) is folded over its own storage; the
    proof is the one of the ordinary path."""
    import numpy as np
    from prover.field import native
    rnd = random.Random(11)
    n = 11
    w = [rnd.randrange(R) for _ in range(1 << n)]
    f = [rnd.randrange(R) for _ in range(1 << n)]
    g = [rnd.randrange(R) for _ in range(1 << 10)]
    plain = [sc.Term(1, [w, f]), sc.Term(2, [g, g])]
    wn = native.from_ints(w)
    owned = [sc.Term(1, [wn, f], scratch=True), sc.Term(2, [native.from_ints(g), g], scratch=True)]
    pc_a, out_a = _prove(plain, n, 2)
    pc_b, out_b = _prove(owned, n, 2)
    assert pc_a.frs == pc_b.frs and out_a.finals == out_b.finals
    assert native.to_ints(wn[:2]) != w[:2]  # the scratch table was overwritten
    sub = _verify(pc_b.frs, n, 2, _sum(plain))
    assert sub.expected == _oracle(plain, n, sub.point)


def _first_round_instance(rnd, n, degree):
    """Terms whose first variable carries one extra linear factor (a selector such as
    eq(beta, b)): degree + 1 in the first round, ``degree`` afterwards."""
    beta = rnd.randrange(R)
    half = 1 << (n - 1)
    sel = [(1 - beta) % R] * half + [beta] * half  # eq(beta, b), constant in the other variables
    terms = []
    for _ in range(rnd.randint(1, 3)):
        fs = [[rnd.randrange(R) for _ in range(1 << n)] for _ in range(degree)]
        terms.append(sc.Term(rnd.randrange(R), [sel, *fs]))
    return terms


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 5), st.integers(1, 3), st.randoms(use_true_random=False))
def test_first_round_degree(n, degree, rnd):
    """A first round of degree d + 1, then rounds of degree d: d + 1 + (n - 1) d field
    elements, and the subclaim is the oracle's."""
    terms = _first_round_instance(rnd, n, degree)
    pc = ProverChannel(Transcript())
    out = sc.prove(pc, "t", n, degree, terms, first_degree=degree + 1)
    assert len(pc.frs) == degree + 1 + (n - 1) * degree
    sub = sc.verify(VerifierChannel(Transcript(), [], [], pc.frs), "t", n, degree, _sum(terms), first_degree=degree + 1)
    assert sub.point == out.point
    assert sub.expected == _oracle(terms, n, sub.point)


def test_first_round_degree_is_needed_and_bound():
    """Without the extra coefficient the first round is wrong (the caller's check fails);
    the extra coefficient is bound like the others; a verifier expecting the wrong
    first-round degree never accepts."""
    rnd = random.Random(9)
    n, d = 4, 2
    terms = _first_round_instance(rnd, n, d)
    claim = _sum(terms)
    pc = ProverChannel(Transcript())
    sc.prove(pc, "t", n, d, terms, first_degree=d + 1)

    def rejected(frs, first):
        try:
            sub = sc.verify(VerifierChannel(Transcript(), [], [], frs), "t", n, d, claim, first_degree=first)
        except MalformedProofError:
            return True
        return sub.expected != _oracle(terms, n, sub.point)

    assert not rejected(pc.frs, d + 1)
    tampered = list(pc.frs)
    tampered[d] = (tampered[d] + 1) % R  # the first round's top coefficient
    assert rejected(tampered, d + 1)
    assert rejected(pc.frs, d)  # read as a degree-d first round: the items shift
    assert rejected(pc.frs[:-1], d + 1)
    with pytest.raises(ValueError, match="degree"):  # a degree-d prover cannot hold a d + 1 factor term
        sc.prove(ProverChannel(Transcript()), "t", n, d, terms)
    pc2 = ProverChannel(Transcript())  # an honest degree-(d + 1) run everywhere also verifies, as such
    sc.prove(pc2, "t", n, d + 1, terms)
    assert len(pc2.frs) == n * (d + 1)
    sub = sc.verify(VerifierChannel(Transcript(), [], [], pc2.frs), "t", n, d + 1, claim)
    assert sub.expected == _oracle(terms, n, sub.point)
