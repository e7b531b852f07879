"""Fiat-Shamir transcript on keccak256, byte-identical in Python and Solidity.

Encoding (the Solidity verifier reproduces it exactly)::

    state_0           = keccak256(DOMAIN)                       DOMAIN = b"zkllm-chain/transcript/v1"
    absorb(label, d)  : state = keccak256(state || 0x00 || label32 || d)
    challenge(label)  : state = keccak256(state || 0x01 || label32)
                        value = uint256(state) mod R

``label32`` is the ASCII label right-padded with zero bytes to 32 bytes (Solidity's
``bytes32("...")``). Field elements are absorbed as 32-byte big-endian words, G1
points in their 128-byte EIP-2537 encoding. The 0x00/0x01 tag separates absorbing
from squeezing, so no absorb can be confused with a challenge.

A challenge is a 256-bit hash reduced mod R; the most likely value has
probability 3/2^256, i.e. at least 254 bits of min-entropy.
"""
from __future__ import annotations

from typing import Iterable

from Crypto.Hash import keccak

from .field import R

DOMAIN = b"zkllm-chain/transcript/v1"


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def label32(label: str) -> bytes:
    raw = label.encode("ascii")
    if len(raw) > 32:
        raise ValueError(f"transcript label longer than 32 bytes: {label!r}")
    return raw.ljust(32, b"\0")


def fr_bytes(x: int) -> bytes:
    return (x % R).to_bytes(32, "big")


class Transcript:
    """A running keccak256 sponge. Every prover message must pass through ``absorb``."""

    def __init__(self, domain: bytes = DOMAIN):
        self.state = keccak256(domain)

    def absorb(self, label: str, data: bytes) -> None:
        self.state = keccak256(self.state + b"\x00" + label32(label) + data)

    def absorb_fr(self, label: str, x: int) -> None:
        self.absorb(label, fr_bytes(x))

    def absorb_frs(self, label: str, xs: Iterable[int]) -> None:
        self.absorb(label, b"".join(fr_bytes(x) for x in xs))

    def challenge(self, label: str) -> int:
        self.state = keccak256(self.state + b"\x01" + label32(label))
        return int.from_bytes(self.state, "big") % R

    def challenges(self, label: str, n: int) -> list[int]:
        return [self.challenge(label) for _ in range(n)]
