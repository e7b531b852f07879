"""Chain faults end in a clear state: a re-run resumes instead of resending, a reorg that drops a
transaction is noticed and the same signed bytes are sent again, and many attestations survive
node restarts and reorgs with none lost or duplicated (a reduced run of ``zkllm_chain.soak``)."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from zkllm_chain.chain import contracts as cc
from zkllm_chain.chain.accounts import dev_signers
from zkllm_chain.chain.anvil import AnvilNode
from zkllm_chain.chain.errors import ChainError
from zkllm_chain.chain.outbox import Outbox, intent_key

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def watch():
    seen: list[tuple[str, str]] = []
    hook = lambda fn, hx, what: seen.append((what, hx))  # noqa: E731
    cc.SENT_HOOKS.append(hook)
    yield seen
    cc.SENT_HOOKS.remove(hook)


def _nonce(chain, address):
    return int(chain.w3.eth.get_transaction_count(address, "latest"))


def test_rerun_resumes_a_transaction_whose_receipt_never_came(anvil_node, tmp_path, watch):
    """The first run gives up waiting (the node stopped mining); the second run of the same call
    finds it in the outbox and waits for it: one transaction in all, never two."""
    ch = anvil_node.connect(expected_chain_id=31337)
    ch.outbox = Outbox(tmp_path / "outbox")
    s, to = dev_signers(ch)[5], dev_signers(ch)[6].address
    before = _nonce(ch, s.address)
    anvil_node.rpc("evm_setAutomine", False)
    try:
        with pytest.raises(ChainError, match="re-run the same command to resume") as info:
            cc._send(ch, {"to": to, "value": 7}, s, "transfer", gas=21_000, preflight=False, timeout=1.0)
        assert "\n" not in str(info.value) and watch[0][1] in str(info.value)
        assert len(ch.outbox.pending()) == 1 and ch.outbox.pending()[0]["state"] == "sent"
        miner = threading.Timer(1.0, lambda: anvil_node.rpc("evm_mine"))
        miner.start()
        r = cc._send(ch, {"to": to, "value": 7}, s, "transfer", gas=21_000, preflight=False, timeout=20.0)
        miner.join()
    finally:
        anvil_node.rpc("evm_setAutomine", True)
    assert [w for w, _ in watch] == ["sent", "resumed"] and r.tx_hash == watch[0][1]
    assert _nonce(ch, s.address) == before + 1
    ch.outbox.finish()
    assert ch.outbox.pending() == []


def test_rerun_after_a_reorg_sends_the_same_bytes_again(anvil_node, tmp_path, watch):
    """A mined transaction that a reorg removed: the re-run re-broadcasts the remembered signed
    bytes (same hash, same nonce), so it is mined exactly once."""
    ch = anvil_node.connect(expected_chain_id=31337)
    ch.outbox = Outbox(tmp_path / "outbox")
    s, to = dev_signers(ch)[7], dev_signers(ch)[6].address
    snap = anvil_node.rpc("evm_snapshot")
    try:
        first = cc._send(ch, {"to": to, "value": 9}, s, "transfer", gas=21_000, preflight=False, timeout=20.0)
        before = _nonce(ch, s.address)
        anvil_node.rpc("anvil_reorg", 1, [])
        assert cc._receipt(ch, first.tx_hash) is None and _nonce(ch, s.address) == before - 1
        again = cc._send(ch, {"to": to, "value": 9}, s, "transfer", gas=21_000, preflight=False, timeout=20.0)
        assert again.tx_hash == first.tx_hash and [w for w, _ in watch] == ["sent", "resumed", "re-sent"]
        assert _nonce(ch, s.address) == before
    finally:
        anvil_node.rpc("evm_revert", snap)


def test_a_superseded_entry_is_sent_afresh(anvil_node, tmp_path, watch):
    """An entry whose transaction the node never saw while its nonce went to another transaction
    can never be mined: the call is signed and sent anew (not reported as done)."""
    ch = anvil_node.connect(expected_chain_id=31337)
    ch.outbox = Outbox(tmp_path / "outbox")
    s, to = dev_signers(ch)[8], dev_signers(ch)[6].address
    nonce = _nonce(ch, s.address)
    ghost = s.sign_transaction({"to": to, "value": 3, "gas": 21_000, "nonce": nonce, "chainId": ch.chain_id,
                                "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9})
    key = intent_key(ch.chain_id, s.address, to, 3, b"")
    ch.outbox.put(key, {"hash": "0x" + bytes(ghost.hash).hex(), "raw": bytes(ghost.raw_transaction).hex(),
                        "nonce": nonce, "gas": 21_000, "state": "sent"})
    cc.send_value(ch, to, 1, signer=s)  # takes the nonce
    r = cc._send(ch, {"to": to, "value": 3}, s, "transfer", gas=21_000, preflight=False, timeout=20.0)
    assert r.tx_hash != "0x" + bytes(ghost.hash).hex()
    assert [w for w, _ in watch] == ["sent", "resumed", "sent"] and _nonce(ch, s.address) == nonce + 2


def test_a_reorg_during_the_confirmation_wait_is_survived(tmp_path, watch):
    """Blocks every 0.5 s, three confirmations: a reorg that drops the transaction while the sender
    waits is noticed, the same bytes are sent again, and the result names the canonical block."""
    with AnvilNode(extra_args=["--block-time", "0.5"]) as node:
        ch = node.connect(expected_chain_id=31337)
        ch.confirmations, ch.poll_interval = 3, 0.05
        s, to = dev_signers(ch)[1], dev_signers(ch)[2].address
        out: dict = {}
        t = threading.Thread(target=lambda: out.update(r=cc._send(ch, {"to": to, "value": 5}, s, "transfer",
                                                                  gas=21_000, preflight=False, timeout=60.0)))
        t.start()
        deadline = time.monotonic() + 20
        while not watch and time.monotonic() < deadline:
            time.sleep(0.02)
        while cc._receipt(ch, watch[0][1]) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        node.rpc("anvil_reorg", 1, [])
        t.join(60)
        r = out["r"]
        assert [w for w, _ in watch][:2] == ["sent", "re-sent"] and r.tx_hash == watch[0][1]
        assert bytes(ch.w3.eth.get_block(r.block_number)["hash"]) == bytes(r.receipt["blockHash"])
        assert ch.w3.eth.block_number - r.block_number + 1 >= 3
        assert _nonce(ch, s.address) == 1


def test_confirmations_flag_is_checked():
    p = subprocess.run([sys.executable, "-m", "zkllm_chain.cli", "check", "--model-id", "1", "--statement", "x",
                        "--confirmations", "0"], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "--confirmations" in p.stderr


@pytest.mark.slow
def test_attestations_survive_node_restarts_and_reorgs(tmp_path):
    """A reduced run of the fault-injection soak (``python -m zkllm_chain.soak``): concurrent
    submitters attest with the CLI while the node is stopped and restarted and a reorg drops the
    newest blocks; every statement ends attested exactly once, with one mined transaction each,
    and every command exits 0, or 2 with one line."""
    from zkllm_chain.soak import run_soak
    r = run_soak(attestations=12, submitters=3, kills=1, reorgs=1, workdir=tmp_path)
    print(json.dumps(r.__dict__))
    assert (r.kills, r.reorgs) == (1, 1)
    assert r.present == 12 and r.lost == 0 and r.duplicated == 0 and r.attest_txs_mined == 12
    assert set(r.exit_codes) <= {"0", "2"} and r.exit_codes["0"] == 12 and not r.misreported and r.gave_up == 0
    assert r.re_sent >= 1  # the reorg dropped a transaction in flight, and its sender sent it again
    assert r.ok


def test_an_interrupted_deploy_resumes_without_deploying_twice(anvil_node, tmp_path, watch):
    """``deploy`` sends six transactions; after it failed part-way (its outbox kept), running it
    again resumes every mined one and sends only what is missing: here the last contract's
    transaction is forgotten, so exactly one transaction is new, and the addresses are the same."""
    from prover import keys
    from zkllm_chain import service
    ch = anvil_node.connect(expected_chain_id=31337)
    ch.outbox = Outbox(tmp_path / "outbox")
    s = dev_signers(ch)[9]
    vk = keys.setup(12).verifying_key()
    snap = anvil_node.rpc("evm_snapshot")
    try:
        first = service.deploy_all(ch, vk, signer=s)
        entries = ch.outbox.pending()
        assert len(entries) == 6 and all(e["state"] == "mined" for e in entries)
        last = max(entries, key=lambda e: e["nonce"])
        ch.outbox.drop(next(f.stem for f in ch.outbox.path.glob("*.json")
                            if json.loads(f.read_text())["hash"] == last["hash"]))
        n0, watch[:] = _nonce(ch, s.address), []
        again = service.deploy_all(ch, vk, signer=s)
        assert [w for w, _ in watch] == ["resumed"] * 5 + ["sent"] and _nonce(ch, s.address) == n0 + 1
        assert (again.verifier, again.registry.address, again.attestations.address) == \
            (first.verifier, first.registry.address, first.attestations.address)
    finally:
        anvil_node.rpc("evm_revert", snap)


@pytest.mark.parametrize("args", [["--attestations", "0"], ["--submitters", "12"], ["--reorg-depth", "3"],
                                  ["--block-time", "0"]])
def test_soak_refuses_bad_settings_in_one_line(args):
    p = subprocess.run([sys.executable, "-m", "zkllm_chain.soak", *args], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and p.stderr.startswith("error: ")


def test_a_transaction_the_node_refuses_is_one_line_and_forgotten(anvil_node, tmp_path):
    """The node refuses the signed bytes (here: signed for another chain id): one ChainError line
    naming the call, and nothing stays in the outbox (nothing was sent)."""
    ch = anvil_node.connect(expected_chain_id=31337)
    ch.outbox = Outbox(tmp_path / "outbox")
    s = dev_signers(ch)[4]
    ch.chain_id = 1  # what the transaction is signed for; the node serves 31337
    with pytest.raises(ChainError, match="transfer: the node refused the transaction") as info:
        cc._send(ch, {"to": dev_signers(ch)[6].address, "value": 1}, s, "transfer", gas=21_000, preflight=False,
                 timeout=5.0)
    assert "\n" not in str(info.value) and ch.outbox.pending() == []
