"""Binary encoding of an architecture and its quantization spec.

The encoding is what the model commitment carries and what the on-chain verifier
parses to rebuild the proof schedule, so it is compact and fixed-width::

    arch  = b"ZKAR" | version u8 (=1) | kind u8 (1 = mlp) | d_in u32 | n_layers u16
            | n_layers x (type u8, arg u32)     type 1 = linear (arg = d_out),
                                                type 2 = activation (arg: 1 gelu, 2 relu, 3 silu)
    quant = act_frac u8 | weight_frac u8 | lookup_in_frac u8 | lookup_in_bits u8
            | digit_bits u8 | weight_bits u8

All integers big-endian.
"""
from __future__ import annotations

import struct

from ..errors import MalformedError
from ..quant import QuantSpec

ACT_IDS = {"gelu": 1, "relu": 2, "silu": 3}
ACT_NAMES = {v: k for k, v in ACT_IDS.items()}


def encode_arch(arch: dict, quant: QuantSpec) -> bytes:
    if arch.get("kind", "mlp") != "mlp":
        raise ValueError("only MLP architectures have a binary encoding so far")
    out = b"ZKAR" + struct.pack(">BBIH", 1, 1, arch["d_in"], len(arch["layers"]))
    for layer in arch["layers"]:
        if "linear" in layer:
            out += struct.pack(">BI", 1, int(layer["linear"]))
        else:
            out += struct.pack(">BI", 2, ACT_IDS[layer["act"]])
    q = quant
    return out + struct.pack(">6B", q.act_frac_bits, q.weight_frac_bits, q.lookup_in_frac_bits,
                             q.lookup_in_bits, q.digit_bits, q.weight_bits)


def decode_arch(data: bytes) -> tuple[dict, QuantSpec]:
    try:
        if data[:4] != b"ZKAR":
            raise MalformedError("architecture encoding: bad magic")
        version, kind, d_in, n = struct.unpack(">BBIH", data[4:12])
        if version != 1 or kind != 1:
            raise MalformedError(f"architecture encoding: unsupported version {version} / kind {kind}")
        if len(data) != 12 + 5 * n + 6:
            raise MalformedError("architecture encoding: wrong length")
        layers = []
        for i in range(n):
            typ, arg = struct.unpack(">BI", data[12 + 5 * i:17 + 5 * i])
            if typ == 1:
                layers.append({"linear": arg})
            elif typ == 2 and arg in ACT_NAMES:
                layers.append({"act": ACT_NAMES[arg]})
            else:
                raise MalformedError(f"architecture encoding: bad layer {i}")
        if d_in == 0 or any(l.get("linear") == 0 for l in layers):
            raise MalformedError("architecture encoding: zero-width layer")
        q = struct.unpack(">6B", data[-6:])
        quant = QuantSpec(*q)
    except (struct.error, TypeError, ValueError) as e:
        if isinstance(e, MalformedError):
            raise
        raise MalformedError(f"architecture encoding: {e}") from e
    return {"kind": "mlp", "d_in": d_in, "layers": layers}, quant
