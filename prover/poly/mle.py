"""Multilinear extensions of tensors padded to powers of two.

Bit order (fixed, the Solidity verifier relies on it): a tensor of shape
(d_1, ..., d_k) is zero-padded to (2^e_1, ..., 2^e_k), e_i = ceil(log2 d_i), and
flattened row-major. Index b of the flat vector has num_vars = sum e_i bits; its
bits, most significant first, are the variables (x_1, ..., x_n). So the first
tensor axis owns the leading variables, and within an axis the most significant
bit comes first. The MLE is f(x) = sum_b f[b] * eq(b, x) with
eq(b, x) = prod_i (b_i x_i + (1 - b_i)(1 - x_i)).

Sumchecks and openings bind x_1 first: f(c, x_2..) = f[:h] + c (f[h:] - f[:h]).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..field import R


def log2_ceil(n: int) -> int:
    if n < 1:
        raise ValueError("dimension must be positive")
    return (n - 1).bit_length()


def padded_shape(shape: Sequence[int]) -> tuple[int, ...]:
    return tuple(1 << log2_ceil(d) for d in shape)


def num_vars(shape: Sequence[int]) -> int:
    return sum(log2_ceil(d) for d in shape)


def pad_flat(values, shape: Sequence[int]) -> list[int]:
    """Signed-integer tensor (numpy/torch/nested list) -> padded flat field vector."""
    arr = np.asarray(values.tolist() if hasattr(values, "tolist") and not isinstance(values, np.ndarray) else values,
                     dtype=object).reshape(tuple(shape))
    out = np.zeros(padded_shape(shape), dtype=object)
    out[tuple(slice(0, d) for d in shape)] = arr
    return [int(v) % R for v in out.reshape(-1).tolist()]


def eq_eval(a: Sequence[int], b: Sequence[int]) -> int:
    """eq(a, b) = prod_i (a_i b_i + (1-a_i)(1-b_i)) over F_r."""
    if len(a) != len(b):
        raise ValueError("eq: length mismatch")
    acc = 1
    for x, y in zip(a, b):
        acc = acc * ((x * y + (1 - x) * (1 - y)) % R) % R
    return acc


def eq_table(point: Sequence[int]) -> list[int]:
    """[eq(b, point) for b in {0,1}^n], b's MSB paired with point[0]."""
    table = [1]
    for z in point:
        nxt = [0] * (2 * len(table))
        for i, e in enumerate(table):
            hi = e * z % R
            nxt[2 * i] = (e - hi) % R  # e * (1 - z)
            nxt[2 * i + 1] = hi
        table = nxt
    return table


def boolean_prefix(point: Sequence[int]) -> tuple[int, int]:
    """(p, offset): the leading p coordinates of ``point`` are 0 or 1 and select the block
    of eq(point, .) that can be non-zero, which starts at ``offset``."""
    p, off = 0, 0
    while p < len(point) and point[p] in (0, 1):
        off = 2 * off + point[p]
        p += 1
    return p, off << (len(point) - p)


def eq_block(point: Sequence[int]) -> tuple[int, list[int]]:
    """(offset, table) with ``eq_table(point)`` zero outside ``table`` placed at ``offset``:
    leading coordinates that are 0 or 1 (a pooled member's block prefix, a chunk index)
    select one block, so only the rest of the point is expanded."""
    p, off = boolean_prefix(point)
    return off, eq_table(point[p:])


def fold(evals: Sequence[int], c: int) -> list[int]:
    """Bind the first (most significant) variable to c."""
    h = len(evals) // 2
    lo, hi = evals[:h], evals[h:]
    return [(a + c * (b - a)) % R for a, b in zip(lo, hi)]


def evaluate(evals: Sequence[int], point: Sequence[int]) -> int:
    """MLE of ``evals`` at ``point`` (len(point) == log2(len(evals)))."""
    if len(evals) != 1 << len(point):
        raise ValueError(f"evaluate: {len(evals)} evaluations for {len(point)} variables")
    f = list(evals)
    for c in point:
        f = fold(f, c)
    return f[0] % R


def eq_table_fast(point: Sequence[int]):
    """``eq_table`` as a native vector when it is large and the C kernels are available."""
    from ..field import native
    if (1 << len(point)) >= native.MIN_LEN and native.available():
        return native.eq_table(point)
    return eq_table(point)


def evaluate_fast(evals, point: Sequence[int]) -> int:
    """``evaluate`` on the native kernels for large tables (a list or a native vector)."""
    from ..field import native
    if isinstance(evals, np.ndarray) or (len(evals) >= native.MIN_LEN and native.available()):
        return native.evaluate(native.operand(evals), point)
    return evaluate(evals, point)


def evaluate_sparse(entries: dict[int, int], point: Sequence[int]) -> int:
    """MLE at ``point`` of a vector given as {index: value} (all other entries 0)."""
    n = len(point)
    acc = 0
    for idx, v in entries.items():
        e = 1
        for i, z in enumerate(point):
            bit = (idx >> (n - 1 - i)) & 1
            e = e * (z if bit else (1 - z)) % R
        acc += v * e
    return acc % R


def prefix_indicator(count: int, point) -> int:
    """MLE of the vector [1]*count + [0]*(2^m - count) at ``point`` (MSB first)."""
    m = len(point)
    if count >= 1 << m:
        return 1
    acc, full = 0, 1  # full: product of eq factors along the path of `count`'s bits
    for i, z in enumerate(point):
        bit = (count >> (m - 1 - i)) & 1
        if bit:
            acc = (acc + full * (1 - z)) % R  # whole lower half is inside the prefix
            full = full * z % R
        else:
            full = full * (1 - z) % R
    return acc % R


# ---- batch axes: an op's leading axes given as one count or a tuple of counts
# (e.g. heads, or (layers, heads) when same-role tensors are stacked across layers)

def batch_dims(batch) -> tuple[int, ...]:
    return tuple(batch) if isinstance(batch, (tuple, list)) else (int(batch),)


def batch_vars(batch) -> int:
    """Variables of the padded batch axes: sum of log2_ceil over the axes."""
    return sum(log2_ceil(d) for d in batch_dims(batch))


def batch_size(batch) -> int:
    n = 1
    for d in batch_dims(batch):
        n *= d
    return n


def batch_indicator(batch, point: Sequence[int]) -> int:
    """MLE at ``point`` of [every batch index < its count] over the padded batch axes."""
    acc, off = 1, 0
    for d in batch_dims(batch):
        k = log2_ceil(d)
        acc = acc * prefix_indicator(d, point[off:off + k]) % R
        off += k
    return acc


def batch_mask(batch) -> list[bool]:
    """[every batch index < its count] over the padded batch axes, flattened row-major."""
    mask = [True]
    for d in batch_dims(batch):
        p = 1 << log2_ceil(d)
        mask = [m and i < d for m in mask for i in range(p)]
    return mask


def bits_msb(value: int, n: int) -> list[int]:
    """The n-bit binary point of ``value``, most significant bit first."""
    return [(value >> (n - 1 - i)) & 1 for i in range(n)]


def next_eval(a: Sequence[int], b: Sequence[int]) -> int:
    """MLE of [int(a) = int(b) + 1] over {0,1}^n x {0,1}^n (MSB first), in O(n).

    a = b + 1 exactly when, for some k, the k lowest bits of b are 1 and of a are 0,
    bit k of b is 0 and of a is 1, and all higher bits agree."""
    n = len(a)
    if len(b) != n:
        raise ValueError("next: length mismatch")
    # suffix[i]: product over the bits above position i (MSB side) of eq(a_j, b_j)
    hi = [1] * (n + 1)
    for i in range(n):
        hi[i + 1] = hi[i] * ((a[i] * b[i] + (1 - a[i]) * (1 - b[i])) % R) % R
    acc, low = 0, 1  # low: product over the bits below position i of b_j (1 - a_j)
    for i in range(n - 1, -1, -1):
        acc = (acc + hi[i] * a[i] % R * ((1 - b[i]) % R) % R * low) % R
        low = low * b[i] % R * ((1 - a[i]) % R) % R
    return acc
