"""Model commitments: every weight tensor committed once, under one digest.

Encoding (hashed on-chain as well; ``digest = keccak256(encoding)``)::

    b"ZKLM" | version u16 | arch_len u16 | arch (``model.arch.encode_arch``)
           | count u16 | count x G1 (128-byte EIP-2537), in ``Circuit.model_tensors`` order

The encoding is self-contained: a verifier (also the on-chain one) rebuilds the
proof schedule from the architecture bytes it carries. Commitments are hiding (blinded): the weights stay private with
the model owner's ``CommittedModel``, which the prover needs.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass

import torch

from ..errors import MalformedError
from ..quant import QuantSpec
from .arch import decode_arch, encode_arch
from ..transcript import keccak256

MAGIC = b"ZKLM"
VERSION = 1




@dataclass
class ModelCommitment:
    arch: dict
    quant: QuantSpec
    names: list[str]
    points: list  # G1 commitments, same order as names

    def encode(self) -> bytes:
        from ..pcs.curve import g1_to_bytes
        arch = encode_arch(self.arch, self.quant)
        return (MAGIC + struct.pack(">HH", VERSION, len(arch)) + arch
                + struct.pack(">H", len(self.points)) + b"".join(g1_to_bytes(p) for p in self.points))

    def digest(self) -> bytes:
        return keccak256(self.encode())

    def to_json(self) -> str:
        return json.dumps({"format": "zkllm-model-commitment", "version": VERSION, "arch": self.arch,
                           "quant": json.loads(self.quant.to_json()), "names": self.names,
                           "encoding": self.encode().hex(), "digest": "0x" + self.digest().hex()}, indent=1)

    @classmethod
    def decode(cls, enc: bytes) -> "ModelCommitment":
        """Parse the binary encoding (untrusted bytes)."""
        from ..circuit import compile_mlp
        from ..pcs.curve import g1_from_bytes
        if len(enc) < 8 or enc[:4] != MAGIC:
            raise MalformedError("model commitment: bad magic")
        version, alen = struct.unpack(">HH", enc[4:8])
        if version != VERSION:
            raise MalformedError(f"model commitment: unsupported version {version}")
        arch, quant = decode_arch(enc[8:8 + alen])
        off = 8 + alen
        if len(enc) < off + 2:
            raise MalformedError("model commitment: truncated")
        (count,) = struct.unpack(">H", enc[off:off + 2])
        off += 2
        if len(enc) != off + 128 * count:
            raise MalformedError("model commitment: wrong length")
        try:
            names = compile_mlp(arch, quant).model_tensors()
        except (ValueError, ArithmeticError) as e:
            raise MalformedError(f"model commitment: invalid architecture: {e}") from e
        if len(names) != count:
            raise MalformedError(f"model commitment: {count} commitments, the architecture has {len(names)} tensors")
        pts = [g1_from_bytes(enc[off + 128 * i:off + 128 * (i + 1)]) for i in range(count)]
        return cls(arch, quant, names, pts)

    @classmethod
    def from_json(cls, text: str) -> "ModelCommitment":
        try:
            enc = bytes.fromhex(json.loads(text)["encoding"])
        except (ValueError, KeyError, TypeError) as e:
            raise MalformedError(f"not a model commitment file: {e}") from e
        return cls.decode(enc)


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
