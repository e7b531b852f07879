r"""Multilinear KZG (Papamanthou-Shi-Tamassia style) with hiding commitments.

Polynomials. A multilinear f in m variables is the list of its 2^m values on the
boolean hypercube; index b's bits, most significant first, are (x_1, ..., x_m), and
``f(x) = sum_b f[b] eq(b, x)``. With an SRS for n >= m variables, f lives in the LAST m
SRS variables: variable i of f uses tau_{o+i}, where o = n - m.

Commit. ``C = sum_b f[b] L_m[b] + rho xi_g1 = g^{f(tau') + rho xi}``, tau' = (tau_{o+1..n}).

Open at z = (z_1..z_m). Fold the first variable first: with f^(0) = f and
f^(i) = f(z_1..z_i, x_{i+1..m}), the quotient ``q_i = f^(i-1)|_{x_i=1} - f^(i-1)|_{x_i=0}``
(table ``hi - lo`` of the current table's two halves) is a polynomial in x_{i+1..m}, and
multilinearity in x_i gives ``f^(i-1) = f^(i) + (x_i - z_i) q_i``. Telescoping,

    f(X) - f(z) = sum_{i=1}^m (X_i - z_i) q_i(X_{i+1}, ..., X_m).

q_i has m - i variables, the last ones, so it is committed with ``L_{m-i}``. Draw blinds
s_i and send

    pi_i  = commit(q_i) + s_i xi_g1                = g^{q_i(tau') + s_i xi}
    pi_xi = rho g - sum_i s_i (tau_g1[o+i] - z_i g) = g^{rho - sum_i s_i (tau_{o+i} - z_i)}.

Verify. In the exponent (writing [a] for g^a):

    C - v g = [f(tau') - v + rho xi] = [sum_i (tau_{o+i} - z_i) q_i(tau') + rho xi]
            = sum_i (tau_{o+i} - z_i) pi_i - xi sum_i s_i (tau_{o+i} - z_i) + rho xi [1]
            = sum_i (tau_{o+i} - z_i) pi_i + xi pi_xi,

so e(C - v g, h) = prod_i e(pi_i, (tau_{o+i} - z_i) h) * e(pi_xi, xi h), i.e.

    e(C - v g + sum_i z_i pi_i, h) * prod_i e(-pi_i, tau_g2[o+i]) * e(-pi_xi, xi_g2) == 1

with 1-based tau indices (list index ``o + i - 1``). m = 0: no quotients and
``pi_xi = rho g``. Soundness is the usual PST argument (q-SDH-type assumptions in the
algebraic group model); hiding is perfect: with xi != 0, C and every pi_i are uniformly
random group elements and pi_xi is then determined by the verification equation.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Sequence

import gmpy2
import numpy as np

from ..errors import MalformedError, MalformedProofError, SetupError
from ..field import R
from ..field.smallvec import SmallVec
from .curve import (G1_BYTES, G1Point, bucket_msm, g1_from_bytes, g1_to_bytes, msm, msm_many, pairing_check,
                    randbelow)
from .srs import SRS, VerifierKey

_RM = gmpy2.mpz(R)


@dataclass
class OpeningProof:
    """``quotients[i]`` commits to q_{i+1}; ``pi_xi`` absorbs the blinds."""
    quotients: list
    pi_xi: G1Point

    def to_bytes(self) -> bytes:
        """EIP-2537 encodings of pi_1, ..., pi_m, pi_xi (128 bytes each)."""
        return b"".join(g1_to_bytes(p) for p in [*self.quotients, self.pi_xi])

    @classmethod
    def from_bytes(cls, data: bytes, num_vars: int) -> "OpeningProof":
        """Parse ``to_bytes`` output for an m = ``num_vars`` opening (points fully checked)."""
        data = bytes(data)
        if len(data) != (num_vars + 1) * G1_BYTES:
            raise MalformedProofError(
                f"opening proof: {len(data)} bytes, expected {(num_vars + 1) * G1_BYTES}")
        try:
            pts = [g1_from_bytes(data[o:o + G1_BYTES]) for o in range(0, len(data), G1_BYTES)]
        except MalformedError as e:
            raise MalformedProofError(f"opening proof: {e}") from e
        return cls(pts[:-1], pts[-1])


def num_vars_of(evals: Sequence[int]) -> int:
    """m with len(evals) == 2^m; ValueError if the length is not a power of two."""
    n = len(evals)
    if n == 0 or n & (n - 1):
        raise ValueError(f"evaluation table length {n} is not a power of two")
    return n.bit_length() - 1


def evaluate(evals: Sequence[int], point: Sequence[int]) -> int:
    """The multilinear extension of ``evals`` at ``point`` (first variable = MSB)."""
    m = num_vars_of(evals)
    if len(point) != m:
        raise ValueError(f"point has {len(point)} coordinates, polynomial has {m} variables")
    f = list(evals)
    for z in point:
        half = len(f) >> 1
        zm = gmpy2.mpz(z)
        f = [int((a + zm * (b - a)) % _RM) for a, b in zip(f[:half], f[half:])]
    return f[0] % R


def _basis(srs: SRS, m: int) -> list:
    if m > srs.num_vars:
        raise ValueError(f"polynomial has {m} variables, SRS supports at most {srs.num_vars}")
    return srs.lagrange[m]


def _check_scalar(x: int, what: str) -> None:
    if not (isinstance(x, int) and 0 <= x < R):
        raise ValueError(f"{what} must be an int in [0, R)")


def _check_evals(evals: Sequence[int]) -> None:
    if evals and not (min(evals) >= 0 and max(evals) < R):
        raise ValueError("evaluations must be ints in [0, R)")


def _guard(srs: SRS, points: list) -> list:
    """If the Lagrange points were loaded without subgroup checks, check the outputs."""
    if not srs.subgroup_checked:
        for p in points:
            if not p.is_in_subgroup():
                raise SetupError("SRS Lagrange points are not in the G1 subgroup (crafted SRS file?)")
    return points


def commit(srs: SRS, evals: Sequence[int], blind: int = 0) -> G1Point:
    """``sum_b evals[b] L_m[b] + blind xi_g1``; evals are ints in [0, R), 2^m of them, m <= n."""
    basis = _basis(srs, num_vars_of(evals))
    _check_scalar(blind, "blind")
    if isinstance(evals, (SmallVec, np.ndarray)):  # scalars straight from the int64 array / native limbs
        return _blinded(srs, msm(basis, evals), blind)
    pts = list(basis)
    scs = list(evals)
    if blind:
        pts.append(srs.xi_g1)
        scs.append(blind)
    return _guard(srs, [msm(pts, scs)])[0]


def commit_rows(srs: SRS, idx, row_values: Sequence[int], blind: int = 0) -> G1Point:
    """``commit(srs, [row_values[i] for i in idx], blind)`` for an int array ``idx`` of row
    numbers (a column that takes one value per table row), by ``curve.bucket_msm``."""
    basis = _basis(srs, num_vars_of(idx))
    _check_scalar(blind, "blind")
    return _blinded(srs, bucket_msm(basis, idx, row_values), blind)


def _blinded(srs: SRS, c: G1Point, blind: int) -> G1Point:
    """c + blind xi_g1, checked as ``commit`` checks its output."""
    return _guard(srs, [c + msm([srs.xi_g1], [blind]) if blind else c])[0]


def open(srs: SRS, evals: Sequence[int], point: Sequence[int], blind: int = 0,
         rng=None) -> tuple[int, OpeningProof]:
    """Open the commitment ``commit(srs, evals, blind)`` at ``point``.

    Returns ``(f(point), proof)``. ``rng`` (anything with ``randbelow`` or ``randrange``,
    e.g. ``random.Random(seed)``; default ``secrets.SystemRandom()``) draws the blinds s_i.
    """
    m = num_vars_of(evals)
    _basis(srs, m)
    _check_evals(evals)
    if len(point) != m:
        raise ValueError(f"point has {len(point)} coordinates, polynomial has {m} variables")
    for z in point:
        _check_scalar(z, "point coordinate")
    _check_scalar(blind, "blind")
    rng = rng or secrets.SystemRandom()
    o = srs.num_vars - m

    f = list(evals)
    jobs = []
    s = []
    for i, z in enumerate(point):
        half = len(f) >> 1
        lo, hi = f[:half], f[half:]
        q = [(b - a) % R for a, b in zip(lo, hi)]
        zm = gmpy2.mpz(z)
        f = [int((a + zm * d) % _RM) for a, d in zip(lo, q)]
        si = randbelow(rng, R)
        s.append(si)
        jobs.append((srs.lagrange[m - 1 - i] + [srs.xi_g1], q + [si]))
    value = f[0]

    # pi_xi = (rho + sum_i s_i z_i) g - sum_i s_i tau_g1[o+i]
    c0 = (blind + sum(si * z for si, z in zip(s, point))) % R
    jobs.append(([srs.g1] + srs.tau_g1[o:o + m], [c0] + [(R - si) % R for si in s]))
    out = msm_many(jobs)
    quotients = _guard(srs, out[:-1])
    return value, OpeningProof(quotients, out[-1])


def verify(vk: VerifierKey, commitment: G1Point, point: Sequence[int], value: int,
           proof: OpeningProof) -> bool:
    """Check an opening; False for a false proof or mismatched shapes/ranges.

    Points must be ``G1Point`` objects (decode bytes with ``g1_from_bytes`` /
    ``OpeningProof.from_bytes``, which enforce subgroup membership).
    """
    pts = [commitment, *proof.quotients, proof.pi_xi]
    if not all(isinstance(p, G1Point) for p in pts):
        raise MalformedError("verify: commitment and proof must be G1Point objects")
    m = len(point)
    if m > vk.num_vars or len(proof.quotients) != m:
        return False
    if not all(isinstance(x, int) and 0 <= x < R for x in [value, *point]):
        return False
    o = vk.num_vars - m
    # C - v g + sum_i z_i pi_i
    lhs = msm([commitment, vk.g1, *proof.quotients], [1, (R - value) % R, *point])
    g1s = [lhs, *(-p for p in proof.quotients), -proof.pi_xi]
    g2s = [vk.g2, *vk.tau_g2[o:o + m], vk.xi_g2]
    return pairing_check(g1s, g2s)


# ``open`` is public but kept out of ``__all__``: a star import must not shadow the builtin.
__all__ = ["OpeningProof", "commit", "verify", "evaluate", "num_vars_of"]
