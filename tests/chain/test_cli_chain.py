"""The CLI's chain commands against a real local node (anvil), end to end."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


ENV: dict[str, str] = {}


def zkllm(*args, check=True):
    import os
    env = {**os.environ, **ENV}
    p = subprocess.run([sys.executable, "-m", "zkllm_chain.cli", *args, "--json", "--quiet"],
                       capture_output=True, text=True, cwd=ROOT, env=env)
    if check and p.returncode != 0:
        raise AssertionError(f"zkllm {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p


def out(p):
    return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    zkllm("setup", "--out", str(d / "params"), "--num-vars", "12")
    zkllm("commit", "--params", str(d / "params"), "--out", str(d / "model"), "--d-in", "16", "--d-hidden", "32",
          "--d-out", "8")
    zkllm("prove", "--params", str(d / "params"), "--model", str(d / "model"), "--out", str(d / "proof.bin"))
    return d


def test_full_flow_on_anvil(files, anvil_node):
    d = files
    ENV["ZKLLM_PRIVATE_KEY"] = "0x" + bytes(anvil_node.dev_keys[0]).hex()
    # the proof is bound to the configured key's account (only it may attest it)
    pr = out(zkllm("prove", "--params", str(d / "params"), "--model", str(d / "model"), "--out", str(d / "proof.bin")))
    assert pr["attester"] == _address(anvil_node.dev_keys[0])
    other = out(zkllm("prove", "--params", str(d / "params"), "--model", str(d / "model"), "--out",
                      str(d / "theirs.bin"), "--attester", _address(anvil_node.dev_keys[1])))
    assert other["attester"] == _address(anvil_node.dev_keys[1])
    snap = anvil_node.rpc("evm_snapshot")
    try:
        chain = ["--rpc-url", anvil_node.url, "--deployments", str(d / "deployments")]
        dep = out(zkllm("deploy", "--vk", str(d / "params" / "vk.json"), *chain))
        assert dep["chain_id"] == 31337 and (d / "deployments" / "31337" / "ZkllmVerifier.json").exists()
        # a squatter registers the owner's (public) commitment first: it blocks nobody
        ENV["ZKLLM_PRIVATE_KEY"] = "0x" + bytes(anvil_node.dev_keys[1]).hex()
        squat = out(zkllm("register", "--vk", str(d / "params" / "vk.json"), "--commitment", str(d / "model"),
                          *chain))
        ENV["ZKLLM_PRIVATE_KEY"] = "0x" + bytes(anvil_node.dev_keys[0]).hex()
        reg = out(zkllm("register", "--vk", str(d / "params" / "vk.json"), "--commitment", str(d / "model"), *chain))
        assert reg["model_id"] != squat["model_id"]
        mid = str(reg["model_id"])
        st = str(d / "proof.statement.json")
        first = out(zkllm("check", "--model-id", mid, "--statement", st, *chain))
        assert first["attested"] is False and first["status"] == "active"
        assert first["owner"].lower() == _address(anvil_node.dev_keys[0])
        assert out(zkllm("check", "--model-id", str(squat["model_id"]), "--statement", st,
                         *chain))["owner"].lower() == _address(anvil_node.dev_keys[1])
        p = zkllm("attest", "--commitment", str(d / "model"), "--statement", st, "--proof", str(d / "proof.bin"),
                  *chain, check=False)  # no model id: the digest names no entry
        assert p.returncode == 2 and "--model-id" in p.stderr
        p = zkllm("attest", "--model-id", mid, "--commitment", str(d / "model"), "--statement",
                  str(d / "theirs.statement.json"), "--proof", str(d / "theirs.bin"), *chain, check=False)
        assert p.returncode == 2 and "bound to attester" in p.stderr and len(p.stderr.strip().splitlines()) == 1
        att = out(zkllm("attest", "--model-id", mid, "--commitment", str(d / "model"), "--statement", st, "--proof",
                        str(d / "proof.bin"), *chain))
        assert att["created"] is True and att["gas_used"] > 100_000
        again = out(zkllm("attest", "--model-id", mid, "--commitment", str(d / "model"), "--statement", st,
                          "--proof", str(d / "proof.bin"), *chain))
        assert again["created"] is False and again["uid"] == att["uid"] and again["tx"] is None
        (d / "garbage.bin").write_bytes(b"\x01" * 64)  # already attested: checked first, nothing is sent
        again = out(zkllm("attest", "--model-id", mid, "--commitment", str(d / "model"), "--statement", st,
                          "--proof", str(d / "garbage.bin"), *chain))
        assert again["created"] is False and again["tx"] is None and again["gas_used"] == 0
        chk = out(zkllm("check", "--model-id", mid, "--statement", st, *chain))
        assert chk["attested"] is True and chk["uid"] == att["uid"]
        # a tampered proof is rejected on-chain with a decoded custom error, and records nothing
        raw = bytearray((d / "proof.bin").read_bytes())
        raw[-40] ^= 1
        (d / "bad.bin").write_bytes(bytes(raw))
        stj = json.loads(Path(st).read_text())
        stj["output"][0] += 1
        (d / "bad.statement.json").write_text(json.dumps(stj))
        p = zkllm("attest", "--model-id", mid, "--commitment", str(d / "model"), "--statement",
                  str(d / "bad.statement.json"), "--proof", str(d / "proof.bin"), *chain, check=False)
        assert p.returncode == 2 and "revert" in p.stderr.lower() and len(p.stderr.strip().splitlines()) == 1
        assert out(zkllm("check", "--model-id", mid, "--statement", str(d / "bad.statement.json"),
                         *chain))["attested"] is False
    finally:
        ENV.clear()
        anvil_node.rpc("evm_revert", snap)


def _address(key: bytes) -> str:
    from eth_account import Account
    return Account.from_key(bytes(key)).address.lower()


def test_unknown_model_id_is_exit_2(files, anvil_node):
    d = files
    ENV["ZKLLM_PRIVATE_KEY"] = "0x" + bytes(anvil_node.dev_keys[0]).hex()
    snap = anvil_node.rpc("evm_snapshot")
    try:
        chain = ["--rpc-url", anvil_node.url, "--deployments", str(d / "deployments-unknown")]
        out(zkllm("deploy", "--vk", str(d / "params" / "vk.json"), *chain))
        p = zkllm("check", "--model-id", "7", "--statement", str(d / "proof.statement.json"), *chain, check=False)
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "7" in p.stderr
    finally:
        ENV.clear()
        anvil_node.rpc("evm_revert", snap)


def test_stale_records_and_redeploy(files, anvil_node):
    """Records whose contracts are gone (the node was reset) are refused before use; deploying
    over existing records needs --force, and the old records are kept under history/."""
    d = files
    ENV["ZKLLM_PRIVATE_KEY"] = "0x" + bytes(anvil_node.dev_keys[0]).hex()
    recs = d / "deployments-stale"
    chain = ["--rpc-url", anvil_node.url, "--deployments", str(recs)]
    try:
        snap = anvil_node.rpc("evm_snapshot")
        out(zkllm("deploy", "--vk", str(d / "params" / "vk.json"), *chain))
        anvil_node.rpc("evm_revert", snap)  # the contracts are gone, the records are not
        for cmd in (["check", "--model-id", "1", "--statement", str(d / "proof.statement.json")],
                    ["attest", "--model-id", "1", "--commitment", str(d / "model"), "--statement",
                     str(d / "proof.statement.json"), "--proof", str(d / "proof.bin")]):
            p = zkllm(*cmd, *chain, check=False)
            assert p.returncode == 2 and "no contract at" in p.stderr and len(p.stderr.strip().splitlines()) == 1
        before = (recs / "31337" / "ZkllmVerifier.json").read_text()
        p = zkllm("deploy", "--vk", str(d / "params" / "vk.json"), *chain, check=False)
        assert p.returncode == 2 and "--force" in p.stderr and len(p.stderr.strip().splitlines()) == 1
        assert (recs / "31337" / "ZkllmVerifier.json").read_text() == before  # nothing replaced, nothing sent
        snap = anvil_node.rpc("evm_snapshot")
        out(zkllm("deploy", "--vk", str(d / "params" / "vk.json"), "--force", *chain))
        kept = list((recs / "31337" / "history").glob("ZkllmVerifier.*.json"))
        assert len(kept) == 1 and kept[0].read_text() == before
        p = zkllm("check", "--model-id", "1", "--statement", str(d / "proof.statement.json"), *chain, check=False)
        assert p.returncode == 2 and "no contract at" not in p.stderr  # the new records work: id 1 is unregistered
        anvil_node.rpc("evm_revert", snap)
    finally:
        ENV.clear()


def test_dead_rpc_is_one_clear_line(files):
    p = zkllm("check", "--model-id", "1", "--statement", str(files / "proof.statement.json"),
              "--rpc-url", "http://127.0.0.1:9", "--deployments", str(files), check=False)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "127.0.0.1:9" in p.stderr


def test_embedded_chain_needs_demo(files):
    p = zkllm("check", "--model-id", "1", "--statement", str(files / "proof.statement.json"), check=False)
    assert p.returncode == 2 and "zkllm demo" in p.stderr


def test_malformed_proof_file_is_one_clear_line(files):
    (files / "junk.bin").write_bytes(b"junk")
    p = zkllm("verify", "--vk", str(files / "params" / "vk.json"), "--commitment", str(files / "model"),
              "--statement", str(files / "proof.statement.json"), "--proof", str(files / "junk.bin"), check=False)
    assert p.returncode == 2 and "header" in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_bad_inputs_are_one_line_exit_2(files, tmp_path):
    """Bad inputs a user can type: each is exit 2 with one line on stderr, never a traceback."""
    (tmp_path / "binary.json").write_bytes(bytes(range(256)))
    (tmp_path / "dir.json").mkdir()
    st = str(files / "proof.statement.json")
    verify = ["verify", "--vk", str(files / "params" / "vk.json"), "--commitment", str(files / "model"),
              "--proof", str(files / "proof.bin")]
    cases = [
        verify + ["--statement", str(tmp_path / "dir.json")],
        verify + ["--statement", str(tmp_path / "binary.json")],
        ["check", "--model-id", "-1", "--statement", st],
        ["check", "--model-id", "0", "--statement", st],
        ["check", "--model-id", "one", "--statement", st],
        ["attest", "--model-id", "1", "--commitment", str(files / "model"), "--statement", st, "--proof",
         str(files / "proof.bin"), "--gas", "1"],
        ["attest", "--model-id", "1", "--commitment", str(files / "model"), "--statement", st, "--proof",
         str(files / "proof.bin"), "--gas", str(2**24 + 1)],
        ["check", "--statement", st],
        ["check", "--model-id", "1", "--statement", st, "--confirmations", "-3"],
    ]
    dead = ["--rpc-url", "http://127.0.0.1:9", "--deployments", str(tmp_path / "d")]  # nothing listens there
    cases += [
        ["deploy", "--vk", str(files / "params" / "vk.json"), *dead],
        ["register", "--vk", str(files / "params" / "vk.json"), "--commitment", str(files / "model"), *dead],
        ["attest", "--model-id", "1", "--commitment", str(files / "model"), "--statement", st, "--proof",
         str(files / "proof.bin"), *dead],
        ["check", "--model-id", "1", "--statement", st, *dead],
    ]
    for args in cases:
        p = zkllm(*args, check=False)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr, (args, p.stderr)
