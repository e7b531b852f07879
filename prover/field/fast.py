"""Fast field paths with the same API as ``ref``.

* element-wise vector products use gmpy2 integers (about 2x a Python int multiply);
* ``batch_inv`` uses Montgomery's trick (one inversion for the whole vector);
* ``vec_mat`` -- a field vector times a small-integer matrix, the fold at the heart of
  matmul sumchecks -- splits the field vector into ``L``-bit limbs and runs one
  float64 GEMM per limb. Every partial sum stays below 2^53, so the float result
  is exact; the limbs are then recombined with Python ints.
"""
from __future__ import annotations

from typing import Sequence

import gmpy2
import numpy as np

from . import R
from . import ref

_RM = gmpy2.mpz(R)

add, sub, mul, neg, inv, embed, to_signed = (
    ref.add, ref.sub, ref.mul, ref.neg, ref.inv, ref.embed, ref.to_signed)


def vec_add(a: Sequence[int], b: Sequence[int]) -> list[int]:
    return ref.vec_add(a, b)


def vec_sub(a: Sequence[int], b: Sequence[int]) -> list[int]:
    return ref.vec_sub(a, b)


def vec_mul(a: Sequence[int], b: Sequence[int]) -> list[int]:
    if len(a) != len(b):
        raise ValueError("length mismatch")
    mz = gmpy2.mpz
    return [int(mz(x) * y % _RM) for x, y in zip(a, b)]


def vec_scale(a: Sequence[int], c: int) -> list[int]:
    cm = gmpy2.mpz(c)
    return [int(cm * x % _RM) for x in a]


def inner(a: Sequence[int], b: Sequence[int]) -> int:
    return ref.inner(a, b)


def batch_inv(a: Sequence[int]) -> list[int]:
    """Montgomery batch inversion; raises ZeroDivisionError if any element is 0."""
    n = len(a)
    if n == 0:
        return []
    prefix = [0] * n
    acc = 1
    for i, x in enumerate(a):
        if x % R == 0:
            raise ZeroDivisionError("inverse of zero in F_r")
        prefix[i] = acc
        acc = acc * x % R
    acc_inv = pow(acc, R - 2, R)
    out = [0] * n
    for i in range(n - 1, -1, -1):
        out[i] = acc_inv * prefix[i] % R
        acc_inv = acc_inv * a[i] % R
    return out


def limb_bits_for(rows: int, max_abs: int) -> int:
    """Largest limb width L with rows * (2^L - 1) * max_abs < 2^53 (exact float64 sums)."""
    budget = 53 - max(rows, 1).bit_length() - max(max_abs, 1).bit_length()
    if budget < 4:
        raise ValueError(f"matrix too large for exact float64 folding ({rows} rows, |x| <= {max_abs})")
    return min(budget, 32)


def vec_mat(v: Sequence[int], m) -> list[int]:
    """out[j] = sum_i v[i] * m[i][j] mod R, with m a small signed-integer matrix.

    ``m`` may be a nested list, a numpy integer array or a torch integer tensor.
    """
    mat = np.asarray(m.tolist() if hasattr(m, "tolist") and not isinstance(m, np.ndarray) else m,
                     dtype=np.int64)
    if mat.ndim != 2 or mat.shape[0] != len(v):
        raise ValueError(f"shape mismatch: vector {len(v)}, matrix {mat.shape}")
    rows = mat.shape[0]
    max_abs = int(np.abs(mat).max()) if mat.size else 0
    if max_abs >= 1 << 40:
        return ref.vec_mat(v, mat.tolist())
    L = limb_bits_for(rows, max_abs)
    nlimbs = -(-255 // L)
    mask = (1 << L) - 1
    limbs = np.empty((nlimbs, rows), dtype=np.float64)
    for i, x in enumerate(v):
        for k in range(nlimbs):
            limbs[k, i] = (x >> (k * L)) & mask
    prod = limbs @ mat.astype(np.float64)  # (nlimbs, cols), exact
    acc = [0] * mat.shape[1]
    pint = prod.astype(np.int64)
    for k in range(nlimbs - 1, -1, -1):
        rowk = pint[k].tolist()
        acc = [(a << L) + b for a, b in zip(acc, rowk)]
    return [a % R for a in acc]
