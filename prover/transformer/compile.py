"""The transformer compiler: a LLaMA- or GPT-2-family config and a prompt length -> a circuit
(``compile_model`` dispatches on ``cfg.arch``).

Same-role tensors of all L layers are stacked into one tensor with a leading layer
axis (weights (L, O, I), activations (L, T, d), attention (L, H, T, T)), so each op of
a layer is proven once for all layers: proof size and verifier work grow with log L.
The layer inputs X (L, T, d) are committed; ``ResidualChain`` ties X[0] to the
embedding and X[l] to the layer output Y[l-1]. LLaMA:

    x0   = Embedding(tokens, E)                                     virtual (T, d)
    X    committed (L, T, d);  ResidualChain: X[0] = x0, X[l] = Y[l-1]
    n1   = RMSNorm(X, g1)                                           committed y + digits
    q,k,v = MatMul_l(n1.y, Wq|Wk|Wv) -> Rescale(w)                  committed (L, T, *)
    qr, kr = RoPE(headsplit(q|k)) -> Rescale(c)                     (L, H|Hkv, T, hd)
    s    = MatMul_(l,h)(qr, kvexpand(kr)) -> Rescale(2a + log2 sqrt(hd) - s_in)
    p    = Softmax(s)                                               committed (zkAttn)
    att  = MatMul_(l,h)(p, vtexpand(v)) -> Rescale(p_out)           (L, H, T, hd)
    o    = MatMul_l(headmerge(att), Wo) -> Rescale;  xm = X + o
    n2   = RMSNorm(xm, g2);  gate = MatMul_l(n2.y, Wg) -> Rescale to the SiLU input scale
    si   = SiLU(gate) (lookup);  up = MatMul_l(n2.y, Wu) -> Rescale
    h    = Hadamard(si, up) -> Rescale;  down = MatMul_l(h, Wd) -> Rescale
    Y    = xm + down                                                virtual (L, T, d)
    nf = RMSNorm(Y[L-1], gf); logits = LinearNB(nf.y, E) -> Rescale (tied head)
    next = Argmax(last row of logits)                               public

GPT-2 (``compile_gpt2``) swaps in LayerNorm, learned positions (x0 = E[tokens] + P[:T]),
linear biases (``BiasAdd``) and a GELU MLP. Every committed rescale quotient that no
lookup bounds gets a ``RangeBound`` (signed, ``bound_bits``; checked at its Rescale root's
point, a norm output's at a root of its own), so all accumulators are
integers far below the field size and the residual stream is bounded as the norms
require. The quantized forward pass runs the layer ops once per layer on one-layer
slices and stacks the results (``forward``). All quantization choices live in ``TQuant``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ..context import COMMITTED, TensorSpec
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
from ..ops.norm import layer_norm, rms_norm
from ..ops.rescale import Rescale
from ..ops.rope import RoPE, rope_tables
from ..ops.softmax import Softmax
from ..poly.mle import log2_ceil, pad_flat
from ..quant import MAX_FRAC, MAX_TABLE_BITS, MAX_WEIGHT_BITS, QuantSpec, check_decomposition, check_digit_bits, check_frac, require
from ..transcript import keccak256
from .views import (BiasAdd, HeadMerge, HeadSplit, KVExpand, LayerSlice, LinearNB, PositionRows, RangeBound,
                    ResidualChain, VTExpand)


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
    pool_witness: bool = True  # layout: commit the advice in a few pools (range-checked digits, the rest)
    chunk_vars: int = 0       # layout: commit a tensor over 2^chunk_vars entries as chunks of 2^chunk_vars
    #                          (prover.pcs.chunked; 0: every tensor whole, the SRS as large as the largest)

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """The side conditions every circuit built from these settings relies on (see
        ``prover.quant``: with every bound, digit decomposition and shift at most MAX_WIDTH
        bits, every relation's integers stay far below r/2). Raises ``UnsafeParameterError``
        naming the condition; the Solidity verifier checks the same caps on the circuit
        description (``TDescription._checkOp``) under the same names."""
        b = self.digit_bits
        check_digit_bits(b)
        for name in ("act_frac", "weight_frac", "rope_frac", "score_frac", "prob_frac"):
            check_frac(getattr(self, name), name)
        check_frac(self.silu_in_frac, "silu_in_frac", lo=0)
        require(isinstance(self.silu_in_bits, int) and 2 <= self.silu_in_bits <= MAX_TABLE_BITS, "table-bits",
                f"silu_in_bits = {self.silu_in_bits} must be in [2, {MAX_TABLE_BITS}]")
        # |every bounded quotient| < 2^(bound_bits-1): its digits cover bound_bits exactly
        check_decomposition(self.bound_bits, b, "bound-width")
        # embedding rows enter the residual stream, whose bound the norms assume
        require(isinstance(self.weight_bits, int) and 2 <= self.weight_bits <= min(self.bound_bits, MAX_WEIGHT_BITS),
                "weight-bits", f"weight_bits = {self.weight_bits} must be in [2, min(bound_bits, {MAX_WEIGHT_BITS})]")
        # softmax: D = z - S < 2^(exp_digits b); with more bits every field element decomposes
        require(isinstance(self.exp_digits, int) and self.exp_digits >= 1, "exp-width", "exp_digits must be >= 1")
        check_decomposition(self.exp_digits * b, b, "exp-width")
        # argmax: L[k] - L[j] < 2^(argmax_digits b), far below r/2 - 2^bound_bits
        require(isinstance(self.argmax_digits, int) and self.argmax_digits >= 1, "argmax-width",
                "argmax_digits must be >= 1")
        check_decomposition(self.argmax_digits * b, b, "argmax-width")
        # the softmax output and its rescale remainders are whole digits
        require(self.prob_frac % b == 0, "prob-frac", f"prob_frac = {self.prob_frac} must be a multiple of {b}")
        require(isinstance(self.norm_precision, int) and 1 <= self.norm_precision <= MAX_FRAC, "norm-precision",
                f"norm_precision = {self.norm_precision} must be in [1, {MAX_FRAC}]")
        require(isinstance(self.chunk_vars, int) and 0 <= self.chunk_vars <= 32, "chunk-vars",
                f"chunk_vars = {self.chunk_vars} must be 0 (no chunks) or in [1, 32]")

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
    layer_span: tuple[int, int] = (0, 0)  # ops[lo:hi] are the (stacked) layer ops
    pools: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # pool id -> [(member, offset)]

    tokens_id = "tokens"
    next_id = "next"
    logits_id = "head.q"

    def model_tensors(self) -> list[str]:
        return [s.id for s in self.specs.values() if s.kind == "model"]

    def digest(self) -> bytes:
        body = json.dumps({"cfg": asdict(self.cfg), "tq": asdict(self.tq), "rows": self.rows},
                          sort_keys=True, separators=(",", ":")).encode()
        return keccak256(b"zkllm-transformer-circuit/v4" + body)

    @property
    def chunk_vars(self) -> int:
        """Tensors over 2^chunk_vars entries are committed in chunks of that size (0: none)."""
        return self.tq.chunk_vars

    def chunked(self) -> list[str]:
        """The committed tensors that are committed in chunks."""
        from ..pcs.chunked import chunk_vars_of
        members = {t for ms in self.pools.values() for t, _ in ms}
        return [s.id for s in self.specs.values()
                if s.kind in COMMITTED and s.id not in members and chunk_vars_of(s.num_vars, self.chunk_vars)]

    @property
    def num_vars(self) -> int:
        """Variables of the SRS the circuit needs: its largest committed tensor, or chunk, or
        the mask pool its proofs commit (``zk.mask``), whichever is larger."""
        from ..circuit import mask_blocks
        from ..zk.mask import pool_vars_for
        n = max(s.num_vars for s in self.specs.values() if s.kind != "virtual")
        n = min(n, self.chunk_vars) if self.chunk_vars else n
        return max(n, pool_vars_for(mask_blocks(self)))



#: A pooled tensor group shares one zero-padded pool when that wastes <= 1/POOL_SLACK of it.
POOL_SLACK = 8

LLAMA_LAYER = ("g1", "wq", "wk", "wv", "wo", "g2", "wg", "wu", "wd")
GPT2_LAYER = ("g1", "b1", "wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo",
              "g2", "b2", "wfc", "bfc", "wpr", "bpr")


def model_names(cfg: TransformerConfig) -> list[str]:
    """Model tensors in commitment order; per-layer tensors are stacked (leading layer axis)."""
    if cfg.arch == "gpt2":
        return ["E", "P", *GPT2_LAYER, "gf", "bf"]
    return ["E", *LLAMA_LAYER, "gf"]


class _Builder:
    """Tensor specs, ops (before / inside / after the layers), roots, committed advice and
    lookup columns of one circuit."""

    def __init__(self, cfg: TransformerConfig, tq: TQuant, rows: int):
        self.cfg, self.tq, self.T, self.L = cfg, tq, rows, cfg.n_layers
        self.specs: dict[str, TensorSpec] = {}
        self.ops, self.roots, self.witness, self.pads, self.producers = [], [], [], {}, {}
        self.cols: dict[str, list] = {}
        self.tables: dict[str, object] = {}
        self.layer_span = (0, 0)

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

    def op(self, o, virtual=()):
        self.ops.append(o)
        for v in virtual:
            self.producers[v] = o

    def bound(self, q, label, root=True):
        """A RangeBound on q: its digits, lookups and (with ``root``) its own root; without,
        the caller runs its check (a fused Rescale)."""
        tq, bd = self.tq, self.tq.digit_bits
        rb = RangeBound(q, [f"{q}.b{k}" for k in range(tq.bound_bits // bd)], tq.bound_bits, bd, label=label)
        for did in rb.digit_ids:
            self.add(did, self.specs[q].shape, "advice")
        self.op(rb)
        self.commit(*rb.digit_ids)
        self.pads.update(rb.pad_values())
        self.look(rb.lookups())
        if root:
            self.roots.append(rb)
        return rb

    def rescale(self, z, q, shift, label, bounded=True):
        bd = self.tq.digit_bits
        check_decomposition(shift, bd, "rescale-shift")
        shape = self.specs[z].shape
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
        if bounded:  # checked at the Rescale root's point (no root of its own)
            rs.bound = self.bound(q, label, root=False)
        return q

    def linear(self, name, x, wid, bid, d_in, d_out, shift, bounded=True):
        """Stacked per-layer linear map (one batched MatMul over the layers) + bias + rescale."""
        T, L = self.T, self.L
        z = f"{name}.z"
        zz = f"{name}.zz" if bid else z
        self.add(zz, (L, T, d_out), "virtual")
        self.op(MatMul(x, wid, zz, L, T, d_out, d_in, label=f"{name}/mm"), [zz])
        if bid:
            self.add(z, (L, T, d_out), "virtual")
            self.op(BiasAdd(zz, bid, z, T, layers=L, label=f"{name}/bias"), [z])
        return self.rescale(z, f"{name}.q", shift, name[-10:], bounded)

    def head(self, x, wid, d_in, d_out, shift):
        """The LM head (unstacked, no bias)."""
        self.add("head.z", (self.T, d_out), "virtual")
        self.op(LinearNB(x, wid, "head.z", self.T, d_in, d_out), ["head.z"])
        return self.rescale("head.z", "head.q", shift, "head")

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

    def lookup_act(self, x, y, table):
        self.add(y, self.specs[x].shape, "advice")
        self.op(Activation(x, y, table))
        self.commit(y)
        self.look([(table, (x, y))])
        return y

    def attention(self, q, k, v, heads_q, heads_kv, rope=None):
        """Scores, zkAttn softmax and the weighted values of all layers and heads; returns the
        merged (L, T, H*hd) tensor. ``rope`` = (cos id, sin id) rotates q and k first."""
        tq, T, L, hd = self.tq, self.T, self.L, self.cfg.head_dim
        H, Hkv = heads_q, heads_kv
        group = H // Hkv
        heads = {}
        for src, nh, tag in ((q, H, "q"), (k, Hkv, "k")):
            self.add(tag + "h", (L, nh, T, hd), "virtual")
            self.op(HeadSplit(src, tag + "h", nh, T, hd, layers=L), [tag + "h"])
            heads[tag] = tag + "h"
            if rope is not None:
                self.add(tag + "r.z", (L, nh, T, hd), "virtual")
                self.op(RoPE(tag + "h", rope[0], rope[1], tag + "r.z", (L, nh), T, hd, label=f"rope/{tag}"),
                        [tag + "r.z"])
                heads[tag] = self.rescale(tag + "r.z", tag + "r", tq.rope_frac, tag + "rope")
        kx = heads["k"]
        if group > 1:
            self.add("kx", (L, H, T, hd), "virtual")
            self.op(KVExpand(heads["k"], "kx", Hkv, group, layers=L), ["kx"])
            kx = "kx"
        score_shift = 2 * tq.act_frac + log2_ceil(hd) // 2 - tq.score_frac
        self.add("s.z", (L, H, T, T), "virtual")
        self.op(MatMul(heads["q"], kx, "s.z", (L, H), T, T, hd, label="qk"), ["s.z"])
        self.rescale("s.z", "s", score_shift, "s")
        bd = tq.digit_bits
        sm = Softmax("s", "p", (L, H), T, prefix="sm", s_in=tq.score_frac, p_out=tq.prob_frac,
                     digit_bits=bd, num_digits=tq.exp_digits, range_bits=bd)
        for tid, sp in sm.tensor_specs().items():
            self.add(tid, sp.shape, sp.kind)
        self.op(sm)
        self.commit(*sm.advice_ids())
        self.pads.update(sm.pad_values())
        self.look(sm.lookups())
        self.roots.append(sm)
        self.add("vt", (L, H, hd, T), "virtual")
        self.op(VTExpand(v, "vt", Hkv, group, T, hd, layers=L), ["vt"])
        self.add("att.z", (L, H, T, hd), "virtual")
        self.op(MatMul("p", "vt", "att.z", (L, H), T, hd, T, label="pv"), ["att.z"])
        self.rescale("att.z", "att", tq.prob_frac, "att")
        self.add("mix", (L, T, H * hd), "virtual")
        self.op(HeadMerge("att", "mix", H, T, hd, layers=L), ["mix"])
        return "mix"

    def begin_layers(self, x0: str):
        """Commit the layer inputs X and chain them to ``x0`` and the layer outputs Y."""
        self.add("X", (self.L, self.T, self.cfg.d_model), "advice")
        self.commit("X")
        self.roots.append(ResidualChain("X", x0, "Y", self.L))
        self.layer_span = (len(self.ops), None)
        return "X"

    def end_layers(self, xm: str, down: str) -> str:
        """Y = xm + down; returns the last layer's output (T, d)."""
        self.add("Y", (self.L, self.T, self.cfg.d_model), "virtual")
        self.op(Add(xm, down, "Y"), ["Y"])
        self.layer_span = (self.layer_span[0], len(self.ops))
        self.add("xL", (self.T, self.cfg.d_model), "virtual")
        self.op(LayerSlice("Y", "xL", self.L - 1, self.L), ["xL"])
        return "xL"

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

    def _pool(self) -> dict[str, list[tuple[str, int]]]:
        """Pool the committed advice: the range-checked digit tensors (the range lookup then
        has one column per pool) and everything else. The members' sizes are powers of two,
        so a pool per set bit of their total size holds them exactly, with no padding to
        commit or look up: members go largest first into the first pool with room, each at
        an aligned offset, so a member's MLE is its pool's with the block's high bits fixed.
        When one pool of the next power of two wastes at most 1/POOL_SLACK of the total, the
        members share that one pool instead (zero-padded); failing that, when the largest
        pool plus one zero-padded pool for the rest wastes at most as much, those two: every
        pool costs the verifier a
        commitment, an MSM point and, for digits, a range-lookup column with its inverse
        column, while the padding costs the prover little (tiny-llama's digits: 254,688
        entries in one 2^18 pool instead of nine; verify gas -0.21M)."""
        rt = RangeTable(self.tq.digit_bits).name
        digits = list(dict.fromkeys(col[0] for col in self.cols.get(rt, [])))
        if set(digits) - set(self.witness):
            raise AssertionError("a range-checked tensor is not committed advice")
        rest = [t for t in self.witness if t not in set(digits)]
        pools: dict[str, list[tuple[str, int]]] = {}
        for tag, members in (("a", rest), ("d", digits)):
            order = sorted(members, key=lambda t: -self.specs[t].num_vars)
            total = sum(1 << self.specs[t].num_vars for t in order)
            caps = [1 << b for b in range(total.bit_length() - 1, -1, -1) if total >> b & 1]
            single = 1 << (total - 1).bit_length()
            pair = [caps[0], 1 << (total - caps[0] - 1).bit_length()] if len(caps) > 2 else caps
            if len(caps) > 1 and (single - total) * POOL_SLACK <= total:
                caps = [single]
            elif (sum(pair) - total) * POOL_SLACK <= total:
                caps = pair
            ids = [f"pool/{tag}{i}" for i in range(len(caps))]
            fill = [0] * len(caps)
            for pid in ids:
                pools[pid] = []
            for t in order:
                size = 1 << self.specs[t].num_vars
                i = next(i for i, c in enumerate(caps) if c - fill[i] >= size)
                pools[ids[i]].append((t, fill[i]))
                fill[i] += size
            for pid, cap in zip(ids, caps):
                self.add(pid, (cap,), "advice")
        self.cols[rt] = [(pid,) for pid in pools if pid.startswith("pool/d")]
        self.witness = list(pools)
        return pools

    def finish(self, key_tables: list[str]) -> TransformerCircuit:
        pools = self._pool() if self.tq.pool_witness else {}
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
        k = self.tq.chunk_vars
        if k < 0:
            raise ValueError("chunk_vars must be 0 (no chunks) or positive")
        tables = [s for s in self.specs.values() if s.kind == "table"]
        if k and any(s.num_vars > k for s in tables):
            raise ValueError(f"chunk_vars {k} is below a key table's size (2^{max(s.num_vars for s in tables)}); "
                             "key tables are committed whole")
        return TransformerCircuit(self.cfg, self.tq, self.T, self.specs, self.ops, self.roots, lookups,
                                  self.witness, self.producers, self.pads, key_tables, self.layer_span, pools)


def _check_common(cfg: TransformerConfig, rows: int, arch: str) -> None:
    if cfg.arch != arch:
        raise ValueError(f"compile_{arch} needs a {arch} config")
    if not 1 <= rows <= cfg.max_seq:
        raise ValueError(f"prompt length must be in [1, {cfg.max_seq}]")
    hd = cfg.head_dim
    if hd & (hd - 1):
        raise ValueError("head_dim must be a power of two")
    if log2_ceil(hd) % 2:
        raise ValueError("head_dim must be a power of four (1/sqrt(hd) is folded into a rescale shift)")
    if cfg.n_heads % cfg.n_kv_heads:
        raise ValueError("the query heads must be a multiple of the KV heads")


def compile_llama(cfg: TransformerConfig, rows: int, tq: TQuant | None = None) -> TransformerCircuit:
    tq = tq or TQuant()
    _check_common(cfg, rows, "llama")
    if not cfg.tied_embeddings:
        raise ValueError("only tied embeddings are supported")
    T, d, H, Hkv, hd = rows, cfg.d_model, cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
    ffn, V, L = cfg.d_ffn, cfg.vocab_size, cfg.n_layers
    a, w = tq.act_frac, tq.weight_frac
    qs = tq.quant_spec()
    b = _Builder(cfg, tq, T)
    xb = tq.bound_bits + (2 * L + 1).bit_length() + 1

    def norm(prefix, x, g, groups):
        return b.norm(rms_norm(prefix, x, g, T, d, cfg.norm_eps, qs, x_bits=xb, precision=tq.norm_precision,
                               groups=groups))

    b.add("tokens", (T,), "input")
    b.add("E", (V, d), "model")
    shapes = {"g1": (d,), "wq": (H * hd, d), "wk": (Hkv * hd, d), "wv": (Hkv * hd, d), "wo": (d, H * hd),
              "g2": (d,), "wg": (ffn, d), "wu": (ffn, d), "wd": (d, ffn)}
    for n_ in LLAMA_LAYER:
        b.add(n_, (L, *shapes[n_]), "model")
    b.add("gf", (d,), "model")
    b.add("x0", (T, d), "virtual")
    b.op(Embedding("tokens", "E", "x0", T, V, d), ["x0"])
    tp = 1 << log2_ceil(T)
    cos_name = tq.rope_name(tp, hd, cfg.rope_base, "cos")
    sin_name = tq.rope_name(tp, hd, cfg.rope_base, "sin")
    cos_id, sin_id = table_id(cos_name), table_id(sin_name)
    b.add(cos_id, (T, hd // 2), "table")
    b.add(sin_id, (T, hd // 2), "table")

    x = b.begin_layers("x0")
    y1 = norm("n1", x, "g1", L)
    q = b.linear("q", y1, "wq", None, d, H * hd, w)
    k = b.linear("k", y1, "wk", None, d, Hkv * hd, w)
    v = b.linear("v", y1, "wv", None, d, Hkv * hd, w)
    mix = b.attention(q, k, v, H, Hkv, rope=(cos_id, sin_id))
    o = b.linear("o", mix, "wo", None, H * hd, d, w)
    b.add("xm", (L, T, d), "virtual")
    b.op(Add(x, o, "xm"), ["xm"])
    y2 = norm("n2", "xm", "g2", L)
    gate = b.linear("gate", y2, "wg", None, d, ffn, a + w - tq.silu_in_frac, bounded=False)
    si = b.lookup_act(gate, "silu", tq.silu_table())
    up = b.linear("up", y2, "wu", None, d, ffn, w)
    b.add("h.z", (L, T, ffn), "virtual")
    b.op(Hadamard(si, up, "h.z"), ["h.z"])
    h = b.rescale("h.z", "h", a, "h")
    down = b.linear("down", h, "wd", None, ffn, d, w)
    xl = b.end_layers("xm", down)

    yf = norm("nf", xl, "gf", 0)
    logits = b.head(yf, "E", d, V, w)
    b.argmax(logits)
    return b.finish([cos_name, sin_name])


def compile_gpt2(cfg: TransformerConfig, rows: int, tq: TQuant | None = None) -> TransformerCircuit:
    """The GPT-2 decoder as one circuit (model tensors in ``model_names``):

        x0 = Embedding(tokens, E) + PositionRows(P)                    virtual
        X committed, chained as for LLaMA; per layer (stacked):
          n1 = LayerNorm(X, g1, b1); q, k, v = MatMul_l(n1.y, W) + b -> Rescale(w)
          s = MatMul(headsplit(q), headsplit(k)) -> Rescale;  p = Softmax(s)
          att = MatMul(p, vt(v)) -> Rescale;  xm = X + (MatMul_l(headmerge(att), Wo) + bo -> Rescale)
          n2 = LayerNorm(xm, g2, b2); fc = MatMul_l(n2.y, Wfc) + bfc -> Rescale to the GELU
          table input scale; g = GELU(fc) (lookup); Y = xm + (MatMul_l(g, Wpr) + bpr -> Rescale)
        nf = LayerNorm(Y[L-1], gf, bf); logits = LinearNB(nf.y, E) -> Rescale;  next = Argmax(last row)

    Linear biases are committed at scale 2^(a+w), LayerNorm biases at 2^a.
    """
    tq = tq or TQuant()
    _check_common(cfg, rows, "gpt2")
    if cfg.gelu_approx != "none":
        raise ValueError("only the exact (erf) GELU has a lookup table")
    if not cfg.tied_embeddings:
        raise ValueError("only tied embeddings are supported")
    T, d, H, ffn, V, L = rows, cfg.d_model, cfg.n_heads, cfg.d_ffn, cfg.vocab_size, cfg.n_layers
    a, w = tq.act_frac, tq.weight_frac
    qs = tq.quant_spec()
    b = _Builder(cfg, tq, T)
    xb = tq.bound_bits + (2 * L + 2).bit_length() + 1

    def lnorm(prefix, x, g, bias, groups):
        return b.norm(layer_norm(prefix, x, g, bias, T, d, cfg.norm_eps, qs, x_bits=xb,
                                 precision=tq.norm_precision, groups=groups))

    b.add("tokens", (T,), "input")
    b.add("E", (V, d), "model")
    b.add("P", (cfg.max_seq, d), "model")
    shapes = {"g1": (d,), "b1": (d,), "wq": (d, d), "bq": (d,), "wk": (d, d), "bk": (d,),
              "wv": (d, d), "bv": (d,), "wo": (d, d), "bo": (d,), "g2": (d,), "b2": (d,),
              "wfc": (ffn, d), "bfc": (ffn,), "wpr": (d, ffn), "bpr": (d,)}
    for n_ in GPT2_LAYER:
        b.add(n_, (L, *shapes[n_]), "model")
    b.add("gf", (d,), "model")
    b.add("bf", (d,), "model")
    b.add("e0", (T, d), "virtual")
    b.op(Embedding("tokens", "E", "e0", T, V, d), ["e0"])
    b.add("p0", (T, d), "virtual")
    b.op(PositionRows("P", "p0", T, cfg.max_seq, d), ["p0"])
    b.add("x0", (T, d), "virtual")
    b.op(Add("e0", "p0", "x0"), ["x0"])

    x = b.begin_layers("x0")
    y1 = lnorm("n1", x, "g1", "b1", L)
    q = b.linear("q", y1, "wq", "bq", d, d, w)
    k = b.linear("k", y1, "wk", "bk", d, d, w)
    v = b.linear("v", y1, "wv", "bv", d, d, w)
    mix = b.attention(q, k, v, H, H)
    o = b.linear("o", mix, "wo", "bo", d, d, w)
    b.add("xm", (L, T, d), "virtual")
    b.op(Add(x, o, "xm"), ["xm"])
    y2 = lnorm("n2", "xm", "g2", "b2", L)
    fc = b.linear("fc", y2, "wfc", "bfc", d, ffn, a + w - tq.silu_in_frac, bounded=False)
    g = b.lookup_act(fc, "gelu", tq.gelu_table())
    pj = b.linear("pr", g, "wpr", "bpr", ffn, d, w)
    xl = b.end_layers("xm", pj)

    yf = lnorm("nf", xl, "gf", "bf", 0)
    logits = b.head(yf, "E", d, V, w)
    b.argmax(logits)
    return b.finish([])


def compile_model(cfg: TransformerConfig, rows: int, tq: TQuant | None = None) -> TransformerCircuit:
    """The circuit of ``cfg``'s architecture for a prompt of ``rows`` tokens (refuses settings
    that break a side condition, ``TQuant.validate``)."""
    (tq or TQuant()).validate()
    return compile_gpt2(cfg, rows, tq) if cfg.arch == "gpt2" else compile_llama(cfg, rows, tq)


def key_table_values(tq: TQuant, cfg: TransformerConfig, max_rows: int | None = None) -> dict[str, list[int]]:
    """Every table a circuit of ``cfg`` for up to ``max_rows`` tokens (default ``max_seq``) may
    read, as padded field vectors (setup side)."""
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
        if tp >= (max_rows or cfg.max_seq):
            break
        tp *= 2
    return out


def _stack(parts: list):
    if isinstance(parts[0], torch.Tensor):
        return torch.cat(parts, dim=0)
    return np.concatenate([np.asarray(p, dtype=object) for p in parts], axis=0)


def forward(circuit: TransformerCircuit, params: dict[str, torch.Tensor], tokens: torch.Tensor) -> dict:
    """The quantized forward pass: integer tensors for every tensor of the circuit.

    The layer ops run once per layer on one-layer slices (leading axis of size 1) of the
    stacked weights, with X[l] = x0 or the previous layer's Y; their outputs are stacked."""
    c = circuit
    ints = dict(params)
    ints["tokens"] = tokens.to(torch.int64).reshape(-1)
    if c.cfg.arch == "llama":
        hd, tp = c.cfg.head_dim, 1 << log2_ceil(c.rows)
        cos, sin = rope_table_values(c.tq, tp, hd, c.cfg.rope_base)
        cn, sn = (table_id(c.tq.rope_name(tp, hd, c.cfg.rope_base, w)) for w in ("cos", "sin"))
        ints[cn], ints[sn] = cos[: c.rows], sin[: c.rows]
    lo, hi = c.layer_span
    for o in c.ops[:lo]:
        o.forward(ints)
    stacked = {tid for tid, sp in c.specs.items() if sp.kind == "model" and tid in _layer_params(c.cfg)}
    x = ints["x0"]
    outs: dict[str, list] = {}
    for l in range(c.cfg.n_layers):
        li = {k: v for k, v in ints.items() if k not in stacked}
        for tid in stacked:
            li[tid] = ints[tid][l:l + 1]
        li["X"] = x.unsqueeze(0)
        before = set(li)
        for o in c.ops[lo:hi]:
            o.forward(li)
        for tid in set(li) - before | {"X"}:
            outs.setdefault(tid, []).append(li[tid])
        x = li["Y"][0]
    for tid, parts in outs.items():
        ints[tid] = _stack(parts)
    for o in c.ops[hi:]:
        o.forward(ints)
    return ints


def _layer_params(cfg: TransformerConfig) -> tuple[str, ...]:
    return GPT2_LAYER if cfg.arch == "gpt2" else LLAMA_LAYER


def field_values(circuit: TransformerCircuit, ints: dict) -> dict[str, list[int]]:
    """Padded flat field vectors of every tensor in ``ints``; tables come from the key."""
    from ..circuit import field_values as padded_values
    return padded_values(circuit, ints, skip_kinds=("table",))
