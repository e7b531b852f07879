"""Quantization: the one place where scales, ranges and rounding are defined.

Activations and weights are signed fixed-point integers (value * 2^frac_bits,
rounded to nearest). A Linear layer multiplies an activation (scale 2^a) by a
weight (2^w) and adds a bias stored at scale 2^(a+w); its accumulator is then
rescaled -- rounded to nearest, ties up -- either back to the activation scale
(2^a) or, if a nonlinearity follows, to the lookup-table input scale 2^l. The
rescale remainder is range-checked as ``shift / digit_bits`` digits of
``digit_bits`` bits each. Nonlinearity tables cover inputs in
[-2^(in_bits-1), 2^(in_bits-1)) / 2^l and return values at scale 2^a.

The statement's activations (an MLP's public input and output, at scale 2^a) are
signed integers v with |v| < 2^(io_bits-1) (``QuantSpec.io_bits``); each travels as
the field element v mod r, so a word in [0, r) is one integer and both verifiers accept
exactly the words within the bound.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from .errors import QuantizationRangeError


@dataclass(frozen=True)
class QuantSpec:
    act_frac_bits: int = 16
    weight_frac_bits: int = 16
    lookup_in_frac_bits: int = 8
    lookup_in_bits: int = 12
    digit_bits: int = 8
    weight_bits: int = 24  # |weight integer| < 2^(weight_bits-1)

    def __post_init__(self):
        if not (1 <= self.digit_bits <= 16 and 2 <= self.lookup_in_bits <= 20 and 2 <= self.weight_bits <= 40
                and 0 <= self.lookup_in_frac_bits <= 32 and 1 <= self.act_frac_bits <= 32
                and 0 <= self.weight_frac_bits <= 32):
            raise ValueError(f"quantization spec out of the supported ranges: {self}")
        for s in (self.linear_shift(False), self.linear_shift(True)):
            if s <= 0 or s % self.digit_bits:
                raise ValueError(f"rescale shift {s} must be a positive multiple of digit_bits={self.digit_bits}")

    def linear_shift(self, to_lookup: bool) -> int:
        acc = self.act_frac_bits + self.weight_frac_bits
        return acc - (self.lookup_in_frac_bits if to_lookup else self.act_frac_bits)

    @property
    def io_bits(self) -> int:
        """Bits of a statement activation word: |v| < 2^(io_bits-1) for the MLP's input and output.

        io_bits = 64 - S with S = ``linear_shift(False)`` = weight_frac_bits, the shift of the
        last layer's rescale, whose quotient q is the public output. Why the output needs a
        bound: z + 2^(S-1) = 2^S q + rem holds mod r for any q if q is free; the remainder's
        digits are range-checked (0 <= rem < 2^S) but a public q is not a bound by itself.
        With |q| < 2^(io_bits-1), 2^S q + rem lies in (-2^63, 2^63), so two such pairs that
        agree mod r differ by less than 2^64 < r, agree over the integers, and are the same
        pair (division with remainder is unique): the output is the rounded quotient of the
        accumulator. S + io_bits + 1 = 65 < 253, far inside the field. The same bound keeps
        the accumulator of a stated output within the int64 forward pass. The input shares it
        (one canonical word per integer; quantized activations like the output).
        """
        return 64 - self.linear_shift(False)

    def check_io(self, values, where: str) -> None:
        """Raise ``QuantizationRangeError`` unless every value is a signed integer within ``io_bits``."""
        lim = 1 << (self.io_bits - 1)
        for i, v in enumerate(values):
            if not -lim < int(v) < lim:
                raise QuantizationRangeError(f"{where}[{i}] = {int(v)} is outside the statement range "
                                             f"|v| < 2^{self.io_bits - 1} of this QuantSpec")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, s: str) -> "QuantSpec":
        return cls(**json.loads(s))


def quantize(x, frac_bits: int, bits: int | None = None):
    """float tensor -> int64 tensor round(x * 2^frac_bits); checks the range if ``bits``."""
    import torch
    q = torch.round(x.double() * (1 << frac_bits)).to(torch.int64)
    if bits is not None:
        lim = 1 << (bits - 1)
        if int(q.abs().max()) >= lim:
            raise QuantizationRangeError(f"value {float(x.abs().max()):.4g} needs more than {bits} bits at scale 2^{frac_bits}")
    return q


def dequantize(q, frac_bits: int):
    return q.double() / (1 << frac_bits)


def rescale(z, shift: int):
    """Round-to-nearest (ties up) division by 2^shift: returns (quotient, remainder).

    z + 2^(shift-1) = quotient * 2^shift + remainder, 0 <= remainder < 2^shift.
    """
    import torch
    half = 1 << (shift - 1)
    zz = z + half
    q = torch.div(zz, 1 << shift, rounding_mode="floor")
    return q, zz - q * (1 << shift)


def digits(rem, shift: int, digit_bits: int):
    """Split remainders in [0, 2^shift) into shift/digit_bits little-endian digits."""
    mask = (1 << digit_bits) - 1
    return [(rem >> (k * digit_bits)) & mask for k in range(shift // digit_bits)]
