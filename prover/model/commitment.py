"""Model commitments: every weight tensor committed once, under one digest.

Encoding (hashed on-chain as well; ``digest = keccak256(encoding)``)::

    b"ZKLM" | version u16 | arch_hash (32) | count u16 | count x G1 (128-byte EIP-2537)

``arch_hash`` = keccak256 of the canonical JSON of the architecture and the
quantization spec. Commitments are hiding (blinded): the weights stay private with
the model owner's ``CommittedModel``, which the prover needs.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass

import torch

from ..errors import MalformedError
from ..quant import QuantSpec
from ..transcript import keccak256

MAGIC = b"ZKLM"
VERSION = 1


def arch_hash(arch: dict, quant: QuantSpec) -> bytes:
    doc = {"arch": arch, "quant": json.loads(quant.to_json())}
    return keccak256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())


@dataclass
class ModelCommitment:
    arch: dict
    quant: QuantSpec
    names: list[str]
    points: list  # G1 commitments, same order as names

    def encode(self) -> bytes:
        from ..pcs.curve import g1_to_bytes
        return (MAGIC + struct.pack(">H", VERSION) + arch_hash(self.arch, self.quant)
                + struct.pack(">H", len(self.points)) + b"".join(g1_to_bytes(p) for p in self.points))

    def digest(self) -> bytes:
        return keccak256(self.encode())

    def to_json(self) -> str:
        return json.dumps({"format": "zkllm-model-commitment", "version": VERSION, "arch": self.arch,
                           "quant": json.loads(self.quant.to_json()), "names": self.names,
                           "encoding": self.encode().hex(), "digest": "0x" + self.digest().hex()}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "ModelCommitment":
        from ..pcs.curve import g1_from_bytes
        try:
            doc = json.loads(text)
            arch, quant, names = doc["arch"], QuantSpec(**doc["quant"]), list(doc["names"])
            enc = bytes.fromhex(doc["encoding"])
        except (ValueError, KeyError, TypeError) as e:
            raise MalformedError(f"not a model commitment file: {e}") from e
        if enc[:4] != MAGIC or len(enc) < 40:
            raise MalformedError("model commitment: bad magic")
        (count,) = struct.unpack(">H", enc[38:40])
        if len(enc) != 40 + 128 * count or count != len(names):
            raise MalformedError("model commitment: wrong length")
        if enc[6:38] != arch_hash(arch, quant):
            raise MalformedError("model commitment: architecture hash does not match")
        pts = [g1_from_bytes(enc[40 + 128 * i:168 + 128 * i]) for i in range(count)]
        return cls(arch, quant, names, pts)


@dataclass
class CommittedModel:
    """The model owner's private side: quantized weights and commitment blinds."""
    commitment: ModelCommitment
    params: dict[str, torch.Tensor]
    blinds: dict[str, int]

    def save(self, path) -> None:
        torch.save({"commitment": self.commitment.to_json(), "params": self.params,
                    "blinds": {k: hex(v) for k, v in self.blinds.items()}}, path)

    @classmethod
    def load(cls, path) -> "CommittedModel":
        d = torch.load(path, weights_only=True)
        return cls(ModelCommitment.from_json(d["commitment"]), d["params"],
                   {k: int(v, 16) for k, v in d["blinds"].items()})
