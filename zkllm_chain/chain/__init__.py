"""On-chain side of zkllm-chain: contracts, artifacts, deployment and typed clients.

Public names (imported lazily, so ``import zkllm_chain.chain.errors`` stays cheap):

* connecting: :func:`connect`, :class:`Chain`, :class:`AnvilNode`
* keys: :func:`load_signer`, :class:`Signer`
* contracts: :func:`deploy`, :func:`transact`, :func:`call`, :func:`load_artifact`,
  :func:`deploy_stack`, :func:`write_deployment`
* clients: :class:`ModelRegistry`, :class:`InferenceAttestations`, :class:`ExampleConsumer`,
  :class:`ZkllmResolver` and :class:`EasClient` (the EAS path, :mod:`zkllm_chain.chain.eas`)
* compiling (development only): :func:`find_solc`, :func:`compile_contracts`
* errors: :class:`ChainError` and its subclasses in :mod:`zkllm_chain.chain.errors`
"""
from __future__ import annotations

import importlib
from typing import Any

from .errors import (  # noqa: F401  (errors are cheap and always wanted)
    AnvilError,
    ArtifactError,
    ChainError,
    CompilationError,
    CompilerNotFoundError,
    InsufficientFundsError,
    MissingKeyError,
    RpcUnavailableError,
    TransactionRevertedError,
    UnknownModelError,
    WrongChainError,
)

_LAZY = {
    "Chain": "backend",
    "connect": "backend",
    "AnvilNode": "anvil",
    "Signer": "accounts",
    "load_signer": "accounts",
    "deploy": "contracts",
    "transact": "contracts",
    "call": "contracts",
    "decode_revert": "contracts",
    "load_artifact": "artifacts",
    "deploy_stack": "deployments",
    "write_deployment": "deployments",
    "ModelRegistry": "registry",
    "ModelStatus": "registry",
    "model_digest": "registry",
    "InferenceAttestations": "attestations",
    "ExampleConsumer": "attestations",
    "attestation_uid": "attestations",
    "words_hash": "attestations",
    "ZkllmResolver": "eas",
    "EasClient": "eas",
    "find_solc": "solc",
    "compile_contracts": "solc",
}

__all__ = sorted(
    [*_LAZY, "AnvilError", "ArtifactError", "ChainError", "CompilationError", "CompilerNotFoundError",
     "InsufficientFundsError", "MissingKeyError", "RpcUnavailableError", "TransactionRevertedError",
     "UnknownModelError", "WrongChainError"]
)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
