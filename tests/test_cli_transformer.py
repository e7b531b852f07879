"""The file-based CLI flow for transformers: setup -> commit -> prove -> verify, and its refusals."""
import json

import pytest

from zkllm_chain.cli import main


def _run(capsys, *argv):
    rc = main([*argv, "--json", "--quiet"])
    cap = capsys.readouterr()
    lines = cap.out.strip().splitlines()
    return rc, (json.loads(lines[-1]) if lines else None), cap.err


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    d = tmp_path_factory.mktemp("tcli")
    assert main(["setup", "--model", "tiny-gpt2", "--tokens", "8", "--out", str(d / "p"), "--quiet"]) == 0
    assert main(["commit", "--model", "tiny-gpt2", "--params", str(d / "p"), "--out", str(d / "m"), "--quiet"]) == 0
    return d


def test_prove_and_verify_a_text_prompt(flow, capsys):
    d = flow
    rc, out, _ = _run(capsys, "prove", "--params", str(d / "p"), "--model", str(d / "m"), "--prompt", "zk proof",
                      "--out", str(d / "a.bin"))
    assert rc == 0 and out["tokens"] == 8 and out["proof_bytes"] > 10_000
    st = json.loads((d / "a.statement.json").read_text())
    assert st["tokens"] == list(b"zk proof") and st["next_token"] == out["next_token"]
    assert st["text"]["prompt"] == "zk proof"
    rc, out, _ = _run(capsys, "verify", "--vk", str(d / "p" / "vk.json"), "--commitment", str(d / "m"),
                      "--statement", str(d / "a.statement.json"), "--proof", str(d / "a.bin"))
    assert rc == 0 and out["verified"] is True and out["next_token"] == st["next_token"]

    # another next token in the statement: rejected (exit 1), files untouched
    st["next_token"] = (st["next_token"] + 1) % 256
    (d / "b.statement.json").write_text(json.dumps(st))
    rc, _, err = _run(capsys, "verify", "--vk", str(d / "p" / "vk.json"), "--commitment", str(d / "m"),
                      "--statement", str(d / "b.statement.json"), "--proof", str(d / "a.bin"))
    assert rc == 1 and err.startswith("REJECTED")

    # a malformed statement and a truncated proof: one-line errors
    (d / "c.statement.json").write_text(json.dumps({**st, "model_digest": "0x12"}))
    rc, _, err = _run(capsys, "verify", "--vk", str(d / "p" / "vk.json"), "--commitment", str(d / "m"),
                      "--statement", str(d / "c.statement.json"), "--proof", str(d / "a.bin"))
    assert rc == 2 and "statement" in err
    (d / "t.bin").write_bytes((d / "a.bin").read_bytes()[:1000])
    rc, _, err = _run(capsys, "verify", "--vk", str(d / "p" / "vk.json"), "--commitment", str(d / "m"),
                      "--statement", str(d / "a.statement.json"), "--proof", str(d / "t.bin"))
    assert rc in (1, 2) and err.count("\n") == 1


def test_prompt_refusals(flow, capsys):
    d = flow
    base = ["prove", "--params", str(d / "p"), "--model", str(d / "m"), "--out", str(d / "x.bin")]
    for extra, needle in (([], "--prompt"), (["--prompt", "much too long a prompt"], "at most 8"),
                          (["--prompt-ids", "[1, 999]"], "[0, 256)"), (["--prompt-ids", "oops"], "JSON list")):
        rc, _, err = _run(capsys, *base, *extra)
        assert rc == 2 and needle in err, (extra, err)
    assert not (d / "x.bin").exists()


def test_commit_with_a_key_for_another_model_refused(flow, capsys):
    rc, _, err = _run(capsys, "commit", "--model", "tiny-llama", "--params", str(flow / "p"),
                      "--out", str(flow / "m2"))
    assert rc == 2 and "another config" in err
