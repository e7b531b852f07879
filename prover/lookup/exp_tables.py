"""Exponential tables for the softmax digit decomposition (zkAttn).

``ExpTable(bits, place, in_frac, out_frac)`` is a function table over the unsigned
digit d in [0, 2^bits) (its input column is the plain range, so the lookup also
range-checks the digit) with output

    E(d) = round(2^out_frac * exp(-d * 2^place / 2^in_frac))      (ties up)

i.e. the factor that digit position ``place`` contributes to exp(-D / 2^in_frac)
when D = sum_k 2^place_k d_k. Values are computed in decimal arithmetic at 60
significant digits, so every machine materialises the same table. All outputs lie
in [0, 2^out_frac]; E(0) = 2^out_frac.

It subclasses ``FunctionTable`` so logUp treats it as an (in, out) pair table; the
input column's MLE is the range MLE (lo = 0) and the output column is committed
like any function table's.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache

from .tables import FunctionTable

_CTX = Context(prec=60)


@lru_cache(maxsize=None)
def _exp_outputs(bits: int, place: int, in_frac: int, out_frac: int) -> tuple[int, ...]:
    out = []
    scale = Decimal(1 << out_frac)
    den = Decimal(1 << in_frac)
    for d in range(1 << bits):
        arg = _CTX.divide(Decimal(-(d << place)), den)
        if arg < -(out_frac + 2) * 2:  # 2^out_frac * e^arg < 1/2 long before this
            out.append(0)
            continue
        v = _CTX.multiply(scale, _CTX.exp(arg))
        out.append(int(v.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    return tuple(out)


@dataclass(frozen=True)
class ExpTable(FunctionTable):
    place: int = 0

    def __init__(self, bits: int, place: int, in_frac: int, out_frac: int):
        object.__setattr__(self, "fn", "exp")
        object.__setattr__(self, "bits", bits)
        object.__setattr__(self, "in_frac", in_frac)
        object.__setattr__(self, "out_frac", out_frac)
        object.__setattr__(self, "place", place)

    @property
    def name(self) -> str:
        return f"exp_{self.bits}_{self.place}_{self.in_frac}_{self.out_frac}"

    @property
    def lo(self) -> int:
        return 0

    def inputs(self) -> list[int]:
        return list(range(self.size))

    def outputs(self) -> list[int]:
        return list(_exp_outputs(self.bits, self.place, self.in_frac, self.out_frac))


def exp_tables(digit_bits: int, num_digits: int, in_frac: int, out_frac: int) -> list[ExpTable]:
    """One table per digit position k (place = k * digit_bits)."""
    return [ExpTable(digit_bits, k * digit_bits, in_frac, out_frac) for k in range(num_digits)]
