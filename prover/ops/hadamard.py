"""Hadamard product z = x * y (elementwise), proven by one degree-3 sumcheck:

    z(r) = sum_j eq(r, j) x_j y_j    ->   claims x(s), y(s); V checks eq(r,s) x(s) y(s).
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import sumcheck
from ..zk import mask as zkmask
from ..errors import VerificationError
from ..field import R
from ..poly.mle import eq_eval, eq_table, eq_table_fast


@dataclass
class Hadamard:
    x: str
    y: str
    z: str

    def forward(self, ints: dict) -> None:
        ints[self.z] = ints[self.x] * ints[self.y]

    def reduce(self, ctx, tid: str, point: list[int], value: int) -> None:
        n = len(point)
        if ctx.is_prover:
            out = zkmask.prove(ctx, "hadamard", n, 3,
                                 [sumcheck.Term(1, [eq_table_fast(point), ctx.values[self.x], ctx.values[self.y]])])
            s = out.point
        else:
            sub = zkmask.verify(ctx, "hadamard", n, 3, value)
            s = sub.point
        xv = ctx.claim(self.x, s, "hadamard/x")
        yv = ctx.claim(self.y, s, "hadamard/y")
        if not ctx.is_prover and eq_eval(point, s) * xv % R * yv % R != sub.expected:
            raise VerificationError("hadamard", f"final check of '{self.z}' = '{self.x}' * '{self.y}' failed")
