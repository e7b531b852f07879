"""Chunked commitments (prover/pcs/chunked.py): a polynomial larger than the SRS."""
from __future__ import annotations

import random

import pytest

from prover.errors import MalformedError
from prover.field import R
from prover.pcs import chunked, kzg
from prover.pcs.srs import setup

K = 4   # SRS variables
M = 7   # polynomial variables: 8 chunks of 16


@pytest.fixture(scope="module")
def srs():
    return setup(K, random.Random(21))


@pytest.fixture(scope="module")
def poly():
    rnd = random.Random(5)
    evals = [rnd.randrange(R) for _ in range(1 << M)]
    blinds = [rnd.randrange(R) for _ in range(1 << (M - K))]
    point = [rnd.randrange(R) for _ in range(M)]
    return evals, blinds, point


def test_claim_on_a_polynomial_larger_than_the_srs_verifies(srs, poly):
    evals, blinds, point = poly
    cc = chunked.commit(srs, evals, blinds)
    assert (cc.num_vars, cc.chunk_vars, len(cc.chunks)) == (M, K, 8)
    value, proof = chunked.open(srs, evals, point, blinds, random.Random(3))
    assert value == kzg.evaluate(evals, point)
    assert chunked.verify(srs.verifier_key(), cc, point, value, proof)


def test_reduced_commitment_commits_to_the_folded_chunks(srs, poly):
    evals, blinds, point = poly
    cc = chunked.commit(srs, evals, blinds)
    g, blind, r_lo = chunked.reduce_values(evals, K, point, blinds)
    c, lo = chunked.reduce_commitment(cc, point)
    assert lo == r_lo == point[M - K:]
    assert c == kzg.commit(srs, g, blind)
    assert kzg.evaluate(g, r_lo) == kzg.evaluate(evals, point)


def test_wrong_value_swapped_or_altered_chunks_are_rejected(srs, poly):
    evals, blinds, point = poly
    vk = srs.verifier_key()
    cc = chunked.commit(srs, evals, blinds)
    value, proof = chunked.open(srs, evals, point, blinds, random.Random(4))
    assert not chunked.verify(vk, cc, point, (value + 1) % R, proof)
    swapped = list(cc.chunks)
    swapped[0], swapped[1] = swapped[1], swapped[0]
    assert not chunked.verify(vk, chunked.ChunkedCommitment(tuple(swapped), M, K), point, value, proof)
    other = list(evals)
    other[5 * (1 << K) + 3] = (other[5 * (1 << K) + 3] + 1) % R  # one entry of chunk 5
    assert not chunked.verify(vk, chunked.commit(srs, other, blinds), point, value, proof)
    assert not chunked.verify(vk, cc, point[:-1] + [(point[-1] + 1) % R], value, proof)
    assert not chunked.verify(vk, cc, point[:-1], value, proof)


def test_a_polynomial_that_fits_is_one_plain_commitment(srs):
    evals = [random.Random(8).randrange(R) for _ in range(1 << 3)]
    cc = chunked.commit(srs, evals)
    assert (len(cc.chunks), cc.chunk_vars) == (1, 3) and cc.chunks[0] == kzg.commit(srs, evals)
    point = [11, 22, 33]
    value, proof = chunked.open(srs, evals, point)
    assert chunked.verify(srs.verifier_key(), cc, point, value, proof)


def test_malformed_chunk_lists_and_inputs_are_refused(srs, poly):
    evals, blinds, _ = poly
    cc = chunked.commit(srs, evals, blinds)
    with pytest.raises(MalformedError):
        chunked.ChunkedCommitment(cc.chunks[:-1], M, K)
    with pytest.raises(MalformedError):
        chunked.ChunkedCommitment(cc.chunks, M, M + 1)
    with pytest.raises(MalformedError):
        chunked.ChunkedCommitment(tuple(b"x" for _ in cc.chunks), M, K)
    with pytest.raises(ValueError):
        chunked.commit(srs, evals, blinds[:-1])
    with pytest.raises(ValueError):
        chunked.split(evals[:-1], K)
