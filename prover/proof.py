"""The proof wire format: versioned, length-checked, every item validated on parse.

    magic   4 bytes  b"ZKLP"
    version u16      (big-endian) currently 3
    circuit 32 bytes digest of the circuit the proof is for
    n_g1    u32      number of G1 points
    n_fr    u32      number of field elements
    g1      n_g1 x 128 bytes   EIP-2537 encodings, in the order they were sent
    fr      n_fr x 32 bytes    big-endian, each < r, in the order they were sent

The items are the prover's messages in transcript order, split into two typed
streams; the verifier consumes them in the same order (``channel.VerifierChannel``).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from .errors import MalformedError, MalformedProofError
from .field import R

MAGIC = b"ZKLP"
VERSION = 3  # 2: sumcheck rounds omit c_0; 3: one zero-sum lookup sumcheck (no sigma), the batch
           # opening sends no evaluations (Phi-opening)
HEADER = 4 + 2 + 32 + 4 + 4
G1_LEN = 128
FR_LEN = 32


@dataclass
class Proof:
    circuit_digest: bytes
    g1s: list          # G1 points
    g1_bytes: list     # their encodings
    frs: list[int]

    def to_bytes(self) -> bytes:
        head = MAGIC + struct.pack(">H", VERSION) + self.circuit_digest + struct.pack(">II", len(self.g1s), len(self.frs))
        return head + b"".join(self.g1_bytes) + b"".join(x.to_bytes(32, "big") for x in self.frs)

    @classmethod
    def from_items(cls, circuit_digest: bytes, g1s: list, frs: list[int]) -> "Proof":
        from .pcs.curve import g1_to_bytes
        return cls(circuit_digest, list(g1s), [g1_to_bytes(p) for p in g1s], list(frs))

    @classmethod
    def from_bytes(cls, data: bytes) -> "Proof":
        """Parse and validate untrusted bytes; raises ``MalformedProofError``."""
        from .pcs.curve import g1_from_bytes
        if not isinstance(data, (bytes, bytearray)):
            raise MalformedProofError("proof must be bytes")
        data = bytes(data)
        if len(data) < HEADER:
            raise MalformedProofError(f"proof is {len(data)} bytes, shorter than its {HEADER}-byte header")
        if data[:4] != MAGIC:
            raise MalformedProofError("not a zkllm proof (bad magic bytes)")
        (version,) = struct.unpack(">H", data[4:6])
        if version != VERSION:
            raise MalformedProofError(f"proof format version {version} is not supported (expected {VERSION})")
        digest = data[6:38]
        n_g1, n_fr = struct.unpack(">II", data[38:46])
        expected = HEADER + n_g1 * G1_LEN + n_fr * FR_LEN
        if len(data) != expected:
            raise MalformedProofError(f"proof is {len(data)} bytes but its header announces {expected}")
        off = HEADER
        g1b, g1s = [], []
        for i in range(n_g1):
            b = data[off:off + G1_LEN]
            try:
                g1s.append(g1_from_bytes(b))
            except MalformedError as e:
                raise MalformedProofError(f"G1 point {i}: {e}") from e
            g1b.append(b)
            off += G1_LEN
        frs = []
        for i in range(n_fr):
            x = int.from_bytes(data[off:off + FR_LEN], "big")
            if x >= R:
                raise MalformedProofError(f"field element {i} is not canonical (>= r)")
            frs.append(x)
            off += FR_LEN
        return cls(digest, g1s, g1b, frs)
