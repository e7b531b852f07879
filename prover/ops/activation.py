"""Elementwise nonlinearity (GELU, ReLU, SiLU) through a function-table lookup.

out = f(in) elementwise, with ``in`` at the lookup input scale. Both tensors are
committed; the pair (in_j, out_j) is one witness row of the logUp instance for the
function's table (``lookup.logup``), which also bounds ``in`` to the table range.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..lookup.tables import FunctionTable


@dataclass
class Activation:
    x: str
    y: str
    table: FunctionTable

    def forward(self, ints: dict) -> None:
        ints[self.y] = self.table.apply(ints[self.x])
