"""BLS12-381 group helpers on top of ``py_arkworks_bls12381``, with EIP-2537 encodings.

Encodings (byte-exact with the EIP-2537 precompiles, so Solidity can pass them on):

* an F_p element is 64 bytes: 16 zero bytes, then the 48-byte big-endian value (< p);
* a G1 point is ``x || y`` (128 bytes); the point at infinity is 128 zero bytes;
* an F_p2 element ``c0 + c1*u`` (u^2 = -1) is ``c0 || c1`` (64 bytes each);
* a G2 point is ``x || y`` (256 bytes: x.c0, x.c1, y.c0, y.c1); infinity is all zeros.

Facts about the library that these functions rely on (checked in ``tests/test_pcs.py``):

* ``to_xy_bytes_be`` is ``x || y`` with 48-byte big-endian coordinates; for G2 each
  coordinate is ``c0 || c1`` -- the same order as EIP-2537 (checked against py_ecc and
  against the curve equation y^2 = x^3 + 4(1+u)). Infinity serialises as all zeros.
* ``from_xy_bytes_be`` rejects points off the curve *and* points outside the prime-order
  subgroup; ``from_xy_bytes_unchecked_be`` still rejects points off the curve but skips
  the (costly, ~50 us) subgroup check.
* ``multiexp_unchecked`` releases the GIL, so large MSMs are split over a thread pool;
  its cost grows with the scalars' bit length, so scalars above R/2 are negated
  (``x -> R - x`` on the negated point): small signed values stay cheap.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np
from py_arkworks_bls12381 import G1Point, G2Point, GT, Scalar

from ..errors import MalformedError
from ..field import R
from ..field.smallvec import SmallVec

P = 0x1A0111EA397FE69A4B1BA7B6434BACD764774B84F38512BF6730D2A0F6B0F6241EABFFFEB153FFFFB9FEFFFFFFFFAAAB
"""The base field modulus p of BLS12-381."""

FP_BYTES = 64
G1_BYTES = 128
G2_BYTES = 256

_PAD = bytes(16)
_P_BE = P.to_bytes(48, "big")
_ZERO96 = bytes(96)
_ZERO192 = bytes(192)


# --------------------------------------------------------------------------- scalars

_from_le = Scalar.from_le_bytes


def scalar(x: int) -> Scalar:
    """The library scalar for the integer ``x`` (reduced mod R; negatives allowed)."""
    return _from_le((x % R).to_bytes(32, "little"))


def randbelow(rng, n: int) -> int:
    """Uniform int in [0, n) from ``rng``: its ``randbelow`` if it has one, else ``randrange``.

    ``random.Random`` and ``secrets.SystemRandom`` only have ``randrange`` (the module-level
    ``secrets.randbelow`` is a function, not a method), so both spellings are accepted.
    """
    f = getattr(rng, "randbelow", None)
    return f(n) if f is not None else rng.randrange(n)


def g1_generator() -> G1Point:
    return G1Point()


def g2_generator() -> G2Point:
    return G2Point()


# --------------------------------------------------------------------------- encodings

def g1_to_bytes(point: G1Point) -> bytes:
    """EIP-2537 encoding of a G1 point (128 bytes)."""
    xy = point.to_xy_bytes_be()
    return _PAD + xy[:48] + _PAD + xy[48:]


def g2_to_bytes(point: G2Point) -> bytes:
    """EIP-2537 encoding of a G2 point (256 bytes: x.c0, x.c1, y.c0, y.c1)."""
    xy = point.to_xy_bytes_be()
    return b"".join(_PAD + xy[i:i + 48] for i in range(0, 192, 48))


def _unpad(data: bytes, what: str) -> bytes:
    """Strip the EIP-2537 padding of every 64-byte field element; check each is < p."""
    out = []
    for off in range(0, len(data), FP_BYTES):
        if data[off:off + 16] != _PAD:
            raise MalformedError(f"{what}: non-zero padding in field element at byte {off}")
        c = data[off + 16:off + 64]
        if c >= _P_BE:  # equal-length big-endian bytes compare like the integers
            raise MalformedError(f"{what}: coordinate at byte {off} is not below the field modulus p")
        out.append(c)
    return b"".join(out)


def _as_bytes(data, size: int, what: str) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MalformedError(f"{what}: expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) != size:
        raise MalformedError(f"{what}: expected {size} bytes, got {len(data)}")
    return data


def g1_from_bytes(data: bytes, *, subgroup_check: bool = True) -> G1Point:
    """Decode an EIP-2537 G1 point; raise ``MalformedError`` on anything non-canonical.

    Rejected: wrong length, non-zero padding, a coordinate >= p, a point off the curve,
    a point outside the prime-order subgroup (unless ``subgroup_check=False``, which only
    bulk SRS loading uses). 128 zero bytes decode to the identity.
    """
    data = _as_bytes(data, G1_BYTES, "G1 point")
    xy = _unpad(data, "G1 point")
    if xy == _ZERO96:
        return G1Point.identity()
    try:
        if subgroup_check:
            return G1Point.from_xy_bytes_be(xy)
        return G1Point.from_xy_bytes_unchecked_be(xy)
    except Exception:  # the library reports both failures as ValueError; say which
        pass
    try:
        G1Point.from_xy_bytes_unchecked_be(xy)
    except Exception:
        raise MalformedError("G1 point: not on the curve y^2 = x^3 + 4") from None
    raise MalformedError("G1 point: not in the prime-order subgroup")


def g2_from_bytes(data: bytes, *, subgroup_check: bool = True) -> G2Point:
    """Decode an EIP-2537 G2 point; same rejections as ``g1_from_bytes``."""
    data = _as_bytes(data, G2_BYTES, "G2 point")
    xy = _unpad(data, "G2 point")
    if xy == _ZERO192:
        return G2Point.identity()
    try:
        if subgroup_check:
            return G2Point.from_xy_bytes_be(xy)
        return G2Point.from_xy_bytes_unchecked_be(xy)
    except Exception:
        pass
    try:
        G2Point.from_xy_bytes_unchecked_be(xy)
    except Exception:
        raise MalformedError("G2 point: not on the curve y^2 = x^3 + 4(1+u)") from None
    raise MalformedError("G2 point: not in the prime-order subgroup")


# --------------------------------------------------------------------------- MSM

_MIN_CHUNK = 1024          # below this an MSM runs inline: thread hand-off is not worth it
try:
    _WORKERS = max(1, len(os.sched_getaffinity(0)))
except (AttributeError, OSError):
    _WORKERS = max(1, os.cpu_count() or 1)
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _forget_pool() -> None:
    """A forked child inherits the executor object but not its threads: start afresh."""
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="msm")
    return _pool


def _scalars_of_limbs(limbs) -> list:
    """Scalars for (n, 4) little-endian uint64 limbs (native field vectors), via their bytes."""
    b = np.ascontiguousarray(limbs).tobytes()
    fl = _from_le
    return [fl(b[i:i + 32]) for i in range(0, len(b), 32)]


def _scalars_of_abs(mags) -> list:
    """Scalars for non-negative int64 magnitudes (numpy)."""
    buf = np.zeros((len(mags), 4), dtype=np.uint64)
    buf[:, 0] = mags
    return _scalars_of_limbs(buf)


def _split_small(points: Sequence[G1Point], arr) -> tuple:
    """``_split_signed`` for a SmallVec's signed integers (vectorised)."""
    pos = np.nonzero(arr > 0)[0]
    neg = np.nonzero(arr < 0)[0]
    return ([points[i] for i in pos.tolist()], _scalars_of_abs(arr[pos]),
            [points[i] for i in neg.tolist()], _scalars_of_abs(-arr[neg]))


def _split_signed(points: Sequence[G1Point], scalars: Sequence[int]):
    """Drop zero scalars; put x <= R/2 in the positive part and R - x in the negative part."""
    if len(points) != len(scalars):
        raise ValueError(f"msm: {len(points)} points but {len(scalars)} scalars")
    if isinstance(scalars, SmallVec):
        return _split_small(points, scalars.arr)
    if isinstance(scalars, np.ndarray):  # native (n, 4) limbs: full-width scalars, zeros dropped
        nz = np.nonzero(scalars.any(axis=1))[0]
        return [points[i] for i in nz.tolist()], _scalars_of_limbs(scalars[nz]), [], []
    half = R >> 1
    pp: list = []
    ps: list = []
    npts: list = []
    ns: list = []
    for pt, x in zip(points, scalars):
        if 0 < x <= half:
            pp.append(pt)
            ps.append(x)
        elif half < x < R:
            npts.append(pt)
            ns.append(R - x)
        elif x != 0:
            raise ValueError("msm: scalar outside [0, R)")
    fl = _from_le
    return (pp, [fl(x.to_bytes(32, "little")) for x in ps],
            npts, [fl(x.to_bytes(32, "little")) for x in ns])


def msm_many(jobs: Sequence[tuple[Sequence[G1Point], Sequence[int]]]) -> list[G1Point]:
    """``[msm(points, scalars) for points, scalars in jobs]``, with all work in one pool."""
    tasks = []  # (job index, sign, points, scalars)
    for j, (points, scalars) in enumerate(jobs):
        pp, ps, npts, ns = _split_signed(points, scalars)
        for sign, pts, scs in ((1, pp, ps), (-1, npts, ns)):
            n = len(pts)
            if n == 0:
                continue
            chunk = max(_MIN_CHUNK, -(-n // _WORKERS))
            for off in range(0, n, chunk):
                tasks.append((j, sign, pts[off:off + chunk], scs[off:off + chunk]))
    out = [G1Point.identity() for _ in jobs]
    for (j, sign, _, _), r in zip(tasks, _multiexps([(t[2], t[3]) for t in tasks])):
        out[j] = out[j] + r if sign > 0 else out[j] - r
    return out


def _multiexps(parts: list[tuple[list, list]]) -> list[G1Point]:
    """``multiexp_unchecked`` of each (points, Scalars) part, in order: the parts of at least
    _MIN_CHUNK points go to the thread pool when there are several, the rest run inline."""
    big = [i for i, (p, _) in enumerate(parts) if len(p) >= _MIN_CHUNK]
    if _WORKERS < 2 or len(big) < 2:
        return [G1Point.multiexp_unchecked(p, s) for p, s in parts]
    pool = _get_pool()
    futures = {i: pool.submit(G1Point.multiexp_unchecked, *parts[i]) for i in big}
    return [futures[i].result() if i in futures else G1Point.multiexp_unchecked(*parts[i])
            for i in range(len(parts))]


def bucket_msm(points: Sequence[G1Point], idx, row_scalars: Sequence[int]) -> G1Point:
    """sum_i row_scalars[idx[i]] * points[i] for an int array ``idx`` of row numbers: each
    row's points are summed first (scalar 1: about a point addition each), then one MSM of
    one point per used row. A column of lookup inverses takes one value per table row, so
    this replaces a full-width MSM over the column (~20 us a point here) by additions."""
    idx = np.asarray(idx)
    if len(idx) != len(points):
        raise ValueError(f"bucket_msm: {len(points)} points but {len(idx)} row numbers")
    if not len(idx):
        return G1Point.identity()
    if idx.min() < 0 or idx.max() >= len(row_scalars):
        raise ValueError("bucket_msm: row number outside the table")
    order = np.argsort(idx, kind="stable")
    rows, starts, counts = np.unique(idx[order], return_index=True, return_counts=True)
    ordl = order.tolist()
    one = _from_le((1).to_bytes(32, "little"))
    tasks = []  # (row position, points)
    for r, (st, c) in enumerate(zip(starts.tolist(), counts.tolist())):
        step = max(_MIN_CHUNK, -(-c // _WORKERS))
        for off in range(st, st + c, step):
            tasks.append((r, [points[i] for i in ordl[off:min(off + step, st + c)]]))
    sums = [G1Point.identity() for _ in range(len(rows))]
    for (r, _), pt in zip(tasks, _multiexps([(p, [one] * len(p)) for _, p in tasks])):
        sums[r] = sums[r] + pt
    return msm(sums, [row_scalars[r] for r in rows.tolist()])


def msm(points: Sequence[G1Point], scalars: Sequence[int]) -> G1Point:
    """sum_i scalars[i] * points[i]; scalars are ints in [0, R). Empty -> identity."""
    return msm_many([(points, scalars)])[0]


def pairing_check(g1s: Sequence[G1Point], g2s: Sequence[G2Point]) -> bool:
    """True iff prod_i e(g1s[i], g2s[i]) == 1 in G_T."""
    if len(g1s) != len(g2s):
        raise ValueError(f"pairing_check: {len(g1s)} G1 points but {len(g2s)} G2 points")
    return bool(GT.pairing_check(list(g1s), list(g2s)))


__all__ = [
    "P", "R", "FP_BYTES", "G1_BYTES", "G2_BYTES", "G1Point", "G2Point", "GT", "Scalar",
    "scalar", "randbelow", "g1_generator", "g2_generator", "g1_to_bytes", "g1_from_bytes",
    "g2_to_bytes", "g2_from_bytes", "msm", "msm_many", "pairing_check",
]
