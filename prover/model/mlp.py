"""MLP models as torch modules, and their quantized parameters.

``build_mlp`` makes ``Linear(d_in, d_hidden) -> act -> Linear(d_hidden, d_out)``
(the first model the project proves). Any ``nn.Sequential`` of ``nn.Linear`` and
GELU/ReLU/SiLU layers, alternating, can be described by ``arch_of`` and quantized
by ``quantize_params``.
"""
from __future__ import annotations

import torch
from torch import nn

from ..quant import QuantSpec, quantize

_ACT_MODULES = {nn.GELU: "gelu", nn.ReLU: "relu", nn.SiLU: "silu"}


def build_mlp(d_in: int = 64, d_hidden: int = 256, d_out: int = 64, act: str = "gelu", seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    act_mod = {"gelu": nn.GELU(), "relu": nn.ReLU(), "silu": nn.SiLU()}[act]
    return nn.Sequential(nn.Linear(d_in, d_hidden), act_mod, nn.Linear(d_hidden, d_out)).double()


def arch_of(module: nn.Sequential) -> dict:
    layers, d_in = [], None
    for m in module:
        if isinstance(m, nn.Linear):
            if m.bias is None:
                raise ValueError("linear layers need a bias (use zeros)")
            d_in = m.in_features if d_in is None else d_in
            layers.append({"linear": m.out_features})
        elif type(m) in _ACT_MODULES:
            if isinstance(m, nn.GELU) and m.approximate != "none":
                raise ValueError("only the exact (erf) GELU is supported")
            layers.append({"act": _ACT_MODULES[type(m)]})
        else:
            raise ValueError(f"unsupported layer {type(m).__name__}")
    return {"kind": "mlp", "d_in": d_in, "layers": layers}


def quantize_params(module: nn.Sequential, spec: QuantSpec) -> dict[str, torch.Tensor]:
    params = {}
    for i, m in enumerate(module):
        if isinstance(m, nn.Linear):
            params[f"l{i}.w"] = quantize(m.weight.detach(), spec.weight_frac_bits, spec.weight_bits)
            params[f"l{i}.b"] = quantize(m.bias.detach(), spec.weight_frac_bits + spec.act_frac_bits,
                                         spec.weight_bits + spec.act_frac_bits)
    return params


def param_bits(names: list[str], spec: QuantSpec) -> dict[str, int]:
    """The signed width ``quantize_params`` enforces on each model tensor: weights
    ``weight_bits``, biases (at the accumulator scale) ``weight_bits + act_frac_bits``.
    The weight range proof (``prover.weights``) proves exactly these bounds."""
    return {n: spec.weight_bits + (spec.act_frac_bits if n.endswith(".b") else 0) for n in names}


def param_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
