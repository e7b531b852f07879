"""WeightRangeVerifier against `prover.api.verify_weights`, on the embedded (py-evm) chain:
the same valid, tampered and cheating weight range proofs get the same verdict and the same
check name from both; `certify` records a model digest; the gas of a certification."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import verifier_helpers as vh
from prover import api, weights
from prover.errors import MalformedError, SetupError, VerificationError
from prover.field import R
from prover.model.commitment import ModelCommitment
from prover.rng import seeded
from zkllm_chain.chain import weights as cw
from zkllm_chain.chain.backend import connect
from zkllm_chain.chain.errors import TransactionRevertedError


@pytest.fixture(scope="module")
def evm():
    return connect()


@pytest.fixture(scope="module")
def pk():
    return vh.small_key(10)


@pytest.fixture(scope="module")
def model(pk):
    torch.manual_seed(3)
    m = nn.Sequential(nn.Linear(8, 12), nn.GELU(), nn.Linear(12, 3)).double()
    return api.commit_model(pk, m, quant=vh.SMALL_QUANT, rng=seeded(5))


@pytest.fixture(scope="module")
def proved(pk, model):
    cm = model.commitment
    circuit = api.weight_circuit(cm)
    ints = weights.witness(circuit, model.params)
    return weights.prove(circuit, pk.srs, pk.verifying_key().digest(), cm.digest(), ints,
                         dict(zip(cm.names, cm.points)), dict(model.blinds), seeded(6))


@pytest.fixture(scope="module")
def dep(evm, pk):
    return cw.deploy_weight_verifier(evm, pk.verifying_key(), compiled=vh.compiled_contracts()[cw.WEIGHTS_CONTRACT])


def py_verdict(vk, commitment: bytes, proof: bytes):
    try:
        api.verify_weights(vk, ModelCommitment.decode(commitment), proof)
    except VerificationError as e:
        return ("reject", "VerificationError", e.check)
    except (MalformedError, SetupError) as e:
        return ("reject", type(e).__name__, None)
    return ("accept", None, None)


def chain_verdict(evm, dep, commitment: bytes, proof: bytes):
    try:
        return ("accept", cw.check_call(evm, dep, commitment, proof))
    except TransactionRevertedError as e:
        return ("reject", e.error_name, e.error_args)


def assert_same(vk, evm, dep, commitment: bytes, proof: bytes, expect: str | None = None):
    py = py_verdict(vk, commitment, proof)
    ch = chain_verdict(evm, dep, commitment, proof)
    assert py[0] == ch[0] == "reject", (py, ch)
    assert ch[1] is not None, "undecoded revert"
    if py[1] == "VerificationError":
        assert ch[1] in vh.CHECK_TO_ERROR[py[2]], (py, ch)
    if expect is not None:
        assert ch[1] == expect, (py, ch)
    return py, ch


def test_valid_proof_accepted_by_both_and_certified(evm, dep, pk, model, proved):
    enc, raw = model.commitment.encode(), proved[0].to_bytes()
    assert py_verdict(pk.verifying_key(), enc, raw)[0] == "accept"
    assert chain_verdict(evm, dep, enc, raw) == ("accept", model.commitment.digest())
    assert not cw.is_certified(evm, dep.address, model.commitment.digest())
    tx = cw.certify(evm, dep, enc, raw)
    assert tx.gas_used < 16_777_216 and cw.is_certified(evm, dep.address, model.commitment.digest())
    assert cw.certify(evm, dep, enc, raw).gas_used > 0  # idempotent


def test_no_weight_evaluation_is_sent(proved):
    """The bound identity is a combined claim of the batch opening, the lookups' operands are
    shadowed: the proof carries no evaluation of a weight or of its digits in the clear."""
    labels = {lbl for lbl, kind in vh.items_by_label(proved[1]) if kind == "fr"}
    assert not {lbl for lbl in labels if lbl.startswith("weights/")}
    assert {"lk0/eval", "lk0/G", "lk0/y"} <= labels


@pytest.mark.parametrize("label", ["lk0/g", "lk0/eval", "open/g"])
def test_tampered_field_element_rejected_by_both(evm, dep, pk, model, proved, label):
    proof, layout = proved
    raw = proof.to_bytes()
    idx = vh.items_by_label(layout)[(label, "fr")]
    for j in (idx[0], idx[-1]):
        bad = vh.set_fr(raw, j, (vh.get_fr(raw, j) + 1) % R)
        assert_same(pk.verifying_key(), evm, dep, model.commitment.encode(), bad)


def test_tampered_points_and_bytes_rejected_by_both(evm, dep, pk, model, proved):
    raw, enc, vk = proved[0].to_bytes(), model.commitment.encode(), pk.verifying_key()
    labels = vh.items_by_label(proved[1])
    i = labels[("witness", "g1")][0]
    assert_same(vk, evm, dep, enc, vh.set_g1(raw, i, vh.other_point()))
    assert_same(vk, evm, dep, enc, raw[:-1], expect="MalformedProof")
    assert_same(vk, evm, dep, enc, raw[:6] + bytes(32) + raw[38:], expect="CircuitMismatch")
    assert_same(vk, evm, dep, enc, vh.set_fr(raw, 0, R), expect="NotCanonical")


def test_proof_for_another_model_rejected_by_both(evm, dep, pk, model, proved):
    """Same header, other weights: the transcript's model digest differs."""
    torch.manual_seed(4)
    other = api.commit_model(pk, nn.Sequential(nn.Linear(8, 12), nn.GELU(), nn.Linear(12, 3)).double(),
                             quant=vh.SMALL_QUANT, rng=seeded(7))
    assert_same(pk.verifying_key(), evm, dep, other.commitment.encode(), proved[0].to_bytes())


@pytest.mark.parametrize("mode,check", [("wrap", "opening"), ("overflow", "lookup")])
def test_out_of_range_weight_rejected_by_both(evm, dep, pk, model, monkeypatch, mode, check):
    """A model owner commits w = 2^15 (weight_bits 16) by hand and plays the cheating prover."""
    from tests.test_weights import cheat_prove, lenient_multiplicities, recommit
    from prover.lookup import logup
    bad = recommit(pk, model, "l0.w", 1 << 15)
    monkeypatch.setattr(logup, "multiplicities", lenient_multiplicities)
    raw = cheat_prove(pk, bad, mode)
    py, ch = assert_same(pk.verifying_key(), evm, dep, bad.commitment.encode(), raw)
    assert py[2] == check
    with pytest.raises(TransactionRevertedError):
        cw.certify(evm, dep, bad.commitment.encode(), raw)
    assert not cw.is_certified(evm, dep.address, bad.commitment.digest())


@pytest.mark.parametrize("mode", ["m", "A", "B"])
def test_lookup_cheats_rejected_by_both(evm, dep, pk, model, monkeypatch, mode):
    """The weight prover of ``op_harness.lookup_cheat`` (a multiplicity moved to another row, an
    entry of A or of B one off, each committed): both reject at the lookup's final check."""
    from tests.op_harness import lookup_cheat
    lookup_cheat(monkeypatch, mode)
    raw = api.prove_weights(pk, model, rng=seeded(8))
    py, ch = assert_same(pk.verifying_key(), evm, dep, model.commitment.encode(), raw, expect="LookupFinalCheckFailed")
    assert py[2] == "lookup" and tuple(ch[2]) == (0,), (py, ch)


def test_transformer_commitment_refused(evm, dep, proved):
    assert chain_verdict(evm, dep, b"ZKLT" + bytes(40), proved[0].to_bytes())[1] == "MalformedCommitment"


def test_inference_for_uncertified_model_refused_on_chain(evm, dep, pk):
    """ZkllmVerifier gated on this WeightRangeVerifier: a valid inference proof is refused with
    WeightsNotCertified until the model's weight proof is certified, then accepted."""
    from zkllm_chain.chain import verifier as cv
    torch.manual_seed(8)
    s = vh.build_setup(pk, nn.Sequential(nn.Linear(8, 6), nn.GELU(), nn.Linear(6, 2)).double(),
                       vh.random_input(8, seed=9), quant=vh.SMALL_QUANT, seed=8)
    ver = vh.deploy_verifier(evm, s.vk, weights=dep.address)
    assert cv.weight_verifier_of(evm, ver.address) == dep.address
    assert vh.python_verdict(s.vk, s.case)[0] == "accept"
    ch = vh.chain_verdict(evm, ver, s.case)
    assert ch[:2] == ("reject", "WeightsNotCertified") and ch[2][0] == s.case.model_digest
    vh.certify(evm, ver, s)
    assert vh.chain_verdict(evm, ver, s.case)[0] == "accept"


def test_register_certifies_an_mlp_and_needs_its_weight_proof(evm, pk, model, proved):
    """service.register_model certifies the MLP's weights (once) and refuses without a proof."""
    from prover.errors import ZkllmError
    from zkllm_chain import service
    from zkllm_chain.chain.verifier import weight_verifier_of
    c = service.deploy_all(evm, pk.verifying_key())
    assert "WeightRangeVerifier" in c.gas
    with pytest.raises(ZkllmError, match="weight range proof"):
        service.register_model(c, model.commitment, pk.verifying_key())
    mid = service.register_model(c, model.commitment, pk.verifying_key(), weights_proof=proved[0].to_bytes())
    assert mid >= 1 and cw.is_certified(evm, weight_verifier_of(evm, c.verifier), model.commitment.digest())


def test_top_digit_table_same_verdicts(evm, dep, pk, monkeypatch):
    """weight_bits 14 at 4-bit digits: a 2-bit top-digit table (lk1) beside the 4-bit one (lk0);
    honest accepted by both, a top digit of 4 (w = 2^13) rejected by both at the lookup."""
    import dataclasses
    from tests.test_weights import cheat_prove, lenient_multiplicities, recommit
    from prover.lookup import logup
    torch.manual_seed(3)
    q = dataclasses.replace(vh.SMALL_QUANT, weight_bits=14)
    m = api.commit_model(pk, nn.Sequential(nn.Linear(8, 12), nn.GELU(), nn.Linear(12, 3)).double(), quant=q,
                         rng=seeded(5))
    assert [lk.table.bits for lk in api.weight_circuit(m.commitment).lookups] == [4, 2]
    enc = m.commitment.encode()
    raw = api.prove_weights(pk, m, rng=seeded(6))
    assert py_verdict(pk.verifying_key(), enc, raw)[0] == "accept"
    assert chain_verdict(evm, dep, enc, raw) == ("accept", m.commitment.digest())
    bad = recommit(pk, m, "l0.w", 1 << 13)
    monkeypatch.setattr(logup, "multiplicities", lenient_multiplicities)
    py, ch = assert_same(pk.verifying_key(), evm, dep, bad.commitment.encode(), cheat_prove(pk, bad, "overflow"))
    assert py[2] == "lookup" and ch[2][0] == 1  # the 2-bit table's lookup
