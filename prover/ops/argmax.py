"""Argmax of the last row of the logits, with the index public.

Logits L: shape (V,), or (T, V) of which the last row (t = T - 1) is used. The
output k = argmax_j L[j], ties broken towards the smallest index, is a public
tensor of shape (1,) known to the verifier. The op proves, for every j < V,

    D_j = L[k] - L[j] - [j < k]  >= 0,

i.e. L[k] >= L[j] for all j and L[k] > L[j] for j < k (the tie rule). D_j is
committed as base-2^b digits d_0..d_{n-1} (each range-checked in a RangeTable(b)),
so 0 <= D_j < 2^(n b). On padded j >= V all digits are 0, so the relation holds on
the whole hypercube with the padded D defined as

    D(j) = [j < V] * L[k] - L(j) - [j < k]         (L(j) = 0 for padded j)

which is linear in L: at a fresh point r,

    L(r) = L[k] * ind_V(r) - ind_k(r) - sum_m 2^(b m) d_m(r)

with ind_c the prefix indicator MLE (O(log V) for the verifier). L[k] is a claim on
L at the boolean point bits(k); L(r) is handed to L's producer (or opened).

Soundness needs |L[k] - L[j]| < r/2 - 2^(n b) as integers (true for logits from a
rescale whose quotient is bounded, e.g. |L| < 2^64): then the field identity forces
the integer difference into [0, 2^(n b)).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import QuantizationRangeError, VerificationError
from ..field import R
from ..field.ref import to_signed
from ..lookup.tables import RangeTable
from ..quant import check_decomposition, require
from ..poly.mle import log2_ceil
from ..poly.mle import prefix_indicator


def _bits(idx: int, n: int) -> list[int]:
    return [(idx >> (n - 1 - i)) & 1 for i in range(n)]


@dataclass
class Argmax:
    logits: str
    k: str                 # public output tensor of shape (1,)
    digit_ids: list[str]   # each of shape (V,)
    vocab: int
    digit_bits: int
    rows: int = 0          # 0: logits has shape (V,); else (rows, V) and the last row is used
    label: str = "argmax"

    def __post_init__(self):
        require(len(self.digit_ids) >= 1, "argmax-width", "argmax needs at least one digit")
        check_decomposition(self.diff_bits, self.digit_bits, "argmax-width")

    @property
    def diff_bits(self) -> int:
        return self.digit_bits * len(self.digit_ids)

    def _row(self, t: torch.Tensor) -> torch.Tensor:
        return t.reshape(-1) if not self.rows else t[self.rows - 1]

    def forward(self, ints: dict) -> None:
        row = self._row(ints[self.logits])
        top = row.max()
        k = int(torch.nonzero(row == top)[0])
        ints[self.k] = torch.tensor([k], dtype=torch.int64)
        diff = top - row - (torch.arange(self.vocab) < k).to(torch.int64)
        if int(diff.max()) >= 1 << self.diff_bits:
            raise QuantizationRangeError(f"logit spread needs more than {self.diff_bits} bits")
        mask = (1 << self.digit_bits) - 1
        for m, did in enumerate(self.digit_ids):
            ints[did] = (diff >> (m * self.digit_bits)) & mask

    def lookups(self) -> list:
        t = RangeTable(self.digit_bits)
        return [(t, (did,)) for did in self.digit_ids]

    def _public_index(self, ctx) -> int:
        k = to_signed(ctx.public[self.k][0])
        if not 0 <= k < self.vocab:
            raise VerificationError("argmax", f"public index {k} outside the vocabulary")
        return k

    def root(self, ctx) -> None:
        nv = log2_ceil(self.vocab)
        prefix = _bits(self.rows - 1, log2_ceil(self.rows)) if self.rows else []
        k = self._public_index(ctx)
        lk = ctx.claim(self.logits, prefix + _bits(k, nv), f"{self.label}/top")
        r = ctx.ch.challenges(f"{self.label}/r", nv)
        dv = 0
        for m, did in enumerate(self.digit_ids):
            dv += pow(2, m * self.digit_bits, R) * ctx.claim(did, r, f"{self.label}/digit")
        lv = (lk * prefix_indicator(self.vocab, r) - prefix_indicator(k, r) - dv) % R
        ctx.reduce(self.logits, prefix + r, lv)
