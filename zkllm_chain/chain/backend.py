"""Connecting to a chain: an embedded in-process EVM (eth-tester + py-evm) or a JSON-RPC node.

>>> chain = connect()                                   # embedded, Prague, funded accounts
>>> chain = connect("http://127.0.0.1:8545", expected_chain_id=31337)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence
from urllib.parse import urlsplit, urlunsplit

from web3 import Web3

from .errors import ChainError, RpcUnavailableError, WrongChainError

__all__ = ["Chain", "connect", "connect_embedded", "connect_rpc", "DEV_CHAIN_IDS", "EMBEDDED_CHAIN_ID"]

#: Chain id of the embedded eth-tester chain.
EMBEDDED_CHAIN_ID = 131277322940537
#: Chain ids used by local development nodes (anvil / hardhat, ganache / geth --dev) and
#: the embedded chain: deployment records for them are never written by default.
DEV_CHAIN_IDS = frozenset({31337, 1337, EMBEDDED_CHAIN_ID})
#: Block gas limit of the embedded chain (room for pairing-heavy verifiers).
EMBEDDED_BLOCK_GAS_LIMIT = 60_000_000


@dataclass
class Chain:
    """A connection. ``kind`` is ``"embedded"`` or ``"rpc"``.

    ``dev_keys`` are private keys of funded development accounts (the embedded chain's, or
    a local anvil's); they are never shown by ``repr``.
    """

    w3: Web3
    kind: str
    chain_id: int
    url: str | None = None
    dev_keys: Sequence[bytes] = field(default=(), repr=False)
    #: Blocks a transaction must be deep in (1 = mined) before it counts as done; a receipt
    #: that a reorg removes meanwhile is noticed and the transaction re-sent.
    confirmations: int = 1
    #: Where sent transactions are remembered so that re-running a command resumes it
    #: (:class:`~zkllm_chain.chain.outbox.Outbox`); None: not remembered.
    outbox: object | None = field(default=None, repr=False)
    #: Seconds between receipt polls on JSON-RPC chains.
    poll_interval: float = 0.25

    @property
    def is_dev(self) -> bool:
        """True for the embedded chain and local development chain ids (31337, 1337)."""
        return self.kind == "embedded" or self.chain_id in DEV_CHAIN_IDS

    @property
    def is_embedded(self) -> bool:
        return self.kind == "embedded"

    @property
    def label(self) -> str:
        return "embedded" if self.is_embedded else f"{self.url} (chain {self.chain_id})"

    def default_signer(self):
        """The first funded development account (see :mod:`~zkllm_chain.chain.accounts`)."""
        from .accounts import default_signer

        return default_signer(self)

    def block_number(self) -> int:
        return self.w3.eth.block_number

    def balance(self, address: str) -> int:
        return self.w3.eth.get_balance(Web3.to_checksum_address(address))


def redact_url(url: str) -> str:
    """The URL without a password in its user part (API keys in paths stay: they name the endpoint)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _short_reason(exc: BaseException, timeout: float) -> str:
    text = f"{type(exc).__name__}: {exc}"
    low = text.lower()
    if "connection refused" in low:
        return "connection refused"
    if "timed out" in low or "timeout" in low:
        return f"no answer within {timeout:g}s"
    if "name or service not known" in low or "nodename nor servname" in low or "name resolution" in low:
        return "host name does not resolve"
    if "connection reset" in low or "remote end closed" in low:
        return "connection closed by the server"
    first = re.sub(r"\s+", " ", text).strip()
    return first[:200]


class _Provider:
    """Builds the HTTP provider whose transport failures are :class:`RpcUnavailableError` (one
    line, with the URL) on every call, not only the first: a node that dies mid-command is a
    chain fault, not a crash."""

    @staticmethod
    def make(url: str, shown: str, timeout: float):
        from web3 import HTTPProvider

        class Provider(HTTPProvider):
            def make_request(self, method, params):
                try:
                    return super().make_request(method, params)
                except ChainError:
                    raise
                except (OSError, ValueError) as exc:  # requests' errors are OSErrors; bad JSON ValueErrors
                    if exc.__class__.__module__.startswith("web3"):
                        raise
                    raise RpcUnavailableError(shown, _short_reason(exc, timeout)) from None

        return Provider(url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None)


def connect_embedded(*, block_gas_limit: int = EMBEDDED_BLOCK_GAS_LIMIT) -> Chain:
    """A fresh in-process chain (Prague rules) with ten funded accounts."""
    from eth_tester import EthereumTester, PyEVMBackend
    from web3 import EthereumTesterProvider

    params = PyEVMBackend.generate_genesis_params(overrides={"gas_limit": block_gas_limit})
    backend = PyEVMBackend(genesis_parameters=params)
    w3 = Web3(EthereumTesterProvider(EthereumTester(backend)))
    keys = tuple(k.to_bytes() for k in backend.account_keys)
    return Chain(w3=w3, kind="embedded", chain_id=w3.eth.chain_id, url=None, dev_keys=keys)


def connect_rpc(url: str, expected_chain_id: int | None = None, *, timeout: float = 10.0,
                dev_keys: Sequence[bytes] = ()) -> Chain:
    """Connects to a JSON-RPC node over HTTP(S); checks it answers (and its chain id)."""
    shown = redact_url(url)
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise RpcUnavailableError(shown, "only http:// and https:// endpoints are supported")
    provider = _Provider.make(url, shown, timeout)
    w3 = Web3(provider)
    try:
        chain_id = int(w3.eth.chain_id)
    except ChainError:
        raise
    except Exception as exc:  # requests / web3 / JSON errors: all mean "not a usable node"
        raise RpcUnavailableError(shown, _short_reason(exc, timeout)) from None
    if expected_chain_id is not None and chain_id != int(expected_chain_id):
        raise WrongChainError(int(expected_chain_id), chain_id, shown)
    return Chain(w3=w3, kind="rpc", chain_id=chain_id, url=shown, dev_keys=tuple(dev_keys))


def connect(rpc_url: str | None = None, expected_chain_id: int | None = None, *, timeout: float = 10.0) -> Chain:
    """The embedded chain when ``rpc_url`` is None, otherwise the node at ``rpc_url``.

    Raises :class:`RpcUnavailableError` (one line, with the URL) for an endpoint that does
    not answer, and :class:`WrongChainError` when ``expected_chain_id`` differs.
    """
    if rpc_url is None:
        chain = connect_embedded()
        if expected_chain_id is not None and chain.chain_id != int(expected_chain_id):
            raise WrongChainError(int(expected_chain_id), chain.chain_id, "embedded chain")
        return chain
    return connect_rpc(rpc_url, expected_chain_id, timeout=timeout)
