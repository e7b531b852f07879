"""A statement is bound to its attester (``prover.attester``): the proof absorbs the address,
so the same proof is false for any other attester, in both proof systems; statement files
keep the attester and refuse a malformed one."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from prover import api, keys
from prover.attester import NONE, parse, to_hex
from prover.errors import MalformedError, VerificationError
from prover.model.loaders import build_model
from prover.model.mlp import build_mlp
from prover.rng import seeded
from prover.transformer import files
from prover.transformer import prove as tp

ALICE = parse("0x" + "a1" * 20)
MALLORY = parse("0x" + "6d" * 20)


@pytest.fixture(scope="module")
def mlp():
    pk = keys.setup(12, rng=seeded(1))
    cm = api.commit_model(pk, build_mlp(8, 16, 4, "gelu", seed=2), rng=seeded(3))
    res = api.prove(pk, cm, torch.linspace(-1, 1, 8, dtype=torch.float64), rng=seeded(4), attester=ALICE)
    return pk.verifying_key(), cm, res


def test_mlp_proof_is_false_for_another_attester(mlp):
    vk, cm, res = mlp
    raw = res.proof.to_bytes()
    assert res.statement.attester == ALICE
    api.verify(vk, cm.commitment, res.statement, raw)
    for other in (MALLORY, NONE):
        with pytest.raises(VerificationError):
            api.verify(vk, cm.commitment, dataclasses.replace(res.statement, attester=other), raw)


def test_statement_file_keeps_the_attester(mlp):
    st = mlp[2].statement
    back = api.Statement.from_json(st.to_json())
    assert back == st and back.attester == ALICE
    text = st.to_json().replace(to_hex(ALICE), "0x1234")
    with pytest.raises(MalformedError, match="attester"):
        api.Statement.from_json(text)


def test_transformer_proof_is_false_for_another_attester():
    m = build_model(build_model("tiny-llama", 0).cfg.with_(n_layers=1), 0)
    pk = tp.setup(m.cfg, max_rows=3, rng=seeded(5))
    cm = tp.commit_model(pk, m, rng=seeded(6), max_rows=3)
    res = tp.prove(pk, cm, torch.tensor([1, 2, 3]), rng=seeded(7), attester=ALICE)
    raw, vk = res.proof.to_bytes(), pk.verifying_key()
    tp.verify(vk, cm.commitment, res.statement, raw)
    with pytest.raises(VerificationError):
        tp.verify(vk, cm.commitment, dataclasses.replace(res.statement, attester=MALLORY), raw)
    back = files.statement_from_json(files.statement_to_json(res.statement))
    assert back.attester == ALICE
    with pytest.raises(MalformedError):
        files.statement_from_json(files.statement_to_json(res.statement).replace(to_hex(ALICE), "0xzz"))
