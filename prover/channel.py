"""Prover and verifier ends of the non-interactive channel.

Protocol code is written once against this interface: the prover *sends* a field
element or a G1 point, the verifier *receives* it, and both absorb it into the
same transcript under the same label before any later challenge. The proof is the
sequence of sent items, kept as two typed streams (points and field elements) so
that every item can be validated when the proof bytes are parsed.
"""
from __future__ import annotations

from typing import Sequence

from .errors import MalformedProofError
from .transcript import Transcript


def _g1_bytes(point) -> bytes:
    from .pcs.curve import g1_to_bytes
    return g1_to_bytes(point)


class ProverChannel:
    def __init__(self, transcript: Transcript):
        self.transcript = transcript
        self.g1s: list = []      # G1 points, in send order
        self.frs: list[int] = []  # field elements, in send order
        self.log: list[tuple[str, str, int]] = []  # (label, "g1" | "fr", index in its stream)

    def send_fr(self, label: str, x: int) -> None:
        self.send_frs(label, [x])

    def send_frs(self, label: str, xs: Sequence[int]) -> None:
        self.log += [(label, "fr", len(self.frs) + i) for i in range(len(xs))]
        self.frs.extend(xs)
        self.transcript.absorb_frs(label, xs)

    def send_g1(self, label: str, point) -> None:
        self.log.append((label, "g1", len(self.g1s)))
        self.g1s.append(point)
        self.transcript.absorb(label, _g1_bytes(point))

    def challenge(self, label: str) -> int:
        return self.transcript.challenge(label)

    def challenges(self, label: str, n: int) -> list[int]:
        return self.transcript.challenges(label, n)


class VerifierChannel:
    """Reads items in order; running out of items is a malformed proof."""

    def __init__(self, transcript: Transcript, g1s: Sequence, g1_bytes: Sequence[bytes], frs: Sequence[int]):
        self.transcript = transcript
        self._g1s, self._g1_bytes, self._frs = list(g1s), list(g1_bytes), list(frs)
        self._gi = 0
        self._fi = 0

    def recv_fr(self, label: str) -> int:
        return self.recv_frs(label, 1)[0]

    def recv_frs(self, label: str, n: int) -> list[int]:
        if self._fi + n > len(self._frs):
            raise MalformedProofError(f"proof has too few field elements (needed more at '{label}')")
        xs = self._frs[self._fi:self._fi + n]
        self._fi += n
        self.transcript.absorb_frs(label, xs)
        return xs

    def recv_g1(self, label: str):
        if self._gi >= len(self._g1s):
            raise MalformedProofError(f"proof has too few G1 points (needed more at '{label}')")
        p, b = self._g1s[self._gi], self._g1_bytes[self._gi]
        self._gi += 1
        self.transcript.absorb(label, b)
        return p

    def challenge(self, label: str) -> int:
        return self.transcript.challenge(label)

    def challenges(self, label: str, n: int) -> list[int]:
        return self.transcript.challenges(label, n)

    def assert_consumed(self) -> None:
        if self._gi != len(self._g1s) or self._fi != len(self._frs):
            raise MalformedProofError(
                f"proof has trailing items: {len(self._g1s) - self._gi} points, "
                f"{len(self._frs) - self._fi} field elements unread")
