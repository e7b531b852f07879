"""Native vector kernels over F_r: the prover's large sumchecks, folds and eq tables in C.

``_fr.c`` (Montgomery multiplication on 4 x 64-bit limbs, OpenMP across cores) is compiled
with the system C compiler on first use into a per-user cache (``$ZKLLM_NATIVE_DIR``, else
``~/.cache/zkllm-chain``), keyed by a hash of the source and flags, and loaded with ctypes.
A vector is a C-contiguous ``numpy.uint64`` array of shape (n, 4): each element's
canonical value in [0, R) as little-endian limbs (32 bytes, a quarter of a Python int's
footprint in a list). ``ref``/``fast`` stay the definition; ``tests/test_field.py``
checks every kernel against them.

Without a C compiler ``available()`` is False and callers keep their Python paths;
``ZKLLM_NATIVE=0`` turns the kernels off (for comparisons).
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from . import R
from .smallvec import SmallVec

_SRC = Path(__file__).with_name("_fr.c")
_FLAGS = [["-O3", "-fPIC", "-shared", "-fopenmp"], ["-O3", "-fPIC", "-shared"]]
_lib = None
_error: str | None = None

#: Vectors shorter than this stay on the Python paths (conversion costs more than it saves).
MIN_LEN = 1 << 10


class NativeUnavailable(RuntimeError):
    """The C kernels could not be built or loaded (no compiler, or ZKLLM_NATIVE=0)."""


def _cache_dir() -> Path:
    """$ZKLLM_NATIVE_DIR, else ~/.cache/zkllm-chain, else (not writable) the temp directory."""
    if os.environ.get("ZKLLM_NATIVE_DIR"):
        return Path(os.environ["ZKLLM_NATIVE_DIR"])
    home = Path.home() / ".cache" / "zkllm-chain"
    try:
        home.mkdir(parents=True, exist_ok=True)
        if os.access(home, os.W_OK):
            return home
    except OSError:
        pass
    return Path(tempfile.gettempdir()) / f"zkllm-chain-{os.getuid() if hasattr(os, 'getuid') else 'user'}"


def _build() -> ctypes.CDLL:
    src = _SRC.read_bytes()
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise NativeUnavailable("no C compiler (cc/gcc) on PATH: install gcc to enable the native field kernels")
    errors = []
    for flags in _FLAGS:
        tag = hashlib.sha256(src + " ".join([cc, *flags]).encode()).hexdigest()[:16]
        out = _cache_dir() / f"_fr-{tag}.so"
        if not out.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
                obj = Path(tmp) / out.name
                r = subprocess.run([cc, *flags, str(_SRC), "-o", str(obj)], capture_output=True, text=True)
                if r.returncode != 0:
                    errors.append(f"{cc} {' '.join(flags)}: {r.stderr.strip()[:400]}")
                    continue
                os.replace(obj, out)  # atomic: concurrent builders each publish a whole file
        return ctypes.CDLL(str(out))
    raise NativeUnavailable("building the native field kernels failed: " + " | ".join(errors))


def lib() -> ctypes.CDLL:
    """The loaded kernels; raises NativeUnavailable with the reason."""
    global _lib, _error
    if _lib is None and _error is None:
        if os.environ.get("ZKLLM_NATIVE", "1") == "0":
            _error = "ZKLLM_NATIVE=0"
        else:
            try:
                _lib = _build()
            except (NativeUnavailable, OSError) as e:
                _error = str(e)
    if _lib is None:
        raise NativeUnavailable(_error)
    return _lib


def available() -> bool:
    try:
        lib()
        return True
    except NativeUnavailable:
        return False


_P = ctypes.c_void_p


def _ptr(a: np.ndarray) -> int:
    return a.ctypes.data


def _data(x) -> tuple[int, int]:
    """(pointer, kind) of a kernel operand: kind 0 for (n, 4) limbs, 1 for a SmallVec's int64."""
    if isinstance(x, SmallVec):
        return x.arr.ctypes.data, 1
    return x.ctypes.data, 0


def _operands(factors) -> tuple[ctypes.Array, ctypes.Array]:
    data = [_data(f) for f in factors]
    return (_P * len(data))(*[p for p, _ in data]), (ctypes.c_int * len(data))(*[k for _, k in data])


def from_ints(xs: Sequence[int]) -> np.ndarray:
    """(n, 4) limbs of ints in [0, R)."""
    buf = b"".join([x.to_bytes(32, "little") for x in xs])
    return np.frombuffer(buf, dtype=np.uint64).reshape(-1, 4).copy()


_cache: dict[int, tuple[list, np.ndarray]] | None = None


class cache_scope:
    """Within ``with cache_scope():``, ``cached(xs)`` converts each list once: a proof run
    hands the same value lists to several sumchecks and evaluations. Lists must not be
    mutated inside the scope (the prover's value tables never are)."""

    def __enter__(self):
        global _cache
        self._outer = _cache
        if _cache is None:
            _cache = {}
        return self

    def __exit__(self, *exc):
        global _cache
        _cache = self._outer
        return False


def operand(xs):
    """A kernel operand for ``xs``: native vectors and SmallVecs as they are (the kernels read
    int64 directly), lists converted (``cached``)."""
    return xs if isinstance(xs, (np.ndarray, SmallVec)) else cached(xs)


def cached(xs) -> np.ndarray:
    """``from_ints(xs)``, remembered for the list object inside a ``cache_scope``."""
    if isinstance(xs, np.ndarray):
        return xs
    if isinstance(xs, SmallVec):  # cheap to convert (numpy), so not worth keeping
        return xs.limbs()
    if _cache is None:
        return from_ints(xs)
    hit = _cache.get(id(xs))
    if hit is not None and hit[0] is xs:
        return hit[1]
    a = from_ints(xs)
    _cache[id(xs)] = (xs, a)  # holding xs keeps its id from being reused
    return a


def to_ints(a) -> list[int]:
    if isinstance(a, SmallVec):
        return a.tolist()
    b = np.ascontiguousarray(a).tobytes()
    fb = int.from_bytes
    return [fb(b[i:i + 32], "little") for i in range(0, len(b), 32)]


def scalar(x: int) -> np.ndarray:
    return from_ints([x % R])


def fold(a, c: int, inplace: bool = False) -> np.ndarray:
    """Bind the first (most significant) variable to c: a[:h] + c (a[h:] - a[:h]). ``a``: a
    native vector or a SmallVec (read as int64, no conversion); the result is native.
    ``inplace`` (native ``a`` only): write the result over a[:h] and return that view
    (entry i reads only a[i] and a[h + i], so this is safe; ``a`` is consumed)."""
    h = len(a) // 2
    if inplace and isinstance(a, np.ndarray) and a.flags.c_contiguous:
        out = a[:h]
    else:
        out = np.empty((h, 4), dtype=np.uint64)
    p, kind = _data(a)
    lib().fr_fold(_P(p), ctypes.c_int(kind), ctypes.c_size_t(h), _P(_ptr(scalar(c))), _P(_ptr(out)))
    return out


def round_evals(factors: Sequence[np.ndarray], d: int) -> list[int]:
    """sum over the remaining hypercube of prod factors, first variable set to X = 0..d."""
    if not 1 <= len(factors) <= 16:
        raise ValueError("1 to 16 factors per product")
    h = len(factors[0]) // 2
    out = np.empty((d + 1, 4), dtype=np.uint64)
    ptrs, kinds = _operands(factors)
    lib().fr_round_evals(ptrs, kinds, ctypes.c_int(len(factors)), ctypes.c_size_t(h), ctypes.c_int(d),
                         _P(_ptr(out)))
    return to_ints(out)


def product_sum(factors: Sequence[np.ndarray]) -> int:
    if not 1 <= len(factors) <= 16:
        raise ValueError("1 to 16 factors per product")
    out = np.empty((1, 4), dtype=np.uint64)
    ptrs, kinds = _operands(factors)
    lib().fr_product_sum(ptrs, kinds, ctypes.c_int(len(factors)), ctypes.c_size_t(len(factors[0])),
                         _P(_ptr(out)))
    return to_ints(out)[0]


def eq_table(point: Sequence[int]) -> np.ndarray:
    """[eq(b, point) for b in {0,1}^m], b's MSB paired with point[0]."""
    m = len(point)
    out = np.empty((1 << m, 4), dtype=np.uint64)
    z = from_ints([p % R for p in point]) if m else np.zeros((1, 4), dtype=np.uint64)
    lib().fr_eq_table(_P(_ptr(z)), ctypes.c_int(m), _P(_ptr(out)))
    return out


def lincomb(arrs: Sequence, coeffs: Sequence[int]) -> np.ndarray:
    """sum_j coeffs[j] arrs[j] (equal lengths; native vectors or SmallVecs)."""
    if len(arrs) != len(coeffs) or not arrs:
        raise ValueError("one coefficient per vector, at least one vector")
    n = len(arrs[0])
    if any(len(a) != n for a in arrs):
        raise ValueError("vectors of one linear combination must have equal length")
    out = None
    for o in range(0, len(arrs), 64):  # the kernel takes up to 64 terms
        part = np.empty((n, 4), dtype=np.uint64)
        cs = from_ints([c % R for c in coeffs[o:o + 64]])
        ptrs, kinds = _operands(arrs[o:o + 64])
        lib().fr_lincomb(ptrs, kinds, _P(_ptr(cs)), ctypes.c_int(len(cs)), ctypes.c_size_t(n), _P(_ptr(part)))
        out = part if out is None else lincomb([out, part], [1, 1])
    return out


def inv_shifted(keys: np.ndarray, beta: int) -> np.ndarray:
    """[1 / (beta + k) for k in keys] by batch inversion; ZeroDivisionError if one is 0."""
    out = np.empty((len(keys), 4), dtype=np.uint64)
    lib().fr_inv_shifted.restype = ctypes.c_int
    bad = lib().fr_inv_shifted(_P(_ptr(keys)), ctypes.c_size_t(len(keys)), _P(_ptr(scalar(beta))), _P(_ptr(out)))
    if bad:
        raise ZeroDivisionError("inverse of zero in F_r")
    return out


def total(a: np.ndarray) -> int:
    """sum of the entries."""
    return product_sum([a]) if len(a) else 0


def mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) != len(b):
        raise ValueError("length mismatch")
    out = np.empty((len(a), 4), dtype=np.uint64)
    lib().fr_mul(_P(_ptr(a)), _P(_ptr(b)), ctypes.c_size_t(len(a)), _P(_ptr(out)))
    return out


def evaluate(a, point: Sequence[int]) -> int:
    """The multilinear extension of ``a`` at ``point`` (first variable = MSB)."""
    if len(a) != 1 << len(point):
        raise ValueError(f"evaluate: {len(a)} evaluations for {len(point)} variables")
    for c in point:
        a = fold(a, c)
    return to_ints(a)[0]


__all__ = ["MIN_LEN", "NativeUnavailable", "available", "lib", "from_ints", "cache_scope", "cached", "operand", "to_ints", "fold", "round_evals",
           "product_sum", "eq_table", "lincomb", "inv_shifted", "total", "mul", "evaluate"]
