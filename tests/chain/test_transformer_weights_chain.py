"""TransformerWeightVerifier against `prover.transformer.prove.verify_weights`, on the embedded
(py-evm) chain: the same valid, tampered and cheating weight range proofs of a one-layer
tiny-llama get the same verdict and check name from both; `certify` records the model; the
transformer verifier refuses inference statements about a model it has not certified; a
weight proof cannot select an inference circuit, another model's circuit, or a registered
description that leaves a model tensor unbounded.

The cheating party here is the model owner: it commits an out-of-range weight by hand
(`commit_params`) and plays the weight prover with digits that wrap or overflow."""
from __future__ import annotations

import dataclasses

import pytest
import torch

import verifier_helpers as vh
from prover import weights
from prover.circuit_desc import describe, weight_description
from prover.errors import MalformedError, SetupError, VerificationError
from prover.field import R
from prover.lookup import logup
from prover.model.loaders import build_model
from prover.rng import seeded
from prover.transcript import keccak256
from prover.transformer import prove as tp
from tests.test_weights import cheat_digits, lenient_multiplicities
from zkllm_chain.chain import weights as cw
from zkllm_chain.chain.backend import connect
from zkllm_chain.chain.contracts import transact
from zkllm_chain.chain.errors import TransactionRevertedError
from zkllm_chain.chain.transformer_verifier import (CIRCUIT_GAS, TRANSFORMER_VERIFY_GAS, add_circuits,
                                                    deploy_transformer_verifier, transformer_calldata)
from zkllm_chain.chain.verifier import verify_call

GAS = 16_000_000
#: Python's check -> the contract errors naming it (ProofRejected(check) names it directly).
CHECK_TO_ERROR = {**vh.CHECK_TO_ERROR, "circuit": {"CircuitMismatch", "UnknownCircuit", "CircuitNotListed"},
                  "MalformedError": {"MalformedCommitment"}, "MalformedProofError": {"MalformedProof", "NotCanonical"}}
T = 4


@pytest.fixture(scope="module")
def evm():
    return connect()


@dataclasses.dataclass
class Model:
    pk: object
    cm: object          # CommittedTransformer

    @property
    def vk(self):
        return self.pk.verifying_key()

    @property
    def enc(self) -> bytes:
        return self.cm.commitment.encode()


@pytest.fixture(scope="module")
def model():
    m = build_model(build_model("tiny-llama", 0).cfg.with_(n_layers=1), 0)
    pk = tp.setup(m.cfg, max_rows=T, rng=seeded(60))
    return Model(pk, tp.commit_model(pk, m, rng=seeded(61)))


def prove_digits(m: Model, ints: dict, seed: int = 62):
    """The weight prover over model tensors and digits ``ints``: (proof bytes, item layout)."""
    cm = m.cm.commitment
    circuit = tp.weight_circuit(cm)
    proof, layout = weights.prove(circuit, m.pk.srs, m.vk.digest(), cm.digest(), ints, dict(zip(cm.names, cm.points)),
                                  dict(m.cm.blinds), seeded(seed))
    return proof.to_bytes(), layout


@pytest.fixture(scope="module")
def proved(model):
    return prove_digits(model, weights.witness(tp.weight_circuit(model.cm.commitment), model.cm.params))


@pytest.fixture(scope="module")
def dep(evm, model):
    d = deploy_transformer_verifier(evm, model.vk)
    add_circuits(evm, d, model.cm.commitment, [T])
    return d


def recommit(m: Model, name: str, value: int, idx: int = 3) -> Model:
    """The model owner commits, by hand, its model with entry ``idx`` of ``name`` set to ``value``."""
    params = {k: v.clone() for k, v in m.cm.params.items()}
    params[name].view(-1)[idx] = value
    c = m.cm.commitment
    return Model(m.pk, tp.commit_params(m.pk, c.cfg, c.tq, params, rng=seeded(63)))


def py_verdict(vk, enc: bytes, proof: bytes):
    try:
        tp.verify_weights(vk, tp.TransformerCommitment.decode(enc), proof)
    except VerificationError as e:
        return ("reject", e.check)
    except (MalformedError, SetupError) as e:
        return ("reject", type(e).__name__)
    return ("accept", None)


def chain_verdict(evm, dep, enc: bytes, proof: bytes):
    try:
        return ("accept", cw.check_call(evm, dep.weights, enc, proof, gas=GAS))
    except TransactionRevertedError as e:
        if e.error_name == "ProofRejected":
            return ("reject", bytes(e.error_args[0]).rstrip(b"\0").decode())
        return ("reject", e.error_name)


def assert_same(m: Model, evm, dep, enc: bytes, proof: bytes, expect: str | None = None):
    py, ch = py_verdict(m.vk, enc, proof), chain_verdict(evm, dep, enc, proof)
    assert py[0] == ch[0] == "reject", (py, ch)
    assert ch[1] == py[1] or ch[1] in CHECK_TO_ERROR.get(py[1], ()), (py, ch)
    if expect is not None:
        assert ch[1] == expect, (py, ch)
    return py, ch


# ------------------------------------------------------------------ valid proofs

def test_weight_description_is_deterministic_and_bound_to_the_header(model):
    cm = model.cm.commitment
    d = weight_description(cm)
    assert d == weight_description(cm) and d[:4] == b"ZKCD"
    assert d[5:37] == tp.weight_circuit(cm).digest() and d[37:69] == keccak256(cm._header())
    assert d[69:73] == bytes(4)  # prompt length 0: no inference circuit has it


def test_valid_proof_accepted_by_both_and_certified(evm, dep, model, proved):
    raw = proved[0]
    assert py_verdict(model.vk, model.enc, raw) == ("accept", None)
    assert chain_verdict(evm, dep, model.enc, raw) == ("accept", model.cm.commitment.digest())
    assert not cw.is_certified(evm, dep.weights.address, model.cm.commitment.digest())
    tx = cw.certify(evm, dep.weights, model.enc, raw, gas=GAS)
    assert tx.gas_used < 16_777_216 and cw.is_certified(evm, dep.weights.address, model.cm.commitment.digest())
    assert cw.certify(evm, dep.weights, model.enc, raw, gas=GAS).gas_used > 0  # idempotent


# ------------------------------------------------------------------ tampered proofs

@pytest.mark.parametrize("label", ["lk0/g", "lk0/eval", "open/g"])
def test_tampered_field_element_rejected_by_both(evm, dep, model, proved, label):
    raw, layout = proved
    idx = vh.items_by_label(layout)[(label, "fr")]
    for j in (idx[0], idx[-1]):
        assert_same(model, evm, dep, model.enc, vh.set_fr(raw, j, (vh.get_fr(raw, j) + 1) % R))


def test_tampered_points_and_bytes_rejected_by_both(evm, dep, model, proved):
    raw, layout = proved
    i = vh.items_by_label(layout)[("witness", "g1")][0]
    assert_same(model, evm, dep, model.enc, vh.set_g1(raw, i, vh.other_point()))
    assert_same(model, evm, dep, model.enc, raw[:-1], expect="MalformedProof")
    assert_same(model, evm, dep, model.enc, raw[:6] + bytes(32) + raw[38:], expect="CircuitMismatch")
    assert_same(model, evm, dep, model.enc, vh.set_fr(raw, 0, R), expect="NotCanonical")


@pytest.mark.parametrize("name", list(vh.INVALID_POINTS))
def test_invalid_commitment_point_rejected_by_both(evm, dep, model, proved, name):
    bad = vh.set_commitment_point(model.enc, 2, vh.INVALID_POINTS[name])
    assert_same(model, evm, dep, bad, proved[0], expect="MalformedCommitment")


def test_proof_for_another_model_rejected_by_both(evm, dep, model, proved):
    """Same header, other weights (one entry changed, in range): the model digest differs."""
    other = recommit(model, "wq", 5)
    assert_same(model, evm, dep, other.enc, proved[0])


# ------------------------------------------------------------------ the cheating model owner

@pytest.mark.parametrize("mode,check,expect", [("wrap", "opening", "PairingFailed"),
                                               ("overflow", "lookup", "lookup")])
def test_out_of_range_weight_rejected_by_both(evm, dep, model, monkeypatch, mode, check, expect):
    """w = 2^23 committed at weight_bits 24 (one past the top), with digits that wrap (the
    identity fails) or a top digit that overflows its table (the lookup fails)."""
    bad = recommit(model, "wu", 1 << (model.cm.commitment.tq.weight_bits - 1))
    monkeypatch.setattr(logup, "multiplicities", lenient_multiplicities)
    raw, _ = prove_digits(bad, cheat_digits(tp.weight_circuit(bad.cm.commitment), bad.cm.params, mode))
    py, ch = assert_same(bad, evm, dep, bad.enc, raw, expect=expect)
    assert py[1] == check
    with pytest.raises(TransactionRevertedError):
        cw.certify(evm, dep.weights, bad.enc, raw, gas=GAS)
    assert not cw.is_certified(evm, dep.weights.address, bad.cm.commitment.digest())


@pytest.mark.parametrize("mode", ["m", "A", "B"])
def test_lookup_cheats_rejected_by_both(evm, dep, model, monkeypatch, mode):
    """The weight prover of ``op_harness.lookup_cheat`` (a multiplicity moved to another row, an
    entry of A or of B one off, each committed): both reject with ProofRejected("lookup")."""
    from tests.op_harness import lookup_cheat
    lookup_cheat(monkeypatch, mode)
    raw, _ = prove_digits(model, weights.witness(tp.weight_circuit(model.cm.commitment), model.cm.params), seed=64)
    assert assert_same(model, evm, dep, model.enc, raw, expect="lookup")[0] == ("reject", "lookup")


# ------------------------------------------------------------------ which circuit a proof selects

def test_weight_proof_cannot_select_an_inference_circuit(evm, dep, model, proved):
    """The proof's header names the registered T-token inference circuit of the same model:
    Python sees another circuit, the contract a description of prompt length T, not 0."""
    from prover.transformer.compile import compile_model
    cm = model.cm.commitment
    inference = compile_model(cm.cfg, T, cm.tq).digest()
    raw = proved[0][:6] + inference + proved[0][38:]
    assert_same(model, evm, dep, model.enc, raw, expect="CircuitMismatch")


def test_description_leaving_a_tensor_unbounded_is_refused(evm, dep, model, proved):
    """A model owner lists a weight description that drops the last tensor's bound (and stores
    it: anyone may): the certifier refuses to run it (a description must bound every model
    tensor), Python refuses the listed entry, and the tooling refuses the commitment."""
    circuit = tp.weight_circuit(model.cm.commitment)
    forged = dataclasses.replace(circuit, roots=circuit.roots[:-1], inner_digest=keccak256(b"forged"))
    desc = describe(forged, keccak256(model.cm.commitment._header()))
    transact(evm, dep.circuits.contract(evm).functions.addCircuit(desc), gas=CIRCUIT_GAS)
    cm = model.cm.commitment
    bad = dataclasses.replace(cm, circuits=(keccak256(desc),) + cm.circuits[1:])
    raw = proved[0][:6] + forged.digest() + proved[0][38:]
    assert chain_verdict(evm, dep, bad.encode(), raw) == ("reject", "NotAWeightCircuit")
    assert py_verdict(model.vk, bad.encode(), raw) == ("reject", "circuit")
    with pytest.raises(VerificationError):
        add_circuits(evm, dep, bad, [T])


def test_weight_width_out_of_range_is_refused_at_registration(evm, dep, model):
    """A weight bound of 0 bits cannot be registered (Python: MalformedError at compile)."""
    circuit = tp.weight_circuit(model.cm.commitment)
    wb = dataclasses.replace(circuit.roots[0], bits=0)
    forged = dataclasses.replace(circuit, roots=[wb, *circuit.roots[1:]], inner_digest=keccak256(b"zero"))
    with pytest.raises(TransactionRevertedError) as e:
        transact(evm, dep.circuits.contract(evm).functions.addCircuit(
            describe(forged, keccak256(model.cm.commitment._header()))), gas=CIRCUIT_GAS)
    assert e.value.error_name == "UnsafeParameter"
    assert bytes(e.value.error_args[0]).rstrip(b"\0") == b"weight-width"


# ------------------------------------------------------------------ the inference gate

def test_inference_about_an_uncertified_model_refused(evm, model, proved):
    """A valid inference proof is refused with WeightsNotCertified until the model's weight
    range proof is certified, then accepted."""
    d = deploy_transformer_verifier(evm, model.vk)
    add_circuits(evm, d, model.cm.commitment, [T])
    res = tp.prove(model.pk, model.cm, torch.tensor([5, 9, 2, 200]), rng=seeded(64))
    cd = transformer_calldata(res.statement, model.cm.commitment, res.proof.to_bytes())
    with pytest.raises(TransactionRevertedError) as e:
        verify_call(evm, d.verifier, cd, gas=TRANSFORMER_VERIFY_GAS)
    assert e.value.error_name == "WeightsNotCertified" and bytes(e.value.error_args[0]) == res.statement.model_digest
    cw.certify(evm, d.weights, model.enc, proved[0], gas=GAS)
    assert verify_call(evm, d.verifier, cd, gas=TRANSFORMER_VERIFY_GAS)


def test_register_certifies_a_transformer_and_needs_its_weight_proof(evm, model, proved):
    """service.register_model certifies the transformer's weights with the certifier its
    verifier requires, and refuses without a weight proof."""
    from prover.errors import ZkllmError
    from zkllm_chain import service
    from zkllm_chain.chain.verifier import weight_verifier_of
    c = service.deploy_all(evm, model.vk)
    c.transformer = service.deploy_transformer_contracts(evm, model.vk)
    verifier = service.register_transformer_circuits(c, model.cm.commitment, [T])
    assert weight_verifier_of(evm, verifier) == c.transformer.weights.address
    with pytest.raises(ZkllmError, match="weight range proof"):
        service.register_model(c, model.cm.commitment, model.vk, verifier=verifier)
    mid = service.register_model(c, model.cm.commitment, model.vk, verifier=verifier, weights_proof=proved[0])
    assert mid >= 1 and cw.is_certified(evm, c.transformer.weights.address, model.cm.commitment.digest())
