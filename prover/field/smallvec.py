"""A field vector of small signed integers, kept as one int64 array.

Quantized weights, activations and range digits are small signed integers x standing for
x mod R. As a list of Python ints such a vector costs 36-70 bytes an entry (a negative x
is the 255-bit R + x); as a ``SmallVec`` it costs 8. SmolLM2-135M's padded model tensors
alone are 352M entries: 2.8 GB here instead of ~20 GB.

``SmallVec`` reads like the list of field elements it stands for (``len``, indexing,
slices, iteration give values in [0, R)), so code written for lists keeps working, and
the hot paths use ``.arr`` (the signed integers) directly: matmul and embedding folds,
MSM scalars, and the native kernels (``limbs``).
"""
from __future__ import annotations

import numpy as np

from . import R

#: Entries must satisfy |x| < 2^62 (every quantized tensor does; the int64 forward pass
#: keeps far below it).
BOUND = 1 << 62

_R_LIMBS = np.array([(R >> (64 * i)) & ((1 << 64) - 1) for i in range(4)], dtype=np.uint64)


class SmallVec:
    __slots__ = ("arr",)

    def __init__(self, arr):
        a = np.ascontiguousarray(np.asarray(arr), dtype=np.int64).reshape(-1)
        self.arr = a

    @classmethod
    def checked(cls, arr) -> "SmallVec":
        v = cls(arr)
        if v.arr.size and int(np.abs(v.arr).max()) >= BOUND:
            raise ValueError("SmallVec entries must satisfy |x| < 2^62")
        return v

    def __len__(self) -> int:
        return len(self.arr)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return SmallVec(self.arr[i])
        return int(self.arr[i]) % R

    def __iter__(self):
        return iter(self.tolist())

    def __eq__(self, other):
        if isinstance(other, SmallVec):
            return np.array_equal(self.arr, other.arr)
        return self.tolist() == list(other)

    __hash__ = None

    # list semantics for code written against lists: repetition and concatenation give lists
    def __mul__(self, k: int) -> list[int]:
        return self.tolist() * k

    __rmul__ = __mul__

    def __add__(self, other) -> list[int]:
        return self.tolist() + list(other)

    def __radd__(self, other) -> list[int]:
        return list(other) + self.tolist()

    def tolist(self) -> list[int]:
        """The field elements, as Python ints in [0, R)."""
        return [x % R for x in self.arr.tolist()]

    def limbs(self) -> np.ndarray:
        """(n, 4) little-endian uint64 limbs of the canonical values (the native layout)."""
        a = self.arr
        out = np.zeros((len(a), 4), dtype=np.uint64)
        neg = a < 0
        out[:, 0] = a.astype(np.uint64)  # x >= 0: x itself
        # x < 0: R + x = R - |x|; |x| < 2^62 < R's low limb, so no borrow leaves limb 0
        out[neg, 0] = _R_LIMBS[0] - (-a[neg]).astype(np.uint64)
        out[neg, 1:] = _R_LIMBS[1:]
        return out


def pad_small(values, shape) -> SmallVec:
    """A signed-integer tensor (torch/numpy) zero-padded to powers of two on every axis and
    flattened: ``poly.mle.pad_flat``'s layout, as a ``SmallVec``."""
    from ..poly.mle import padded_shape
    a = np.asarray(values.numpy() if hasattr(values, "numpy") else values, dtype=np.int64).reshape(tuple(shape))
    out = np.zeros(padded_shape(shape), dtype=np.int64)
    out[tuple(slice(0, d) for d in shape)] = a
    return SmallVec.checked(out)


__all__ = ["SmallVec", "pad_small", "BOUND"]
