"""Typed access to a deployed ``ModelRegistry``.

>>> reg = ModelRegistry.deploy(chain)
>>> model_id = reg.register(model_digest(commitment), circuit, quant, vk, verifier_address).model_id
>>> reg.get_model(model_id).status
<ModelStatus.ACTIVE: 0>
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from eth_utils import keccak, to_checksum_address

from .accounts import Signer
from .backend import Chain
from .contracts import ContractClient, TxResult, call, transact
from .errors import TransactionRevertedError

__all__ = ["ModelStatus", "ModelInfo", "Registration", "ModelRegistry", "model_digest", "to_bytes32"]


class ModelStatus(IntEnum):
    ACTIVE = 0
    DEPRECATED = 1
    REVOKED = 2


@dataclass(frozen=True)
class ModelInfo:
    model_id: int
    model_digest: bytes
    circuit_digest: bytes
    quant_digest: bytes
    vk_digest: bytes
    owner: str
    registered_at: int
    verifier_version: int
    verifier: str
    status: ModelStatus
    updated_at: int
    uri: str


@dataclass(frozen=True)
class Registration:
    model_id: int
    tx: TxResult


def to_bytes32(value: bytes | str | int) -> bytes:
    """32 bytes from bytes, a 0x-hex string, or an int (big-endian)."""
    if isinstance(value, int):
        return value.to_bytes(32, "big")
    if isinstance(value, str):
        value = bytes.fromhex(value.removeprefix("0x"))
    value = bytes(value)
    if len(value) != 32:
        raise ValueError(f"expected 32 bytes, got {len(value)}")
    return value


def model_digest(model_commitment: bytes) -> bytes:
    """keccak256 of a serialized model commitment (the registry key)."""
    return keccak(bytes(model_commitment))


class ModelRegistry(ContractClient):
    """A deployed registry. ``signer`` is used for writes unless a call passes its own."""

    NAME = "ModelRegistry"

    @classmethod
    def deploy(cls, chain: Chain, signer: Signer | None = None, gas: int | None = None) -> "ModelRegistry":
        return cls._deploy(chain, signer=signer, gas=gas)

    def _tx(self, fn, signer: Signer | None, gas: int | None) -> TxResult:
        return transact(self.chain, fn, signer=signer or self.signer, gas=gas)

    # ------------------------------------------------------------------ writes
    def register(self, model_digest: bytes | str, circuit_digest: bytes | str, quant_digest: bytes | str,
                 vk_digest: bytes | str, verifier: str, verifier_version: int = 1, uri: str = "", *,
                 signer: Signer | None = None, gas: int | None = None) -> Registration:
        fn = self.contract.functions.register(
            to_bytes32(model_digest), to_bytes32(circuit_digest), to_bytes32(quant_digest),
            to_bytes32(vk_digest), to_checksum_address(verifier), int(verifier_version), uri,
        )
        tx = self._tx(fn, signer, gas)
        events = tx.events(self.contract, "ModelRegistered")
        if len(events) != 1:
            raise TransactionRevertedError(None, function="register", tx_hash=tx.tx_hash,
                                           detail="no ModelRegistered event in the receipt")
        return Registration(model_id=int(events[0]["modelId"]), tx=tx)

    def transfer_ownership(self, model_id: int, new_owner: str, *, signer: Signer | None = None,
                           gas: int | None = None) -> TxResult:
        """Step one of two: names ``new_owner`` as pending owner (the zero address cancels);
        the owner changes when ``new_owner`` calls :meth:`accept_ownership`."""
        fn = self.contract.functions.transferOwnership(int(model_id), to_checksum_address(new_owner))
        return self._tx(fn, signer, gas)

    def accept_ownership(self, model_id: int, *, signer: Signer | None = None, gas: int | None = None) -> TxResult:
        """Step two: the pending owner (``signer``) takes the entry."""
        return self._tx(self.contract.functions.acceptOwnership(int(model_id)), signer, gas)

    def pending_owner_of(self, model_id: int) -> str:
        return to_checksum_address(call(self.chain, self.contract.functions.pendingOwnerOf(int(model_id))))

    def deprecate(self, model_id: int, *, signer: Signer | None = None, gas: int | None = None) -> TxResult:
        return self._tx(self.contract.functions.deprecate(int(model_id)), signer, gas)

    def revoke(self, model_id: int, *, signer: Signer | None = None, gas: int | None = None) -> TxResult:
        return self._tx(self.contract.functions.revoke(int(model_id)), signer, gas)

    def set_uri(self, model_id: int, uri: str, *, signer: Signer | None = None, gas: int | None = None) -> TxResult:
        return self._tx(self.contract.functions.setUri(int(model_id), uri), signer, gas)

    # ------------------------------------------------------------------ reads
    def get_model(self, model_id: int) -> ModelInfo:
        """The entry; raises :class:`~zkllm_chain.chain.errors.UnknownModelError` if none."""
        m = call(self.chain, self.contract.functions.getModel(int(model_id)))
        return ModelInfo(
            model_id=int(model_id),
            model_digest=bytes(m[0]),
            circuit_digest=bytes(m[1]),
            quant_digest=bytes(m[2]),
            vk_digest=bytes(m[3]),
            owner=to_checksum_address(m[4]),
            registered_at=int(m[5]),
            verifier_version=int(m[6]),
            verifier=to_checksum_address(m[7]),
            status=ModelStatus(int(m[8])),
            updated_at=int(m[9]),
            uri=str(m[10]),
        )

    def model_id_of(self, model_digest: bytes | str, registrant: str) -> int:
        """The id that ``registrant`` registered for a digest; raises ``UnknownModelError`` if
        none. (A digest alone names no entry: anyone may register any digest.)"""
        return int(call(self.chain, self.contract.functions.modelIdOf(to_bytes32(model_digest),
                                                                       to_checksum_address(registrant))))

    def is_active(self, model_id: int) -> bool:
        return bool(call(self.chain, self.contract.functions.isActive(int(model_id))))

    def status_of(self, model_id: int) -> ModelStatus:
        return ModelStatus(int(call(self.chain, self.contract.functions.statusOf(int(model_id)))))

    def supports_interface(self, interface_id: bytes) -> bool:
        """ERC-165 (the registry answers IERC165 only)."""
        return bool(call(self.chain, self.contract.functions.supportsInterface(bytes(interface_id))))

    def model_count(self) -> int:
        return int(call(self.chain, self.contract.functions.modelCount()))
