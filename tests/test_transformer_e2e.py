"""Whole-decoder proofs (tiny-llama): honest proofs verify, prove the quantized forward
pass bit for bit, and tampered statements, witnesses or proof items are rejected."""
import dataclasses

import pytest
import torch

from prover.errors import MalformedProofError, VerificationError
from prover.model.loaders import build_model
from prover.rng import seeded
from prover.transformer import prove as tp
from prover.transformer.compile import compile_llama, forward
from tests.op_harness import (altered_proof, forge_runner_up, item_cases, lenient_multiplicities, swap_layers,
                              wrong_bound_digit)

REJECT = (VerificationError, MalformedProofError)


def _tokens(seed, n=16):
    return torch.randint(0, 256, (n,), generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def model2():
    return build_model("tiny-llama", 0)


@pytest.fixture(scope="module")
def model1(model2):
    return build_model(model2.cfg.with_(n_layers=1), 0)


@pytest.fixture(scope="module")
def pk(model2):
    return tp.setup(model2.cfg, rng=seeded(3))


@pytest.fixture(scope="module")
def vk(pk):
    return pk.verifying_key()


@pytest.fixture(scope="module")
def cm2(pk, model2):
    return tp.commit_model(pk, model2, rng=seeded(4))


@pytest.fixture(scope="module")
def cm1(pk, model1):
    return tp.commit_model(pk, model1, rng=seeded(6))


@pytest.fixture(scope="module")
def proved2(pk, cm2):
    return tp.prove(pk, cm2, _tokens(1), rng=seeded(5))


def _verify(vk, cm, st, proof_bytes):
    return tp.verify(vk, cm.commitment, st, proof_bytes)


def test_tiny_llama_proof_verifies(vk, cm2, proved2):
    _verify(vk, cm2, proved2.statement, proved2.proof.to_bytes())


def test_proven_computation_is_the_quantized_forward_pass(cm2, proved2):
    st = proved2.statement
    c = compile_llama(cm2.commitment.cfg, len(st.tokens), cm2.commitment.tq)
    ints = forward(c, cm2.params, torch.tensor(st.tokens))
    for tid in c.specs:
        if tid in proved2.ints and isinstance(proved2.ints[tid], torch.Tensor):
            assert torch.equal(ints[tid], proved2.ints[tid]), tid
    logits = ints[c.logits_id][-1]
    assert st.next_token == int(torch.argmax(logits))  # first index among ties, as Argmax
    assert int(logits[st.next_token]) == int(logits.max())


def test_one_layer_short_prompt_verifies(pk, vk, cm1):
    res = tp.prove(pk, cm1, _tokens(2, 11), rng=seeded(7))  # T = 11: padded rows and keys
    _verify(vk, cm1, res.statement, res.proof.to_bytes())


def test_quantized_forward_tracks_float_model(model2, cm2):
    cfg = model2.cfg
    c = compile_llama(cfg, cfg.max_seq, cm2.commitment.tq)
    errs, agree = [], 0
    for seed in range(20):
        tok = _tokens(100 + seed)
        ints = forward(c, cm2.params, tok)
        q = ints[c.logits_id][-1].double() / (1 << cm2.commitment.tq.act_frac)
        ref = model2(tok)[-1].detach()
        errs.append(float((q - ref).abs().max()))
        agree += int(int(ints["next"][0]) == int(ref.argmax()))
    print(f"max logit error {max(errs):.3g}, top-1 agreement {agree}/20")
    assert max(errs) < 0.05 and agree >= 18


def test_wrong_next_token_rejected(vk, cm2, proved2):
    st = dataclasses.replace(proved2.statement, next_token=(proved2.statement.next_token + 1) % 256)
    with pytest.raises(REJECT):
        _verify(vk, cm2, st, proved2.proof.to_bytes())


def test_wrong_prompt_token_rejected(vk, cm2, proved2):
    tokens = list(proved2.statement.tokens)
    tokens[3] = (tokens[3] + 1) % 256
    st = dataclasses.replace(proved2.statement, tokens=tokens)
    with pytest.raises(REJECT):
        _verify(vk, cm2, st, proved2.proof.to_bytes())


def test_cheating_prover_claims_runner_up_token(pk, vk, cm1, monkeypatch):
    """The argmax digits of a non-maximal token are forged (two's complement low bits)."""
    lenient_multiplicities(monkeypatch)
    res = tp.prove(pk, cm1, _tokens(1), rng=seeded(8), witness_hook=forge_runner_up)
    with pytest.raises(VerificationError):
        _verify(vk, cm1, res.statement, res.proof.to_bytes())


def test_cheating_prover_wrong_bound_digit_rejected(pk, vk, cm1):
    """A rescaled quotient's bound digits no longer sum to q + 2^(bits-1): the range bound,
    checked at the Rescale root's point, fails (the digits are in range, the lookups hold)."""
    res = tp.prove(pk, cm1, _tokens(1), rng=seeded(8), witness_hook=wrong_bound_digit)
    with pytest.raises(VerificationError) as info:
        _verify(vk, cm1, res.statement, res.proof.to_bytes())
    assert info.value.check == "range-bound"


def test_altered_fused_bound_digit_claim_rejected(vk, cm2, proved2):
    """One bound-digit claim of a fused Rescale root plus one: the range-bound check fails."""
    idx = [i for label, kind, i in proved2.layout if kind == "fr" and label == "o/digit"]
    assert idx and not any(label == "o/q" for label, _, _ in proved2.layout)  # no separate root
    for i in (idx[0], idx[-1]):
        with pytest.raises(VerificationError) as info:
            _verify(vk, cm2, proved2.statement, altered_proof(proved2.proof, "fr", i))
        assert info.value.check == "range-bound"


def test_layer_advice_swapped_rejected(pk, vk, cm2):
    """Every stacked committed advice tensor has layer 0's slice traded with layer 1's (all
    lookups still hold); then only the committed layer inputs X[0] <-> X[1]."""
    tok = _tokens(1)
    c = compile_llama(cm2.commitment.cfg, len(tok), cm2.commitment.tq)
    for ids in (None, ["X"]):
        swapped = []
        res = tp.prove(pk, cm2, tok, rng=seeded(9), witness_hook=lambda ints: swapped.extend(swap_layers(c, ints, ids)))
        assert "X" in swapped and (ids or len(swapped) > 20)
        with pytest.raises(VerificationError):
            _verify(vk, cm2, res.statement, res.proof.to_bytes())


def test_altered_proof_items_rejected(vk, cm2, proved2):
    """One item per distinct label (first and last occurrence), every label of the proof."""
    cases = item_cases(proved2.layout)
    assert len(cases) > 40
    for kind, idx, label in cases:
        with pytest.raises(REJECT):
            _verify(vk, cm2, proved2.statement, altered_proof(proved2.proof, kind, idx))


def test_commitment_round_trip_verifies(vk, cm2, proved2):
    dec = tp.TransformerCommitment.decode(cm2.commitment.encode())
    assert dec.digest() == cm2.commitment.digest()
    tp.verify(vk, dec, proved2.statement, proved2.proof.to_bytes())


def test_other_model_commitment_rejected(pk, vk, model2, proved2):
    other = tp.commit_model(pk, build_model(model2.cfg, 1), rng=seeded(10)).commitment
    with pytest.raises(VerificationError):
        tp.verify(vk, other, proved2.statement, proved2.proof.to_bytes())
    st = dataclasses.replace(proved2.statement, model_digest=other.digest())
    with pytest.raises(VerificationError):
        tp.verify(vk, other, st, proved2.proof.to_bytes())


def test_tables_come_from_the_verifying_key(vk, cm2, proved2):
    """A verifying key whose SiLU / exp / RoPE table commitment differs rejects the proof, even
    with the honest key's digest in the transcript: the openings use the key's commitments."""
    from prover.keys import VerifyingKey
    names = sorted(vk.tables)
    for name in [n for n in names if n.startswith(("silu", "exp", "rope_cos_16"))]:
        other = next(n for n in names if n != name)
        bad = VerifyingKey(vk.srs_vk, {**vk.tables, name: vk.tables[other]})
        bad.digest = vk.digest
        with pytest.raises(VerificationError):
            tp.verify(bad, cm2.commitment, proved2.statement, proved2.proof.to_bytes())


def test_cheating_prover_publishes_other_prompt(pk, vk, cm1):
    """The witness is the forward pass of prompt A, the statement (and transcript) says prompt B."""
    a, b = _tokens(1), _tokens(1).clone()
    b[5] = (b[5] + 7) % 256
    c = compile_llama(cm1.commitment.cfg, len(a), cm1.commitment.tq)
    ref = forward(c, cm1.params, a)

    def hook(ints):
        for k, v in ref.items():
            if k != "tokens":
                ints[k] = v

    res = tp.prove(pk, cm1, b, rng=seeded(11), witness_hook=hook)
    assert res.statement.tokens == b.tolist()
    with pytest.raises(VerificationError, match="embed"):
        _verify(vk, cm1, res.statement, res.proof.to_bytes())


def test_odd_shapes_verify_and_gqa_tampering_rejected():
    """Three layers (padded to four), six query heads over two KV heads (group 3, a sumcheck
    instead of dropped head bits), 11 tokens: honest proof verifies; each GQA and
    residual-chain round polynomial altered is rejected."""
    cfg = build_model("tiny-llama", 0).cfg.with_(n_layers=3, d_model=96, n_heads=6, n_kv_heads=2, d_ffn=128)
    model = build_model(cfg, 2)
    pk = tp.setup(cfg, rng=seeded(11))
    vk = pk.verifying_key()
    cm = tp.commit_model(pk, model, rng=seeded(12))
    res = tp.prove(pk, cm, _tokens(4, 11), rng=seeded(13))
    tp.verify(vk, cm.commitment, res.statement, res.proof.to_bytes())
    ref = model(torch.tensor(res.statement.tokens))[-1]
    assert res.statement.next_token == int(ref.argmax())
    proof = res.proof
    idxs = [idx for label, kind, idx in res.layout if kind == "fr" and label.split("/")[0] in ("gqa", "chain")]
    labels = {label for label, kind, idx in res.layout if kind == "fr" and label.split("/")[0] in ("gqa", "chain")}
    assert {"gqa/k/g", "gqa/v/g", "chain/g"} <= labels
    for idx in idxs:
        with pytest.raises(VerificationError):
            tp.verify(vk, cm.commitment, res.statement, altered_proof(proof, "fr", idx))
