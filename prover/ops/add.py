"""Elementwise addition z = x + y: z(r) = x(r) + y(r), no sumcheck needed."""
from __future__ import annotations

from dataclasses import dataclass

from ..field import R


@dataclass
class Add:
    x: str
    y: str
    z: str

    def forward(self, ints: dict) -> None:
        ints[self.z] = ints[self.x] + ints[self.y]

    def reduce(self, ctx, tid: str, point: list[int], value: int) -> None:
        xv = ctx.claim(self.x, point, "add/x")
        ctx.reduce(self.y, point, (value - xv) % R)
