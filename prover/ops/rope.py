"""Rotary position embedding (rotate-half convention, as ``model.llama.apply_rope``).

x (H, T, hd) at scale 2^a, positions 0..T-1, hd a power of two, h = hd / 2. The
public tables C, S (T, h) hold cos/sin of the angles pos * base^(-2i/hd) at scale
2^c: C = round(cos * 2^c), S = round(sin * 2^c) (``torch.round``: nearest, ties to
even; computed in float64 by ``model.llama.rope_cos_sin``). The op's output is the
unrescaled product at scale 2^(a+c),

    z[.., t, i] = x[.., t, i] * C[t, i mod h] + rot(x)[.., t, i] * S[t, i mod h],
    rot(x) = cat(-x[.., h:], x[.., :h])          (rotate_half)

and a ``Rescale`` (committed quotient y = round(z / 2^c), range-checked digits)
brings it back to scale 2^a. Error of y against float RoPE of x / 2^a, in units of
2^-a: |y - 2^a rope(x / 2^a)| <= 1/2 + (|x_i| + |x_(i xor h)|) / 2^(c+1).

Proof of a claim z(r) = v: one degree-3 sumcheck over all of z's variables,

    v = sum_j eq(r, j) (x_j C~_j + rot(x)_j S~_j)

with C~, S~ the tables broadcast over heads and over the top bit a of the head-dim
index (i = (a, u)), so C~(s_h, s_t, s_a, s_u) = C(s_t, s_u). rotate_half is a sign
and a swap of a: rot(x)(.., a, u) = a x(.., 0, u) - (1 - a) x(.., 1, u), hence at the
final point the prover sends x0 = x(s_h, s_t, 0, s_u) and x1 = x(s_h, s_t, 1, s_u),
the verifier checks

    eq(r, s) [((1 - s_a) x0 + s_a x1) C(s_t, s_u) + (s_a x0 - (1 - s_a) x1) S(s_t, s_u)]

against the sumcheck, draws gamma and passes ONE claim
x(s_h, s_t, gamma, s_u) = (1 - gamma) x0 + gamma x1 to x's producer (the line through
the two points). C and S are tensors of kind "table" (committed in setup: cos and sin
of arbitrary angles have no succinct MLE); their claims are opened with the batch.
Padded positions and heads hold zeros in x, C and S, so z is zero there.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import sumcheck
from ..zk import mask as zkmask
from ..errors import VerificationError
from ..field import R
from ..poly.mle import batch_vars, eq_eval, eq_table, evaluate, log2_ceil, eq_table_fast


def rope_tables(n_pos: int, head_dim: int, base: float, frac: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Quantized (C, S), each (n_pos, head_dim / 2) int64 at scale 2^frac."""
    from ..model.llama import rope_cos_sin
    cos, sin = rope_cos_sin(n_pos, head_dim, base)
    return (torch.round(cos * (1 << frac)).to(torch.int64), torch.round(sin * (1 << frac)).to(torch.int64))


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


@dataclass
class RoPE:
    x: str
    cos: str
    sin: str
    z: str
    heads: int | tuple  # batch axes: heads, or (layers, heads)
    rows: int
    head_dim: int
    label: str = "rope"

    def __post_init__(self):
        if self.head_dim < 2 or self.head_dim & (self.head_dim - 1):
            raise ValueError("RoPE needs a power-of-two head dimension")

    def forward(self, ints: dict) -> None:
        c, s = ints[self.cos], ints[self.sin]  # (T, h)
        cf, sf = torch.cat((c, c), dim=-1), torch.cat((s, s), dim=-1)  # (T, hd)
        x = ints[self.x]
        ints[self.z] = x * cf + rotate_half(x) * sf

    def reduce(self, ctx, tid: str, point: list[int], value: int) -> None:
        nh, nt, ni = batch_vars(self.heads), log2_ceil(self.rows), log2_ceil(self.head_dim)
        n = nh + nt + ni
        if ctx.is_prover:
            hp, tp, dp = 1 << nh, 1 << nt, 1 << ni
            half = dp // 2
            xv = ctx.values[self.x]
            rot = [0] * len(xv)
            for base in range(0, len(xv), dp):
                for u in range(half):
                    rot[base + u] = (-xv[base + half + u]) % R
                    rot[base + half + u] = xv[base + u]
            cvals, svals = ctx.values[self.cos], ctx.values[self.sin]  # (tp, half)
            cfull = [cvals[t * half + (i % half)] for _ in range(hp) for t in range(tp) for i in range(dp)]
            sfull = [svals[t * half + (i % half)] for _ in range(hp) for t in range(tp) for i in range(dp)]
            eq = eq_table_fast(point)
            out = zkmask.prove(ctx, self.label, n, 3,
                                 [sumcheck.Term(1, [eq, xv, cfull]), sumcheck.Term(1, [eq, rot, sfull])])
            s = out.point
        else:
            sub = zkmask.verify(ctx, self.label, n, 3, value)
            s = sub.point
        s_ht, s_a, s_u = s[:nh + nt], s[nh + nt], s[nh + nt + 1:]
        s_t = s[nh:nh + nt]
        if ctx.is_prover:
            x0 = evaluate(ctx.values[self.x], s_ht + [0] + s_u)
            x1 = evaluate(ctx.values[self.x], s_ht + [1] + s_u)
            ctx.ch.send_frs(f"{self.label}/x", [x0, x1])
        else:
            x0, x1 = ctx.ch.recv_frs(f"{self.label}/x", 2)
        cv = ctx.claim(self.cos, s_t + s_u, f"{self.label}/cos")
        sv = ctx.claim(self.sin, s_t + s_u, f"{self.label}/sin")
        if not ctx.is_prover:
            xs = ((1 - s_a) * x0 + s_a * x1) % R
            rs = (s_a * x0 - (1 - s_a) * x1) % R
            if eq_eval(point, s) * ((xs * cv + rs * sv) % R) % R != sub.expected:
                raise VerificationError("rope", f"final check of '{self.z}' = rope('{self.x}') failed")
        g = ctx.ch.challenge(f"{self.label}/gamma")
        ctx.reduce(self.x, s_ht + [g] + s_u, ((1 - g) * x0 + g * x1) % R)
