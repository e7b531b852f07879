"""Token embedding: X = E[tokens], with public tokens (T,) and a committed table E (V, d).

X (T, d) = OneHot(tokens) E, where OneHot (T, V) has a 1 at (t, tok_t) for t < T and
is 0 on padded rows. A claim X(r_t, r_d) = v is reduced by one degree-2 sumcheck
over the vocabulary axis:

    v = sum_u H(r_t, u) * E(u, r_d),   H(r_t, u) = sum_{t < T} eq(r_t, t) eq(bits(tok_t), u)

ending at s with the claim E(s, r_d). The verifier evaluates the one-hot MLE
H(r_t, s) = sum_{t < T} eq(r_t, t) eq(bits(tok_t), s) itself in O(T log V) -- linear
in the public input only -- and checks H(r_t, s) * E(s, r_d) against the
sumcheck's final value. It also checks every token is below V.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import sumcheck
from ..zk import mask as zkmask
from ..errors import VerificationError
from ..field import R, fast
from ..field.ref import to_signed
from ..field.smallvec import SmallVec
from ..poly.mle import eq_table, log2_ceil


def onehot_eval(tokens: list[int], vbits: int, r_t: list[int], s: list[int]) -> int:
    """sum_t eq(r_t, t) * eq(bits(tok_t), s), O(T log V) (T ~ 2^len(r_t))."""
    et = eq_table(r_t)
    acc = 0
    for t, tok in enumerate(tokens):
        e = et[t]
        for i, z in enumerate(s):
            e = e * (z if (tok >> (vbits - 1 - i)) & 1 else 1 - z) % R
        acc += e
    return acc % R


@dataclass
class Embedding:
    tokens: str   # public input (T,)
    table: str    # committed E (V, d)
    x: str        # output (T, d)
    rows: int
    vocab: int
    dim: int
    label: str = "embed"

    def forward(self, ints: dict) -> None:
        tok = ints[self.tokens].reshape(-1)
        if tok.numel() != self.rows or int(tok.min()) < 0 or int(tok.max()) >= self.vocab:
            raise ValueError("token ids must be in [0, vocab)")
        ints[self.x] = ints[self.table][tok]

    def _tokens(self, ctx) -> list[int]:
        tok = [to_signed(v) for v in ctx.public[self.tokens][: self.rows]]
        if len(tok) != self.rows or any(not 0 <= t < self.vocab for t in tok):
            raise VerificationError("embedding", "token id outside the vocabulary")
        return tok

    def reduce(self, ctx, tid: str, point: list[int], value: int) -> None:
        nt, nv, nd = log2_ceil(self.rows), log2_ceil(self.vocab), log2_ceil(self.dim)
        r_t, r_d = point[:nt], point[nt:]
        tok = self._tokens(ctx)
        if ctx.is_prover:
            et = eq_table(r_t)
            h = [0] * (1 << nv)
            for t, k in enumerate(tok):
                h[k] = (h[k] + et[t]) % R
            ef = _fold_cols(ctx.values[self.table], 1 << nv, 1 << nd, eq_table(r_d))
            out = zkmask.prove(ctx, self.label, nv, 2, [sumcheck.Term(1, [h, ef])])
            s = out.point
        else:
            sub = zkmask.verify(ctx, self.label, nv, 2, value)
            s = sub.point
        ev = ctx.claim(self.table, s + r_d, f"{self.label}/E")
        if not ctx.is_prover and onehot_eval(tok, nv, r_t, s) * ev % R != sub.expected:
            raise VerificationError("embedding",
                                    f"final check of '{self.x}' = onehot('{self.tokens}') '{self.table}' failed")


def _fold_cols(flat: list[int], rows: int, cols: int, w: list[int]) -> list[int]:
    """out[u] = sum_c w[c] * E[u, c] for a padded (rows, cols) flat field vector."""
    if isinstance(flat, SmallVec):
        return fast.vec_mat(w, flat.arr.reshape(rows, cols).T)
    signed = [to_signed(v) for v in flat]
    if max((abs(v) for v in signed), default=0) < 1 << 40:
        return fast.vec_mat(w, np.asarray(signed, dtype=np.int64).reshape(rows, cols).T)
    return [sum(w[c] * flat[u * cols + c] for c in range(cols)) % R for u in range(rows)]
