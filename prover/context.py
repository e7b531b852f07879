"""Shared state of one proof run: the claim store, seen from either side.

Protocol code is written once against ``claim``/``reduce``:

* ``claim(tid, point)`` obtains tensor ``tid``'s MLE value at ``point``: a public
  tensor is evaluated locally by both sides; for any other tensor the prover sends
  the value and the verifier receives it, then the value is recorded (committed
  tensor: to be opened at the end) or reduced further (virtual tensor: handed to
  the op that produced it).
* ``reduce(tid, point, value)`` takes a value derived from other claims: a public
  tensor is checked on the spot, a committed one is recorded, a virtual one is
  handed to its producer.
* ``weighted_claim(tid, terms, value)`` records a weighted claim on a committed tensor,
  value = sum_l coef_l * f(point_l), for the batch opening; nothing is sent (the caller
  has sent or received ``value``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from .errors import VerificationError
from .field import R as _R
from .poly.mle import evaluate, evaluate_fast

PUBLIC = ("input", "output")
COMMITTED = ("model", "advice", "table", "proof")


@dataclass(frozen=True)
class TensorSpec:
    id: str
    shape: tuple[int, ...]
    kind: str  # input | output | model | advice | table | proof | virtual

    @property
    def num_vars(self) -> int:
        from .poly.mle import num_vars
        return num_vars(self.shape)


@dataclass
class Claim:
    """f_tid(point) = value, or, when ``terms`` is set (a weighted claim, ``point == []``),
    sum_l coef_l * f_{t_l}(point_l) = value over the (coef_l, point_l) in ``terms``, where
    t_l = ``term_tids[l]`` (every term on ``tid`` when ``term_tids`` is None; the first term is
    always on ``tid``)."""
    tid: str
    point: list[int]
    value: int
    terms: list[tuple[int, list[int]]] | None = None
    term_tids: list[str] | None = None

    @property
    def num_vars(self) -> int:
        return len(self.terms[0][1]) if self.terms is not None else len(self.point)

    def weighted_points(self) -> list[tuple[int, list[int]]]:
        """(coef, point) pairs: [(1, point)] for a plain claim."""
        return self.terms if self.terms is not None else [(1, self.point)]

    def weighted_terms(self) -> list[tuple[str, int, list[int]]]:
        """(tensor, coef, point) triples: [(tid, 1, point)] for a plain claim."""
        tids = self.term_tids or [self.tid] * len(self.weighted_points())
        return [(t, c, z) for t, (c, z) in zip(tids, self.weighted_points())]


@dataclass
class _Base:
    ch: object
    specs: dict[str, TensorSpec]
    producers: dict[str, object] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    pooled: dict[str, tuple[str, list[int]]] = field(default_factory=dict)  # tid -> (pool id, block prefix bits)
    chunk_vars: int = 0  # tensors over 2^chunk_vars entries are committed in chunks (prover.pcs.chunked)
    mask: object = None  # this proof's mask pool (prover.zk.mask.MaskPool), once committed

    def spec(self, tid: str) -> TensorSpec:
        return self.specs[tid]

    def _committed_at(self, tid: str, point: Sequence[int]) -> tuple[str, list[int]]:
        """The commitment a claim on ``tid`` at ``point`` is opened against, and the point
        there: a block of a pooled commitment is the pool's MLE with the block's prefix bits
        fixed."""
        if tid in self.pooled:
            pool, prefix = self.pooled[tid]
            return pool, list(prefix) + list(point)
        return tid, list(point)

    def _record(self, tid: str, point: Sequence[int], value: int) -> None:
        if len(point) != self.specs[tid].num_vars:
            raise ValueError(f"claim on {tid}: point has {len(point)} coordinates, tensor has {self.specs[tid].num_vars}")
        self.claims.append(Claim(*self._committed_at(tid, point), value))

    def weighted_claim(self, tid: str, terms: Sequence[tuple[int, Sequence[int]]], value: int) -> None:
        """Record sum_l coef_l * f_tid(point_l) = value on committed tensor ``tid`` (both sides;
        nothing is sent). Each point has the tensor's num_vars coordinates; a pooled tensor's
        points get the pool's block prefix (``_committed_at``), as plain claims do."""
        kind = self.specs[tid].kind
        if kind not in COMMITTED:
            raise ValueError(f"weighted claim on {tid}: only committed tensors take weighted claims, not {kind}")
        if not terms:
            raise ValueError(f"weighted claim on {tid}: no terms")
        m = self.specs[tid].num_vars
        out = []
        for coef, point in terms:
            if len(point) != m:
                raise ValueError(f"weighted claim on {tid}: a point has {len(point)} coordinates, tensor has {m}")
            target, at = self._committed_at(tid, point)
            out.append((int(coef) % _R, at))
        self.claims.append(Claim(target, [], int(value) % _R, out))

    def combined_claim(self, terms: Sequence[tuple[str, int, Sequence[int]]], value: int) -> None:
        """Record sum_l coef_l * f_{t_l}(point_l) = value over committed tensors t_l (both
        sides; nothing is sent), e.g. a weight evaluation hidden behind a shadow taken from the
        mask pool. The claim belongs to the first term's tensor; every tensor a term names must
        have a claim of its own too (its slot in the batch opening)."""
        if not terms:
            raise ValueError("combined claim: no terms")
        tids, out = [], []
        for tid, coef, point in terms:
            spec = self.specs[tid]
            if spec.kind not in COMMITTED:
                raise ValueError(f"combined claim on {tid}: only committed tensors take weighted claims, not {spec.kind}")
            if len(point) != spec.num_vars:
                raise ValueError(f"combined claim on {tid}: a point has {len(point)} coordinates, tensor has "
                                 f"{spec.num_vars}")
            target, at = self._committed_at(tid, point)
            tids.append(target)
            out.append((int(coef) % _R, at))
        self.claims.append(Claim(tids[0], [], int(value) % _R, out, tids))

    def reduce(self, tid: str, point: Sequence[int], value: int, terms=None) -> None:
        """``terms`` (an obligation, ``prover.zk.shadow``): the claim is
        f_tid(point) = value + sum_l c_l g_l(z_l) over (g_l, c_l, z_l) on committed tensors,
        whose evaluations were never sent; only a virtual tensor whose producer absorbs
        obligations (``absorbs``) or a committed tensor takes one."""
        kind = self.specs[tid].kind
        if terms:
            if kind == "virtual" and getattr(self.producers[tid], "absorbs", False):
                self.producers[tid].reduce(self, tid, list(point), value, terms=list(terms))
            elif kind in COMMITTED:
                self.combined_claim([(tid, 1, point)] + [(t, (-c) % _R, z) for t, c, z in terms], value)
            else:
                raise ValueError(f"claim on '{tid}' ({kind}) cannot carry hidden terms")
            return
        if kind in PUBLIC:
            if self.public_eval(tid, point) != value:
                raise VerificationError("public-tensor", f"claimed evaluation of public tensor '{tid}' is wrong")
        elif kind == "virtual":
            self.producers[tid].reduce(self, tid, list(point), value)
        else:
            self._record(tid, point, value)

    def public_eval(self, tid: str, point: Sequence[int]) -> int:
        return evaluate(self.public[tid], point)


@dataclass
class ProverCtx(_Base):
    values: dict[str, list[int]] = field(default_factory=dict)  # padded flat field vectors
    public: dict[str, list[int]] = field(default_factory=dict)
    commitments: dict[str, object] = field(default_factory=dict)
    blinds: dict[str, int] = field(default_factory=dict)
    commit_rows: dict = field(default_factory=dict)  # tid -> (row index array, row values): kzg.commit_rows
    srs: object = None
    rng: object = None
    is_prover: bool = True

    def value(self, tid: str) -> list[int]:
        return self.values[tid]

    def claim(self, tid: str, point: Sequence[int], label: str = "claim") -> int:
        v = evaluate_fast(self.values[tid], point)
        if self.specs[tid].kind not in PUBLIC:
            self.ch.send_fr(label, v)
        self.reduce(tid, point, v)
        return v


@dataclass
class VerifierCtx(_Base):
    public: dict[str, list[int]] = field(default_factory=dict)
    commitments: dict[str, object] = field(default_factory=dict)
    is_prover: bool = False

    def claim(self, tid: str, point: Sequence[int], label: str = "claim") -> int:
        if self.specs[tid].kind in PUBLIC:
            v = self.public_eval(tid, point)
        else:
            v = self.ch.recv_fr(label)
        self.reduce(tid, point, v)
        return v


def attach_commit(ctx, tid: str, label: str, chunk: bool = True) -> None:
    """Commit to tensor ``tid`` (prover: compute, blind, send; verifier: receive).

    A tensor over 2^chunk_vars entries is committed as 2^(m - chunk_vars) chunk
    commitments, sent in chunk order, each with its own blind (unless ``chunk`` is False)."""
    from .pcs import chunked
    m = ctx.specs[tid].num_vars
    k = chunked.chunk_vars_of(m, ctx.chunk_vars) if chunk else 0
    count = 1 << (m - k) if k else 1
    if ctx.is_prover:
        from .pcs import kzg
        from .pcs.curve import randbelow
        blinds = [randbelow(ctx.rng, _R) for _ in range(count)]
        rows = ctx.commit_rows.get(tid)  # a column with one value per table row: bucketed MSM
        if rows is not None:
            pts = [kzg.commit_rows(ctx.srs, idx, rows[1], b)
                   for idx, b in zip(chunked.split(rows[0], k) if k else [rows[0]], blinds)]
        else:
            vals = ctx.values[tid]
            pts = [kzg.commit(ctx.srs, f, b) for f, b in zip(chunked.split(vals, k) if k else [vals], blinds)]
        for p in pts:
            ctx.ch.send_g1(label, p)
        ctx.blinds[tid] = blinds if k else blinds[0]
    else:
        pts = [ctx.ch.recv_g1(label) for _ in range(count)]
    ctx.commitments[tid] = chunked.ChunkedCommitment(tuple(pts), m, k) if k else pts[0]
