"""Errors raised by the on-chain layer.

Every error is a :class:`ChainError`; each message is one line that names what failed
and, where there is one, the fix. Keys and passwords never appear in messages.
"""
from __future__ import annotations

from typing import Any, Sequence


class ChainError(Exception):
    """Root of every error raised by ``zkllm_chain.chain``."""


class RpcUnavailableError(ChainError):
    """The JSON-RPC endpoint cannot be reached or does not answer as a node."""

    def __init__(self, url: str, reason: str = ""):
        self.url = url
        self.reason = reason
        msg = f"cannot reach the Ethereum JSON-RPC endpoint {url}"
        super().__init__(f"{msg}: {reason}" if reason else msg)


class WrongChainError(ChainError):
    """The endpoint serves another chain than the one expected."""

    def __init__(self, expected: int, actual: int, url: str | None = None):
        self.expected = expected
        self.actual = actual
        self.url = url
        where = f" at {url}" if url else ""
        super().__init__(f"expected chain id {expected} but the node{where} reports chain id {actual}")


class InsufficientFundsError(ChainError):
    """The sending account cannot pay for gas (and value) of a transaction."""

    def __init__(self, address: str, required: int | None = None, balance: int | None = None,
                 detail: str = ""):
        self.address = address
        self.required = required
        self.balance = balance
        msg = f"account {address} has insufficient funds"
        if required is not None and balance is not None:
            msg += f": needs up to {required} wei for gas and value, has {balance} wei"
        elif detail:
            msg += f": {detail}"
        super().__init__(msg)


class TransactionRevertedError(ChainError):
    """A call or transaction reverted.

    ``error_name`` and ``error_args`` carry the decoded custom error (for example
    ``"NotModelOwner"`` and ``(3, "0xabc...")``); ``Error(string)`` decodes to name
    ``"Error"`` and ``Panic(uint256)`` to ``"Panic"``. When the data matches no known ABI,
    ``error_name`` is ``None`` and ``data`` holds the raw revert bytes.
    """

    def __init__(self, error_name: str | None, error_args: Sequence[Any] = (), *,
                 data: bytes = b"", function: str | None = None, tx_hash: str | None = None,
                 arg_names: Sequence[str] = (), detail: str = ""):
        self.error_name = error_name
        self.error_args = tuple(error_args)
        self.arg_names = tuple(arg_names)
        self.data = bytes(data)
        self.function = function
        self.tx_hash = tx_hash
        where = f"{function} reverted" if function else "transaction reverted"
        if error_name is not None:
            what = f"{error_name}({', '.join(_fmt(a) for a in self.error_args)})"
        elif self.data:
            what = f"unknown error data 0x{self.data.hex()}"
        else:
            what = detail or "no revert data"
        tx = f" [tx {tx_hash}]" if tx_hash else ""
        super().__init__(f"{where}: {what}{tx}")

    @property
    def args_by_name(self) -> dict[str, Any]:
        """The decoded arguments keyed by their ABI names (where the ABI names them)."""
        return {n: v for n, v in zip(self.arg_names, self.error_args) if n}


class UnknownModelError(TransactionRevertedError):
    """The model id (or digest) is not in the registry."""


class CompilerNotFoundError(ChainError):
    """No Solidity compiler of the pinned version can be found."""


class CompilationError(ChainError):
    """The Solidity compiler rejected the sources."""


class ArtifactError(ChainError):
    """A compiled-contract artifact is missing, unreadable or stale."""


class AnvilError(ChainError):
    """The local anvil node is missing, failed to start, or died."""


class MissingKeyError(ChainError, KeyError):
    """No signing key is configured (or its keystore cannot be opened)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def _fmt(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)
