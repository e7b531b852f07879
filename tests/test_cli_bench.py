"""`zkllm bench` for transformers: free shapes, clear refusals."""
import json

from zkllm_chain.cli import main


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
