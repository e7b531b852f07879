"""Whole-decoder proofs for the GPT-2 family (tiny-gpt2): honest proofs verify, they prove
the quantized forward pass bit for bit, the quantized model tracks the float one, and tampered
statements, witnesses or proof items are rejected."""
import dataclasses

import pytest
import torch

from prover.errors import MalformedProofError, VerificationError
from prover.model.loaders import build_model
from prover.rng import seeded
from prover.transformer import prove as tp
from prover.transformer.compile import compile_gpt2, forward
from tests.op_harness import altered_proof, item_cases, swap_layers

REJECT = (VerificationError, MalformedProofError)


def _tokens(seed, n=16):
    return torch.randint(0, 256, (n,), generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def model():
    return build_model("tiny-gpt2", 0)


@pytest.fixture(scope="module")
def pk(model):
    return tp.setup(model.cfg, rng=seeded(3))


@pytest.fixture(scope="module")
def vk(pk):
    return pk.verifying_key()


@pytest.fixture(scope="module")
def cm(pk, model):
    return tp.commit_model(pk, model, rng=seeded(4))


@pytest.fixture(scope="module")
def proved(pk, cm):
    return tp.prove(pk, cm, _tokens(1), rng=seeded(5))


def _verify(vk, cm, st, proof_bytes):
    return tp.verify(vk, cm.commitment, st, proof_bytes)


def test_tiny_gpt2_proof_verifies(vk, cm, proved):
    secs = _verify(vk, cm, proved.statement, proved.proof.to_bytes())
    print(f"tiny-gpt2: prove_s {proved.timings['prove_s']:.2f}, verify_s {secs:.3f}, "
          f"proof_bytes {len(proved.proof.to_bytes())}")


def test_proven_computation_is_the_quantized_forward_pass(cm, proved):
    st = proved.statement
    c = compile_gpt2(cm.commitment.cfg, len(st.tokens), cm.commitment.tq)
    ints = forward(c, cm.params, torch.tensor(st.tokens))
    for tid in c.specs:
        if tid in proved.ints and isinstance(proved.ints[tid], torch.Tensor):
            assert torch.equal(ints[tid], proved.ints[tid]), tid
    assert torch.equal(ints["x0"], cm.params["E"][torch.tensor(st.tokens)] + cm.params["P"][: len(st.tokens)])
    logits = ints[c.logits_id][-1]
    assert st.next_token == int(torch.argmax(logits))
    assert int(logits[st.next_token]) == int(logits.max())


def test_short_prompt_verifies(pk, vk, cm):
    """T = 11: the position rows beyond the prompt are masked by the position sumcheck."""
    res = tp.prove(pk, cm, _tokens(2, 11), rng=seeded(7))
    _verify(vk, cm, res.statement, res.proof.to_bytes())


def test_quantized_forward_tracks_float_model(model, cm):
    cfg = model.cfg
    errs, agree = [], 0
    for seed in range(10):
        tok = _tokens(100 + seed, 9 + seed % 8)
        c = compile_gpt2(cfg, len(tok), cm.commitment.tq)
        ints = forward(c, cm.params, tok)
        q = ints[c.logits_id][-1].double() / (1 << cm.commitment.tq.act_frac)
        ref = model(tok)[-1].detach().double()
        errs.append(float((q - ref).abs().max()))
        agree += int(int(ints["next"][0]) == int(ref.argmax()))
    print(f"tiny-gpt2: max logit error {max(errs):.3g}, top-1 agreement {agree}/10")
    assert max(errs) < 0.05 and agree >= 9


def test_wrong_next_token_rejected(vk, cm, proved):
    st = dataclasses.replace(proved.statement, next_token=(proved.statement.next_token + 1) % 256)
    with pytest.raises(REJECT):
        _verify(vk, cm, st, proved.proof.to_bytes())


def test_wrong_prompt_token_rejected(vk, cm, proved):
    tokens = list(proved.statement.tokens)
    tokens[3] = (tokens[3] + 1) % 256
    st = dataclasses.replace(proved.statement, tokens=tokens)
    with pytest.raises(REJECT):
        _verify(vk, cm, st, proved.proof.to_bytes())


def test_layer_advice_swapped_rejected(pk, vk, cm):
    """Every stacked committed advice tensor has layer 0's slice traded with layer 1's (all
    lookups still hold); then only the committed layer inputs X[0] <-> X[1]."""
    tok = _tokens(1)
    c = compile_gpt2(cm.commitment.cfg, len(tok), cm.commitment.tq)
    for ids in (None, ["X"]):
        swapped = []
        res = tp.prove(pk, cm, tok, rng=seeded(9), witness_hook=lambda ints: swapped.extend(swap_layers(c, ints, ids)))
        assert "X" in swapped and (ids or len(swapped) > 20)
        with pytest.raises(VerificationError):
            _verify(vk, cm, res.statement, res.proof.to_bytes())


def test_shifted_positions_rejected(pk, vk, cm):
    """The witness is the honest forward pass with position rows 1..T instead of 0..T-1."""
    tok = _tokens(3, 11)
    c = compile_gpt2(cm.commitment.cfg, len(tok), cm.commitment.tq)
    shifted = dict(cm.params, P=torch.roll(cm.params["P"], -1, 0))
    ref = forward(c, shifted, tok)

    def hook(ints):
        for k, v in ref.items():
            if k not in ("tokens", "P"):
                ints[k] = v

    res = tp.prove(pk, cm, tok, rng=seeded(12), witness_hook=hook)
    with pytest.raises(VerificationError):
        _verify(vk, cm, res.statement, res.proof.to_bytes())


def test_altered_proof_items_rejected(vk, cm, proved):
    """One item per distinct (label, kind): its first occurrence, and the last for every third."""
    cases = item_cases(proved.layout, last_every=3)
    assert len(cases) > 40
    for kind, idx, label in cases:
        with pytest.raises(REJECT):
            _verify(vk, cm, proved.statement, altered_proof(proved.proof, kind, idx))


def test_commitment_round_trip_verifies(vk, cm, proved):
    dec = tp.TransformerCommitment.decode(cm.commitment.encode())
    assert dec.digest() == cm.commitment.digest() and dec.names[:2] == ["E", "P"]
    tp.verify(vk, dec, proved.statement, proved.proof.to_bytes())


def test_three_layers_padded_to_four_verify_and_bias_tampering_rejected(model):
    """Padded layer axis: stacked LayerNorm and linear biases of three layers; the honest proof
    verifies and the next token matches the float model; a bias claim altered is rejected."""
    m3 = build_model(model.cfg.with_(n_layers=3), 7)
    pk = tp.setup(m3.cfg, rng=seeded(20), max_rows=13)
    vk = pk.verifying_key()
    cm3 = tp.commit_model(pk, m3, rng=seeded(21))
    res = tp.prove(pk, cm3, _tokens(5, 13), rng=seeded(22))
    _verify(vk, cm3, res.statement, res.proof.to_bytes())
    assert res.statement.next_token == int(m3(torch.tensor(res.statement.tokens))[-1].argmax())
    proof = res.proof
    idxs = [idx for label, kind, idx in res.layout if kind == "fr" and label.endswith("/bias/b")]
    assert len(idxs) >= 6
    for idx in idxs[:: max(1, len(idxs) // 6)]:
        with pytest.raises(REJECT):
            _verify(vk, cm3, res.statement, altered_proof(proof, "fr", idx))
