"""A compiled circuit as compact bytes, for verifiers that interpret instead of compiling.

The Solidity transformer verifier (``contracts/verifier/transformer/``) never re-implements
the compiler: it reads this description and runs the schedule of ``circuit.run`` over it,
dispatching each claim on a virtual tensor to its producer op by type code. Python keeps
the one definition of every circuit; this module only serialises what a verifier needs.

Layout (big-endian; ``tid`` = the tensor's index in ``circuit.specs`` order, NONE = 0xffff)::

    magic "ZKCD" | version u8 (2; 1 had the softmax row-sum window)
    circuit digest 32 | model header hash 32 | rows u32 (0: a weight range circuit)
    tensors   u16 n; per tensor: kind u8, num_vars u8, producer u16 (op index + 1, 0: none)
    witness   u16 n; tid u16 each                    (phase-1 commitment order)
    pooled    u16 n; per pooled tensor: tid u16, pool tid u16, prefix bits u8, prefix u32
              (a claim on the tensor at x is a claim on the pool at prefix || x)
    keytables u8 n;  per table: tid u16, keccak256(table name) 32
    lookups   u8 n;  per lookup: table kind u8 (0 range, 1 function lo = -2^(bits-1),
              2 function lo = 0), bits u8, table-out tid u16, mult tid u16, B tid u16,
              columns u16; per column: in tid u16, out tid u16, A tid u16
    ops       u16 n; per op: type u8, tids u8, ints u8, label length u8, label bytes,
              tid u16 each, per int: byte length u8 then the big-endian bytes
    roots     u16 n; op index u16 each (forward order; run last first)

A weight range circuit (``weight_description``) lists only WEIGHT_BOUND roots, one per
model tensor in commitment order. Only ops that reduce claims or start them (roots) are listed; the others (activations)
are proven by their lookups alone, and a RangeBound fused into a Rescale is part of the
Rescale's entry. Each op class has one small encoder in ``ENCODERS``
returning (type code, tensor ids, integer params, label); the field order per type is
documented there and read back by ``contracts/verifier/transformer/TOps.sol``.
"""
from __future__ import annotations

import struct
from typing import Callable

from .lookup.exp_tables import ExpTable
from .lookup.tables import FunctionTable
from .ops.add import Add
from .ops.argmax import Argmax
from .ops.embedding import Embedding
from .ops.hadamard import Hadamard
from .ops.linear import Linear
from .ops.matmul import MatMul
from .ops.norm import Norm
from .ops.rescale import Rescale
from .ops.rope import RoPE
from .ops.softmax import Softmax
from .poly.mle import batch_dims, batch_vars, log2_ceil
from .transcript import keccak256

MAGIC = b"ZKCD"
VERSION = 2
NONE = 0xFFFF

KINDS = {"input": 1, "output": 2, "model": 3, "advice": 4, "table": 5, "proof": 6, "virtual": 7}

# op type codes (TOps.sol has the same constants)
RESCALE, RANGE_BOUND, LINEAR, LINEAR_NB, ADD, HADAMARD, MATMUL, EMBEDDING, ROPE = range(1, 10)
HEAD_SPLIT, HEAD_MERGE, KV_EXPAND, VT_EXPAND, POSITION_ROWS, NORM, SOFTMAX, ARGMAX = range(10, 18)
LAYER_SLICE, BIAS_ADD, RESIDUAL_CHAIN, WEIGHT_BOUND = range(18, 22)


def _views():
    from .transformer import views
    return views


# ------------------------------------------------------------------ per-op encoders
# Each returns (type, [tensor ids], [ints], label). Tensor ids are names here.

def _rescale(o: Rescale):
    """tids z, q, remainder digits[, bound digits]; ints shift, digit bits[, bound bits, number
    of bound digits]; label "rescale", or the fused RangeBound's label (its digit claims')."""
    if o.bound is None:
        return RESCALE, [o.z, o.q, *o.digit_ids], [o.shift, o.digit_bits], "rescale"
    b = o.bound
    if b.q != o.q or b.digit_bits != o.digit_bits:
        raise ValueError("a fused range bound must bound the quotient with the same digit width")
    return (RESCALE, [o.z, o.q, *o.digit_ids, *b.digit_ids], [o.shift, o.digit_bits, b.bits, len(b.digit_ids)],
            b.label)


def _range_bound(o):
    return RANGE_BOUND, [o.q, *o.digit_ids], [o.bits, o.digit_bits], o.label


def _linear(o: Linear):
    return LINEAR, [o.x, o.w, o.b, o.z], [o.rows, o.d_in, o.d_out], "linear"


def _linear_nb(o):
    return LINEAR_NB, [o.x, o.w, o.z], [o.rows, o.d_in, o.d_out], o.label


def _add(o: Add):
    return ADD, [o.x, o.y, o.z], [], "add"


def _hadamard(o: Hadamard):
    return HADAMARD, [o.x, o.y, o.z], [], "hadamard"


def _nl(layers: int) -> int:
    return log2_ceil(layers) if layers else 0


def _group_label(o, tag: str) -> str:
    """A power-of-two group is a view (no label); any other group runs the sumcheck of
    ``views._group_reduce`` under the op's label + "/k" or "/v"."""
    return "" if not o.group & (o.group - 1) else f"{o.label}/{tag}"


def _matmul(o: MatMul):
    """ints: batch variables, rows, cols, inner."""
    return MATMUL, [o.x, o.y, o.z], [batch_vars(o.batch), o.rows, o.cols, o.inner], o.label


def _embedding(o: Embedding):
    return EMBEDDING, [o.tokens, o.table, o.x], [o.rows, o.vocab, o.dim], o.label


def _rope(o: RoPE):
    """ints: batch (layer and head) variables, rows, head dim."""
    return ROPE, [o.x, o.cos, o.sin, o.z], [batch_vars(o.heads), o.rows, o.head_dim], o.label


def _head_split(o):
    return HEAD_SPLIT, [o.src, o.z], [o.heads, o.rows, o.head_dim, _nl(o.layers)], ""


def _head_merge(o):
    return HEAD_MERGE, [o.src, o.z], [o.heads, o.rows, o.head_dim, _nl(o.layers)], ""


def _kv_expand(o):
    return KV_EXPAND, [o.src, o.z], [o.kv_heads, o.group, _nl(o.layers)], _group_label(o, "k")


def _vt_expand(o):
    return VT_EXPAND, [o.src, o.z], [o.kv_heads, o.group, o.rows, o.head_dim, _nl(o.layers)], _group_label(o, "v")


def _layer_slice(o):
    return LAYER_SLICE, [o.src, o.z], [o.layer, _nl(o.layers)], ""


def _bias_add(o):
    return BIAS_ADD, [o.zz, o.b, o.z], [o.rows, _nl(o.layers)], o.label


def _residual_chain(o):
    return RESIDUAL_CHAIN, [o.x, o.x0, o.y], [o.layers], o.label


def _position_rows(o):
    return POSITION_ROWS, [o.src, o.z], [o.rows, o.table_rows, o.dim], o.label


def _norm(o: Norm):
    """tids: x, g, b (NONE for RMSNorm), y, inv, m, z, c, inv digits, lo digits, hi digits,
    y digits; ints: rows, dim, center, digit bits, C, eps term, shift, #inv, #lo, #hi digits."""
    tids = [o.x, o.g, o.b, o.y, o.inv, o.m, o.z, o.c, *o.inv_digits, *o.lo_digits, *o.hi_digits,
            *o.y_digits]
    ints = [o.rows, o.dim, int(o.center), o.digit_bits, o.C, o.eps_term, o.shift,
            len(o.inv_digits), len(o.lo_digits), len(o.hi_digits), o.groups]
    return NORM, tids, ints, o.label


def _softmax(o: Softmax):
    """tids: S, P, z, U, o, d_k (K), F_k (K), then per k >= 1: g_k digits, rem_k digits; iota,
    rho, rhc, P and c digits; ints: T, K, p_out, range bits, digit bits, recip bits q, #g, #rem,
    #iota, #rho (= #rhc), #P, #c digits, then the batch axes (heads, or layers and heads)."""
    tids = [o.s, o.p, o.z, o.u, o.o, *o.d, *o.f]
    for k in range(1, o.num_digits):
        tids += o.g[k] + o.r[k]
    tids += o.iota + o.rho + o.rhc + o.pd + o.c
    ints = [o.T, o.num_digits, o.p_out, o.range_bits, o.digit_bits, o.recip_bits, o.n_g, o.n_rem, o.n_iota,
            o.n_rho, o.n_pd, o.n_c, *batch_dims(o.heads)]
    return SOFTMAX, tids, ints, "softmax"


def _argmax(o: Argmax):
    return ARGMAX, [o.logits, o.k, *o.digit_ids], [o.vocab, o.digit_bits, o.rows], o.label


def _weight_bound(o):
    """The weight range proof's bound (``prover.weights.WeightBound``): tids w, digits; ints
    bits, digit bits (the top digit has the bits left over); its labels are fixed ("weights/...")."""
    return WEIGHT_BOUND, [o.w, *o.digit_ids], [o.bits, o.digit_bits], "weights"


def encoders() -> dict[type, Callable]:
    from .weights import WeightBound
    v = _views()
    return {Rescale: _rescale, v.RangeBound: _range_bound, Linear: _linear, v.LinearNB: _linear_nb,
            Add: _add, Hadamard: _hadamard, MatMul: _matmul, Embedding: _embedding, RoPE: _rope,
            v.HeadSplit: _head_split, v.HeadMerge: _head_merge, v.KVExpand: _kv_expand,
            v.VTExpand: _vt_expand, v.PositionRows: _position_rows, Norm: _norm, Softmax: _softmax,
            Argmax: _argmax, v.LayerSlice: _layer_slice, v.BiasAdd: _bias_add,
            v.ResidualChain: _residual_chain, WeightBound: _weight_bound}


def _int(v: int) -> bytes:
    if v < 0:
        raise ValueError("description integers are non-negative")
    raw = v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")
    if len(raw) > 32:
        raise ValueError("description integer wider than 256 bits")
    return bytes([len(raw)]) + raw


def _table_kind(t) -> int:
    if isinstance(t, ExpTable):
        return 2
    if isinstance(t, FunctionTable):
        return 1
    return 0


def describe(circuit, model_header_hash: bytes = b"\0" * 32) -> bytes:
    """The description bytes of ``circuit`` (any compiled circuit with specs, producers,
    witness, lookups, roots and digest; ``key_tables`` names the setup tables it reads)."""
    tids = {tid: i for i, tid in enumerate(circuit.specs)}
    if len(tids) >= NONE:
        raise ValueError("too many tensors for a description")
    if getattr(circuit, "chunked", lambda: [])():
        raise ValueError("chunked commitments (TQuant.chunk_vars) have no on-chain encoder yet: the Solidity "
                         "verifier takes one point per committed tensor")

    def tid(name):
        return NONE if name is None else tids[name]

    enc = encoders()
    fused = {id(o.bound) for o in circuit.ops if isinstance(o, Rescale) and o.bound is not None}
    listed = [o for o in circuit.ops if (hasattr(o, "reduce") or hasattr(o, "root")) and id(o) not in fused]
    listed += [r for r in circuit.roots if not any(r is o for o in listed)]
    index = {id(o): i for i, o in enumerate(listed)}  # the ops outlive this call
    producer_of = {name: index[id(o)] + 1 for name, o in circuit.producers.items()}
    out = bytearray(MAGIC + bytes([VERSION]))
    out += circuit.digest() + bytes(model_header_hash) + struct.pack(">I", circuit.rows)
    out += struct.pack(">H", len(circuit.specs))
    for name, spec in circuit.specs.items():
        out += struct.pack(">BBH", KINDS[spec.kind], spec.num_vars, producer_of.get(name, 0))
    out += struct.pack(">H", len(circuit.witness)) + b"".join(struct.pack(">H", tid(t)) for t in circuit.witness)
    pooled = [(m, pid, off) for pid, ms in getattr(circuit, "pools", {}).items() for m, off in ms]
    out += struct.pack(">H", len(pooled))
    for m, pid, off in pooled:
        nm, npool = circuit.specs[m].num_vars, circuit.specs[pid].num_vars
        out += struct.pack(">HHBI", tid(m), tid(pid), npool - nm, off >> nm)
    key_tables = list(getattr(circuit, "key_tables", []))
    out += bytes([len(key_tables)])
    for name in key_tables:
        out += struct.pack(">H", tid(f"table/{name}")) + keccak256(name.encode())
    out += bytes([len(circuit.lookups)])
    for lk in circuit.lookups:
        out += struct.pack(">BBHHHH", _table_kind(lk.table), lk.table.bits, tid(lk.table_out_id), tid(lk.mult_id),
                           tid(lk.b_id), len(lk.columns))
        for col, aid in zip(lk.columns, lk.a_ids):
            out += struct.pack(">HHH", tid(col[0]), tid(col[1]) if len(col) > 1 else NONE, tid(aid))
    out += struct.pack(">H", len(listed))
    for o in listed:
        code, names, ints, label = enc[type(o)](o)
        lb = label.encode("ascii")
        if len(lb) > 24:
            raise ValueError(f"op label {label!r} too long")
        out += struct.pack(">BBBB", code, len(names), len(ints), len(lb)) + lb
        out += b"".join(struct.pack(">H", tid(n)) for n in names)
        out += b"".join(_int(v) for v in ints)
    out += struct.pack(">H", len(circuit.roots))
    out += b"".join(struct.pack(">H", index[id(r)]) for r in circuit.roots)
    return bytes(out)


def transformer_description(commitment, rows: int) -> bytes:
    """The description of ``commitment``'s circuit for a prompt of ``rows`` tokens, bound to
    the commitment's header (its config and quantization) by the header's keccak256."""
    from .transformer.compile import compile_model
    circuit = compile_model(commitment.cfg, rows, commitment.tq)
    return describe(circuit, keccak256(commitment._header()))


def weight_description(commitment) -> bytes:
    """The description of a transformer commitment's weight range circuit
    (``prover.transformer.prove.weight_circuit``; prompt length 0), bound to the commitment's
    header like ``transformer_description``. ``TransformerWeightVerifier`` interprets it."""
    from .transformer.prove import weight_circuit
    return describe(weight_circuit(commitment), keccak256(commitment._header()))
