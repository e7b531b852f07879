"""Typed access to ``InferenceAttestations`` and ``ExampleConsumer``, and the hashes they use.

``words_hash(values)`` is keccak256 of the 32-byte big-endian words of ``values`` laid end
to end (Solidity ``keccak256(abi.encodePacked(uint256[]))``), and
``attestation_uid(chain_id, contract, model_id, input, output)`` is
``keccak256(abi.encode(chain_id, contract, model_id, words_hash(input), words_hash(output)))``
(the chain and the attestations contract are part of the id, as in EAS, so that deployments
never share ids).

ERC-7992 (draft) ``verifyInference(modelId, inputCommitment, output, proof)`` takes
``inputCommitment = words_hash(input)``, ``output = pack_words(output)`` and
``proof = pack_inference_proof(model_commitment, input, proof)``
(``abi.encode(bytes, uint256[], bytes)``); :meth:`InferenceAttestations.verify_inference`
builds all three.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from .accounts import Signer
from .backend import Chain
from .contracts import ContractClient, TxResult, call, transact
from .registry import to_bytes32

__all__ = [
    "words_hash",
    "pack_words",
    "pack_inference_proof",
    "attestation_uid",
    "AttestationInfo",
    "AttestResult",
    "InferenceAttestations",
    "ExampleConsumer",
]

_WORD = 1 << 256


def _words(values: Sequence[int]) -> list[int]:
    out = []
    for v in values:
        v = int(v)
        if not 0 <= v < _WORD:
            raise ValueError(f"value {v} does not fit in uint256")
        out.append(v)
    return out


def words_hash(values: Sequence[int]) -> bytes:
    return keccak(b"".join(v.to_bytes(32, "big") for v in _words(values)))


def pack_words(values: Sequence[int]) -> bytes:
    """The 32-byte big-endian words of ``values`` end to end (``abi.encodePacked(uint256[])``):
    the ERC-7992 ``output`` bytes."""
    return b"".join(v.to_bytes(32, "big") for v in _words(values))


def pack_inference_proof(model_commitment: bytes, input: Sequence[int], proof: bytes) -> bytes:
    """The ERC-7992 ``proof`` bytes: ``abi.encode(bytes modelCommitment, uint256[] input, bytes proof)``."""
    return abi_encode(["bytes", "uint256[]", "bytes"], [bytes(model_commitment), _words(input), bytes(proof)])


def attestation_uid(chain_id: int, contract: str, model_id: int, input: Sequence[int], output: Sequence[int]) -> bytes:
    return keccak(abi_encode(["uint256", "address", "uint256", "bytes32", "bytes32"],
                             [int(chain_id), to_checksum_address(contract), int(model_id), words_hash(input),
                              words_hash(output)]))


@dataclass(frozen=True)
class AttestationInfo:
    uid: bytes
    model_id: int
    input_hash: bytes
    output_hash: bytes
    statement_hash: bytes
    attester: str
    block_number: int
    time: int
    output: tuple[int, ...]


@dataclass(frozen=True)
class AttestResult:
    uid: bytes
    created: bool  # False when the inference was already attested
    tx: TxResult


class InferenceAttestations(ContractClient):
    NAME = "InferenceAttestations"

    @classmethod
    def deploy(cls, chain: Chain, registry_address: str, signer: Signer | None = None,
               gas: int | None = None) -> "InferenceAttestations":
        return cls._deploy(chain, to_checksum_address(registry_address), signer=signer, gas=gas)

    def registry_address(self) -> str:
        return to_checksum_address(call(self.chain, self.contract.functions.registry()))

    def attest(self, model_id: int, model_commitment: bytes, input: Sequence[int], output: Sequence[int],
               proof: bytes, *, signer: Signer | None = None, gas: int | None = None) -> AttestResult:
        """Proves and records one inference. A rejected proof raises
        :class:`~zkllm_chain.chain.errors.TransactionRevertedError` carrying the verifier's error."""
        fn = self.contract.functions.attest(int(model_id), bytes(model_commitment), _words(input), _words(output),
                                            bytes(proof))
        tx = transact(self.chain, fn, signer=signer or self.signer, gas=gas)
        events = tx.events(self.contract, "InferenceAttested")
        uid = bytes(events[0]["uid"]) if events else attestation_uid(self.chain.chain_id, self.address, model_id,
                                                                     input, output)
        return AttestResult(uid=uid, created=bool(events), tx=tx)

    def verify_inference(self, model_id: int, model_commitment: bytes, input: Sequence[int], output: Sequence[int],
                         proof: bytes, *, input_commitment: bytes | None = None, output_bytes: bytes | None = None,
                         packed_proof: bytes | None = None, signer: Signer | None = None,
                         gas: int | None = None) -> TxResult:
        """ERC-7992 ``verifyInference``: checks the proof (always) and records the attestation if
        it is new; raises :class:`~zkllm_chain.chain.errors.TransactionRevertedError` on any
        failure. ``input_commitment`` / ``output_bytes`` / ``packed_proof`` replace the values
        derived from the other arguments (to send inconsistent ones)."""
        fn = self.contract.functions.verifyInference(
            int(model_id), words_hash(input) if input_commitment is None else to_bytes32(input_commitment),
            pack_words(output) if output_bytes is None else bytes(output_bytes),
            pack_inference_proof(model_commitment, input, proof) if packed_proof is None else bytes(packed_proof))
        return transact(self.chain, fn, signer=signer or self.signer, gas=gas)

    def supports_interface(self, interface_id: bytes) -> bool:
        return bool(call(self.chain, self.contract.functions.supportsInterface(bytes(interface_id))))

    def proof_system_of(self, model_id: int) -> bytes:
        return bytes(call(self.chain, self.contract.functions.proofSystemOf(int(model_id))))

    def is_attested(self, model_id: int, input: Sequence[int], output: Sequence[int]) -> bool:
        return bool(call(self.chain, self.contract.functions.isAttested(int(model_id), _words(input), _words(output))))

    def attestation_uid(self, model_id: int, input: Sequence[int], output: Sequence[int]) -> bytes:
        return bytes(call(self.chain, self.contract.functions.attestationUid(int(model_id), _words(input),
                                                                               _words(output))))

    def get_attestation(self, uid: bytes | str) -> AttestationInfo:
        a = call(self.chain, self.contract.functions.getAttestation(to_bytes32(uid)))
        return AttestationInfo(
            uid=bytes(a[0]), model_id=int(a[1]), input_hash=bytes(a[2]), output_hash=bytes(a[3]),
            statement_hash=bytes(a[4]), attester=to_checksum_address(a[5]), block_number=int(a[6]),
            time=int(a[7]), output=tuple(int(x) for x in a[8]),
        )

    def attestation_count(self) -> int:
        return int(call(self.chain, self.contract.functions.attestationCount()))


class ExampleConsumer(ContractClient):
    NAME = "ExampleConsumer"

    @classmethod
    def deploy(cls, chain: Chain, attestations_address: str, reward_wei: int = 0, signer: Signer | None = None,
               gas: int | None = None) -> "ExampleConsumer":
        return cls._deploy(chain, to_checksum_address(attestations_address), int(reward_wei), signer=signer,
                           gas=gas)

    def pin_model(self, model_id: int, verifier: str, *, signer: Signer | None = None,
                  gas: int | None = None) -> TxResult:
        """Pins the one model (and the verifier its registry entry names) whose attestations
        this consumer pays for; only its deployer can, once."""
        fn = self.contract.functions.pinModel(int(model_id), to_checksum_address(verifier))
        return transact(self.chain, fn, signer=signer or self.signer, gas=gas)

    def trusted_model(self) -> tuple[int, str]:
        return (int(call(self.chain, self.contract.functions.trustedModelId())),
                to_checksum_address(call(self.chain, self.contract.functions.trustedVerifier())))

    def claim_reward(self, model_id: int, input: Sequence[int], output: Sequence[int], *,
                     signer: Signer | None = None, gas: int | None = None) -> TxResult:
        """Pays the reward of an attested inference of the pinned model to its attester."""
        fn = self.contract.functions.claimReward(int(model_id), _words(input), _words(output))
        return transact(self.chain, fn, signer=signer or self.signer, gas=gas)

    def claimed_by(self, uid: bytes | str) -> str | None:
        who = to_checksum_address(call(self.chain, self.contract.functions.claimedBy(to_bytes32(uid))))
        return None if int(who, 16) == 0 else who
