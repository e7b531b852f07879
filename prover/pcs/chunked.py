r"""Chunked commitments: a multilinear polynomial larger than the SRS, as 2^(m-k) commitments.

A polynomial f in m variables (2^m values, index bits most significant first) under an
SRS for k < m variables is split into 2^(m-k) chunks of 2^k values,
``f_c = f[c 2^k : (c+1) 2^k]``, so that for a point r = r_hi || r_lo (m - k, then k
coordinates)

    f(r) = sum_c eq(r_hi, c) f_c(r_lo).

Each chunk is committed on its own, ``C_c = kzg.commit(srs, f_c, rho_c)``, and the
commitment is the list (C_c). A claim f(r) = v then needs no new protocol: commitments
are additively homomorphic, so

    C' = sum_c eq(r_hi, c) C_c    commits to    g = sum_c eq(r_hi, c) f_c

(blind sum_c eq(r_hi, c) rho_c) and g(r_lo) = f(r). The claim becomes the claim
g(r_lo) = v on C', which a KZG opening (or a batch opening, as one more committed
polynomial) discharges. The verifier's extra work is one MSM of 2^(m-k) points; the
prover folds its 2^(m-k) x 2^k table with eq(r_hi, .). Binding: a prover that could
open C' at r_lo to a wrong value would break the binding of the PST opening for C'
itself, since C' is fixed by the chunk commitments (bound before r was drawn) and r.

This is the layer large models need (SmolLM2-135M's stacked FFN weights are 2^26
entries; its circuit is proven with an SRS of about 2^20). Circuits use it through
``TQuant.chunk_vars``: ``context.attach_commit`` commits such tensors chunk by chunk and
the batch opening (``batch.open_claims``) turns every claim on one into a claim on its C'.
"""
from __future__ import annotations

from dataclasses import dataclass

from typing import Sequence

import gmpy2
import numpy as np

from ..errors import MalformedError
from ..field import R, native
from ..field.smallvec import SmallVec
from ..poly.mle import eq_table
from . import kzg
from .curve import G1Point, msm
from .srs import SRS, VerifierKey

_RM = gmpy2.mpz(R)


@dataclass(frozen=True)
class ChunkedCommitment:
    """The commitments of the 2^(m-k) chunks (chunk c first for c = 0, 1, ...) of a
    polynomial in ``num_vars`` = m variables, each over ``chunk_vars`` = k variables."""
    chunks: tuple
    num_vars: int
    chunk_vars: int

    def __post_init__(self):
        if not 0 <= self.chunk_vars <= self.num_vars:
            raise MalformedError("chunked commitment: chunk variables must be in [0, num_vars]")
        if len(self.chunks) != 1 << (self.num_vars - self.chunk_vars):
            raise MalformedError(f"chunked commitment: {len(self.chunks)} chunks for "
                                 f"2^{self.num_vars - self.chunk_vars}")
        if not all(isinstance(c, G1Point) for c in self.chunks):
            raise MalformedError("chunked commitment: chunks must be G1Point objects")


def chunk_vars_of(num_vars: int, limit: int) -> int:
    """The chunk size (log2) a tensor of 2^num_vars entries is committed in under a layout
    limit (0: no limit): the limit when the tensor is larger, else 0 (committed whole)."""
    return limit if limit and num_vars > limit else 0


def chunk_vars_for(num_vars: int, srs_vars: int) -> int:
    """k: the whole polynomial when it fits the SRS, else chunks of the SRS's size."""
    return min(num_vars, srs_vars)


def split(evals: Sequence[int], chunk_vars: int) -> list[list[int]]:
    """The chunks f_c of a table of 2^m values, 2^chunk_vars values each."""
    size = 1 << chunk_vars
    if len(evals) % size or len(evals) & (len(evals) - 1):
        raise ValueError(f"{len(evals)} values do not split into chunks of {size}")
    if isinstance(evals, (SmallVec, np.ndarray)):
        return [evals[i:i + size] for i in range(0, len(evals), size)]
    return [list(evals[i:i + size]) for i in range(0, len(evals), size)]


def commit(srs: SRS, evals: Sequence[int], blinds: Sequence[int] | None = None,
           chunk_vars: int | None = None) -> ChunkedCommitment:
    """Commit ``evals`` (2^m values in [0, R)) as chunks of 2^chunk_vars values (default: of
    the SRS's size; one chunk, the plain KZG commitment, when m <= the SRS's variables).
    ``blinds``: one per chunk."""
    m = kzg.num_vars_of(evals)
    k = chunk_vars_for(m, srs.num_vars if chunk_vars is None else chunk_vars)
    if k > srs.num_vars:
        raise ValueError(f"chunks of 2^{k} values need a larger SRS than 2^{srs.num_vars}")
    parts = split(evals, k)
    blinds = list(blinds) if blinds is not None else [0] * len(parts)
    if len(blinds) != len(parts):
        raise ValueError(f"{len(blinds)} blinds for {len(parts)} chunks")
    return ChunkedCommitment(tuple(kzg.commit(srs, f, b) for f, b in zip(parts, blinds)), m, k)


def _split_point(cc_vars: int, chunk_vars: int, point: Sequence[int]) -> tuple[list[int], list[int]]:
    if len(point) != cc_vars:
        raise ValueError(f"point has {len(point)} coordinates, polynomial has {cc_vars} variables")
    hi = cc_vars - chunk_vars
    return list(point[:hi]), list(point[hi:])


def reduce_commitment(cc: ChunkedCommitment, point: Sequence[int]) -> tuple[G1Point, list[int]]:
    """Verifier side: (C' = sum_c eq(r_hi, c) C_c, r_lo) for a claim on ``cc`` at ``point``."""
    r_hi, r_lo = _split_point(cc.num_vars, cc.chunk_vars, point)
    if not r_hi:
        return cc.chunks[0], r_lo
    return msm(list(cc.chunks), eq_table(r_hi)), r_lo


def reduce_values(evals: Sequence[int], chunk_vars: int, point: Sequence[int],
                  blinds: Sequence[int] | None = None) -> tuple[list[int], int, list[int]]:
    """Prover side: (g = sum_c eq(r_hi, c) f_c, its blind, r_lo). With the native kernels
    (large chunks) g is a native vector, else a list."""
    m = kzg.num_vars_of(evals)
    r_hi, r_lo = _split_point(m, chunk_vars, point)
    size = 1 << chunk_vars
    if size >= native.MIN_LEN and native.available():
        ws = eq_table(r_hi)
        nz = [c for c, w in enumerate(ws) if w]  # a boolean r_hi (a claim inside one chunk) selects chunks
        arr = native.operand(evals)  # a SmallVec's chunks are read as int64, never converted
        g = native.lincomb([arr[c * size:(c + 1) * size] for c in nz], [ws[c] for c in nz])
        blind = sum(w * b for w, b in zip(ws, blinds)) % R if blinds is not None else 0
        return g, blind, r_lo
    weights = [gmpy2.mpz(w) for w in eq_table(r_hi)]
    g = [gmpy2.mpz(0)] * size
    for c, w in enumerate(weights):
        if w == 0:  # a boolean r_hi (a claim inside one chunk) selects chunks
            continue
        part = evals[c * size:(c + 1) * size]
        g = [a + w * x for a, x in zip(g, part)] if w != 1 else [a + x for a, x in zip(g, part)]
    blind = sum(w * b for w, b in zip(weights, blinds)) % R if blinds is not None else 0
    return [int(a % _RM) for a in g], int(blind), r_lo


def open(srs: SRS, evals: Sequence[int], point: Sequence[int], blinds: Sequence[int] | None = None,
         rng=None) -> tuple[int, kzg.OpeningProof]:
    """Open ``commit(srs, evals, blinds)`` at ``point``: (f(point), a KZG opening of C' at r_lo)."""
    k = chunk_vars_for(kzg.num_vars_of(evals), srs.num_vars)
    g, blind, r_lo = reduce_values(evals, k, point, blinds)
    return kzg.open(srs, native.to_ints(g) if isinstance(g, np.ndarray) else g, r_lo, blind, rng)


def verify(vk: VerifierKey, cc: ChunkedCommitment, point: Sequence[int], value: int,
           proof: kzg.OpeningProof) -> bool:
    """Check a claim ``f(point) = value`` on a chunked commitment; False if it is false."""
    if cc.chunk_vars > vk.num_vars or len(point) != cc.num_vars:
        return False
    if not all(isinstance(x, int) and 0 <= x < R for x in point):
        return False
    c, r_lo = reduce_commitment(cc, point)
    return kzg.verify(vk, c, r_lo, value, proof)


__all__ = ["ChunkedCommitment", "chunk_vars_of", "chunk_vars_for", "split", "commit", "reduce_commitment", "reduce_values",
           "verify"]
