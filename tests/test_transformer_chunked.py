"""Chunked commitments in whole-decoder proofs (TQuant.chunk_vars): tensors over 2^k entries
are committed as 2^(m-k) chunks, the SRS is 2^k, claims on them are opened through the
eq-weighted chunk sum; proofs verify, and weights or witness chunks other than the
committed ones are rejected."""
import dataclasses

import pytest
import torch

from prover.circuit_desc import transformer_description
from prover.errors import MalformedError, MalformedProofError, VerificationError
from prover.model.loaders import build_model
from prover.pcs.chunked import ChunkedCommitment
from prover.rng import seeded
from prover.transformer import prove as tp
from prover.transformer.compile import TQuant, compile_model
from tests.op_harness import altered_proof

REJECT = (VerificationError, MalformedProofError)
K = 12  # tiny-llama's largest tensors have 2^15-2^16 entries; its key tables 2^12 at most
TQ = TQuant(chunk_vars=K)
TOKENS = torch.arange(8) * 29 % 256


@pytest.fixture(scope="module")
def model():
    return build_model("tiny-llama", 0)


@pytest.fixture(scope="module")
def pk(model):
    return tp.setup(model.cfg, TQ, rng=seeded(3), max_rows=8)


@pytest.fixture(scope="module")
def cm(pk, model):
    return tp.commit_model(pk, model, TQ, rng=seeded(4))


@pytest.fixture(scope="module")
def proved(pk, cm):
    return tp.prove(pk, cm, TOKENS, rng=seeded(5))


def test_layout_chunks_only_large_tensors(model):
    c = compile_model(model.cfg, 8, TQ)
    whole = compile_model(model.cfg, 8, TQuant())
    assert c.num_vars == K < whole.num_vars
    big = c.chunked()
    assert {"E", "wg", "wu", "wd"} <= set(big)
    members = {t for ms in c.pools.values() for t, _ in ms}
    for tid in big:
        assert c.specs[tid].num_vars > K and tid not in members
    assert not set(c.chunked()) & {s.id for s in c.specs.values() if s.num_vars <= K}
    assert whole.chunked() == [] and c.digest() != whole.digest()


def test_model_commitment_chunks_round_trip(cm):
    com = cm.commitment
    for name, p in zip(com.names, com.points):
        if isinstance(p, ChunkedCommitment):
            assert p.chunk_vars == K and len(p.chunks) == 1 << (p.num_vars - K)
            assert isinstance(cm.blinds[name], list) and len(cm.blinds[name]) == len(p.chunks)
    assert any(isinstance(p, ChunkedCommitment) for p in com.points)
    dec = tp.TransformerCommitment.decode(com.encode())
    assert dec.digest() == com.digest() and dec.flat_points() == com.flat_points()
    with pytest.raises(MalformedError, match="number of commitments"):
        tp.TransformerCommitment.decode(com.encode()[:-128])


def test_chunked_proof_verifies(pk, cm, proved):
    assert any(label == "witness" for label, _, _ in proved.layout)
    assert tp.verify(pk.verifying_key(), cm.commitment, proved.statement, proved.proof.to_bytes()) > 0


def test_weights_other_than_a_committed_chunk_are_rejected(pk, cm):
    """The prover runs every step honestly on weights that differ from the committed ones in
    one chunk of the embedding: only the chunk-reduced opening can catch it."""
    params = dict(cm.params)
    E = params["E"].clone()
    E.view(-1)[(3 << K) + 5] += 1  # inside chunk 3 of E's flat table
    params["E"] = E
    cheat = tp.CommittedTransformer(cm.commitment, params, cm.blinds)
    res = tp.prove(pk, cheat, TOKENS, rng=seeded(7))
    with pytest.raises(VerificationError) as e:
        tp.verify(pk.verifying_key(), cm.commitment, res.statement, res.proof.to_bytes())
    assert e.value.check == "opening"


def test_swapped_model_chunks_are_rejected(pk, cm, proved):
    """A commitment with two chunks of one tensor swapped (statement digest updated to match)."""
    com = cm.commitment
    pts = list(com.points)
    i = next(i for i, p in enumerate(pts) if isinstance(p, ChunkedCommitment))
    ch = list(pts[i].chunks)
    ch[0], ch[1] = ch[1], ch[0]
    pts[i] = ChunkedCommitment(tuple(ch), pts[i].num_vars, pts[i].chunk_vars)
    forged = dataclasses.replace(com, points=pts)
    st = dataclasses.replace(proved.statement, model_digest=forged.digest())
    with pytest.raises(REJECT):
        tp.verify(pk.verifying_key(), forged, st, proved.proof.to_bytes())


def test_altered_witness_chunk_is_rejected(pk, cm, proved):
    """Each witness chunk commitment: replaced by another point of the proof."""
    chunk_items = [idx for label, kind, idx in proved.layout if label == "witness" and kind == "g1"]
    c = compile_model(cm.commitment.cfg, 8, TQ)
    assert len(chunk_items) > len([t for t in c.witness if t not in c.chunked()])
    for idx in (chunk_items[0], chunk_items[len(chunk_items) // 2], chunk_items[-1]):
        with pytest.raises(REJECT):
            tp.verify(pk.verifying_key(), cm.commitment, proved.statement,
                      altered_proof(proved.proof, "g1", idx))


def test_chunk_size_is_validated(model):
    with pytest.raises(ValueError, match="key table"):
        compile_model(model.cfg, 8, TQuant(chunk_vars=8))
    with pytest.raises(ValueError, match="chunk_vars"):
        compile_model(model.cfg, 8, TQuant(chunk_vars=-1))


def test_onchain_encoder_refuses_chunked_circuits(cm):
    with pytest.raises(ValueError, match="chunked commitments"):
        transformer_description(cm.commitment, 8)
