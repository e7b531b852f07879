"""One named test per attack; each asserts that the verifier rejects."""
import copy
import os

import pytest
import torch

from prover import api
from prover.errors import MalformedError, MalformedProofError, MalformedStatementError, VerificationError
from prover.field import R
from prover.model.mlp import build_mlp
from prover.pcs.curve import g1_generator
from prover.proof import Proof
from prover.rng import seeded

REJECT = (VerificationError, MalformedProofError)


def _with(proof: Proof, frs=None, g1s=None) -> bytes:
    p = copy.copy(proof)
    if frs is not None:
        p.frs = frs
    if g1s is not None:
        p.g1s = g1s
        from prover.pcs.curve import g1_to_bytes
        p.g1_bytes = [g1_to_bytes(g) for g in g1s]
    return p.to_bytes()


def _rejects(vk, cm, st, raw):
    with pytest.raises(REJECT):
        api.verify(vk, cm, st, raw)


def _indices(proved, pred, kind="fr"):
    return [i for (label, k, i) in proved.layout if k == kind and pred(label)]


def test_every_sumcheck_round_coefficient_altered(vk, committed, proved):
    idx = _indices(proved, lambda l: l.endswith("/g"))
    assert len(idx) > 100
    for i in idx:
        frs = list(proved.proof.frs)
        frs[i] = (frs[i] + 1) % R
        _rejects(vk, committed.commitment, proved.statement, _with(proved.proof, frs=frs))


def test_every_claimed_evaluation_altered(vk, committed, proved):
    idx = _indices(proved, lambda l: not l.endswith("/g"))
    assert len(idx) > 20
    for i in idx:
        frs = list(proved.proof.frs)
        frs[i] = (frs[i] + 7) % R
        _rejects(vk, committed.commitment, proved.statement, _with(proved.proof, frs=frs))


def test_replayed_sumcheck_round(vk, committed, proved):
    idx = _indices(proved, lambda l: l == "linear/g")
    frs = list(proved.proof.frs)
    d = 2  # degree-2 rounds: c_1, c_2 (c_0 is derived)
    frs[idx[d]:idx[d] + d] = frs[idx[0]:idx[0] + d]
    _rejects(vk, committed.commitment, proved.statement, _with(proved.proof, frs=frs))


def test_swapped_sumcheck_rounds(vk, committed, proved):
    idx = _indices(proved, lambda l: l == "linear/g")
    frs = list(proved.proof.frs)
    a, b, d = idx[0], idx[2], 2
    frs[a:a + d], frs[b:b + d] = frs[b:b + d], frs[a:a + d]
    _rejects(vk, committed.commitment, proved.statement, _with(proved.proof, frs=frs))


def test_each_commitment_replaced(vk, committed, proved):
    g = g1_generator()
    for i in range(len(proved.proof.g1s)):
        g1s = list(proved.proof.g1s)
        g1s[i] = g1s[i] + g
        _rejects(vk, committed.commitment, proved.statement, _with(proved.proof, g1s=g1s))


def test_wrong_output(vk, committed, proved):
    st = copy.deepcopy(proved.statement)
    st.output[5] += 1
    _rejects(vk, committed.commitment, st, proved.proof.to_bytes())


def test_wrong_public_input(vk, committed, proved):
    st = copy.deepcopy(proved.statement)
    st.input[0] += 1
    _rejects(vk, committed.commitment, st, proved.proof.to_bytes())


def test_proof_for_another_input(pk, vk, committed, inputs, proved):
    other = api.prove(pk, committed, inputs[1], rng=seeded(9))
    _rejects(vk, committed.commitment, other.statement, proved.proof.to_bytes())


def test_proof_against_another_model_commitment(pk, vk, committed, proved):
    other = api.commit_model(pk, build_mlp(64, 256, 64, "gelu", seed=1), rng=seeded(10))
    st = copy.deepcopy(proved.statement)
    with pytest.raises(VerificationError, match="statement"):
        api.verify(vk, other.commitment, st, proved.proof.to_bytes())
    st.model_digest = other.commitment.digest()
    _rejects(vk, other.commitment, st, proved.proof.to_bytes())


def test_same_weights_recommitted_with_other_blinds(pk, vk, mlp, proved):
    other = api.commit_model(pk, mlp, rng=seeded(11))
    st = copy.deepcopy(proved.statement)
    st.model_digest = other.commitment.digest()
    _rejects(vk, other.commitment, st, proved.proof.to_bytes())


def _lenient_multiplicities(monkeypatch):
    from op_harness import lenient_multiplicities
    lenient_multiplicities(monkeypatch)


def test_lookup_witness_outside_table(monkeypatch, pk, vk, committed, inputs):
    """Digit 256 (outside [0, 256)) with a neighbour digit adjusted so the rescale relation holds."""
    _lenient_multiplicities(monkeypatch)

    def hook(ints):
        d0, d1 = ints["l0.d0"], ints["l0.d1"]
        j = int(torch.nonzero(d1.reshape(-1) > 0)[0])
        d0.view(-1)[j] += 256
        d1.view(-1)[j] -= 1
    res = api.prove(pk, committed, inputs[0], witness_hook=hook)
    _rejects(vk, committed.commitment, res.statement, res.proof.to_bytes())


def test_wrong_activation_value(monkeypatch, pk, vk, committed, inputs):
    """A GELU output off by one unit; the next layer computed from the wrong value."""
    _lenient_multiplicities(monkeypatch)

    def hook(ints):
        ints["a1"].view(-1)[3] += 1
        ints["l2.z"] = ints["a1"] @ ints["l2.w"].T + ints["l2.b"]
        from prover.quant import rescale, digits
        q, rem = rescale(ints["l2.z"], 16)
        ints["l2.q"] = q
        for k, d in enumerate(digits(rem, 16, 8)):
            ints[f"l2.d{k}"] = d
    res = api.prove(pk, committed, inputs[0], witness_hook=hook)
    _rejects(vk, committed.commitment, res.statement, res.proof.to_bytes())


def test_wrong_rescale_quotient_wraps_field(monkeypatch, pk, vk, committed, inputs):
    """Quotient off by one with the remainder pushed out of range to keep the relation."""
    _lenient_multiplicities(monkeypatch)

    def hook(ints):
        ints["l0.q"].view(-1)[0] += 1
        ints["l0.d2"].view(-1)[0] -= 256  # 2^24 = 256 * 2^16: the top digit goes negative
        from prover.lookup.tables import FunctionTable
        t = FunctionTable("gelu", 12, 8, 16)
        ints["a1"] = t.apply(ints["l0.q"])
    res = api.prove(pk, committed, inputs[0], witness_hook=hook)
    _rejects(vk, committed.commitment, res.statement, res.proof.to_bytes())


def test_truncated_extended_and_random_bytes(vk, committed, proved):
    raw = proved.proof.to_bytes()
    cm, st = committed.commitment, proved.statement
    for bad in (raw[:-1], raw[:-32], raw[:10], raw + b"\0", raw + raw[-32:], b"", os.urandom(len(raw)),
                b"ZKLP" + os.urandom(len(raw) - 4)):
        with pytest.raises(MalformedProofError):
            api.verify(vk, cm, st, bad)


def test_non_canonical_field_element(vk, committed, proved):
    raw = bytearray(proved.proof.to_bytes())
    raw[-32:] = (R + 1).to_bytes(32, "big")
    with pytest.raises(MalformedProofError, match="canonical"):
        api.verify(vk, committed.commitment, proved.statement, bytes(raw))


def test_point_off_curve(vk, committed, proved):
    raw = bytearray(proved.proof.to_bytes())
    raw[46 + 127] ^= 1  # last byte of the first point's y coordinate
    with pytest.raises(MalformedProofError):
        api.verify(vk, committed.commitment, proved.statement, bytes(raw))


def test_wrong_version_and_circuit(vk, committed, proved):
    raw = bytearray(proved.proof.to_bytes())
    raw[5] = 9
    with pytest.raises(MalformedProofError, match="version"):
        api.verify(vk, committed.commitment, proved.statement, bytes(raw))
    raw = bytearray(proved.proof.to_bytes())
    raw[6] ^= 1
    with pytest.raises(VerificationError, match="circuit"):
        api.verify(vk, committed.commitment, proved.statement, bytes(raw))


def test_extra_items_with_consistent_header(vk, committed, proved):
    p = copy.copy(proved.proof)
    p.frs = list(p.frs) + [1]
    with pytest.raises(MalformedProofError, match="trailing"):
        api.verify(vk, committed.commitment, proved.statement, p.to_bytes())


def test_wrong_verifying_key(pk, committed, proved):
    from prover import keys
    other = keys.setup(14, rng=seeded(99)).verifying_key()
    _rejects(other, committed.commitment, proved.statement, proved.proof.to_bytes())


def test_malformed_statement_is_typed(vk, committed, proved):
    st = copy.deepcopy(proved.statement)
    st.input = st.input[:-1]
    with pytest.raises(MalformedError):
        api.verify(vk, committed.commitment, st, proved.proof.to_bytes())
    st = copy.deepcopy(proved.statement)
    st.input[0] = 1 << 300  # a huge integer is a malformed statement, never a crash
    with pytest.raises(MalformedStatementError):
        api.verify(vk, committed.commitment, st, proved.proof.to_bytes())


def test_fuzzed_proofs_never_crash(vk, committed, proved):
    import random
    rnd = random.Random(0)
    raw = proved.proof.to_bytes()
    for _ in range(60):
        b = bytearray(raw)
        for _ in range(rnd.randint(1, 4)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        with pytest.raises((VerificationError, MalformedError)):
            api.verify(vk, committed.commitment, proved.statement, bytes(b))
