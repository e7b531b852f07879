"""Libra masks: the round polynomials of every sumcheck reveal nothing.

A sumcheck proving H = sum_x f(x) over n variables runs instead on f + rho g with the
claim H + rho G, where (Libra, Xie et al. 2019, sec. 4.1; Chiesa-Forbes-Spooner 2017)

* g(x) = g_1(x_1) + ... + g_n(x_n) is a random mask, committed before any challenge
  of this sumcheck, each g_i of the degree of round i;
* G = sum_x g(x) is sent (``<label>/G``), then rho <- transcript (``<label>/rho``);
* the rounds of f + rho g run as usual (``<label>/g``, ``<label>/r``);
* y = g(r) is sent (``<label>/y``) and becomes a claim on the committed mask; the caller's
  final check receives expected - rho y, i.e. f(r), exactly as without a mask.

Each round polynomial of f + rho g carries a fresh uniformly random g_i of its full
degree, so the rounds are uniform given f(r) (what the caller's final check consumes,
hidden by other means) and G. Soundness: G is fixed before rho, so a false H survives
only if G - sum g = (sum f - H) / rho (probability 1/r); the rounds are then an ordinary
sumcheck of f + rho g, whose final value uses g(r) = y bound by the mask commitment. Any
committed mask keeps this argument: a block whose g_i has higher degree than the round's
only makes the prover incomplete (degree <= 7 per variable: error <= 7 n / r).

The pool. Every mask of one proof lives in ONE committed tensor, the mask pool P
(tensor id and label ``zk/mask``, 2^K uniformly random entries, committed first in
phase 1; K is sent as ``zk/mask-vars`` before it, an integer the verifier bounds). Round
i of a masked sumcheck takes the next unused block b of 8 entries, the multilinear
B_b(u, v, w) = P(bits(b) || u, v, w) = sum_S c_S prod_{s in S} s (S over subsets of
{u, v, w}, 8 independent uniform coefficients), and reads it along a curve chosen by the
round's degree d so that every monomial has degree <= d and the d + 1 coefficients of
g_i(X) = B_b(curve_d(X)) are independent uniform sums of the c_S:

    d = 1: (X, 0, 0)     g = c + c_u X
    d = 2: (X, X, 0)     g = c + (c_u + c_v) X + c_uv X^2
    d = 3: (X, X, X)     g = c + (c_u + c_v + c_w) X + (c_uv + c_uw + c_vw) X^2 + c_uvw X^3
    d = 4: (X, X, X^2)   ... + (c_w + c_uv) X^2 + (c_uw + c_vw) X^3 + c_uvw X^4
    d = 5: (X, X^2, X^2) ... + c_vw X^4 + c_uvw X^5

So the prover draws the pool before it knows which round takes which block. Then

    G = 2^(n-1) sum_i (g_i(0) + g_i(1)),    y = sum_i P(bits(b_i) || curve_{d_i}(r_i)),

the latter a weighted claim on P with public terms. Blocks are taken in the order the
sumchecks run, which both sides share; the pool's claims follow all other claims in the
batch opening (``batch.open_claims``), in the same order.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import sumcheck
from ..context import Claim, TensorSpec, attach_commit
from ..errors import MalformedProofError, ZkllmError
from ..field import R
from ..pcs.curve import randbelow
from ..poly.mle import bits_msb

POOL = "zk/mask"
BLOCK_VARS = 3           # a block is B(u, v, w): 8 entries
MAX_DEGREE = 5           # the highest round degree a block serves (curve below)
MAX_POOL_VARS = 28       # a verifier refuses a larger declared pool (its cost is linear in K)



def curve(d: int, x: int) -> list[int]:
    """The point (u, v, w) of a block where g_i(x) is read, for a round of degree d."""
    x %= R
    x2 = x * x % R
    if d == 1:
        return [x, 0, 0]
    if d == 2:
        return [x, x, 0]
    if d == 3:
        return [x, x, x]
    if d == 4:
        return [x, x, x2]
    if d == 5:
        return [x, x2, x2]
    raise ValueError(f"no mask curve for a round of degree {d}")


def block_eval(block: list[int], point: list[int]) -> int:
    """B(u, v, w) of an 8-entry block (entries indexed u v w, most significant first)."""
    u, v, w = point
    lo = [(a + w * (b - a)) for a, b in zip(block[0::2], block[1::2])]   # fold w
    mid = [(a + v * (b - a)) for a, b in zip(lo[0::2], lo[1::2])]        # fold v
    return (mid[0] + u * (mid[1] - mid[0])) % R


class PoolExhausted(ZkllmError):
    """Prover: the pool it committed has fewer blocks than the proof's sumchecks need
    (``circuit.prove_run`` starts again with a larger one)."""


@dataclass
class MaskPool:
    """One proof's mask pool: its size, the next unused block and (prover) its blocks'
    coefficients."""
    num_vars: int
    next_block: int = 0
    prover: bool = False
    blocks: list[list[int]] = field(default_factory=list)  # prover: the 8 entries of every block
    claims: list = field(default_factory=list)  # one weighted claim per masked sumcheck, in run order

    @property
    def capacity(self) -> int:
        return 1 << (self.num_vars - BLOCK_VARS)

    def take(self, count: int) -> list[int]:
        if self.next_block + count > self.capacity:
            if self.prover:
                raise PoolExhausted(f"mask pool of 2^{self.num_vars} entries is too small")
            raise MalformedProofError(f"mask pool of 2^{self.num_vars} entries is too small for this circuit")
        out = list(range(self.next_block, self.next_block + count))
        self.next_block += count
        return out

    def prefix(self, block: int) -> list[int]:
        return bits_msb(block, self.num_vars - BLOCK_VARS)


def pool_vars_for(blocks: int) -> int:
    """K for a pool of at least ``blocks`` blocks."""
    return BLOCK_VARS + max(0, (max(blocks, 1) - 1).bit_length())


def commit_pool(ctx, blocks: int) -> None:
    """Phase 1, before anything else: K (``zk/mask-vars``), then the pool's commitment
    (``zk/mask``). ``blocks``: how many blocks the prover may use (an upper bound; it
    draws every entry uniformly, used or not)."""
    if ctx.is_prover:
        k = pool_vars_for(blocks)
        if k > ctx.srs.num_vars:  # a small SRS: the largest pool it can commit (PoolExhausted if too small)
            k = max(BLOCK_VARS, min(k, ctx.srs.num_vars))
        ctx.ch.send_fr("zk/mask-vars", k)
        pool = MaskPool(k, prover=True)
        vals = [randbelow(ctx.rng, R) for _ in range(1 << k)]
        pool.blocks = [vals[i:i + 8] for i in range(0, len(vals), 8)]
        ctx.values[POOL] = vals
    else:
        k = ctx.ch.recv_fr("zk/mask-vars")
        if not BLOCK_VARS <= k <= MAX_POOL_VARS:
            raise MalformedProofError(f"mask pool size 2^{k} is out of range")
        pool = MaskPool(k)
    ctx.specs[POOL] = TensorSpec(POOL, (1 << pool.num_vars,), "proof")
    ctx.mask = pool
    attach_commit(ctx, POOL, "zk/mask", chunk=False)  # weighted claims need one commitment


def _degrees(n: int, degree: int, first_degree: int | None) -> list[int]:
    return [first_degree if (i == 0 and first_degree is not None) else degree for i in range(n)]


class _RoundMask:
    """Prover: rho times the mask's part of each round polynomial, as evaluations at 0..d."""

    def __init__(self, blocks: list[list[int]], degrees: list[int], rho: int):
        self.blocks, self.degrees, self.rho = blocks, degrees, rho
        self.n = len(degrees)
        self.ends = [(block_eval(b, curve(d, 0)) + block_eval(b, curve(d, 1))) % R for b, d in zip(blocks, degrees)]
        self.fixed = 0  # sum_{k < i} g_k(r_k)

    def total(self) -> int:
        """G = sum_x g(x) = 2^(n-1) sum_i (g_i(0) + g_i(1))."""
        return pow(2, self.n - 1, R) * sum(self.ends) % R if self.n else 0

    def __call__(self, rnd: int, degree: int) -> list[int]:
        # sum over the free variables after x_rnd of g(r_<rnd, X, x_>rnd)
        free = self.n - rnd - 1
        later = sum(self.ends[rnd + 1:]) % R
        base = (pow(2, free, R) * self.fixed + (pow(2, free - 1, R) * later if free else 0)) % R
        scale = pow(2, free, R)
        b, d = self.blocks[rnd], self.degrees[rnd]
        return [self.rho * (base + scale * block_eval(b, curve(d, x))) % R for x in range(degree + 1)]

    def bind(self, rnd: int, r: int) -> None:
        self.fixed = (self.fixed + block_eval(self.blocks[rnd], curve(self.degrees[rnd], r))) % R


def prove(ctx, label: str, n: int, degree: int, terms: list, first_degree: int | None = None):
    """``sumcheck.prove`` masked with the next n blocks of the pool; the returned finals
    are f's (the mask is removed), so callers build their claims as without a mask. A sumcheck
    of no rounds sends nothing to mask: it runs unmasked (a G and y of no rounds would let the
    prover shift the final value by rho (G - y))."""
    if n == 0:
        return sumcheck.prove(ctx.ch, label, n, degree, terms, first_degree=first_degree)
    degrees = _degrees(n, degree, first_degree)
    ids, g = begin(ctx, label, degrees)
    out = sumcheck.prove(ctx.ch, label, n, degree, terms, first_degree=first_degree, mask=g)
    finish(ctx, label, ids, g, out.point)
    return out


def begin(ctx, label: str, degrees: list[int]) -> tuple[list[int], "_RoundMask"]:
    """Prover: takes the blocks of a masked sumcheck with these round degrees, sends G and
    draws rho; returns the blocks' ids and the round mask."""
    ids = ctx.mask.take(len(degrees))
    g = _RoundMask([ctx.mask.blocks[i] for i in ids], degrees, 0)
    ctx.ch.send_fr(f"{label}/G", g.total())
    g.rho = ctx.ch.challenge(f"{label}/rho")
    return ids, g


def finish(ctx, label: str, ids: list[int], g: "_RoundMask", point: list[int]) -> None:
    """Prover: sends y = g(point) and records it as a claim on the pool."""
    y = sum(block_eval(b, curve(d, r)) for b, d, r in zip(g.blocks, g.degrees, point)) % R
    ctx.ch.send_fr(f"{label}/y", y)
    _record(ctx, ctx.mask, ids, g.degrees, point, y)


def verify(ctx, label: str, n: int, degree: int, claim: int, first_degree: int | None = None):
    """``sumcheck.verify`` of a masked sumcheck: returns the SubClaim of f alone
    (expected - rho y), with y recorded as a claim on the pool; unmasked for no rounds."""
    if n == 0:
        return sumcheck.verify(ctx.ch, label, n, degree, claim, first_degree=first_degree)
    pool: MaskPool = ctx.mask
    degrees = _degrees(n, degree, first_degree)
    ids = pool.take(n)
    total = ctx.ch.recv_fr(f"{label}/G")
    rho = ctx.ch.challenge(f"{label}/rho")
    sub = sumcheck.verify(ctx.ch, label, n, degree, (claim + rho * total) % R, first_degree=first_degree)
    y = ctx.ch.recv_fr(f"{label}/y")
    _record(ctx, pool, ids, degrees, sub.point, y)
    return sumcheck.SubClaim(sub.point, (sub.expected - rho * y) % R)


def _record(ctx, pool: MaskPool, ids: list[int], degrees: list[int], point: list[int], y: int) -> None:
    terms = [(1, pool.prefix(b) + curve(d, r)) for b, d, r in zip(ids, degrees, point)]
    pool.claims.append(Claim(POOL, [], y, terms=terms))


# ---------------------------------------------------------------- shadows of model tensors

def take_shadow(ctx) -> int:
    """The next unused block of the pool, taken as a shadow: its first entry S (the block's
    B(0, 0, 0)) is a fresh uniform value that hides one evaluation of a model tensor."""
    return ctx.mask.take(1)[0]


def shadow_point(ctx, block: int) -> list[int]:
    """The pool point of a shadow block's entry S: bits(block) || (0, 0, 0)."""
    return ctx.mask.prefix(block) + [0, 0, 0]


def shadow_value(ctx, block: int) -> int:
    """Prover: the shadow entry S of ``block``."""
    return ctx.mask.blocks[block][0]


def shadowed_claim(ctx, tid: str, point: list[int], r: int, block: int, label: str) -> int:
    """v~ = f_tid(point) + r S, S the shadow entry of ``block``: the prover sends it
    (``label``), the verifier receives it; both record the combined claim on tid and the pool.
    With S fresh and uniform (and r != 0), v~ is uniform: it says nothing about f_tid(point)."""
    if ctx.is_prover:
        from ..poly.mle import evaluate_fast
        v = (evaluate_fast(ctx.values[tid], point) + r * shadow_value(ctx, block)) % R
        ctx.ch.send_fr(label, v)
    else:
        v = ctx.ch.recv_fr(label)
    ctx.combined_claim([(tid, 1, point), (POOL, r % R, shadow_point(ctx, block))], v)
    return v
