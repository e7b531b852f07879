"""Randomness for blinding. Real proving draws from the operating system;
tests pass ``seeded(n)`` for reproducible proofs. Never used for challenges."""
from __future__ import annotations

import random
import secrets


class SeededRng:
    """Deterministic stand-in for ``secrets.SystemRandom`` (tests only)."""

    def __init__(self, seed: int):
        self._r = random.Random(seed)

    def randbelow(self, n: int) -> int:
        return self._r.randrange(n)

    def randrange(self, *a) -> int:
        return self._r.randrange(*a)


class SystemRng:
    def randbelow(self, n: int) -> int:
        return secrets.randbelow(n)

    def randrange(self, *a) -> int:
        return secrets.SystemRandom().randrange(*a)


def seeded(seed: int) -> SeededRng:
    return SeededRng(seed)


def system() -> SystemRng:
    return SystemRng()
