"""Lookup tables, each with two views: the materialised table and its MLE.

* ``RangeTable(bits)``: T[k] = k for k in [0, 2^bits). Succinct MLE
  T(x) = sum_i 2^(bits-i) x_i (x_1 is the most significant bit).
* ``FunctionTable``: pairs (x_k, f(x_k)) with x_k = k - 2^(bits-1) (a signed
  input at scale 2^in_frac) and f rounded to scale 2^out_frac. The input column has
  the succinct MLE of a range shifted by -2^(bits-1); the output column is a public
  constant committed once in the verifier key and opened like any commitment.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

from ..errors import QuantizationRangeError
from ..field import R


def _gelu(v: float) -> float:
    return 0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0)))


def _relu(v: float) -> float:
    return max(v, 0.0)


def _silu(v: float) -> float:
    return v / (1.0 + math.exp(-v))


FUNCTIONS: dict[str, Callable[[float], float]] = {"gelu": _gelu, "relu": _relu, "silu": _silu}


def range_mle(bits: int, point: Sequence[int]) -> int:
    if len(point) != bits:
        raise ValueError("range table point has the wrong length")
    return sum(pow(2, bits - 1 - i, R) * x for i, x in enumerate(point)) % R


@dataclass(frozen=True)
class RangeTable:
    bits: int

    @property
    def name(self) -> str:
        return f"range{self.bits}"

    @property
    def size(self) -> int:
        return 1 << self.bits

    def materialise(self) -> list[int]:
        return list(range(self.size))

    def in_mle(self, point: Sequence[int]) -> int:
        return range_mle(self.bits, point)

    def index_of(self, keys) -> "object":
        """keys: int64 tensor -> table indices; raises if outside the table."""
        if keys.numel() and (int(keys.min()) < 0 or int(keys.max()) >= self.size):
            raise QuantizationRangeError(f"value outside range table [0, 2^{self.bits})")
        return keys


@dataclass(frozen=True)
class FunctionTable:
    fn: str
    bits: int
    in_frac: int
    out_frac: int

    @property
    def name(self) -> str:
        return f"{self.fn}_{self.bits}_{self.in_frac}_{self.out_frac}"

    @property
    def size(self) -> int:
        return 1 << self.bits

    @property
    def lo(self) -> int:
        return -(1 << (self.bits - 1))

    def inputs(self) -> list[int]:
        return [k + self.lo for k in range(self.size)]

    def outputs(self) -> list[int]:
        f = FUNCTIONS[self.fn]
        return [int(round(f(x / (1 << self.in_frac)) * (1 << self.out_frac))) for x in self.inputs()]

    def in_mle(self, point: Sequence[int]) -> int:
        return (range_mle(self.bits, point) + self.lo) % R

    def apply(self, h):
        """Integer tensor of inputs -> integer tensor of outputs (the quantized op)."""
        import torch
        if h.numel() and (int(h.min()) < self.lo or int(h.max()) >= self.lo + self.size):
            raise QuantizationRangeError(
                f"{self.fn} input {int(h.min()) / (1 << self.in_frac):.3f}..{int(h.max()) / (1 << self.in_frac):.3f} "
                f"outside the table range [{self.lo / (1 << self.in_frac)}, {(self.lo + self.size) / (1 << self.in_frac)}); "
                f"raise QuantSpec.lookup_in_bits")
        out = torch.tensor(self.outputs(), dtype=torch.int64)
        return out[h - self.lo]
