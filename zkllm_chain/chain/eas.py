"""The Ethereum Attestation Service (EAS) path: ``ZkllmResolver`` and the EAS calls it needs.

Two schemas are registered with a ``ZkllmResolver`` (``contracts/eas/ZkllmResolver.sol``):

* :data:`PROOF_SCHEMA`: the data carries ``abi.encode(uint256 modelId, bytes modelCommitment,
  uint256[] input, uint256[] output, bytes proof)`` (:func:`encode_inference`); EAS calls the
  resolver, which verifies the proof with the EAS attester as the bound attester. EAS stores
  the proof, which makes it the expensive path.
* :data:`RECORD_SCHEMA`: the data names a record of ``InferenceAttestations``
  (``abi.encode(bytes32 attestationUid, uint256 modelId, bytes32 inputHash, bytes32 outputHash)``,
  :func:`encode_record`) made by the same attester, whose proof ``attest`` already checked.

This module encodes that data,
deploys the resolver, registers the schema with an EAS ``SchemaRegistry`` and attests through
an ``EAS`` contract, using ABI fragments of the three EAS functions it calls (EAS itself is not
one of this project's artifacts). :func:`compile_eas` compiles EAS and its schema registry from
the pinned npm package for local test deployments (development only: it needs the npm
packages and solc 0.8.29 from ``scripts/install_node_tools.sh``).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from .accounts import Signer
from .attestations import _words, words_hash
from .backend import Chain
from .contracts import ContractClient, TxResult, call, transact
from .errors import ChainError, CompilationError
from .registry import to_bytes32

__all__ = [
    "PROOF_SCHEMA",
    "PROOF_SCHEMA_TYPES",
    "RECORD_SCHEMA",
    "RECORD_SCHEMA_TYPES",
    "encode_record",
    "EAS_VERSION",
    "encode_inference",
    "schema_uid",
    "ZkllmResolver",
    "EasClient",
    "EasAttestation",
    "compile_eas",
    "deploy_eas",
]

#: The schema strings registered with the resolver (``ZkllmResolver.PROOF_SCHEMA`` / ``RECORD_SCHEMA``).
PROOF_SCHEMA = "uint256 modelId,bytes modelCommitment,uint256[] input,uint256[] output,bytes proof"
PROOF_SCHEMA_TYPES = ["uint256", "bytes", "uint256[]", "uint256[]", "bytes"]
RECORD_SCHEMA = "bytes32 attestationUid,uint256 modelId,bytes32 inputHash,bytes32 outputHash"
RECORD_SCHEMA_TYPES = ["bytes32", "uint256", "bytes32", "bytes32"]
#: The pinned npm package of the EAS contracts (package.json) and the compiler they pin.
EAS_PACKAGE = "@ethereum-attestation-service/eas-contracts"
EAS_VERSION = "1.9.0"
EAS_SOLC_VERSION = "0.8.29"

_ATTESTATION_TUPLE = [
    {"name": "uid", "type": "bytes32"}, {"name": "schema", "type": "bytes32"},
    {"name": "time", "type": "uint64"}, {"name": "expirationTime", "type": "uint64"},
    {"name": "revocationTime", "type": "uint64"}, {"name": "refUID", "type": "bytes32"},
    {"name": "recipient", "type": "address"}, {"name": "attester", "type": "address"},
    {"name": "revocable", "type": "bool"}, {"name": "data", "type": "bytes"},
]
#: ABI fragments of the EAS and SchemaRegistry functions used here (from their interfaces).
EAS_ABI = [
    {"type": "function", "name": "attest", "stateMutability": "payable",
     "inputs": [{"name": "request", "type": "tuple", "components": [
         {"name": "schema", "type": "bytes32"},
         {"name": "data", "type": "tuple", "components": [
             {"name": "recipient", "type": "address"}, {"name": "expirationTime", "type": "uint64"},
             {"name": "revocable", "type": "bool"}, {"name": "refUID", "type": "bytes32"},
             {"name": "data", "type": "bytes"}, {"name": "value", "type": "uint256"}]}]}],
     "outputs": [{"name": "", "type": "bytes32"}]},
    {"type": "function", "name": "multiAttest", "stateMutability": "payable",
     "inputs": [{"name": "multiRequests", "type": "tuple[]", "components": [
         {"name": "schema", "type": "bytes32"},
         {"name": "data", "type": "tuple[]", "components": [
             {"name": "recipient", "type": "address"}, {"name": "expirationTime", "type": "uint64"},
             {"name": "revocable", "type": "bool"}, {"name": "refUID", "type": "bytes32"},
             {"name": "data", "type": "bytes"}, {"name": "value", "type": "uint256"}]}]}],
     "outputs": [{"name": "", "type": "bytes32[]"}]},
    {"type": "function", "name": "revoke", "stateMutability": "payable",
     "inputs": [{"name": "request", "type": "tuple", "components": [
         {"name": "schema", "type": "bytes32"},
         {"name": "data", "type": "tuple", "components": [
             {"name": "uid", "type": "bytes32"}, {"name": "value", "type": "uint256"}]}]}],
     "outputs": []},
    {"type": "function", "name": "getAttestation", "stateMutability": "view",
     "inputs": [{"name": "uid", "type": "bytes32"}],
     "outputs": [{"name": "", "type": "tuple", "components": _ATTESTATION_TUPLE}]},
    {"type": "event", "name": "Attested", "anonymous": False, "inputs": [
        {"name": "recipient", "type": "address", "indexed": True},
        {"name": "attester", "type": "address", "indexed": True},
        {"name": "uid", "type": "bytes32", "indexed": False},
        {"name": "schemaUID", "type": "bytes32", "indexed": True}]},
    {"type": "error", "name": "InvalidAttestation", "inputs": []},
    {"type": "error", "name": "InvalidSchema", "inputs": []},
    {"type": "error", "name": "NotPayable", "inputs": []},
]
SCHEMA_REGISTRY_ABI = [
    {"type": "function", "name": "register", "stateMutability": "nonpayable",
     "inputs": [{"name": "schema", "type": "string"}, {"name": "resolver", "type": "address"},
                {"name": "revocable", "type": "bool"}],
     "outputs": [{"name": "", "type": "bytes32"}]},
    {"type": "error", "name": "AlreadyExists", "inputs": []},
]


def encode_inference(model_id: int, model_commitment: bytes, input: Sequence[int], output: Sequence[int],
                     proof: bytes) -> bytes:
    """The attestation data of :data:`PROOF_SCHEMA`."""
    return abi_encode(PROOF_SCHEMA_TYPES, [int(model_id), bytes(model_commitment), _words(input), _words(output),
                                     bytes(proof)])


def encode_record(attestation_uid: bytes, model_id: int, input: Sequence[int], output: Sequence[int]) -> bytes:
    """The attestation data of :data:`RECORD_SCHEMA` for the ``InferenceAttestations`` record
    ``attestation_uid`` of (model_id, input, output)."""
    return abi_encode(RECORD_SCHEMA_TYPES, [to_bytes32(attestation_uid), int(model_id), words_hash(input),
                                            words_hash(output)])


def schema_uid(resolver: str, revocable: bool, schema: str = PROOF_SCHEMA) -> bytes:
    """EAS schema uid: keccak256(abi.encodePacked(schema, resolver, revocable))."""
    return keccak(schema.encode() + bytes.fromhex(to_checksum_address(resolver)[2:]) + bytes([bool(revocable)]))


@dataclass(frozen=True)
class EasAttestation:
    uid: bytes
    schema: bytes
    time: int
    expiration_time: int
    revocation_time: int
    ref_uid: bytes
    recipient: str
    attester: str
    revocable: bool
    data: bytes


class ZkllmResolver(ContractClient):
    NAME = "ZkllmResolver"

    @classmethod
    def deploy(cls, chain: Chain, eas_address: str, attestations_address: str, signer: Signer | None = None,
               gas: int | None = None) -> "ZkllmResolver":
        return cls._deploy(chain, to_checksum_address(eas_address), to_checksum_address(attestations_address),
                           signer=signer, gas=gas)

    def is_valid(self, uid: bytes | str) -> bool:
        """Whether the EAS attestation ``uid`` is of this resolver's schema, unrevoked, unexpired,
        and its model not revoked in the registry."""
        return bool(call(self.chain, self.contract.functions.isValid(to_bytes32(uid))))

    def supports_interface(self, interface_id: bytes) -> bool:
        return bool(call(self.chain, self.contract.functions.supportsInterface(bytes(interface_id))))


class EasClient:
    """The EAS contract at ``eas_address`` and its schema registry at ``registry_address``."""

    def __init__(self, chain: Chain, eas_address: str, schema_registry_address: str,
                 signer: Signer | None = None):
        self.chain = chain
        self.signer = signer
        self.eas = chain.w3.eth.contract(address=to_checksum_address(eas_address), abi=EAS_ABI)
        self.schema_registry = chain.w3.eth.contract(address=to_checksum_address(schema_registry_address),
                                                     abi=SCHEMA_REGISTRY_ABI)

    def register_schema(self, resolver: str, revocable: bool = True, schema: str = PROOF_SCHEMA, *,
                        signer: Signer | None = None) -> bytes:
        """Registers ``schema`` with ``resolver``; returns its uid."""
        fn = self.schema_registry.functions.register(schema, to_checksum_address(resolver), bool(revocable))
        transact(self.chain, fn, signer=signer or self.signer)
        return schema_uid(resolver, revocable, schema)

    def attest(self, schema: bytes, data: bytes, *, recipient: str | None = None, revocable: bool = True,
               expiration_time: int = 0, signer: Signer | None = None,
               gas: int | None = None) -> tuple[bytes, TxResult]:
        """Attests ``data`` under ``schema``; returns (EAS uid, transaction). A refusal of the
        resolver raises :class:`~zkllm_chain.chain.errors.TransactionRevertedError`."""
        request = (to_bytes32(schema), (to_checksum_address(recipient or "0x" + "00" * 20), int(expiration_time),
                                        bool(revocable), b"\0" * 32, bytes(data), 0))
        tx = transact(self.chain, self.eas.functions.attest(request), signer=signer or self.signer, gas=gas)
        events = tx.events(self.eas, "Attested")
        if not events:
            raise ChainError(f"EAS attest mined without an Attested event [tx {tx.tx_hash}]")
        return bytes(events[0]["uid"]), tx

    def multi_attest(self, schema: bytes, datas: Sequence[bytes], *, revocable: bool = True,
                     signer: Signer | None = None, gas: int | None = None) -> tuple[list[bytes], TxResult]:
        """Attests every item of ``datas`` under ``schema`` in one transaction (EAS calls the
        resolver's ``multiAttest``); returns (EAS uids, transaction)."""
        items = [("0x" + "00" * 20, 0, bool(revocable), b"\0" * 32, bytes(d), 0) for d in datas]
        fn = self.eas.functions.multiAttest([(to_bytes32(schema), items)])
        tx = transact(self.chain, fn, signer=signer or self.signer, gas=gas)
        return [bytes(e["uid"]) for e in tx.events(self.eas, "Attested")], tx

    def revoke(self, schema: bytes, uid: bytes, *, signer: Signer | None = None) -> TxResult:
        fn = self.eas.functions.revoke((to_bytes32(schema), (to_bytes32(uid), 0)))
        return transact(self.chain, fn, signer=signer or self.signer)

    def get_attestation(self, uid: bytes | str) -> EasAttestation:
        a = call(self.chain, self.eas.functions.getAttestation(to_bytes32(uid)))
        return EasAttestation(uid=bytes(a[0]), schema=bytes(a[1]), time=int(a[2]), expiration_time=int(a[3]),
                              revocation_time=int(a[4]), ref_uid=bytes(a[5]), recipient=to_checksum_address(a[6]),
                              attester=to_checksum_address(a[7]), revocable=bool(a[8]), data=bytes(a[9]))


_IMPORT_RE = re.compile(r'^\s*import\s+(?:[^"\']*\bfrom\s+)?["\']([^"\']+)["\']', re.M)


def _resolve(unit: str, target: str) -> str:
    if not target.startswith("."):
        return target
    parts = unit.split("/")[:-1]
    for piece in target.split("/"):
        if piece == "..":
            parts.pop()
        elif piece not in (".", ""):
            parts.append(piece)
    return "/".join(parts)


def _eas_sources(node_modules: Path, roots: Sequence[str]) -> dict[str, str]:
    """Source unit name -> text for ``roots`` and everything they import (transitively)."""
    out: dict[str, str] = {}
    todo = list(roots)
    while todo:
        unit = todo.pop()
        if unit in out:
            continue
        path = node_modules / unit
        if not path.is_file():
            raise CompilationError(f"{unit} is not in {node_modules}; run scripts/install_node_tools.sh")
        out[unit] = path.read_text(encoding="utf-8")
        todo.extend(_resolve(unit, t) for t in _IMPORT_RE.findall(out[unit]))
    return out


def compile_eas(cache_dir: str | Path | None = None) -> dict[str, dict]:
    """Compiles ``EAS`` and ``SchemaRegistry`` of the pinned npm package with solc 0.8.29;
    returns ``{name: {"abi", "bytecode"}}``. With ``cache_dir`` the output is kept in
    ``cache_dir/eas-<version>.json`` and read from there next time."""
    from ._node import find_package
    from .solc import _run, find_solc

    cache = Path(cache_dir) / f"eas-{EAS_VERSION}.json" if cache_dir else None
    if cache is not None and cache.is_file():
        return json.loads(cache.read_text())
    pkg = find_package(EAS_PACKAGE, EAS_VERSION)
    if pkg is None:
        raise CompilationError(f"npm package {EAS_PACKAGE}@{EAS_VERSION} is not installed; "
                               "run scripts/install_node_tools.sh")
    node_modules = pkg.parents[1]
    roots = [f"{EAS_PACKAGE}/contracts/EAS.sol", f"{EAS_PACKAGE}/contracts/SchemaRegistry.sol"]
    sources = _eas_sources(node_modules, roots)
    settings = {"evmVersion": "cancun", "optimizer": {"enabled": True, "runs": 200}, "viaIR": False}
    output = _run(find_solc(version=EAS_SOLC_VERSION), sources, settings)
    out = {}
    for unit in roots:
        name = Path(unit).stem
        c = output["contracts"][unit][name]
        out[name] = {"abi": c["abi"], "bytecode": "0x" + c["evm"]["bytecode"]["object"]}
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps(out))
        tmp.replace(cache)
    return out


def deploy_eas(chain: Chain, compiled: dict[str, dict], signer: Signer, gas: int = 8_000_000) -> EasClient:
    """Deploys a ``SchemaRegistry`` and an ``EAS`` on it (from :func:`compile_eas`), for tests
    and local demos; returns the client."""
    from .contracts import _send

    def create(name: str, args: bytes = b"") -> str:
        data = compiled[name]["bytecode"] + args.hex()
        tx = _send(chain, {"to": None, "data": data, "value": 0}, signer, f"{name} constructor", gas=gas,
                   preflight=True, timeout=120)
        if not tx.contract_address:
            raise ChainError(f"deployment of {name} mined without a contract address [tx {tx.tx_hash}]")
        return to_checksum_address(tx.contract_address)

    registry = create("SchemaRegistry")
    eas = create("EAS", abi_encode(["address"], [registry]))
    return EasClient(chain, eas, registry, signer)
