"""Structured reference string for the multilinear KZG commitment (``kzg.py``).

Secrets: ``tau = (tau_1, ..., tau_n)`` and the hiding secret ``xi``. With ``g`` / ``h`` the
G1 / G2 generators the SRS holds

* ``lagrange[k]`` for k = 0..n: ``L_k[b] = g * eq(b, (tau_{n-k+1}, ..., tau_n))`` for
  ``b`` in {0,1}^k, bits of the index most significant first -- the Lagrange basis of the
  LAST k variables (so ``L_0 = [g]``);
* ``tau_g1[j] = g * tau_{j+1}`` (0-based list), ``xi_g1 = g * xi``;
* ``g2 = h``, ``tau_g2[j] = h * tau_{j+1}``, ``xi_g2 = h * xi``.

The levels are tied together by ``L_k[b] = L_{k+1}[0||b] + L_{k+1}[1||b]`` (the first
variable of ``L_{k+1}`` sums out of eq), i.e. ``L_k[i] = L_{k+1}[i] + L_{k+1}[i + 2^k]``.
So only ``L_n`` is ever multiplied out; smaller levels cost 2^n point additions in all,
and only ``L_n`` is stored on disk.

File format (version 1, all integers big-endian)::

    magic  b"ZKPCSSRS" | version u32 | num_vars u32
    vk bytes (see ``VerifierKey.to_bytes``)
    xi_g1 | tau_g1[0..n) | L_n[0..2^n)          (EIP-2537 G1 encodings, 128 bytes each)
    keccak256 of every byte above                (32 bytes: the file digest)

The verifier-key part is ``uint256(num_vars) | g1 | g2 | tau_g2[0..n) | xi_g2`` and
``VerifierKey.digest`` is its keccak256.
"""
from __future__ import annotations

import functools
import operator
import secrets
import struct
from dataclasses import dataclass, field

import numpy as np
from Crypto.Hash import keccak

from ..errors import MalformedError, SetupError
from ..field import R
from .curve import (G1_BYTES, G2_BYTES, G1Point, G2Point, g1_from_bytes, g1_to_bytes,
                    g2_from_bytes, g2_to_bytes, msm_many, pairing_check, randbelow, scalar)

MAGIC = b"ZKPCSSRS"
VERSION = 1
MAX_NUM_VARS = 32
DIGEST_BYTES = 32


def keccak256(data: bytes) -> bytes:
    return keccak.new(data=data, digest_bits=256).digest()


# --------------------------------------------------------------------------- keys

@dataclass(frozen=True)
class VerifierKey:
    """What a verifier needs: the generators and the G2 powers. ``digest`` commits to it."""
    num_vars: int
    g1: G1Point
    g2: G2Point
    tau_g2: tuple
    xi_g2: G2Point
    digest: bytes = b""

    def __post_init__(self):
        object.__setattr__(self, "tau_g2", tuple(self.tau_g2))
        if len(self.tau_g2) != self.num_vars:
            raise SetupError(f"verifier key: {len(self.tau_g2)} tau_g2 points for {self.num_vars} variables")
        d = keccak256(self.to_bytes())
        if not self.digest:
            object.__setattr__(self, "digest", d)
        elif self.digest != d:
            raise SetupError("verifier key: digest does not match its contents")

    def to_bytes(self) -> bytes:
        """Canonical serialization: uint256(num_vars) | g1 | g2 | tau_g2[0..n) | xi_g2."""
        return b"".join([self.num_vars.to_bytes(32, "big"), g1_to_bytes(self.g1), g2_to_bytes(self.g2),
                         *(g2_to_bytes(t) for t in self.tau_g2), g2_to_bytes(self.xi_g2)])

    @staticmethod
    def size(num_vars: int) -> int:
        return 32 + G1_BYTES + (num_vars + 2) * G2_BYTES

    @classmethod
    def from_bytes(cls, data: bytes) -> "VerifierKey":
        """Parse ``to_bytes`` output (all points fully checked); ``MalformedError`` on bad input."""
        data = bytes(data)
        if len(data) < 32:
            raise MalformedError("verifier key: truncated")
        n = int.from_bytes(data[:32], "big")
        if n > MAX_NUM_VARS or len(data) != cls.size(n):
            raise MalformedError(f"verifier key: bad length {len(data)} for num_vars {n}")
        off = 32
        g1 = g1_from_bytes(data[off:off + G1_BYTES])
        off += G1_BYTES
        g2s = [g2_from_bytes(data[o:o + G2_BYTES]) for o in range(off, len(data), G2_BYTES)]
        return cls(n, g1, g2s[0], tuple(g2s[1:-1]), g2s[-1])


@dataclass
class SRS:
    """Prover key. ``lagrange[k]`` is the basis of the last k variables (see module doc)."""
    num_vars: int
    lagrange: list
    tau_g1: list
    xi_g1: G1Point
    g1: G1Point
    g2: G2Point
    tau_g2: list
    xi_g2: G2Point
    subgroup_checked: bool = True
    """False when ``load`` skipped the subgroup checks of the Lagrange points; ``kzg`` then
    checks every commitment it outputs instead."""
    _vk: VerifierKey | None = field(default=None, repr=False, compare=False)

    def verifier_key(self) -> VerifierKey:
        if self._vk is None:
            self._vk = VerifierKey(self.num_vars, self.g1, self.g2, tuple(self.tau_g2), self.xi_g2)
        return self._vk


# --------------------------------------------------------------------------- setup

def _eq_table(point: list[int]) -> list[int]:
    """eq(b, point) for b in {0,1}^m, first coordinate = most significant index bit."""
    table = [1]
    for t in point:
        nxt = []
        for e in table:
            et = e * t % R
            nxt.append((e - et) % R)
            nxt.append(et)
        table = nxt
    return table


def _comb_window(count: int) -> int:
    """Window width minimising table size + per-point additions (point adds both)."""
    best = None
    for w in range(4, 15):
        nw = -(-255 // w)
        cost = nw * (1 << w) + count * nw
        if best is None or cost < best[0]:
            best = (cost, w)
    return best[1]


def _digits(scalars: list[int], w: int, nw: int) -> list[list[int]]:
    """Base-2^w digits (least significant first) of every scalar, via numpy bit slicing."""
    nbytes = (nw * w + 7) // 8 + 2
    raw = np.frombuffer(b"".join(x.to_bytes(nbytes, "little") for x in scalars), dtype=np.uint8)
    raw = raw.reshape(len(scalars), nbytes).astype(np.uint32)
    out = np.zeros((len(scalars), nw), dtype=np.uint32)
    for i in range(nw):
        bit = i * w
        byte, shift = divmod(bit, 8)
        word = raw[:, byte] | (raw[:, byte + 1] << 8) | (raw[:, byte + 2] << 16)
        out[:, i] = (word >> shift) & ((1 << w) - 1)
    return out.tolist()


def fixed_base_muls(base: G1Point, scalars: list[int]) -> list[G1Point]:
    """``[base * s for s in scalars]`` by a fixed-base comb: ~25 us a point instead of ~170.

    Table row i holds ``base * d * 2^(w*i)`` for every w-bit digit d; each product is then
    the sum of one table entry per window (about 255/w additions, no doublings).
    """
    if not scalars:
        return []
    w = _comb_window(len(scalars))
    nw = -(-255 // w)
    table = []
    b = base
    for _ in range(nw):
        row = [G1Point.identity(), b]
        for _ in range(2, 1 << w):
            row.append(row[-1] + b)
        table.append(row)
        b = row[-1] + b
    get = list.__getitem__
    add = operator.add
    red = functools.reduce
    return [red(add, map(get, table, d)) for d in _digits(scalars, w, nw)]


def _levels_from_top(top: list[G1Point], n: int) -> list[list[G1Point]]:
    levels = [top]
    cur = top
    for k in range(n - 1, -1, -1):
        half = 1 << k
        cur = [cur[i] + cur[i + half] for i in range(half)]
        levels.append(cur)
    levels.reverse()
    return levels


def _setup_from_secrets(num_vars: int, taus: list[int], xi: int) -> SRS:
    """Build the SRS for given secrets (used by ``setup`` and by tests that need tau)."""
    if len(taus) != num_vars:
        raise ValueError("need one tau per variable")
    eq = _eq_table(taus)
    pts = fixed_base_muls(G1Point(), eq + list(taus) + [xi])
    top = pts[:1 << num_vars]
    tau_g1 = pts[1 << num_vars:-1]
    xi_g1 = pts[-1]
    h = G2Point()
    return SRS(
        num_vars=num_vars,
        lagrange=_levels_from_top(top, num_vars),
        tau_g1=tau_g1,
        xi_g1=xi_g1,
        g1=G1Point(),
        g2=h,
        tau_g2=[h * scalar(t) for t in taus],
        xi_g2=h * scalar(xi),
    )


def setup(num_vars: int, rng=None) -> SRS:
    """DEVELOPMENT ONLY: a fresh SRS whose secrets are drawn in this process.

    The toxic waste (tau, xi) is generated here and merely dropped when this function
    returns -- it is not securely erased, and anyone who can see this process (or
    predict ``rng``) can forge proofs. Production must use an SRS from a ceremony.

    Cost: 2^n fixed-base multiplications (``fixed_base_muls``) for ``L_n``, then 2^n
    additions for the smaller levels; about 0.5 s for n = 14.
    """
    if not isinstance(num_vars, int) or not 0 <= num_vars <= MAX_NUM_VARS:
        raise ValueError(f"num_vars must be an int in [0, {MAX_NUM_VARS}]")
    rng = rng or secrets.SystemRandom()
    # tau_i not in {0, 1} (keeps every Lagrange point non-trivial); xi != 0 (hiding).
    taus = [2 + randbelow(rng, R - 2) for _ in range(num_vars)]
    xi = 1 + randbelow(rng, R - 1)
    return _setup_from_secrets(num_vars, taus, xi)


def check_srs(srs: SRS, rng=None) -> None:
    """Check that an SRS is internally consistent; raise ``SetupError`` if it is not.

    * shapes, standard generators, ``L_0 == [g]``;
    * ``L_k[i] == L_{k+1}[i] + L_{k+1}[i + 2^k]`` for every level (additions);
    * with random 128-bit weights, one multi-pairing checks at once that
      ``L_{k+1}[2^k + b] = tau_{n-k} * L_k[b]`` for all k, b, that
      ``tau_g1[j]`` and ``tau_g2[j]`` carry the same tau, and ``xi_g1``/``xi_g2`` the same xi.
    Together these pin every ``L_k`` to ``g * eq(., tau)`` with the tau of ``tau_g2``.
    The pairing argument assumes subgroup points (as ``setup`` and ``load`` give, the
    latter for the Lagrange points only with ``check_subgroup=True``).
    """
    n = srs.num_vars
    rng = rng or secrets.SystemRandom()
    if (len(srs.lagrange) != n + 1 or any(len(srs.lagrange[k]) != 1 << k for k in range(n + 1))
            or len(srs.tau_g1) != n or len(srs.tau_g2) != n):
        raise SetupError("SRS: wrong shape")
    if srs.g1 != G1Point() or srs.g2 != G2Point():
        raise SetupError("SRS: g1/g2 are not the standard generators")
    if srs.lagrange[0][0] != srs.g1:
        raise SetupError("SRS: L_0 is not [g]")
    for k in range(n):
        a, b = srs.lagrange[k + 1], srs.lagrange[k]
        half = 1 << k
        if any(b[i] != a[i] + a[i + half] for i in range(half)):
            raise SetupError(f"SRS: level {k} is not the pairwise sum of level {k + 1}")
    # h-side: sum_k sum_b r_{k,b} L_{k+1}[2^k+b] + sum_j u_j tau_g1[j] + v xi_g1
    # tau_g2[n-k-1]-side: sum_b r_{k,b} L_k[b] + u_{n-k-1} g   (tau index n-k is list index n-k-1)
    r = [[randbelow(rng, 1 << 128) for _ in range(1 << k)] for k in range(n)]
    u = [randbelow(rng, 1 << 128) for _ in range(n)]
    v = randbelow(rng, 1 << 128)
    h_pts, h_sc = [srs.xi_g1], [v]
    jobs = []
    for k in range(n):
        h_pts += srs.lagrange[k + 1][1 << k:]
        h_sc += r[k]
        jobs.append((srs.lagrange[k] + [srs.g1], r[k] + [u[n - k - 1]]))
    h_pts += srs.tau_g1
    h_sc += u
    sums = msm_many([(h_pts, h_sc)] + jobs + [([srs.g1], [v])])
    g1s = [sums[0]] + [-s for s in sums[1:]]
    g2s = [srs.g2] + [srs.tau_g2[n - k - 1] for k in range(n)] + [srs.xi_g2]
    if not pairing_check(g1s, g2s):
        raise SetupError("SRS: pairing consistency check failed")


# --------------------------------------------------------------------------- files

_HEADER = struct.Struct(">8sII")


def file_size(num_vars: int) -> int:
    return (_HEADER.size + VerifierKey.size(num_vars) + (1 + num_vars + (1 << num_vars)) * G1_BYTES
            + DIGEST_BYTES)


def serialize(srs: SRS) -> bytes:
    n = srs.num_vars
    body = b"".join([
        _HEADER.pack(MAGIC, VERSION, n),
        srs.verifier_key().to_bytes(),
        g1_to_bytes(srs.xi_g1),
        *(g1_to_bytes(p) for p in srs.tau_g1),
        *(g1_to_bytes(p) for p in srs.lagrange[n]),
    ])
    return body + keccak256(body)


def save(srs: SRS, path) -> bytes:
    """Write ``srs`` to ``path``; return the file digest (keccak256 of the body)."""
    data = serialize(srs)
    with open(path, "wb") as f:
        f.write(data)
    return data[-DIGEST_BYTES:]


def deserialize(data: bytes, expected_digest: bytes | None = None, check_subgroup: bool = False) -> SRS:
    """Parse ``serialize`` output; see ``load``."""
    if len(data) < _HEADER.size + DIGEST_BYTES:
        raise SetupError("SRS file: truncated header")
    magic, version, n = _HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise SetupError("SRS file: bad magic bytes (not an SRS file)")
    if version != VERSION:
        raise SetupError(f"SRS file: unsupported version {version} (expected {VERSION})")
    if n > MAX_NUM_VARS:
        raise SetupError(f"SRS file: num_vars {n} exceeds {MAX_NUM_VARS}")
    if len(data) != file_size(n):
        raise SetupError(f"SRS file: {len(data)} bytes, expected {file_size(n)} for num_vars {n} "
                         "(truncated or extended)")
    body, digest = data[:-DIGEST_BYTES], data[-DIGEST_BYTES:]
    if keccak256(body) != digest:
        raise SetupError("SRS file: digest mismatch (corrupt file)")
    if expected_digest is not None and bytes(expected_digest) != digest:
        raise SetupError("SRS file: file digest differs from the expected digest")
    try:
        off = _HEADER.size
        vk_len = VerifierKey.size(n)
        vk = VerifierKey.from_bytes(data[off:off + vk_len])
        off += vk_len
        small = [g1_from_bytes(data[o:o + G1_BYTES]) for o in range(off, off + (n + 1) * G1_BYTES, G1_BYTES)]
        off += (n + 1) * G1_BYTES
        top = [g1_from_bytes(data[o:o + G1_BYTES], subgroup_check=check_subgroup)
               for o in range(off, off + (G1_BYTES << n), G1_BYTES)]
    except MalformedError as e:
        raise SetupError(f"SRS file: {e}") from e
    if vk.g1 != G1Point() or vk.g2 != G2Point():
        raise SetupError("SRS file: g1/g2 are not the standard generators")
    srs = SRS(num_vars=n, lagrange=_levels_from_top(top, n), tau_g1=small[1:], xi_g1=small[0],
              g1=vk.g1, g2=vk.g2, tau_g2=list(vk.tau_g2), xi_g2=vk.xi_g2,
              subgroup_checked=check_subgroup)
    if srs.lagrange[0][0] != srs.g1:
        raise SetupError("SRS file: Lagrange points do not sum to the generator")
    srs._vk = vk
    return srs


def load(path, expected_digest: bytes | None = None, check_subgroup: bool = False) -> SRS:
    """Read an SRS written by ``save``; raise ``SetupError`` if it is corrupt or truncated.

    Always: the header, the exact length and the file digest (keccak256 trailer) are
    checked before anything is parsed, so accidental corruption is caught up front;
    pass ``expected_digest`` (e.g. pinned in a config) to also authenticate the file.
    The verifier-key points, ``xi_g1`` and ``tau_g1`` get full checks (canonical, on
    the curve, in the subgroup).

    The 2^n bulk Lagrange points are checked to be canonical and on the curve, but the
    subgroup check (~50 us each, ~1 s for n = 14) is skipped unless ``check_subgroup``.
    Why that is safe: (1) soundness rests on the verifier key only, which is fully
    checked; (2) a point with a small-order component could only come from a crafted
    file (the digest rules out corruption); it could at worst make a commitment leak
    f modulo a small prime, so ``kzg`` checks each commitment it outputs for subgroup
    membership whenever ``srs.subgroup_checked`` is False (one check, ~60 us, per
    commitment) and refuses to output one outside G1.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise SetupError(f"SRS file: cannot read {path}: {e}") from e
    return deserialize(data, expected_digest, check_subgroup)


__all__ = ["SRS", "VerifierKey", "setup", "check_srs", "save", "load", "serialize", "deserialize",
           "fixed_base_muls", "keccak256", "file_size", "MAGIC", "VERSION"]
