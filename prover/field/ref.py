"""Reference field arithmetic: plain Python ints, one readable line per operation.

This module is the definition; ``fast`` must agree with it on every input.
"""
from __future__ import annotations

import operator
from typing import Sequence

from . import R


def add(a: int, b: int) -> int:
    return (a + b) % R


def sub(a: int, b: int) -> int:
    return (a - b) % R


def mul(a: int, b: int) -> int:
    return (a * b) % R


def neg(a: int) -> int:
    return (-a) % R


def inv(a: int) -> int:
    """Multiplicative inverse; raises ZeroDivisionError for 0."""
    a %= R
    if a == 0:
        raise ZeroDivisionError("inverse of zero in F_r")
    return pow(a, R - 2, R)


def embed(x: int) -> int:
    """Signed integer -> field element (x mod R)."""
    return x % R


def integer(v) -> int | None:
    """``v`` as a Python int if it is an integer (Python or numpy, not a bool), else None."""
    if isinstance(v, bool):
        return None
    try:
        return operator.index(v)
    except TypeError:
        return None


def to_signed(a: int) -> int:
    """Field element -> the signed integer in (-R/2, R/2] it represents."""
    return a - R if a > R // 2 else a


def vec_add(a: Sequence[int], b: Sequence[int]) -> list[int]:
    return [(x + y) % R for x, y in zip(a, b, strict=True)]


def vec_sub(a: Sequence[int], b: Sequence[int]) -> list[int]:
    return [(x - y) % R for x, y in zip(a, b, strict=True)]


def vec_mul(a: Sequence[int], b: Sequence[int]) -> list[int]:
    return [(x * y) % R for x, y in zip(a, b, strict=True)]


def vec_scale(a: Sequence[int], c: int) -> list[int]:
    return [(x * c) % R for x in a]


def inner(a: Sequence[int], b: Sequence[int]) -> int:
    return sum(x * y for x, y in zip(a, b, strict=True)) % R


def batch_inv(a: Sequence[int]) -> list[int]:
    """Inverse of every element; raises ZeroDivisionError if any is 0."""
    return [inv(x) for x in a]


def vec_mat(v: Sequence[int], m: Sequence[Sequence[int]]) -> list[int]:
    """Row vector times matrix: out[j] = sum_i v[i] * m[i][j] (m holds signed ints)."""
    cols = len(m[0]) if m else 0
    out = [0] * cols
    for vi, row in zip(v, m, strict=True):
        for j, x in enumerate(row):
            out[j] += vi * x
    return [o % R for o in out]
