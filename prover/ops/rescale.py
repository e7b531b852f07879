"""Rescaling: fixed-point division with a committed quotient and range-checked remainder.

z + 2^(S-1) = q * 2^S + sum_k 2^(b k) d_k, every digit d_k in [0, 2^b) (proven by
the range lookup), so the remainder lies in [0, 2^S) and q = round(z / 2^S).
The relation is linear, so a claim needs no sumcheck: at a fresh random point r,

    z(r) = 2^S q(r) + sum_k 2^(b k) d_k(r) - 2^(S-1)

and the derived z(r) is handed to the op that produced z. The quotient q must be
bounded, or ``2^S q`` wraps around mod r: a prover replaces a remainder rem by rem - d
(still in range) and q by q + d / 2^S mod r, and every relation still holds. The bound
comes from a later lookup (an activation table), a ``RangeBound`` (``bound`` below), or,
for a public quotient (an MLP's output), from the statement check of both verifiers
(``QuantSpec.io_bits``, which argues the bound): a public value is not a bound by itself.
Padded entries hold q = 0, remainder 2^(S-1).

``bound`` (optional) fuses q's ``RangeBound`` into this root: its digits are claimed at
the same point r and q(r) + 2^(B-1) = sum_k 2^(b k) u_k(r) is checked with the q(r)
already claimed, so one fresh point serves both identities (both are checked at a point
drawn after every commitment). The RangeBound still computes its digits and lookups.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..context import PUBLIC
from ..errors import VerificationError
from ..field import R
from ..quant import check_decomposition, digits, require, rescale


@dataclass
class Rescale:
    z: str
    q: str
    digit_ids: list[str]
    shift: int
    digit_bits: int
    bound: object = None  # a fused RangeBound on q (its root is run here)

    def __post_init__(self):
        check_decomposition(self.shift, self.digit_bits, "rescale-shift")
        require(len(self.digit_ids) * self.digit_bits == self.shift, "rescale-shift",
                f"{len(self.digit_ids)} remainder digits do not cover the shift {self.shift}")

    def forward(self, ints: dict) -> None:
        q, rem = rescale(ints[self.z], self.shift)
        ints[self.q] = q
        for did, d in zip(self.digit_ids, digits(rem, self.shift, self.digit_bits)):
            ints[did] = d

    def pad_values(self) -> dict[str, int]:
        """Values the padded entries take (so the relation holds on the whole hypercube)."""
        half = 1 << (self.shift - 1)
        return {did: (half >> (k * self.digit_bits)) & ((1 << self.digit_bits) - 1)
                for k, did in enumerate(self.digit_ids)}

    def root(self, ctx) -> None:
        """Start a claim on z at a fresh point and reduce it to q, the digits and z's producer."""
        n = ctx.spec(self.z).num_vars
        r = ctx.ch.challenges("rescale/r", n)
        if self.bound is None and getattr(ctx.producers.get(self.z), "absorbs", False):
            self._hidden(ctx, r)
            return
        qv = ctx.claim(self.q, r, "rescale/q")
        v = pow(2, self.shift, R) * qv
        for k, did in enumerate(self.digit_ids):
            v += pow(2, k * self.digit_bits, R) * ctx.claim(did, r, "rescale/digit")
        if self.bound is not None:
            b = self.bound
            acc = 0
            for k, did in enumerate(b.digit_ids):
                acc += pow(2, k * b.digit_bits, R) * ctx.claim(did, r, f"{b.label}/digit")
            if not ctx.is_prover and (qv + (1 << (b.bits - 1)) - acc) % R:
                raise VerificationError("range-bound", f"'{self.q}' is not within its stated range")
        ctx.reduce(self.z, r, (v - (1 << (self.shift - 1))) % R)

    def _hidden(self, ctx, r: list[int]) -> None:
        """Nothing is sent: z's producer receives the obligation
        z(r) = 2^S q(r) + sum_k 2^(b k) d_k(r) - 2^(S-1) on the committed q and digits (a public
        q, an MLP's output, is evaluated into the value), and absorbs it (``prover.zk.shadow``)."""
        value = (-(1 << (self.shift - 1))) % R
        terms = []
        if ctx.spec(self.q).kind in PUBLIC:
            value = (value + pow(2, self.shift, R) * ctx.claim(self.q, r, "rescale/q")) % R
        else:
            terms.append((self.q, pow(2, self.shift, R), list(r)))
        for k, did in enumerate(self.digit_ids):
            terms.append((did, pow(2, k * self.digit_bits, R), list(r)))
        ctx.reduce(self.z, r, value, terms=terms)
