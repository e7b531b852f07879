"""The attester a statement is bound to: the account that may post its proof on-chain.

Every proof absorbs a 20-byte address (label ``statement/attester``, left-padded to 32 bytes,
right after the circuit digest), and ``InferenceAttestations.attest`` hands the verifier its
``msg.sender``. A proof made for one account therefore fails for any other: copying an
``attest`` transaction from the mempool and sending it from another account is a false
proof, not a stolen attribution. ``NONE`` (the zero address) binds a proof to no account
that can send a transaction: such a proof verifies off-chain and through a plain ``verify``
call with attester zero, but no attestation can be made from it.
"""
from __future__ import annotations

from .errors import MalformedError

NONE = bytes(20)


def parse(value) -> bytes:
    """20 address bytes from ``bytes`` or a 0x-prefixed hex string (``None``: ``NONE``);
    ``MalformedError`` for anything else."""
    if value is None:
        return NONE
    if isinstance(value, (bytes, bytearray)) and len(value) == 20:
        return bytes(value)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    raise MalformedError(f"attester must be a 0x-prefixed 20-byte address, got {value!r}")


def to_hex(a: bytes) -> str:
    return "0x" + bytes(a).hex()


def word(a: bytes) -> bytes:
    """The 32-byte word the transcripts absorb (the address left-padded, as the EVM holds it)."""
    return bytes(12) + parse(a)
