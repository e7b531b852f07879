"""Deploying and calling the project's contracts from their committed artifacts.

Every transaction is signed locally (see :mod:`~zkllm_chain.chain.accounts`), simulated
first (so a revert is reported with its decoded custom error before any gas is spent),
sent with an explicit gas limit, and awaited. Reverts from either backend -- eth-tester's
``TransactionFailed`` or web3's ``ContractCustomError`` / ``ContractLogicError`` -- become
:class:`~zkllm_chain.chain.errors.TransactionRevertedError` with the error's name and
arguments decoded from the ABIs of the artifacts.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, NamedTuple, Sequence

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from . import artifacts as _artifacts
from .accounts import Signer, load_signer
from .backend import Chain
from .errors import (
    ChainError,
    InsufficientFundsError,
    RpcUnavailableError,
    TransactionRevertedError,
    UnknownModelError,
)

__all__ = [
    "ContractClient",
    "DEFAULT_GAS",
    "TxResult",
    "Deployment",
    "deploy",
    "contract_at",
    "transact",
    "call",
    "send_value",
    "decode_revert",
    "revert_error",
]

#: Gas limit used on the embedded chain when none is given (estimation there is slow);
#: pass ``gas=`` for heavier calls.
DEFAULT_GAS = 16_000_000  # below the 2**24 per-transaction cap that Osaka (EIP-7825) brings
#: Margin over the estimate on JSON-RPC chains.
GAS_MARGIN = 1.25
DEFAULT_TIP_WEI = 1_000_000_000
#: EIP-7825 (live on mainnet since Fusaka): a transaction may not ask for more gas than this.
#: Every transaction the tools send stays under it; asking for more is refused before sending.
TX_GAS_CAP = 16_777_216

_ERROR_SELECTOR = bytes.fromhex("08c379a0")
_PANIC_SELECTOR = bytes.fromhex("4e487b71")
_UNKNOWN_MODEL_ERRORS = {"UnknownModel", "UnknownModelDigest"}


# --------------------------------------------------------------------------- revert decoding


def _abi_type(inp: dict) -> str:
    t = inp["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in inp.get("components", [])) + ")" + t[len("tuple"):]
    return t


@lru_cache(maxsize=8)
def _error_table(extra: tuple[str, ...] = ()) -> dict[bytes, tuple[str, list[str], list[str]]]:
    import json

    table: dict[bytes, tuple[str, list[str], list[str]]] = {}
    abis = [a.abi for a in _artifacts.load_all()] + [json.loads(x) for x in extra]
    for abi in abis:
        for item in abi:
            if item.get("type") != "error":
                continue
            types = [_abi_type(i) for i in item.get("inputs", [])]
            names = [i.get("name", "") for i in item.get("inputs", [])]
            sel = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
            table.setdefault(sel, (item["name"], types, names))
    return table


def _normalize(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        try:
            return to_checksum_address(value)
        except ValueError:
            return value
    if isinstance(value, tuple):
        return tuple(_normalize(v) for v in value)
    return value


def decode_revert(data: bytes, extra_abis: Iterable[Sequence[dict]] = ()) -> tuple[str, tuple, tuple] | None:
    """Decodes revert data into ``(name, args, arg_names)``, or None if unknown.

    Knows ``Error(string)``, ``Panic(uint256)`` and every custom error in the artifacts'
    ABIs, plus those in ``extra_abis``.
    """
    import json

    data = bytes(data)
    if len(data) < 4:
        return None
    sel, body = data[:4], data[4:]
    try:
        if sel == _ERROR_SELECTOR:
            return "Error", tuple(abi_decode(["string"], body)), ("message",)
        if sel == _PANIC_SELECTOR:
            return "Panic", tuple(abi_decode(["uint256"], body)), ("code",)
        extra = tuple(json.dumps(list(a), sort_keys=True) for a in extra_abis)
        entry = _error_table(extra).get(sel)
        if entry is None:
            return None
        name, types, names = entry
        return name, tuple(_normalize(v) for v in abi_decode(types, body)), tuple(names)
    except Exception:
        return None


class _Failure(NamedTuple):
    """What a backend exception says about a failed call."""

    data: bytes  # raw revert data (may be empty)
    reason: str | None = None  # a reason string the backend decoded itself (eth-tester)
    halt: str | None = None  # an exceptional halt (out of gas, invalid opcode), not a revert


_BYTES_LITERAL = re.compile(r"""(b'(?:[^'\\]|\\.)*'|b"(?:[^"\\]|\\.)*")\s*$""", re.S)


_VM_ERROR_PREFIXES = ("(", "out of gas", "invalid", "jump resulted", "cannot modify", "insufficient",
                      "stack", "net-metered", "return data", "contract code size", "reserved bytes")


def _looks_like_vm_error(msg: str) -> bool:
    """eth-tester reports exceptional halts (out of gas, invalid opcode...) as bare py-evm
    messages, next to decoded ``Error(string)`` reasons; tell the usual ones apart."""
    return msg.strip().lower().startswith(_VM_ERROR_PREFIXES)


def _revert_payload(exc: BaseException) -> _Failure | None:
    """What a revert (or exceptional halt) exception from either backend carries; None
    for other exceptions."""
    try:
        from eth_tester.exceptions import TransactionFailed
    except ImportError:  # pragma: no cover - eth-tester is optional on live chains
        TransactionFailed = ()  # type: ignore[assignment]
    from web3.exceptions import ContractLogicError

    if TransactionFailed and isinstance(exc, TransactionFailed):
        msg = str(exc.args[0]) if exc.args else ""
        m = _BYTES_LITERAL.search(msg)
        if m:
            try:
                return _Failure(bytes(ast.literal_eval(m.group(1))))
            except (ValueError, SyntaxError):
                pass
        if msg.strip() in ("", "execution reverted", "Revert", "reverted"):
            return _Failure(b"")
        if _looks_like_vm_error(msg):
            return _Failure(b"", halt=msg)
        # eth-tester decoded an Error(string) into its message
        return _Failure(b"", reason=msg)
    if isinstance(exc, ContractLogicError):
        data = getattr(exc, "data", None)
        if isinstance(data, str) and data.startswith("0x"):
            try:
                return _Failure(bytes.fromhex(data[2:]))
            except ValueError:
                pass
        if isinstance(data, (bytes, bytearray)):
            return _Failure(bytes(data))
        return _Failure(b"", reason=str(getattr(exc, "message", None) or exc))
    return None


def revert_error(exc: BaseException, *, function: str | None = None, tx_hash: str | None = None,
                 extra_abis: Iterable[Sequence[dict]] = ()) -> TransactionRevertedError | None:
    """The :class:`TransactionRevertedError` for a backend revert exception, or None."""
    failure = _revert_payload(exc)
    if failure is None:
        return None
    return _make_revert(failure, function=function, tx_hash=tx_hash, extra_abis=extra_abis)


def _make_revert(failure: _Failure, *, function: str | None, tx_hash: str | None = None,
                 extra_abis: Iterable[Sequence[dict]] = ()) -> TransactionRevertedError:
    data, reason = failure.data, failure.reason
    if failure.halt is not None:
        return TransactionRevertedError(None, (), function=function, tx_hash=tx_hash,
                                        detail=f"EVM exception: {failure.halt}")
    decoded = decode_revert(data, extra_abis) if data else None
    if decoded is None and reason is not None and not data:
        text = reason.removeprefix("execution reverted: ").removeprefix("execution reverted")
        decoded = ("Error", (text,), ("message",)) if text else None
    if decoded is None:
        return TransactionRevertedError(None, (), data=data, function=function, tx_hash=tx_hash)
    name, args, names = decoded
    cls = UnknownModelError if name in _UNKNOWN_MODEL_ERRORS else TransactionRevertedError
    return cls(name, args, data=data, function=function, tx_hash=tx_hash, arg_names=names)


_FUNDS_PATTERNS = ("insufficient funds", "cannot afford", "not have enough balance", "insufficient balance")


def _funds_error(exc: BaseException, address: str) -> InsufficientFundsError | None:
    text = str(exc).lower()
    if any(p in text for p in _FUNDS_PATTERNS):
        return InsufficientFundsError(address, detail="the node refused the transaction for lack of funds")
    return None


# --------------------------------------------------------------------------- transactions


@dataclass(frozen=True)
class TxResult:
    """A mined, successful transaction."""

    tx_hash: str
    block_number: int
    gas_used: int
    gas_limit: int
    receipt: Any = field(repr=False)
    contract_address: str | None = None

    def events(self, contract: Contract, event_name: str) -> list[dict]:
        """Decoded ``event_name`` logs that ``contract`` emitted in this transaction."""
        ev = getattr(contract.events, event_name)()
        return [dict(e["args"]) for e in ev.process_receipt(self.receipt, errors=DISCARD)
                if e["address"] == contract.address]


@dataclass(frozen=True)
class Deployment:
    """A contract deployed from an artifact."""

    name: str
    address: str
    chain_id: int
    tx: TxResult
    artifact: _artifacts.Artifact = field(repr=False)

    @property
    def tx_hash(self) -> str:
        return self.tx.tx_hash

    @property
    def block_number(self) -> int:
        return self.tx.block_number

    @property
    def gas_used(self) -> int:
        return self.tx.gas_used

    def contract(self, chain: Chain) -> Contract:
        return chain.w3.eth.contract(address=self.address, abi=self.artifact.abi)


def contract_at(chain: Chain, name: str, address: str, *, artifacts_dir=None) -> Contract:
    """A web3 contract object for the deployed ``name`` at ``address``."""
    art = _artifacts.load_artifact(name, artifacts_dir)
    return chain.w3.eth.contract(address=to_checksum_address(address), abi=art.abi)


def _fees(chain: Chain) -> dict[str, int]:
    w3 = chain.w3
    block = w3.eth.get_block("latest")
    base = block.get("baseFeePerGas")
    if base is None:
        return {"gasPrice": int(w3.eth.gas_price)}
    try:
        tip = int(w3.eth.max_priority_fee)
    except Exception:
        tip = DEFAULT_TIP_WEI
    return {"maxFeePerGas": 2 * int(base) + tip, "maxPriorityFeePerGas": tip}


def _max_cost(tx: dict) -> int:
    price = tx.get("maxFeePerGas", tx.get("gasPrice", 0))
    return int(tx["gas"]) * int(price) + int(tx.get("value", 0))


def _call_params(tx: dict) -> dict:
    return {k: tx[k] for k in ("from", "to", "data", "value") if k in tx and tx[k] is not None}


def _simulate(chain: Chain, tx: dict, function: str, block: Any = "latest") -> None:
    try:
        chain.w3.eth.call(_call_params(tx), block_identifier=block)
    except Exception as exc:
        if _funds_error(exc, tx["from"]) is not None:
            return  # the balance check in _send reports it with the amounts
        err = revert_error(exc, function=function)
        if err is not None:
            raise err from None
        raise


def _choose_gas(chain: Chain, tx: dict, function: str) -> int:
    if chain.is_embedded:
        return DEFAULT_GAS
    try:
        estimate = int(chain.w3.eth.estimate_gas(_call_params(tx)))
    except Exception as exc:
        err = revert_error(exc, function=function)
        if err is not None:
            raise err from None
        funds = _funds_error(exc, tx["from"])
        if funds is not None:
            raise funds from None
        raise
    limit = int(chain.w3.eth.get_block("latest")["gasLimit"])
    return min(int(estimate * GAS_MARGIN) + 10_000, limit, TX_GAS_CAP)


#: Called with (function, tx hash, what) as soon as a transaction is accepted by the node, before
#: its receipt is awaited (the CLI prints the hash there, so it is known even if the wait fails).
#: ``what`` is "sent", "resumed" (an earlier run sent it: see :mod:`.outbox`) or "re-sent" (the
#: same signed bytes broadcast again after a reorg or a node restart dropped them).
SENT_HOOKS: list = []


def _announce(function: str, hx: str, what: str) -> None:
    for hook in SENT_HOOKS:
        hook(function, hx, what)


def _broadcast(chain: Chain, raw: bytes, signer_address: str, function: str) -> None:
    """Hands signed bytes to the node; "already known" (a re-broadcast of bytes it holds) is fine."""
    try:
        chain.w3.eth.send_raw_transaction(raw)
    except ChainError:
        raise
    except Exception as exc:
        text = str(exc)
        if "already known" in text.lower() or "already imported" in text.lower():
            return
        funds = _funds_error(exc, signer_address)
        if funds is not None:
            raise funds from None
        err = revert_error(exc, function=function)
        if err is not None:
            raise err from None
        raise ChainError(f"{function}: the node refused the transaction: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc.args[0] if exc.args else None, dict):  # a JSON-RPC error object
        text = str(exc.args[0].get("message", text))
    return (text.splitlines()[0][:160] if text else type(exc).__name__)


def _receipt(chain: Chain, tx_hash: str):
    from web3.exceptions import TransactionNotFound
    try:
        return chain.w3.eth.get_transaction_receipt(tx_hash)
    except TransactionNotFound:
        return None


def _known(chain: Chain, tx_hash: str) -> bool:
    from web3.exceptions import TransactionNotFound
    try:
        chain.w3.eth.get_transaction(tx_hash)
        return True
    except TransactionNotFound:
        return False


def _canonical(chain: Chain, number: int, block_hash) -> bool:
    """Whether block ``number`` of the chain as the node sees it now is ``block_hash`` (a
    restarted node may be shorter than the receipt's block: then it is not)."""
    from web3.exceptions import BlockNotFound
    try:
        return bytes(chain.w3.eth.get_block(number)["hash"]) == bytes(block_hash)
    except BlockNotFound:
        return False


class _Superseded(Exception):
    """The transaction is gone and its nonce was used by another one: it can never be mined."""


def _await(chain: Chain, hx: str, raw: bytes, nonce: int, sender: str, function: str, timeout: float):
    """The receipt of ``hx`` once it is ``chain.confirmations`` blocks deep in the canonical chain.

    A transaction the node no longer knows (a reorg or a restart dropped it) is broadcast again,
    as the same signed bytes, while its nonce is free; :class:`_Superseded` once the nonce went
    to another transaction. ``ChainError`` (naming the hash) when ``timeout`` passes first."""
    import time
    deadline = time.monotonic() + timeout
    need = 1 if chain.is_embedded else max(1, int(chain.confirmations))
    while True:
        receipt = _receipt(chain, hx)
        if receipt is None:
            if not _known(chain, hx):
                if int(chain.w3.eth.get_transaction_count(sender, "latest")) > nonce:
                    raise _Superseded()
                _broadcast(chain, raw, sender, function)
                _announce(function, hx, "re-sent")
        else:
            block = int(receipt["blockNumber"])
            head = int(chain.w3.eth.block_number)
            if head - block + 1 >= need and _canonical(chain, block, receipt["blockHash"]):
                return receipt
        if chain.is_embedded:  # mines at once; nothing else can change while we wait
            raise ChainError(f"{function}: transaction {hx} was not mined by the embedded chain")
        if time.monotonic() > deadline:
            state = "mined but not yet confirmed" if receipt is not None else "not mined yet"
            raise ChainError(f"{function}: transaction {hx} was sent but is {state} after {timeout:g}s; it is "
                             f"remembered: re-run the same command to resume (nothing is sent twice)")
        time.sleep(chain.poll_interval)


def _outbox_key(chain: Chain, tx: dict) -> str | None:
    if chain.outbox is None:
        return None
    from .outbox import intent_key
    return intent_key(chain.chain_id, tx["from"], tx.get("to"), tx.get("value", 0), tx.get("data") or b"")


def _result(chain: Chain, tx: dict, receipt, function: str, hx: str, gas: int) -> TxResult:
    if receipt["status"] != 1:
        raise _replay_failure(chain, {**tx, "gas": gas}, receipt, function, hx)
    return TxResult(
        tx_hash=hx,
        block_number=int(receipt["blockNumber"]),
        gas_used=int(receipt["gasUsed"]),
        gas_limit=int(gas),
        receipt=receipt,
        contract_address=receipt.get("contractAddress"),
    )


def _settle(chain: Chain, tx: dict, key: str | None, entry: dict, function: str, timeout: float) -> TxResult:
    """Awaits the transaction of ``entry`` and turns its receipt into a result (or an error)."""
    hx, raw, nonce = entry["hash"], bytes.fromhex(entry["raw"]), int(entry["nonce"])
    try:
        receipt = _await(chain, hx, raw, nonce, tx["from"], function, timeout)
    except RpcUnavailableError as exc:
        kept = " it is remembered: re-run the same command to resume (nothing is sent twice)" if key else \
            " look it up before sending again"
        raise ChainError(f"{exc}; {function} transaction {hx} was sent;{kept}") from None
    if key is not None:
        if receipt["status"] == 1:
            chain.outbox.put(key, {**entry, "state": "mined", "block": int(receipt["blockNumber"])})
        else:
            chain.outbox.drop(key)
    return _result(chain, tx, receipt, function, hx, int(entry["gas"]))


def _send(chain: Chain, tx: dict, signer: Signer, function: str, *, gas: int | None,
          preflight: bool, timeout: float) -> TxResult:
    w3 = chain.w3
    tx = dict(tx)
    tx["from"] = signer.address
    tx.setdefault("value", 0)
    tx["chainId"] = chain.chain_id
    key = _outbox_key(chain, tx)
    entry = chain.outbox.get(key) if key is not None else None
    if entry is not None:  # an earlier run sent this very call: resume it, never sign it again
        _announce(function, entry["hash"], "resumed")
        try:
            return _settle(chain, tx, key, entry, function, timeout)
        except _Superseded:
            chain.outbox.drop(key)  # it can never be mined: send the call afresh below
    if preflight:
        _simulate(chain, tx, function)
    tx["gas"] = int(gas) if gas is not None else _choose_gas(chain, tx, function)
    if tx["gas"] > TX_GAS_CAP:
        raise ChainError(f"{function}: a gas limit of {tx['gas']:,} exceeds the EIP-7825 per-transaction cap of "
                         f"{TX_GAS_CAP:,}")
    tx.update(_fees(chain))
    balance = int(w3.eth.get_balance(signer.address))
    if balance < _max_cost(tx):
        raise InsufficientFundsError(signer.address, _max_cost(tx), balance)
    tx["nonce"] = int(w3.eth.get_transaction_count(signer.address, "latest" if chain.is_embedded else "pending"))
    if tx.get("to") is None:
        tx.pop("to", None)
    signed = signer.sign_transaction(tx)
    raw = bytes(signed.raw_transaction)
    from eth_utils import keccak
    hx = "0x" + keccak(raw).hex()
    entry = {"function": function, "hash": hx, "raw": raw.hex(), "nonce": tx["nonce"], "gas": tx["gas"],
             "from": signer.address, "state": "sent"}
    if key is not None:  # remembered before the node sees it: a crash after this point resumes
        chain.outbox.put(key, entry)
    try:
        _broadcast(chain, raw, signer.address, function)
    except RpcUnavailableError as exc:  # the node may or may not have taken it: keep the entry
        kept = "re-run the same command to resume (nothing is sent twice)" if key else "look it up before sending again"
        raise ChainError(f"{exc}; {function} transaction {hx} may have reached the node: {kept}") from None
    except ChainError:  # refused: nothing was sent
        if key is not None:
            chain.outbox.drop(key)
        raise
    _announce(function, hx, "sent")
    try:
        return _settle(chain, tx, key, entry, function, timeout)
    except _Superseded:
        if key is not None:
            chain.outbox.drop(key)
        raise ChainError(f"{function}: transaction {hx} was dropped and its nonce {tx['nonce']} used by another "
                         f"transaction of {signer.address} (is the account used elsewhere at the same time?); "
                         f"nothing of this call was mined") from None


def _replay_failure(chain: Chain, tx: dict, receipt, function: str, tx_hash: str) -> ChainError:
    """Re-runs a failed transaction on the state before its block to recover the revert data."""
    block = int(receipt["blockNumber"])
    used = int(receipt["gasUsed"])
    if used >= int(tx["gas"]):  # an exceptional halt burns all gas; a revert does not
        return TransactionRevertedError(None, (), function=function, tx_hash=tx_hash,
                                        detail=f"used all {used} gas: out of gas or an invalid instruction")
    try:
        chain.w3.eth.call({**_call_params(tx), "gas": tx["gas"]}, block_identifier=max(block - 1, 0))
    except Exception as exc:
        failure = _revert_payload(exc)
        if failure is not None:
            return _make_revert(failure, function=function, tx_hash=tx_hash)
    detail = f"failed after using {used} of {tx['gas']} gas; the replay did not revert"
    return TransactionRevertedError(None, (), function=function, tx_hash=tx_hash, detail=detail)


def _fn_label(fn) -> str:
    address = getattr(fn, "address", None)
    return f"{fn.fn_name}" + (f" on {address}" if address else "")


def transact(chain: Chain, fn, *, signer: Signer | None = None, gas: int | None = None, value: int = 0,
             preflight: bool = True, timeout: float = 120.0) -> TxResult:
    """Sends ``fn`` (a bound web3 ``ContractFunction``, e.g. ``c.functions.revoke(3)``).

    ``gas`` defaults to :data:`DEFAULT_GAS` on the embedded chain and to the node's estimate
    plus a margin elsewhere. Raises :class:`TransactionRevertedError` (decoded),
    :class:`InsufficientFundsError`, or :class:`UnknownModelError`.
    """
    signer = signer or load_signer(chain)
    label = _fn_label(fn)
    data = chain.w3.eth.contract(abi=fn.contract_abi).encode_abi(
        fn.abi_element_identifier, args=fn.args, kwargs=fn.kwargs or None
    )
    tx = {"to": fn.address, "data": data, "value": int(value)}
    return _send(chain, tx, signer, label, gas=gas, preflight=preflight, timeout=timeout)


def send_value(chain: Chain, to: str, value: int, *, signer: Signer | None = None, gas: int | None = None,
               timeout: float = 120.0) -> TxResult:
    """Sends ``value`` wei to ``to`` (an account, or a contract's receive function)."""
    signer = signer or load_signer(chain)
    tx = {"to": to_checksum_address(to), "data": "0x", "value": int(value)}
    return _send(chain, tx, signer, f"transfer to {tx['to']}", gas=gas, preflight=True, timeout=timeout)


def call(chain: Chain, fn, *, sender: str | None = None, block: Any = "latest") -> Any:
    """Calls a view function, translating reverts like :func:`transact`."""
    params: dict[str, Any] = {}
    if sender is not None:
        params["from"] = to_checksum_address(sender)
    try:
        return fn.call(params, block_identifier=block)
    except Exception as exc:
        err = revert_error(exc, function=_fn_label(fn))
        if err is not None:
            raise err from None
        raise


def deploy(chain: Chain, name: str, *args: Any, signer: Signer | None = None, gas: int | None = None,
           value: int = 0, artifacts_dir=None, timeout: float = 120.0) -> Deployment:
    """Deploys contract ``name`` from its committed artifact (no compiler needed)."""
    art = _artifacts.load_artifact(name, artifacts_dir)
    if not art.deployable:
        raise _artifacts.ArtifactError(f"{name} is an interface or abstract contract; it cannot be deployed")
    signer = signer or load_signer(chain)
    factory = chain.w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
    data = factory.constructor(*args).data_in_transaction
    tx = {"to": None, "data": data, "value": int(value)}
    result = _send(chain, tx, signer, f"{name} constructor", gas=gas, preflight=True, timeout=timeout)
    if not result.contract_address:
        raise ChainError(f"deployment of {name} mined without a contract address [tx {result.tx_hash}]")
    address = to_checksum_address(result.contract_address)
    return Deployment(name=name, address=address, chain_id=chain.chain_id, tx=result, artifact=art)


def code_at(chain: Chain, address: str) -> bytes:
    return bytes(chain.w3.eth.get_code(Web3.to_checksum_address(address)))


class ContractClient:
    """Typed access to one deployed contract of ours; subclasses set ``NAME``.

    ``signer`` is used for writes unless a call passes its own."""

    NAME = ""

    def __init__(self, chain: Chain, address: str, signer: Signer | None = None):
        self.chain = chain
        self.address = to_checksum_address(address)
        self.signer = signer
        self.contract = contract_at(chain, self.NAME, self.address)
        self.deployment: Deployment | None = None

    @classmethod
    def _deploy(cls, chain: Chain, *args: Any, signer: Signer | None = None, gas: int | None = None):
        d = deploy(chain, cls.NAME, *args, signer=signer, gas=gas)
        inst = cls(chain, d.address, signer)
        inst.deployment = d
        return inst
