"""Connections, typed errors, keys, deployment and deployment records."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from eth_account import Account

from zkllm_chain.chain import anvil as anvil_mod
from zkllm_chain.chain.accounts import (
    KEYSTORE_ENV,
    KEYSTORE_PASSWORD_ENV,
    PRIVATE_KEY_ENV,
    load_signer,
    random_signer,
    signer_from_key,
)
from zkllm_chain.chain.artifacts import load_artifact
from zkllm_chain.chain.backend import EMBEDDED_CHAIN_ID, Chain, connect
from zkllm_chain.chain.contracts import code_at, decode_revert, deploy, send_value
from zkllm_chain.chain.deployments import deploy_stack, read_deployment, write_deployment
from zkllm_chain.chain.errors import (
    AnvilError,
    ChainError,
    InsufficientFundsError,
    MissingKeyError,
    RpcUnavailableError,
    TransactionRevertedError,
    WrongChainError,
)
from zkllm_chain.chain.registry import ModelRegistry

ROOT = Path(__file__).resolve().parents[2]


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --------------------------------------------------------------------------- connecting


def test_dead_endpoint_is_one_clear_error():
    url = _dead_url()
    t0 = time.monotonic()
    with pytest.raises(RpcUnavailableError) as info:
        connect(url, timeout=5)
    assert time.monotonic() - t0 < 5
    msg = str(info.value)
    assert url in msg and "\n" not in msg and "connection refused" in msg
    assert isinstance(info.value, ChainError) and info.value.url == url


def test_non_http_endpoint_rejected():
    with pytest.raises(RpcUnavailableError, match="http"):
        connect("ws://127.0.0.1:1")


def test_password_in_url_is_not_shown():
    url = _dead_url().replace("http://", "http://user:hunter2@")
    with pytest.raises(RpcUnavailableError) as info:
        connect(url, timeout=2)
    assert "hunter2" not in str(info.value) and "user:***@" in str(info.value)


def test_wrong_chain_id(anvil_node):
    with pytest.raises(WrongChainError) as info:
        connect(anvil_node.url, expected_chain_id=1)
    assert (info.value.expected, info.value.actual) == (1, 31337)
    assert anvil_node.url in str(info.value)
    assert connect(anvil_node.url, expected_chain_id=31337).chain_id == 31337


def test_wrong_chain_id_embedded():
    with pytest.raises(WrongChainError):
        connect(expected_chain_id=1)
    assert connect(expected_chain_id=EMBEDDED_CHAIN_ID).is_dev


def test_chain_kinds(chain):
    assert chain.is_dev
    assert len(chain.dev_keys) >= 4
    assert "dev_keys" not in repr(chain) and chain.dev_keys[0].hex() not in repr(chain)
    assert chain.w3.eth.get_block("latest")["baseFeePerGas"] is not None  # London+ rules


def test_prague_bls12_381_precompile_available(chain):
    # EIP-2537 G1ADD (0x0b): point at infinity + point at infinity = point at infinity
    out = chain.w3.eth.call({"to": "0x000000000000000000000000000000000000000b", "data": "0x" + "00" * 256})
    assert bytes(out) == b"\0" * 128


# --------------------------------------------------------------------------- funds and keys


def test_insufficient_funds(chain, registry):
    poor = random_signer()
    with pytest.raises(InsufficientFundsError) as info:
        registry.register(b"\x11" * 32, b"\0" * 32, b"\0" * 32, b"\0" * 32, registry.address, signer=poor)
    err = info.value
    assert err.address == poor.address and err.balance == 0 and err.required > 0
    assert "\n" not in str(err)
    with pytest.raises(InsufficientFundsError):
        deploy(chain, "ModelRegistry", signer=poor)


def test_value_transfer_and_funding(chain, signers):
    fresh = random_signer()
    send_value(chain, fresh.address, 10**18, signer=signers[0])
    assert chain.balance(fresh.address) == 10**18
    reg = ModelRegistry.deploy(chain, signer=fresh)  # now it can pay
    assert reg.model_count() == 0


def test_signer_from_env_never_shows_the_key(monkeypatch):
    acct = Account.create()
    key_hex = acct.key.hex()
    monkeypatch.delenv(KEYSTORE_ENV, raising=False)
    monkeypatch.setenv(PRIVATE_KEY_ENV, "0x" + key_hex)
    s = load_signer()
    assert s.address == acct.address
    assert key_hex not in repr(s) and key_hex not in str(s)
    with pytest.raises(TypeError):
        __import__("pickle").dumps(s)
    monkeypatch.setenv(PRIVATE_KEY_ENV, "0xnot-a-key-" + key_hex[:10])
    with pytest.raises(MissingKeyError) as info:
        load_signer()
    assert key_hex[:10] not in str(info.value) and PRIVATE_KEY_ENV in str(info.value)


def test_signer_from_keystore(tmp_path, monkeypatch):
    acct = Account.create()
    ks = tmp_path / "key.json"
    ks.write_text(json.dumps(Account.encrypt(acct.key, "pw", iterations=2)))
    monkeypatch.delenv(PRIVATE_KEY_ENV, raising=False)
    monkeypatch.setenv(KEYSTORE_ENV, str(ks))
    with pytest.raises(MissingKeyError, match=KEYSTORE_PASSWORD_ENV):
        monkeypatch.delenv(KEYSTORE_PASSWORD_ENV, raising=False)
        load_signer()
    monkeypatch.setenv(KEYSTORE_PASSWORD_ENV, "wrong")
    with pytest.raises(MissingKeyError, match="wrong password"):
        load_signer()
    monkeypatch.setenv(KEYSTORE_PASSWORD_ENV, "pw")
    assert load_signer().address == acct.address


def test_missing_key(monkeypatch):
    for var in (PRIVATE_KEY_ENV, KEYSTORE_ENV):
        monkeypatch.delenv(var, raising=False)
    live = Chain(w3=None, kind="rpc", chain_id=11155111, url="http://node")  # type: ignore[arg-type]
    with pytest.raises(MissingKeyError) as info:
        load_signer(live)
    assert isinstance(info.value, KeyError) and isinstance(info.value, ChainError)
    assert PRIVATE_KEY_ENV in str(info.value) and not str(info.value).startswith("'")


def test_embedded_defaults_to_first_funded_account(monkeypatch):
    for var in (PRIVATE_KEY_ENV, KEYSTORE_ENV):
        monkeypatch.delenv(var, raising=False)
    chain = connect()
    s = load_signer(chain)
    assert s == chain.default_signer() and chain.balance(s.address) > 10**20
    d = deploy(chain, "ModelRegistry")  # no signer given
    assert chain.w3.eth.get_transaction(d.tx_hash)["from"] == s.address


def test_bad_key_material():
    with pytest.raises(MissingKeyError):
        signer_from_key("12")


# --------------------------------------------------------------------------- decoding


def test_decode_revert_known_and_unknown():
    from eth_abi import encode
    from eth_utils import keccak

    data = keccak(b"NotModelOwner(uint256,address)")[:4] + encode(["uint256", "address"], [4, "0x" + "ab" * 20])
    name, args, names = decode_revert(data)
    assert (name, args[0], names) == ("NotModelOwner", 4, ("modelId", "caller"))
    assert args[1] == "0x" + "Ab" * 20 or args[1].lower() == "0x" + "ab" * 20
    assert decode_revert(b"\xde\xad\xbe\xef") is None
    assert decode_revert(bytes.fromhex("08c379a0") + encode(["string"], ["boom"]))[:2] == ("Error", ("boom",))
    assert decode_revert(bytes.fromhex("4e487b71") + encode(["uint256"], [0x11]))[:2] == ("Panic", (0x11,))
    err = TransactionRevertedError(None, data=b"\xde\xad\xbe\xef", function="f")
    assert "0xdeadbeef" in str(err)


def test_out_of_gas_is_reported_with_the_tx(chain, registry, signers):
    with pytest.raises(TransactionRevertedError) as info:
        registry.register(b"\x22" * 32, b"\0" * 32, b"\0" * 32, b"\0" * 32, registry.address,
                          signer=signers[0], gas=30_000)
    assert info.value.tx_hash and "out of gas" in str(info.value)


# --------------------------------------------------------------------------- deployment


def test_deployed_code_matches_artifact(chain, signers):
    stack = deploy_stack(chain, signer=signers[0], consumer_reward_wei=0)
    for name, d in stack.deployments.items():
        art = load_artifact(name)
        code = code_at(chain, d.address)
        expected = bytearray(bytes.fromhex(art.deployed_bytecode[2:]))
        for refs in art.immutable_references.values():  # immutables are filled in at deployment
            for ref in refs:
                expected[ref["start"]:ref["start"] + ref["length"]] = code[ref["start"]:ref["start"] + ref["length"]]
        assert code == bytes(expected), name
        assert 0 < d.gas_used <= d.tx.gas_limit
    assert stack.records == {}  # dev chain, no directory: nothing written


def test_deployment_records(chain, signers, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stack = deploy_stack(chain, signer=signers[0], directory=tmp_path / "out")
    assert set(stack.records) == {"ModelRegistry", "InferenceAttestations"}
    rec = read_deployment(chain.chain_id, "ModelRegistry", tmp_path / "out")
    art = load_artifact("ModelRegistry")
    assert rec["address"] == stack["ModelRegistry"].address
    assert rec["txHash"] == stack["ModelRegistry"].tx_hash
    assert rec["bytecodeKeccak256"] == art.bytecode_hash
    assert rec["compiler"]["settings"]["evmVersion"] == "prague"
    assert rec["deployer"] == signers[0].address
    assert not (tmp_path / "deployments").exists()
    # a live chain id writes under ./deployments/<chainId>/ by default
    live = Chain(w3=chain.w3, kind="rpc", chain_id=11155111, url="http://node")
    path = write_deployment(live, stack["ModelRegistry"])
    assert path == Path("deployments") / "11155111" / "ModelRegistry.json" and path.is_file()


def test_deploy_needs_no_compiler(tmp_path):
    """Deployment from artifacts in a process where no compiler can be found."""
    script = r"""
import sys
import zkllm_chain.chain.solc as S
from zkllm_chain.chain.errors import CompilerNotFoundError
try:
    S.find_solc()
except CompilerNotFoundError:
    pass
else:
    raise SystemExit("a compiler was found")
def boom(*a, **k):
    raise AssertionError("compiler used")
S.find_solc = S.compile_contracts = boom
from zkllm_chain.chain.backend import connect
from zkllm_chain.chain.deployments import deploy_stack
from zkllm_chain.chain.registry import ModelRegistry
chain = connect()
stack = deploy_stack(chain, consumer_reward_wei=1)
reg = ModelRegistry(chain, stack["ModelRegistry"].address, chain.default_signer())
assert reg.register(b"\x01" * 32, b"\0" * 32, b"\0" * 32, b"\0" * 32, reg.address).model_id == 1
assert "solcx" not in sys.modules
print("ok")
"""
    env = {k: v for k, v in os.environ.items() if k not in ("ZKLLM_SOLC", "ZKLLM_NODE_MODULES")}
    env["PATH"] = str(Path(sys.executable).parent)  # no node, no solc
    env["ZKLLM_NODE_MODULES"] = str(tmp_path)  # nothing installed there
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


# --------------------------------------------------------------------------- anvil


def test_anvil_missing_binary_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("ZKLLM_ANVIL", raising=False)
    monkeypatch.setattr(anvil_mod, "find_package", lambda *a, **k: None)
    monkeypatch.setattr(anvil_mod.shutil, "which", lambda name: None)
    with pytest.raises(AnvilError) as info:
        anvil_mod.AnvilNode().start()
    assert "scripts/install_node_tools.sh" in str(info.value)
    monkeypatch.setenv("ZKLLM_ANVIL", "/nonexistent/anvil")
    with pytest.raises(AnvilError, match="ZKLLM_ANVIL"):
        anvil_mod.find_anvil()


def test_anvil_start_stop(anvil_node):
    node = anvil_mod.AnvilNode(chain_id=1337, accounts=2)
    with node:
        assert node.running and len(node.dev_keys) == 2
        chain = node.connect(expected_chain_id=1337)
        assert chain.is_dev and chain.block_number() == 0
        proc = node._proc
    assert not node.running and proc.poll() is not None
    with pytest.raises(RpcUnavailableError):
        connect(node.url, timeout=2)


def test_anvil_startup_failure_is_reported(anvil_node):
    busy = anvil_mod.AnvilNode(port=anvil_node.port)  # the port is taken
    with pytest.raises(AnvilError, match="anvil"):
        busy.start()
    assert not busy.running


def test_deploy_command_line(anvil_node, tmp_path, monkeypatch, capsys):
    from zkllm_chain.chain import deployments

    monkeypatch.delenv(KEYSTORE_ENV, raising=False)
    monkeypatch.setenv(PRIVATE_KEY_ENV, "0x" + anvil_node.dev_keys[5].hex())
    snapshot = anvil_node.rpc("evm_snapshot")
    try:
        code = deployments.main(["--rpc-url", anvil_node.url, "--chain-id", "31337", "--out", str(tmp_path),
                                 "--consumer-reward-wei", "5"])
    finally:
        anvil_node.rpc("evm_revert", snapshot)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ExampleConsumer" in out and anvil_node.dev_keys[5].hex() not in out
    assert sorted(p.name for p in (tmp_path / "31337").iterdir()) == [
        "ExampleConsumer.json", "InferenceAttestations.json", "ModelRegistry.json"]
    assert deployments.main(["--rpc-url", anvil_node.url, "--chain-id", "1"]) == 1
    assert "expected chain id 1" in capsys.readouterr().err


def test_backend_exceptions_translate_alike():
    from eth_abi import encode
    from eth_tester.exceptions import TransactionFailed
    from eth_utils import keccak
    from web3.exceptions import ContractCustomError, ContractLogicError

    from zkllm_chain.chain.contracts import revert_error

    data = keccak(b"ModelRevoked(uint256)")[:4] + encode(["uint256"], [9])
    for exc in (TransactionFailed(f"execution reverted: {data!r}"),
                ContractCustomError("0x" + data.hex(), data="0x" + data.hex())):
        err = revert_error(exc, function="attest")
        assert (err.error_name, err.error_args, err.data) == ("ModelRevoked", (9,), data)
        assert str(err) == "attest reverted: ModelRevoked(9)"
    err = revert_error(TransactionFailed("execution reverted: b''"))
    assert err.error_name is None and "no revert data" in str(err)
    assert revert_error(TransactionFailed("boom")).error_args == ("boom",)  # eth-tester's decoded Error(string)
    err = revert_error(TransactionFailed("Out of gas: Needed 20000 - Remaining 100 - Reason: SSTORE"))
    assert err.error_name is None and "EVM exception: Out of gas" in str(err)
    err = revert_error(ContractLogicError("execution reverted", data=None))
    assert err.error_name is None
    assert revert_error(ValueError("unrelated")) is None


def test_eip7825_transaction_gas_cap(chain, signers):
    """No transaction may ask for more than 16,777,216 gas (EIP-7825): the tools refuse it
    before sending (on every chain), and the test anvil enforces the cap itself."""
    from zkllm_chain.chain.contracts import TX_GAS_CAP, _send, send_value
    from zkllm_chain.chain.errors import ChainError
    assert TX_GAS_CAP == 16_777_216
    with pytest.raises(ChainError, match="EIP-7825"):
        send_value(chain, signers[1].address, 1, signer=signers[0], gas=TX_GAS_CAP + 1)
    assert send_value(chain, signers[1].address, 1, signer=signers[0], gas=TX_GAS_CAP).gas_used == 21_000
    if not chain.is_embedded:  # the node itself refuses a transaction above the cap
        tx = {"from": signers[0].address, "to": signers[1].address, "value": 1, "gas": TX_GAS_CAP + 1,
              "chainId": chain.chain_id, "nonce": chain.w3.eth.get_transaction_count(signers[0].address),
              "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9}
        with pytest.raises(Exception, match="(?i)gas"):
            chain.w3.eth.send_raw_transaction(signers[0].sign_transaction(tx).raw_transaction)
    del _send


def test_unmined_transaction_names_its_hash(anvil_node):
    """A transaction whose receipt never comes (the node stopped mining): its hash is reported
    as soon as it is sent (``SENT_HOOKS``), and the wait ends in a one-line ChainError that
    names the same hash, so the operator can look it up instead of sending a duplicate."""
    from zkllm_chain.chain import contracts as cc
    from zkllm_chain.chain.accounts import dev_signers
    from zkllm_chain.chain.errors import ChainError
    ch = anvil_node.connect(expected_chain_id=31337)
    signer = dev_signers(ch)[3]
    seen = []
    cc.SENT_HOOKS.append(lambda fn, hx, what: seen.append(hx))
    anvil_node.rpc("evm_setAutomine", False)
    try:
        with pytest.raises(ChainError) as info:
            cc._send(ch, {"to": dev_signers(ch)[4].address, "value": 1}, signer, "transfer", gas=21_000,
                     preflight=False, timeout=2.0)
        assert len(seen) == 1 and seen[0] in str(info.value) and "\n" not in str(info.value)
    finally:
        cc.SENT_HOOKS.pop()
        anvil_node.rpc("evm_setAutomine", True)
        anvil_node.rpc("evm_mine")  # the pending transfer is mined now, as it would be later on a live chain
    assert int(ch.w3.eth.get_transaction_receipt(seen[0])["status"]) == 1
