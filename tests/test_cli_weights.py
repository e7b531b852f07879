"""The weight range proof in the CLI: `zkllm commit` writes it beside model.json, `zkllm verify`
checks it (exit 1, check `weights`, for a false one; exit 2 for a missing or malformed one) and
`zkllm register` refuses a model whose weight proof does not verify (exit 2, one line)."""
import json
import shutil

import pytest

from prover import store
from prover.proof import Proof
from prover.rng import seeded
from tests.op_harness import altered_proof
from tests.test_weights import cheat_prove, recommit
from zkllm_chain.cli import main


def _run(capsys, *argv):
    rc = main([*argv, "--json", "--quiet"])
    cap = capsys.readouterr()
    lines = cap.out.strip().splitlines()
    return rc, (json.loads(lines[-1]) if lines else None), cap.err


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    d = tmp_path_factory.mktemp("wcli")
    assert main(["setup", "--out", str(d / "p"), "--num-vars", "12", "--quiet"]) == 0
    assert main(["commit", "--params", str(d / "p"), "--out", str(d / "m"), "--d-in", "16", "--d-hidden", "32",
                 "--d-out", "8", "--quiet"]) == 0
    assert main(["prove", "--params", str(d / "p"), "--model", str(d / "m"), "--out", str(d / "a.bin"),
                 "--quiet"]) == 0
    return d


def _verify(capsys, d, model="m"):
    return _run(capsys, "verify", "--vk", str(d / "p" / "vk.json"), "--commitment", str(d / model / "model.json"),
                "--statement", str(d / "a.statement.json"), "--proof", str(d / "a.bin"))


def _register(capsys, d, model):
    return _run(capsys, "register", "--vk", str(d / "p" / "vk.json"), "--commitment", str(d / model),
                "--rpc-url", "http://127.0.0.1:9", "--deployments", str(d))


def _copy(d, name, proof: bytes | None):
    shutil.rmtree(d / name, ignore_errors=True)
    shutil.copytree(d / "m", d / name)
    if proof is None:
        (d / name / store.WEIGHTS_PROOF).unlink()
    else:
        (d / name / store.WEIGHTS_PROOF).write_bytes(proof)


def test_commit_writes_the_weight_proof_and_verify_checks_it(flow, capsys):
    assert (flow / "m" / store.WEIGHTS_PROOF).stat().st_size > 5_000
    rc, out, _ = _verify(capsys, flow)
    assert rc == 0 and out["verified"] is True and out["weights_verify_s"] >= 0


def test_tampered_weight_proof_is_rejected_as_weights(flow, capsys):
    p = Proof.from_bytes((flow / "m" / store.WEIGHTS_PROOF).read_bytes())
    _copy(flow, "t", altered_proof(p, "fr", len(p.frs) - 2))
    rc, _, err = _verify(capsys, flow, "t")
    assert rc == 1 and err.startswith("REJECTED: weights") and err.count("\n") == 1
    rc, _, err = _register(capsys, flow, "t")
    assert rc == 2 and "refusing to register" in err and err.count("\n") == 1


def test_missing_or_malformed_weight_proof_is_exit_2(flow, capsys):
    for name, proof in (("missing", None), ("junk", b"junk"), ("cut", (flow / "m" / store.WEIGHTS_PROOF).read_bytes()[:-1])):
        _copy(flow, name, proof)
        rc, _, err = _verify(capsys, flow, name)
        assert rc == 2 and err.count("\n") == 1, (name, err)
        rc, _, err = _register(capsys, flow, name)
        assert rc == 2 and err.count("\n") == 1 and "127.0.0.1:9" not in err, (name, err)


def test_out_of_range_model_is_rejected_and_not_registered(flow, capsys):
    """A model owner commits a weight of 2^23 by hand and ships a cheating weight proof."""
    pk = store.load_params(flow / "p")
    bad = recommit(pk, store.load_model(flow / "m"), "l0.w", 1 << 23)
    d = flow / "bad"
    store.save_model(bad, d)
    store.save_weights_proof(d, cheat_prove(pk, bad, "wrap"))
    rc, _, err = _run(capsys, "verify", "--vk", str(flow / "p" / "vk.json"), "--commitment", str(d),
                      "--statement", str(flow / "a.statement.json"), "--proof", str(flow / "a.bin"))
    assert rc == 1 and err.startswith("REJECTED: weights")
    rc, _, err = _register(capsys, flow, "bad")
    assert rc == 2 and "refusing to register" in err and err.count("\n") == 1
