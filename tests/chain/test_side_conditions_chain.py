"""The side conditions of the quantization settings, checked by the Solidity verifiers under
Python's names (``UnsafeParameter(condition)`` vs ``UnsafeParameterError.condition``).

* transformer: ``TransformerCircuits.addCircuit`` (registration) and ``parsedFor`` (every
  verification reads its circuit through it) run ``TDescription._checkOp`` on each op. A
  description of unsafe settings is built here by switching the Python checks off, as a
  party who does not run them would; the contract refuses it at the first unsafe value
  and accepts the boundary.
* MLP: ``ModelCommitment.decodeArch`` checks the QuantSpec carried by the commitment.
"""
from __future__ import annotations

import struct

import pytest

import verifier_helpers as vh
from prover import quant
from prover.circuit_desc import describe
from prover.errors import UnsafeParameterError
from prover.model.commitment import ModelCommitment
from prover.model.configs import get_config
from prover.transformer.compile import TQuant, compile_model
from zkllm_chain.chain import verifier as cv
from zkllm_chain.chain.accounts import load_signer
from zkllm_chain.chain.backend import connect
from zkllm_chain.chain.errors import TransactionRevertedError
from zkllm_chain.chain.transformer_verifier import CIRCUIT_GAS, DEPLOY_GAS, _deploy
from zkllm_chain.chain.contracts import transact

CFG = get_config("tiny-llama").with_(n_layers=1, max_seq=2)


@pytest.fixture(scope="module")
def evm():
    return connect()


@pytest.fixture
def circuits(evm):
    signer = load_signer(evm)
    return _deploy(evm, "TransformerCircuits", (), None, signer, DEPLOY_GAS).contract(evm)


def _unchecked_description(monkeypatch, tq_fields: dict) -> bytes:
    """The description of CFG's 2-token circuit under settings the Python checks refuse."""
    import prover.ops.argmax
    import prover.ops.rescale
    import prover.ops.softmax
    import prover.transformer.compile
    import prover.transformer.views
    with monkeypatch.context() as m:
        for mod in (quant, prover.ops.argmax, prover.ops.rescale, prover.ops.softmax, prover.transformer.views,
                    prover.transformer.compile):
            if hasattr(mod, "require"):
                m.setattr(mod, "require", lambda *a, **k: None)
        tq = TQuant(**tq_fields)
        return describe(compile_model(CFG, 2, tq))


def _add(evm, circuits, desc: bytes):
    try:
        transact(evm, circuits.functions.addCircuit(desc), signer=load_signer(evm), gas=CIRCUIT_GAS)
    except TransactionRevertedError as e:
        return e.error_name, bytes(e.error_args[0]).rstrip(b"\0").decode() if e.error_args else None
    return "accepted", None


# (settings at the boundary, one step past it, the condition)
BOUNDARIES = [
    ({"argmax_digits": 8}, {"argmax_digits": 9}, "argmax-width"),
    ({"argmax_digits": 8}, {"argmax_digits": 32}, "argmax-width"),
    ({"bound_bits": 64}, {"bound_bits": 72}, "bound-width"),
    ({"exp_digits": 8}, {"exp_digits": 9}, "exp-width"),
    ({"score_frac": 10}, {"score_frac": 9}, "rescale-shift"),  # the score shift 2a + 2 - 9 = 25
]


@pytest.mark.parametrize("ok,bad,condition", BOUNDARIES, ids=[c + str(list(b.values())) for _, b, c in BOUNDARIES])
def test_description_side_conditions_match_python(monkeypatch, evm, circuits, ok, bad, condition):
    with pytest.raises(UnsafeParameterError) as e:
        compile_model(CFG, 2, TQuant(**bad))
    assert e.value.condition == condition
    assert _add(evm, circuits, _unchecked_description(monkeypatch, bad)) == ("UnsafeParameter", condition)
    compile_model(CFG, 2, TQuant(**ok))  # Python accepts the boundary
    assert _add(evm, circuits, describe(compile_model(CFG, 2, TQuant(**ok)))) == ("accepted", None)


# --------------------------------------------------------------------------- MLP

@pytest.fixture(scope="module")
def mlp_verifier(evm, vk):
    return cv.deploy_verifier(evm, vk, compiled=vh.compiled_verifier())


@pytest.fixture(scope="module")
def mlp_case(pk):
    from prover.model.mlp import build_mlp
    return vh.build_setup(pk, build_mlp(4, 8, 2, "gelu", seed=5), vh.random_input(4, seed=6), seed=1).case


QUANT_FIELDS = ["act_frac_bits", "weight_frac_bits", "lookup_in_frac_bits", "lookup_in_bits", "digit_bits",
                "weight_bits"]


def _with_quant(enc: bytes, **changes) -> bytes:
    """The commitment encoding with its QuantSpec bytes (the arch's last 6 bytes) replaced."""
    (alen,) = struct.unpack(">H", enc[6:8])
    q = list(enc[8 + alen - 6:8 + alen])
    for k, v in changes.items():
        q[QUANT_FIELDS.index(k)] = v
    return enc[:8 + alen - 6] + bytes(q) + enc[8 + alen:]


@pytest.mark.parametrize("changes,condition", [
    ({"digit_bits": 17}, "digit-bits"),
    ({"digit_bits": 0}, "digit-bits"),
    ({"lookup_in_bits": 21}, "table-bits"),
    ({"weight_bits": 41}, "weight-bits"),
    ({"act_frac_bits": 33}, "fraction-bits"),
    ({"weight_frac_bits": 12}, "rescale-shift"),
])
def test_mlp_commitment_side_conditions_match_python(evm, mlp_verifier, vk, mlp_case, changes, condition):
    from eth_utils import keccak
    enc = _with_quant(mlp_case.commitment, **changes)
    with pytest.raises(UnsafeParameterError) as e:
        ModelCommitment.decode(enc)
    assert e.value.condition == condition
    case = mlp_case.replace("unsafe", commitment=enc, model_digest=keccak(enc))
    ch = vh.chain_verdict(evm, mlp_verifier, case)
    assert ch[0] == "reject" and ch[1] == "UnsafeParameter", ch
    assert bytes(ch[2][0]).rstrip(b"\0").decode() == condition


# --------------------------------------------------------------------------- parity beyond the default

def test_non_default_settings_verify_in_both(evm):
    """Settings other than the default preset (wider bounds, three exp digits, a wider argmax
    range, a different norm precision) give a proof that both verifiers accept, and the
    same proof with a wrong next token is rejected by both."""
    import dataclasses as dc

    from prover.model.loaders import build_model
    from prover.rng import seeded
    from prover.transformer import prove as tp
    from zkllm_chain.chain.transformer_verifier import (TRANSFORMER_VERIFY_GAS, add_circuits,
                                                        deploy_transformer_verifier, transformer_calldata)
    from zkllm_chain.chain.verifier import verify_call

    tq = TQuant(bound_bits=32, exp_digits=3, argmax_digits=4, norm_precision=20, weight_bits=20)
    cfg = CFG.with_(max_seq=4)
    model = build_model(cfg, 3)
    pk = tp.setup(cfg, tq, rng=seeded(7))
    cm = tp.commit_model(pk, model, tq, rng=seeded(8))
    import torch
    res = tp.prove(pk, cm, torch.tensor([5, 9, 2, 200]), rng=seeded(9))
    raw = res.proof.to_bytes()
    vk = pk.verifying_key()
    tp.verify(vk, cm.commitment, res.statement, raw)
    dep = deploy_transformer_verifier(evm, vk, signer=load_signer(evm))
    add_circuits(evm, dep, cm.commitment, [4])
    from zkllm_chain.chain.weights import certify
    certify(evm, dep.weights, cm.commitment.encode(), tp.prove_weights(pk, cm, rng=seeded(10)))
    verify_call(evm, dep.verifier, transformer_calldata(res.statement, cm.commitment, raw), gas=TRANSFORMER_VERIFY_GAS)
    wrong = dc.replace(res.statement, next_token=(res.statement.next_token + 1) % cfg.vocab_size)
    from prover.errors import VerificationError
    with pytest.raises(VerificationError) as e:
        tp.verify(vk, cm.commitment, wrong, raw)
    with pytest.raises(TransactionRevertedError) as c:
        verify_call(evm, dep.verifier, transformer_calldata(wrong, cm.commitment, raw), gas=TRANSFORMER_VERIFY_GAS)
    assert c.value.error_name == "ProofRejected"
    assert bytes(c.value.error_args[0]).rstrip(b"\0").decode() == e.value.check
