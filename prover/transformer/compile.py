"""The transformer compiler: a LLaMA- or GPT-2-family config and a prompt length -> a circuit
(``compile_model`` dispatches on ``cfg.arch``; ``compile_gpt2`` documents the GPT-2 layout).

``compile_llama(cfg, T)`` lays out one proof for the whole decoder (no stacking
across layers: every layer has its own tensors, ids prefixed ``L<l>.``):

    x0   = Embedding(tokens, E)                                 virtual
    per layer l (x = x_l):
      n1   = RMSNorm(x, g1)                                     committed y + digits
      q,k,v = LinearNB(n1.y, Wq|Wk|Wv) -> Rescale(a+w -> a)      committed
      qr, kr = RoPE(headsplit(q|k)) -> Rescale(c)              committed
      s    = MatMul(qr, kvexpand(kr)) -> Rescale(2a + log2 sqrt(hd) - s_in)
      p    = Softmax(s)                                         committed (zkAttn)
      att  = MatMul(p, vtexpand(v)) -> Rescale(p_out)            committed (H, T, hd)
      o    = LinearNB(headmerge(att), Wo) -> Rescale;  xm = x + o
      n2   = RMSNorm(xm, g2)
      gate = LinearNB(n2.y, Wg) -> Rescale to the SiLU table input scale
      si   = SiLU(gate) (lookup);  up = LinearNB(n2.y, Wu) -> Rescale
      h    = Hadamard(si, up) -> Rescale;  down = LinearNB(h, Wd) -> Rescale
      x_{l+1} = xm + down
    nf = RMSNorm(x_L, gf); logits = LinearNB(nf.y, E) -> Rescale (tied head)
    next = Argmax(last row of logits)                           public

Every committed rescale quotient that no lookup bounds gets a ``RangeBound``
(signed, ``bound_bits``), so all accumulators are integers far below the field
size and the residual stream is bounded as RMSNorm requires.
All quantization choices live in ``TQuant``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import torch

from ..context import TensorSpec
from ..lookup import logup
from ..lookup.exp_tables import exp_tables
from ..lookup.tables import FunctionTable, RangeTable
from ..model.configs import TransformerConfig
from ..ops.activation import Activation
from ..ops.add import Add
from ..ops.argmax import Argmax
from ..ops.embedding import Embedding
from ..ops.hadamard import Hadamard
from ..ops.matmul import MatMul
from ..ops.linear import Linear
from ..ops.norm import layer_norm, rms_norm
from ..ops.rescale import Rescale
from ..ops.rope import RoPE, rope_tables
from ..ops.softmax import Softmax
from ..poly.mle import log2_ceil, pad_flat
from ..quant import QuantSpec
from ..transcript import keccak256
from .views import HeadMerge, HeadSplit, KVExpand, LinearNB, PositionRows, RangeBound, VTExpand


@dataclass(frozen=True)
class TQuant:
    """Every scale and width of the quantized transformer, in one place."""
    act_frac: int = 16        # activations, residual stream, embedding rows (a)
    weight_frac: int = 16     # weights and norm gains (w); the tied head reads E at 2^w = 2^a
    weight_bits: int = 24
    digit_bits: int = 8       # every range digit / rescale remainder digit
    silu_in_frac: int = 8     # SiLU table input scale
    silu_in_bits: int = 12    # SiLU table covers [-8, 8)
    rope_frac: int = 16       # cos/sin table scale (c)
    score_frac: int = 10      # softmax input scale (s_in)
    prob_frac: int = 16       # softmax output scale (p_out)
    exp_digits: int = 2       # softmax: D < 2^(exp_digits * digit_bits)
    bound_bits: int = 24      # |every bounded quotient| < 2^(bound_bits-1)
    argmax_digits: int = 3    # top logit - other logit < 2^(argmax_digits * digit_bits)
    norm_precision: int = 16

    def quant_spec(self) -> QuantSpec:
        return QuantSpec(act_frac_bits=self.act_frac, weight_frac_bits=self.weight_frac,
                         lookup_in_frac_bits=self.silu_in_frac, lookup_in_bits=self.silu_in_bits,
                         digit_bits=self.digit_bits, weight_bits=self.weight_bits)

    def silu_table(self) -> FunctionTable:
        return FunctionTable("silu", self.silu_in_bits, self.silu_in_frac, self.act_frac)

    def gelu_table(self) -> FunctionTable:
        """GPT-2's exact GELU at the same lookup input scale and range as SiLU."""
        return FunctionTable("gelu", self.silu_in_bits, self.silu_in_frac, self.act_frac)

    def exp_tables(self):
        return exp_tables(self.digit_bits, self.exp_digits, self.score_frac, self.prob_frac)

    def rope_name(self, tp: int, head_dim: int, base: float, which: str) -> str:
        return f"rope_{which}_{tp}_{head_dim}_{self.rope_frac}_{base:g}"


def rope_table_values(tq: TQuant, tp: int, head_dim: int, base: float):
    """(cos, sin) int tensors (tp, head_dim/2) at scale 2^rope_frac."""
    return rope_tables(tp, head_dim, base, tq.rope_frac)


def table_id(name: str) -> str:
    return f"table/{name}"


@dataclass
class TransformerCircuit:
    cfg: TransformerConfig
    tq: TQuant
    rows: int
    specs: dict[str, TensorSpec]
    ops: list                      # forward order
    roots: list                    # objects with root(ctx), run in reverse order
    lookups: list[logup.LookupInstance]
    witness: list[str]             # committed advice, commitment order
    producers: dict[str, object]   # virtual tensor -> op that reduces its claims
    pad_values: dict[str, int] = field(default_factory=dict)
    key_tables: list[str] = field(default_factory=list)  # names of key tables the circuit reads
    layer_advice: list[list[str]] = field(default_factory=list)  # per-layer witness ids (for tests)

    tokens_id = "tokens"
    next_id = "next"
    logits_id = "head.q"

    def model_tensors(self) -> list[str]:
        return [s.id for s in self.specs.values() if s.kind == "model"]

    def digest(self) -> bytes:
        body = json.dumps({"cfg": asdict(self.cfg), "tq": asdict(self.tq), "rows": self.rows},
                          sort_keys=True, separators=(",", ":")).encode()
        return keccak256(b"zkllm-transformer-circuit/v1" + body)

    @property
    def num_vars(self) -> int:
        return max(s.num_vars for s in self.specs.values() if s.kind != "virtual")


GPT2_LAYER = ("g1", "b1", "wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo",
              "g2", "b2", "wfc", "bfc", "wpr", "bpr")


def model_names(cfg: TransformerConfig) -> list[str]:
    if cfg.arch == "gpt2":
        return (["E", "P"] + [f"L{l}.{n}" for l in range(cfg.n_layers) for n in GPT2_LAYER]
                + ["gf", "bf"])
    names = ["E"]
    for l in range(cfg.n_layers):
        names += [f"L{l}.{n}" for n in ("g1", "wq", "wk", "wv", "wo", "g2", "wg", "wu", "wd")]
    return names + ["gf"]


def compile_llama(cfg: TransformerConfig, rows: int, tq: TQuant | None = None) -> TransformerCircuit:
    tq = tq or TQuant()
    if cfg.arch != "llama":
        raise ValueError("compile_llama needs a llama config")
    if not 1 <= rows <= cfg.max_seq:
        raise ValueError(f"prompt length must be in [1, {cfg.max_seq}]")
    T, d, H, Hkv, hd = rows, cfg.d_model, cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
    ffn, V, group = cfg.d_ffn, cfg.vocab_size, cfg.kv_groups
    if hd & (hd - 1) or group & (group - 1):
        raise ValueError("head_dim and the GQA group size must be powers of two")
    if log2_ceil(hd) % 2:
        raise ValueError("head_dim must be a power of four (1/sqrt(hd) is folded into a rescale shift)")
    a, w, bd = tq.act_frac, tq.weight_frac, tq.digit_bits
    qs = tq.quant_spec()
    specs: dict[str, TensorSpec] = {}
    ops, roots, witness, pads, producers = [], [], [], {}, {}
    cols: dict[str, list] = {}
    tables: dict[str, object] = {}
    layer_advice: list[list[str]] = []
    cur_layer: list[str] = []

    def add(tid, shape, kind):
        if tid in specs:
            raise ValueError(f"duplicate tensor id {tid}")
        specs[tid] = TensorSpec(tid, tuple(shape), kind)

    def look(pairs):
        for t, col in pairs:
            tables.setdefault(t.name, t)
            cols.setdefault(t.name, []).append(col)

    def commit(*ids):
        witness.extend(ids)
        cur_layer.extend(ids)

    def op(o, virtual=()):
        ops.append(o)
        for v in virtual:
            producers[v] = o

    def bound(q, label):
        rb = RangeBound(q, [f"{q}.b{k}" for k in range(tq.bound_bits // bd)], tq.bound_bits, bd, label=label)
        for did in rb.digit_ids:
            add(did, specs[q].shape, "advice")
        op(rb)
        commit(*rb.digit_ids)
        pads.update(rb.pad_values())
        look(rb.lookups())
        roots.append(rb)

    def rescale(z, q, shape, shift, label, bounded=True):
        if shift <= 0 or shift % bd:
            raise ValueError(f"rescale shift {shift} of {q} must be a positive multiple of {bd}")
        dids = [f"{q}.d{k}" for k in range(shift // bd)]
        add(q, shape, "advice")
        for did in dids:
            add(did, shape, "advice")
        rs = Rescale(z, q, dids, shift, bd)
        op(rs)
        commit(q, *dids)
        pads.update(rs.pad_values())
        look([(RangeTable(bd), (did,)) for did in dids])
        roots.append(rs)
        if bounded:
            bound(q, label)

    def linear(name, x, wid, d_in, d_out, shift, bounded=True):
        add(f"{name}.z", (T, d_out), "virtual")
        op(LinearNB(x, wid, f"{name}.z", T, d_in, d_out), [f"{name}.z"])
        rescale(f"{name}.z", f"{name}.q", (T, d_out), shift, name[-10:], bounded)
        return f"{name}.q"

    def norm(prefix, x, g):
        xb = tq.bound_bits + (2 * cfg.n_layers + 1).bit_length() + 1
        n = rms_norm(prefix, x, g, T, d, cfg.norm_eps, qs, x_bits=xb, precision=tq.norm_precision)
        for tid, sp in n.specs().items():
            add(tid, sp.shape, sp.kind)
        op(n, n.virtuals())
        commit(*n.witness())
        pads.update(n.pad_values())
        look(n.lookups())
        roots.append(n)
        bound(n.y, prefix[-10:])
        return n.y

    add("tokens", (T,), "input")
    add("E", (V, d), "model")
    add("x0", (T, d), "virtual")
    op(Embedding("tokens", "E", "x0", T, V, d), ["x0"])
    tp = 1 << log2_ceil(T)
    cos_name = tq.rope_name(tp, hd, cfg.rope_base, "cos")
    sin_name = tq.rope_name(tp, hd, cfg.rope_base, "sin")
    add(table_id(cos_name), (T, hd // 2), "table")
    add(table_id(sin_name), (T, hd // 2), "table")
    cos_id, sin_id = table_id(cos_name), table_id(sin_name)
    silu = tq.silu_table()
    score_shift = 2 * a + log2_ceil(hd) // 2 - tq.score_frac
    x = "x0"
    for l in range(cfg.n_layers):
        cur_layer = []
        p = f"L{l}."
        for n_, shp in (("g1", (d,)), ("wq", (H * hd, d)), ("wk", (Hkv * hd, d)), ("wv", (Hkv * hd, d)),
                        ("wo", (d, H * hd)), ("g2", (d,)), ("wg", (ffn, d)), ("wu", (ffn, d)), ("wd", (d, ffn))):
            add(p + n_, shp, "model")
        y1 = norm(p + "n1", x, p + "g1")
        q = linear(p + "q", y1, p + "wq", d, H * hd, a + w - a)
        k = linear(p + "k", y1, p + "wk", d, Hkv * hd, a + w - a)
        v = linear(p + "v", y1, p + "wv", d, Hkv * hd, a + w - a)
        for src, nh, tag in ((q, H, "q"), (k, Hkv, "k")):
            add(p + tag + "h", (nh, T, hd), "virtual")
            op(HeadSplit(src, p + tag + "h", nh, T, hd), [p + tag + "h"])
            add(p + tag + "r.z", (nh, T, hd), "virtual")
            op(RoPE(p + tag + "h", cos_id, sin_id, p + tag + "r.z", nh, T, hd), [p + tag + "r.z"])
            rescale(p + tag + "r.z", p + tag + "r", (nh, T, hd), tq.rope_frac, p + tag + "rope")
        add(p + "kx", (H, T, hd), "virtual")
        op(KVExpand(p + "kr", p + "kx", Hkv, group), [p + "kx"])
        add(p + "s.z", (H, T, T), "virtual")
        op(MatMul(p + "qr", p + "kx", p + "s.z", H, T, T, hd, label="qk"), [p + "s.z"])
        rescale(p + "s.z", p + "s", (H, T, T), score_shift, p + "s")
        sm = Softmax(p + "s", p + "p", H, T, prefix=p + "sm", s_in=tq.score_frac, p_out=tq.prob_frac,
                     digit_bits=bd, num_digits=tq.exp_digits, range_bits=bd)
        for tid, sp in sm.tensor_specs().items():
            add(tid, sp.shape, sp.kind)
        op(sm)
        commit(*sm.advice_ids())
        pads.update(sm.pad_values())
        look(sm.lookups())
        roots.append(sm)
        add(p + "vt", (H, hd, T), "virtual")
        op(VTExpand(v, p + "vt", Hkv, group, T, hd), [p + "vt"])
        add(p + "att.z", (H, T, hd), "virtual")
        op(MatMul(p + "p", p + "vt", p + "att.z", H, T, hd, T, label="pv"), [p + "att.z"])
        rescale(p + "att.z", p + "att", (H, T, hd), tq.prob_frac, p + "att")
        add(p + "mix", (T, H * hd), "virtual")
        op(HeadMerge(p + "att", p + "mix", H, T, hd), [p + "mix"])
        o = linear(p + "o", p + "mix", p + "wo", H * hd, d, a + w - a)
        add(p + "xm", (T, d), "virtual")
        op(Add(x, o, p + "xm"), [p + "xm"])
        y2 = norm(p + "n2", p + "xm", p + "g2")
        gate = linear(p + "gate", y2, p + "wg", d, ffn, a + w - tq.silu_in_frac, bounded=False)
        add(p + "silu", (T, ffn), "advice")
        op(Activation(gate, p + "silu", silu))
        commit(p + "silu")
        look([(silu, (gate, p + "silu"))])
        up = linear(p + "up", y2, p + "wu", d, ffn, a + w - a)
        add(p + "h.z", (T, ffn), "virtual")
        op(Hadamard(p + "silu", up, p + "h.z"), [p + "h.z"])
        rescale(p + "h.z", p + "h", (T, ffn), a, p + "h")
        down = linear(p + "down", p + "h", p + "wd", ffn, d, a + w - a)
        nxt = f"x{l + 1}"
        add(nxt, (T, d), "virtual")
        op(Add(p + "xm", down, nxt), [nxt])
        x = nxt
        layer_advice.append(cur_layer)
    cur_layer = []
    add("gf", (d,), "model")
    yf = norm("nf", x, "gf")
    logits = linear("head", yf, "E", d, V, w)
    add("next", (1,), "output")
    am = Argmax(logits, "next", [f"am.d{k}" for k in range(tq.argmax_digits)], V, bd, rows=T)
    for did in am.digit_ids:
        add(did, (V,), "advice")
    op(am)
    commit(*am.digit_ids)
    look(am.lookups())
    roots.append(am)

    lookups = []
    for name, t in tables.items():
        pair = isinstance(t, FunctionTable)
        if pair:
            add(table_id(name), (t.size,), "table")
        lk = logup.LookupInstance(f"lk{len(lookups)}", t, cols[name], table_id(name) if pair else None)
        lk.mult_id = f"{lk.label}/m"
        add(lk.mult_id, (t.size,), "advice")
        lk.a_ids = [f"{lk.label}/A{c}" for c in range(len(lk.columns))]
        for aid, col in zip(lk.a_ids, lk.columns):
            add(aid, specs[col[0]].shape, "proof")
        lk.b_id = f"{lk.label}/B"
        add(lk.b_id, (t.size,), "proof")
        lookups.append(lk)
    key_tables = [cos_name, sin_name] + [n for n, t in tables.items() if isinstance(t, FunctionTable)]
    if model_names(cfg) != [s.id for s in specs.values() if s.kind == "model"]:
        raise AssertionError("model tensor order drifted")
    return TransformerCircuit(cfg, tq, T, specs, ops, roots, lookups, witness, producers, pads, key_tables,
                              layer_advice)


class _Builder:
    """Tensor specs, ops, roots, committed advice and lookup columns of one circuit."""

    def __init__(self, cfg: TransformerConfig, tq: TQuant, rows: int):
        self.cfg, self.tq, self.T = cfg, tq, rows
        self.specs: dict[str, TensorSpec] = {}
        self.ops, self.roots, self.witness, self.pads, self.producers = [], [], [], {}, {}
        self.cols: dict[str, list] = {}
        self.tables: dict[str, object] = {}
        self.layer_advice: list[list[str]] = []
        self.cur_layer: list[str] = []

    def add(self, tid, shape, kind):
        if tid in self.specs:
            raise ValueError(f"duplicate tensor id {tid}")
        self.specs[tid] = TensorSpec(tid, tuple(shape), kind)

    def look(self, pairs):
        for t, col in pairs:
            self.tables.setdefault(t.name, t)
            self.cols.setdefault(t.name, []).append(col)

    def commit(self, *ids):
        self.witness.extend(ids)
        self.cur_layer.extend(ids)

    def op(self, o, virtual=()):
        self.ops.append(o)
        for v in virtual:
            self.producers[v] = o

    def bound(self, q, label):
        tq, bd = self.tq, self.tq.digit_bits
        rb = RangeBound(q, [f"{q}.b{k}" for k in range(tq.bound_bits // bd)], tq.bound_bits, bd, label=label)
        for did in rb.digit_ids:
            self.add(did, self.specs[q].shape, "advice")
        self.op(rb)
        self.commit(*rb.digit_ids)
        self.pads.update(rb.pad_values())
        self.look(rb.lookups())
        self.roots.append(rb)

    def rescale(self, z, q, shape, shift, label, bounded=True):
        bd = self.tq.digit_bits
        if shift <= 0 or shift % bd:
            raise ValueError(f"rescale shift {shift} of {q} must be a positive multiple of {bd}")
        dids = [f"{q}.d{k}" for k in range(shift // bd)]
        self.add(q, shape, "advice")
        for did in dids:
            self.add(did, shape, "advice")
        rs = Rescale(z, q, dids, shift, bd)
        self.op(rs)
        self.commit(q, *dids)
        self.pads.update(rs.pad_values())
        self.look([(RangeTable(bd), (did,)) for did in dids])
        self.roots.append(rs)
        if bounded:
            self.bound(q, label)

    def linear(self, name, x, wid, bid, d_in, d_out, shift, bounded=True):
        T = self.T
        self.add(f"{name}.z", (T, d_out), "virtual")
        if bid is None:
            self.op(LinearNB(x, wid, f"{name}.z", T, d_in, d_out), [f"{name}.z"])
        else:
            self.op(Linear(x, wid, bid, f"{name}.z", T, d_in, d_out), [f"{name}.z"])
        self.rescale(f"{name}.z", f"{name}.q", (T, d_out), shift, name[-10:], bounded)
        return f"{name}.q"

    def norm(self, n):
        for tid, sp in n.specs().items():
            self.add(tid, sp.shape, sp.kind)
        self.op(n, n.virtuals())
        self.commit(*n.witness())
        self.pads.update(n.pad_values())
        self.look(n.lookups())
        self.roots.append(n)
        self.bound(n.y, n.prefix[-10:])
        return n.y

    def softmax(self, p, s):
        tq, bd = self.tq, self.tq.digit_bits
        sm = Softmax(s, p + "p", self.cfg.n_heads, self.T, prefix=p + "sm", s_in=tq.score_frac,
                     p_out=tq.prob_frac, digit_bits=bd, num_digits=tq.exp_digits, range_bits=bd)
        for tid, sp in sm.tensor_specs().items():
            self.add(tid, sp.shape, sp.kind)
        self.op(sm)
        self.commit(*sm.advice_ids())
        self.pads.update(sm.pad_values())
        self.look(sm.lookups())
        self.roots.append(sm)
        return p + "p"

    def argmax(self, logits):
        tq = self.tq
        self.add("next", (1,), "output")
        am = Argmax(logits, "next", [f"am.d{k}" for k in range(tq.argmax_digits)], self.cfg.vocab_size,
                    tq.digit_bits, rows=self.T)
        for did in am.digit_ids:
            self.add(did, (self.cfg.vocab_size,), "advice")
        self.op(am)
        self.commit(*am.digit_ids)
        self.look(am.lookups())
        self.roots.append(am)

    def finish(self, key_tables: list[str]) -> TransformerCircuit:
        lookups = []
        for name, t in self.tables.items():
            pair = isinstance(t, FunctionTable)
            if pair:
                self.add(table_id(name), (t.size,), "table")
            lk = logup.LookupInstance(f"lk{len(lookups)}", t, self.cols[name], table_id(name) if pair else None)
            lk.mult_id = f"{lk.label}/m"
            self.add(lk.mult_id, (t.size,), "advice")
            lk.a_ids = [f"{lk.label}/A{c}" for c in range(len(lk.columns))]
            for aid, col in zip(lk.a_ids, lk.columns):
                self.add(aid, self.specs[col[0]].shape, "proof")
            lk.b_id = f"{lk.label}/B"
            self.add(lk.b_id, (t.size,), "proof")
            lookups.append(lk)
        key_tables = key_tables + [n for n, t in self.tables.items() if isinstance(t, FunctionTable)]
        if model_names(self.cfg) != [s.id for s in self.specs.values() if s.kind == "model"]:
            raise AssertionError("model tensor order drifted")
        return TransformerCircuit(self.cfg, self.tq, self.T, self.specs, self.ops, self.roots, lookups,
                                  self.witness, self.producers, self.pads, key_tables, self.layer_advice)


def compile_gpt2(cfg: TransformerConfig, rows: int, tq: TQuant | None = None) -> TransformerCircuit:
    """The GPT-2 decoder as one circuit (ids as in ``compile_llama``; model tensors in ``model_names``):

        x0 = Embedding(tokens, E) + PositionRows(P)                    virtual
        per layer: n1 = LayerNorm(x, g1, b1); q, k, v = Linear(n1.y, W, b) -> Rescale(w)
                   s = MatMul(headsplit(q), headsplit(k)) -> Rescale;  p = Softmax(s)
                   att = MatMul(p, vt(v)) -> Rescale;  xm = x + Linear(headmerge(att), Wo, bo) -> Rescale
                   n2 = LayerNorm(xm, g2, b2); fc = Linear(n2.y, Wfc, bfc) -> Rescale to the GELU
                   table input scale; g = GELU(fc) (lookup); x' = xm + Linear(g, Wpr, bpr) -> Rescale
        nf = LayerNorm(x_L, gf, bf); logits = LinearNB(nf.y, E) -> Rescale;  next = Argmax(last row)

    Linear biases are committed at scale 2^(a+w), LayerNorm biases at 2^a.
    """
    tq = tq or TQuant()
    if cfg.arch != "gpt2":
        raise ValueError("compile_gpt2 needs a gpt2 config")
    if cfg.gelu_approx != "none":
        raise ValueError("only the exact (erf) GELU has a lookup table")
    if not cfg.tied_embeddings:
        raise ValueError("only tied embeddings are supported")
    if not 1 <= rows <= cfg.max_seq:
        raise ValueError(f"prompt length must be in [1, {cfg.max_seq}]")
    T, d, H, hd, ffn, V = rows, cfg.d_model, cfg.n_heads, cfg.head_dim, cfg.d_ffn, cfg.vocab_size
    if hd & (hd - 1):
        raise ValueError("head_dim must be a power of two")
    if log2_ceil(hd) % 2:
        raise ValueError("head_dim must be a power of four (1/sqrt(hd) is folded into a rescale shift)")
    a, w = tq.act_frac, tq.weight_frac
    qs = tq.quant_spec()
    b = _Builder(cfg, tq, T)
    xb = tq.bound_bits + (2 * cfg.n_layers + 2).bit_length() + 1

    def lnorm(prefix, x, g, bias):
        return b.norm(layer_norm(prefix, x, g, bias, T, d, cfg.norm_eps, qs, x_bits=xb,
                                 precision=tq.norm_precision))

    b.add("tokens", (T,), "input")
    b.add("E", (V, d), "model")
    b.add("P", (cfg.max_seq, d), "model")
    b.add("e0", (T, d), "virtual")
    b.op(Embedding("tokens", "E", "e0", T, V, d), ["e0"])
    b.add("p0", (T, d), "virtual")
    b.op(PositionRows("P", "p0", T, cfg.max_seq, d), ["p0"])
    b.add("x0", (T, d), "virtual")
    b.op(Add("e0", "p0", "x0"), ["x0"])
    gelu = tq.gelu_table()
    score_shift = 2 * a + log2_ceil(hd) // 2 - tq.score_frac
    x = "x0"
    for l in range(cfg.n_layers):
        b.cur_layer = []
        p = f"L{l}."
        shapes = {"g1": (d,), "b1": (d,), "wq": (d, d), "bq": (d,), "wk": (d, d), "bk": (d,),
                  "wv": (d, d), "bv": (d,), "wo": (d, d), "bo": (d,), "g2": (d,), "b2": (d,),
                  "wfc": (ffn, d), "bfc": (ffn,), "wpr": (d, ffn), "bpr": (d,)}
        for n_ in GPT2_LAYER:
            b.add(p + n_, shapes[n_], "model")
        y1 = lnorm(p + "n1", x, p + "g1", p + "b1")
        q = b.linear(p + "q", y1, p + "wq", p + "bq", d, d, w)
        k = b.linear(p + "k", y1, p + "wk", p + "bk", d, d, w)
        v = b.linear(p + "v", y1, p + "wv", p + "bv", d, d, w)
        for src, tag in ((q, "q"), (k, "k")):
            b.add(p + tag + "h", (H, T, hd), "virtual")
            b.op(HeadSplit(src, p + tag + "h", H, T, hd), [p + tag + "h"])
        b.add(p + "s.z", (H, T, T), "virtual")
        b.op(MatMul(p + "qh", p + "kh", p + "s.z", H, T, T, hd, label="qk"), [p + "s.z"])
        b.rescale(p + "s.z", p + "s", (H, T, T), score_shift, p + "s")
        pr = b.softmax(p, p + "s")
        b.add(p + "vt", (H, hd, T), "virtual")
        b.op(VTExpand(v, p + "vt", H, 1, T, hd), [p + "vt"])
        b.add(p + "att.z", (H, T, hd), "virtual")
        b.op(MatMul(pr, p + "vt", p + "att.z", H, T, hd, T, label="pv"), [p + "att.z"])
        b.rescale(p + "att.z", p + "att", (H, T, hd), tq.prob_frac, p + "att")
        b.add(p + "mix", (T, d), "virtual")
        b.op(HeadMerge(p + "att", p + "mix", H, T, hd), [p + "mix"])
        o = b.linear(p + "o", p + "mix", p + "wo", p + "bo", d, d, w)
        b.add(p + "xm", (T, d), "virtual")
        b.op(Add(x, o, p + "xm"), [p + "xm"])
        y2 = lnorm(p + "n2", p + "xm", p + "g2", p + "b2")
        fc = b.linear(p + "fc", y2, p + "wfc", p + "bfc", d, ffn, a + w - tq.silu_in_frac, bounded=False)
        b.add(p + "gelu", (T, ffn), "advice")
        b.op(Activation(fc, p + "gelu", gelu))
        b.commit(p + "gelu")
        b.look([(gelu, (fc, p + "gelu"))])
        pj = b.linear(p + "pr", p + "gelu", p + "wpr", p + "bpr", ffn, d, w)
        nxt = f"x{l + 1}"
        b.add(nxt, (T, d), "virtual")
        b.op(Add(p + "xm", pj, nxt), [nxt])
        x = nxt
        b.layer_advice.append(b.cur_layer)
    b.cur_layer = []
    b.add("gf", (d,), "model")
    b.add("bf", (d,), "model")
    yf = lnorm("nf", x, "gf", "bf")
    logits = b.linear("head", yf, "E", None, d, V, w)
    b.argmax(logits)
    return b.finish([])


def compile_model(cfg: TransformerConfig, rows: int, tq: TQuant | None = None) -> TransformerCircuit:
    """The circuit of ``cfg``'s architecture for a prompt of ``rows`` tokens."""
    return compile_gpt2(cfg, rows, tq) if cfg.arch == "gpt2" else compile_llama(cfg, rows, tq)


def key_table_values(tq: TQuant, cfg: TransformerConfig) -> dict[str, list[int]]:
    """Every table a circuit of ``cfg`` may read, as padded field vectors (setup side)."""
    from ..field import R
    out = {}
    if cfg.arch == "gpt2":
        for t in [tq.gelu_table()] + list(tq.exp_tables()):
            out[t.name] = [v % R for v in t.outputs()]
        return out
    t = tq.silu_table()
    out[t.name] = [v % R for v in t.outputs()]
    for t in tq.exp_tables():
        out[t.name] = [v % R for v in t.outputs()]
    hd = cfg.head_dim
    tp = 1
    while True:
        c, s = rope_table_values(tq, tp, hd, cfg.rope_base)
        out[tq.rope_name(tp, hd, cfg.rope_base, "cos")] = pad_flat(c, c.shape)
        out[tq.rope_name(tp, hd, cfg.rope_base, "sin")] = pad_flat(s, s.shape)
        if tp >= cfg.max_seq:
            break
        tp *= 2
    return out


def forward(circuit: TransformerCircuit, params: dict[str, torch.Tensor], tokens: torch.Tensor) -> dict:
    """The quantized forward pass: integer tensors for every tensor of the circuit."""
    c = circuit
    ints = dict(params)
    ints["tokens"] = tokens.to(torch.int64).reshape(-1)
    if c.cfg.arch == "gpt2":
        for o in c.ops:
            o.forward(ints)
        return ints
    hd, tp = c.cfg.head_dim, 1 << log2_ceil(c.rows)
    cos, sin = rope_table_values(c.tq, tp, hd, c.cfg.rope_base)
    cn, sn = (table_id(c.tq.rope_name(tp, hd, c.cfg.rope_base, w)) for w in ("cos", "sin"))
    ints[cn], ints[sn] = cos[: c.rows], sin[: c.rows]
    for o in c.ops:
        o.forward(ints)
    return ints


def field_values(circuit: TransformerCircuit, ints: dict) -> dict[str, list[int]]:
    """Padded flat field vectors of every tensor in ``ints``; tables come from the key."""
    from ..circuit import field_values as padded_values
    return padded_values(circuit, ints, skip_kinds=("table",))
