"""Commit, prove and verify a whole decoder-only transformer inference.

Statement: under the committed model (digest), the public prompt ``tokens`` (T,)
has next token ``next`` = argmax of the last position's logits (ties to the
smallest id), where the logits are the quantized forward pass of ``compile``.

* ``setup``: development-only SRS plus the setup-committed tables (SiLU, the
  softmax exp digit tables, RoPE cos/sin for each padded length; GELU and exp for
  GPT-2); the verifying key carries their commitments.
* ``commit_model``: quantize a ``prover.model.llama.Llama`` or ``prover.model.gpt2.GPT2``
  and commit every weight tensor (hiding KZG commitments).
* ``prove``: quantized forward pass + proof; ``verify``: sees only the proof bytes,
  the statement, the model commitment and the verifying key.
* ``prove_weights`` / ``verify_weights``: the one-time proof that every committed weight
  is an integer of the width ``param_bits`` states (``prover.weights``).

Schedule (prover and verifier in lock-step): statement; witness commitments in
forward order; lookup multiplicities; lookup inverses; lookup sumchecks; roots in
reverse forward order (argmax, rescales, range bounds, norms, softmaxes); one batch
opening of every claim on a committed tensor.
"""
from __future__ import annotations

import json
import struct
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch


from ..errors import MalformedError, MalformedStatementError, SetupError, UnsafeParameterError, VerificationError
from ..field import R
from ..field.ref import integer
from ..keys import ProvingKey, VerifyingKey
from ..model.configs import TransformerConfig
from ..pcs import chunked, kzg, srs as srs_mod
from ..pcs.chunked import ChunkedCommitment
from ..pcs.curve import g1_from_bytes, g1_to_bytes, randbelow
from ..field.smallvec import pad_small
from ..poly.mle import pad_flat
from ..proof import Proof
from ..quant import quantize
from ..circuit import prove_run, verify_run
from .. import attester as attester_mod
from .. import weights as weights_mod
from ..rng import system as system_rng
from ..transcript import Transcript, keccak256
from .compile import (TQuant, TransformerCircuit, compile_model, field_values, forward, key_table_values,
                      model_names, table_id)

MAGIC = b"ZKLT"
VERSION = 2  # 1 had no list of circuit description hashes
#: Prompt lengths whose circuits a commitment lists by default: 1 .. min(max_seq, this).
MAX_LISTED_ROWS = 64


# ---------------------------------------------------------------- setup

def setup(cfg: TransformerConfig, tq: TQuant | None = None, rng=None, max_rows: int | None = None) -> ProvingKey:
    """Development-only: SRS sized for prompts of up to ``max_rows`` tokens (default: the
    config's ``max_seq``), plus the committed tables."""
    tq = tq or TQuant()
    rows = max_rows or cfg.max_seq
    if not 1 <= rows <= cfg.max_seq:
        raise ValueError(f"max_rows must be in [1, {cfg.max_seq}]")
    n = compile_model(cfg, rows, tq).num_vars
    s = srs_mod.setup(n, rng=rng)
    tables = {}
    for name, vals in key_table_values(tq, cfg, rows).items():
        tables[name] = (vals, kzg.commit(s, vals, 0))
    return ProvingKey(s, tables)


# ---------------------------------------------------------------- model commitment

def header_bytes(cfg: TransformerConfig, tq: TQuant) -> bytes:
    """A commitment's header: its config and quantization as canonical JSON."""
    return json.dumps({"cfg": asdict(cfg), "tq": asdict(tq)}, sort_keys=True, separators=(",", ":")).encode()


@dataclass
class TransformerCommitment:
    """The public commitment to a transformer: its config and quantization (the header), the
    keccak256 of the circuit descriptions it may be verified with on-chain (``circuits``:
    entry 0 its weight range circuit, entry T its T-token inference circuit; empty for a
    model no description can describe, verified off-chain only), and one G1 point per model
    tensor (per chunk of a chunked one)."""
    cfg: TransformerConfig
    tq: TQuant
    names: list[str]
    points: list
    circuits: tuple = ()

    def _header(self) -> bytes:
        return header_bytes(self.cfg, self.tq)

    def flat_points(self) -> list:
        """Every commitment point in order (a chunked tensor's chunks in chunk order)."""
        out = []
        for p in self.points:
            out.extend(p.chunks if isinstance(p, ChunkedCommitment) else [p])
        return out

    def encode(self) -> bytes:
        """MAGIC | version u16 | header length u32 | header | n u16 | n x 32-byte description
        hashes | count u16 | count x 128-byte G1 points."""
        h = self._header()
        pts = self.flat_points()
        if len(pts) > 0xFFFF or len(self.circuits) > 0xFFFF:
            raise ValueError(f"{len(pts)} points / {len(self.circuits)} circuits do not fit the encoding "
                             "(at most 65535)")
        return (MAGIC + struct.pack(">HI", VERSION, len(h)) + h + struct.pack(">H", len(self.circuits))
                + b"".join(self.circuits) + struct.pack(">H", len(pts)) + b"".join(g1_to_bytes(p) for p in pts))

    def digest(self) -> bytes:
        return keccak256(self.encode())

    @classmethod
    def decode(cls, enc: bytes) -> "TransformerCommitment":
        try:
            if enc[:4] != MAGIC:
                raise ValueError("bad magic")
            version, hl = struct.unpack(">HI", enc[4:10])
            if version != VERSION:
                raise ValueError(f"version {version} (this verifier reads {VERSION})")
            d = json.loads(enc[10:10 + hl])
            cfg, tq = TransformerConfig(**d["cfg"]), TQuant(**d["tq"])
            off = 10 + hl
            (n,) = struct.unpack(">H", enc[off:off + 2])
            circuits = tuple(enc[off + 2 + 32 * i: off + 34 + 32 * i] for i in range(n))
            off += 2 + 32 * n
            if len(enc) < off + 2:
                raise ValueError("truncated circuit list")
            (count,) = struct.unpack(">H", enc[off:off + 2])
            names = model_names(cfg)
            # the model tensors' shapes do not depend on the prompt: a one-token circuit has them
            layout = _model_layout(compile_model(cfg, 1, tq))
            if count != sum(1 << (m - k) if k else 1 for m, k in layout) or len(enc) != off + 2 + 128 * count:
                raise ValueError("wrong number of commitments")
            flat = [g1_from_bytes(enc[off + 2 + 128 * i: off + 2 + 128 * (i + 1)]) for i in range(count)]
        except UnsafeParameterError:
            raise
        except (ValueError, KeyError, TypeError, struct.error) as e:
            raise MalformedError(f"transformer commitment: {e}") from e
        return cls(cfg, tq, names, _group_points(layout, flat), circuits)


def listed_circuits(cfg: TransformerConfig, tq: TQuant, max_rows: int | None = None) -> tuple:
    """keccak256 of the circuit descriptions a commitment lists: its weight range circuit, then
    the T-token inference circuits for T = 1 .. ``max_rows`` (default min(max_seq,
    ``MAX_LISTED_ROWS``)); () where the circuits cannot be described (chunked commitments)."""
    from ..circuit_desc import transformer_description, weight_description
    rows = min(cfg.max_seq, MAX_LISTED_ROWS) if max_rows is None else max_rows
    if not 0 <= rows <= cfg.max_seq:
        raise ValueError(f"listed prompt lengths must be in [0, {cfg.max_seq}]")
    bare = TransformerCommitment(cfg, tq, model_names(cfg), [])
    try:
        return tuple([keccak256(weight_description(bare))]
                     + [keccak256(transformer_description(bare, t)) for t in range(1, rows + 1)])
    except ValueError:  # no on-chain encoder for this circuit (chunked commitments)
        return ()


def check_listed_circuit(commitment: TransformerCommitment, rows: int, circuit=None) -> bytes | None:
    """The commitment's entry for ``rows`` (0: the weight range circuit) must be the hash of the
    description of its own config's circuit: ``VerificationError("circuit")`` otherwise.
    ``circuit`` is that circuit where the caller has compiled it already (``compile_model`` /
    ``weight_circuit``). Returns the description checked; None for a commitment that lists
    nothing, an off-chain one (no on-chain verifier accepts it)."""
    if not commitment.circuits:
        return None
    from ..circuit_desc import describe
    if rows >= len(commitment.circuits):
        raise VerificationError("circuit", f"the commitment lists no circuit for {rows}-token prompts "
                                           f"(it lists 1 .. {len(commitment.circuits) - 1})")
    if circuit is None:
        circuit = weight_circuit(commitment) if rows == 0 else compile_model(commitment.cfg, rows, commitment.tq)
    desc = describe(circuit, keccak256(commitment._header()))
    if commitment.circuits[rows] != keccak256(desc):
        what = "weight range circuit" if rows == 0 else f"{rows}-token circuit"
        raise VerificationError("circuit", f"the commitment lists another description for its {what} than its "
                                           "config compiles to")
    return desc


def check_listed_circuits(commitment: TransformerCommitment) -> None:
    """Every listed entry (``check_listed_circuit``): what ``zkllm register``/``check`` run before
    trusting a transformer commitment on-chain."""
    for t in range(len(commitment.circuits)):
        check_listed_circuit(commitment, t)


def _model_layout(circuit: TransformerCircuit) -> list[tuple[int, int]]:
    """(num_vars, chunk_vars or 0) of each model tensor, in commitment order."""
    return [(circuit.specs[n].num_vars, chunked.chunk_vars_of(circuit.specs[n].num_vars, circuit.chunk_vars))
            for n in model_names(circuit.cfg)]


def _group_points(layout: list[tuple[int, int]], flat: list) -> list:
    """The flat list of commitment points grouped per model tensor (chunked ones as one
    ``ChunkedCommitment``)."""
    out, i = [], 0
    for m, k in layout:
        if k:
            out.append(ChunkedCommitment(tuple(flat[i:i + (1 << (m - k))]), m, k))
            i += 1 << (m - k)
        else:
            out.append(flat[i])
            i += 1
    return out


@dataclass
class CommittedTransformer:
    commitment: TransformerCommitment
    params: dict[str, torch.Tensor]
    blinds: dict[str, int]


def quantize_llama(model, tq: TQuant) -> dict[str, torch.Tensor]:
    if tq.act_frac != tq.weight_frac:
        raise ValueError("the tied head reads E at the weight scale: act_frac must equal weight_frac")
    cfg = model.cfg
    if not cfg.tied_embeddings:
        raise ValueError("only tied embeddings are supported")

    def qw(t):
        return quantize(t.detach(), tq.weight_frac, tq.weight_bits)

    def stack(get):
        return torch.stack([qw(get(blk)) for blk in model.layers])

    return {"E": qw(model.tok_emb.weight),
            "g1": stack(lambda b: b.attn_norm.weight),
            "wq": stack(lambda b: b.attn.wq.weight), "wk": stack(lambda b: b.attn.wk.weight),
            "wv": stack(lambda b: b.attn.wv.weight), "wo": stack(lambda b: b.attn.wo.weight),
            "g2": stack(lambda b: b.mlp_norm.weight),
            "wg": stack(lambda b: b.mlp.w_gate.weight), "wu": stack(lambda b: b.mlp.w_up.weight),
            "wd": stack(lambda b: b.mlp.w_down.weight),
            "gf": qw(model.norm.weight)}


def quantize_gpt2(model, tq: TQuant) -> dict[str, torch.Tensor]:
    """GPT-2 weights and gains at 2^w, LayerNorm biases at 2^a, linear biases at 2^(a+w)."""
    if tq.act_frac != tq.weight_frac:
        raise ValueError("the tied head reads E at the weight scale: act_frac must equal weight_frac")
    if not model.cfg.tied_embeddings:
        raise ValueError("only tied embeddings are supported")

    def qw(t):
        return quantize(t.detach(), tq.weight_frac, tq.weight_bits)

    def qb(t):
        return quantize(t.detach(), tq.act_frac + tq.weight_frac, tq.act_frac + tq.weight_bits)

    def qn(t):
        return quantize(t.detach(), tq.act_frac, tq.weight_bits)

    def stack(f, get):
        return torch.stack([f(get(blk)) for blk in model.blocks])

    p = {"E": qw(model.tok_emb.weight), "P": qw(model.pos_emb.weight),
         "g1": stack(qw, lambda b: b.ln1.weight), "b1": stack(qn, lambda b: b.ln1.bias)}
    for n, get in (("q", lambda b: b.attn.wq), ("k", lambda b: b.attn.wk), ("v", lambda b: b.attn.wv),
                   ("o", lambda b: b.attn.wo), ("fc", lambda b: b.mlp.fc), ("pr", lambda b: b.mlp.proj)):
        p["w" + n] = stack(qw, lambda b, get=get: get(b).weight)
        p["b" + n] = stack(qb, lambda b, get=get: get(b).bias)
    p["g2"], p["b2"] = stack(qw, lambda b: b.ln2.weight), stack(qn, lambda b: b.ln2.bias)
    p["gf"], p["bf"] = qw(model.ln_f.weight), qn(model.ln_f.bias)
    return p


GPT2_LINEAR_BIASES = ("bq", "bk", "bv", "bo", "bfc", "bpr")


def param_bits(cfg: TransformerConfig, tq: TQuant) -> dict[str, int]:
    """The signed width the quantizers enforce on each model tensor: ``weight_bits``, and
    ``act_frac + weight_bits`` for GPT-2's linear biases (stored at the accumulator scale).
    The weight range proof proves exactly these bounds."""
    return {n: tq.weight_bits + (tq.act_frac if cfg.arch == "gpt2" and n in GPT2_LINEAR_BIASES else 0)
            for n in model_names(cfg)}


def commit_model(pk: ProvingKey, model, tq: TQuant | None = None, rng=None,
                 max_rows: int | None = None) -> CommittedTransformer:
    """Quantize ``model`` and commit to it, listing its circuits for prompts of up to
    ``max_rows`` tokens (``listed_circuits``)."""
    tq = tq or TQuant()
    cfg = model.cfg
    params = quantize_gpt2(model, tq) if cfg.arch == "gpt2" else quantize_llama(model, tq)
    return commit_params(pk, cfg, tq, params, rng, max_rows)


def commit_params(pk: ProvingKey, cfg: TransformerConfig, tq: TQuant, params: dict, rng=None,
                  max_rows: int | None = None) -> CommittedTransformer:
    """Commit to quantized model tensors ``params`` (``model_names(cfg)`` -> int64 tensors), one
    fresh blind per tensor (per chunk of a chunked one), listing ``listed_circuits``."""
    rng = rng or system_rng()
    circuit = compile_model(cfg, 1, tq)  # the model tensors' shapes do not depend on the prompt
    names = model_names(cfg)
    if circuit.num_vars > pk.srs.num_vars:
        raise SetupError(f"model needs an SRS of 2^{circuit.num_vars} entries, the key has 2^{pk.srs.num_vars}")
    blinds, points = {}, []
    for n, (m, k) in zip(names, _model_layout(circuit)):
        vals = pad_small(params[n], circuit.specs[n].shape)
        if k:  # chunked: one blind and one commitment per chunk
            blinds[n] = [randbelow(rng, R) for _ in range(1 << (m - k))]
            points.append(chunked.commit(pk.srs, vals, blinds[n], chunk_vars=k))
        else:
            blinds[n] = randbelow(rng, R)
            points.append(kzg.commit(pk.srs, vals, blinds[n]))
    return CommittedTransformer(TransformerCommitment(cfg, tq, names, points, listed_circuits(cfg, tq, max_rows)),
                                params, blinds)


# ---------------------------------------------------------------- statement and schedule

@dataclass
class TStatement:
    """The prompt ``tokens`` and the ``next_token``: integers in [0, r), each its own word (the
    contract's ``input`` and ``output[0]``). ``verify`` rejects any other integer with
    ``MalformedStatementError`` (the contract: ``NotCanonical``); a canonical word outside
    [0, vocab) is a false statement, rejected by the same check in both verifiers (the
    embedding's and the argmax's range checks at the latest)."""
    model_digest: bytes
    tokens: list[int]
    next_token: int
    attester: bytes = attester_mod.NONE  # the account that may post it on-chain (prover.attester)


def statement_words(st: TStatement) -> tuple[list[int], int]:
    """(tokens, next token), each checked to be an integer word in [0, r)."""
    def word(v, where, i):
        v = integer(v)
        if v is None or not 0 <= v < R:
            raise MalformedStatementError(where, i, "not an integer in [0, r)")
        return v
    return [word(v, "input", i) for i, v in enumerate(st.tokens)], word(st.next_token, "output", 0)


@dataclass
class TProveResult:
    proof: Proof
    statement: TStatement
    ints: dict
    timings: dict = field(default_factory=dict)
    layout: list = field(default_factory=list)


def absorb_statement(t: Transcript, vk_digest: bytes, st: TStatement, circuit: TransformerCircuit) -> None:
    t.absorb("statement/vk", vk_digest)
    t.absorb("statement/model", st.model_digest)
    t.absorb("statement/circuit", circuit.digest())
    t.absorb("statement/attester", attester_mod.word(st.attester))
    t.absorb_frs("statement/tokens", [v % R for v in st.tokens])
    t.absorb_frs("statement/next", [st.next_token % R])


def prove(pk: ProvingKey, model: CommittedTransformer, tokens, rng=None, witness_hook=None,
          log=None, attester: bytes = attester_mod.NONE) -> TProveResult:
    """Prove the next token of ``tokens``. ``witness_hook(ints)`` lets tests play a cheating prover;
    ``log(msg)`` hears the proof's phases (long proofs); ``attester`` is the account that may
    post the proof on-chain (``prover.attester``)."""
    rng = rng or system_rng()
    cm = model.commitment
    t0 = time.perf_counter()
    tok = torch.as_tensor(tokens, dtype=torch.int64).reshape(-1)
    circuit = compile_model(cm.cfg, len(tok), cm.tq)
    if circuit.num_vars > pk.srs.num_vars:
        raise SetupError(f"circuit needs an SRS of 2^{circuit.num_vars} entries")
    if log is not None:
        log(f"  quantized forward pass ({len(tok)} tokens, {cm.cfg.n_layers} layers)")
    ints = forward(circuit, model.params, tok)
    if witness_hook is not None:
        witness_hook(ints)
    vals = field_values(circuit, ints)
    for name in circuit.key_tables:
        if name not in pk.tables:
            raise SetupError(f"proving key lacks table {name}")
        vals[table_id(name)] = pk.tables[name][0]
    st = TStatement(cm.digest(), [int(v) for v in tok.tolist()], int(ints["next"][0]), attester_mod.parse(attester))
    t1 = time.perf_counter()
    transcript = Transcript()
    absorb_statement(transcript, pk.verifying_key().digest(), st, circuit)
    tables = {table_id(name): pk.tables[name][1] for name in circuit.key_tables}
    proof, layout = prove_run(circuit, transcript, vals, ints=ints,
                              public={"tokens": vals["tokens"], "next": vals["next"]}, srs=pk.srs, rng=rng,
                              commitments={**dict(zip(cm.names, cm.points)), **tables},
                              blinds={**model.blinds, **{t: 0 for t in tables}}, log=log)
    t2 = time.perf_counter()
    return TProveResult(proof, st, ints, {"forward_s": t1 - t0, "prove_s": t2 - t1}, layout)


def verify(vk: VerifyingKey, commitment: TransformerCommitment, st: TStatement, proof_bytes: bytes) -> float:
    """Raises on anything but a valid proof; returns the seconds spent."""
    t0 = time.perf_counter()
    proof = Proof.from_bytes(proof_bytes)
    if commitment.digest() != st.model_digest:
        raise VerificationError("statement", "the model commitment does not match the statement's model digest")
    try:
        circuit = compile_model(commitment.cfg, len(st.tokens), commitment.tq)
    except UnsafeParameterError:
        raise
    except ValueError as e:
        raise MalformedError(f"statement does not fit the model: {e}") from e
    if proof.circuit_digest != circuit.digest():
        raise VerificationError("circuit", "the proof was made for a different circuit")
    check_listed_circuit(commitment, len(st.tokens), circuit)
    if circuit.num_vars > vk.srs_vk.num_vars:
        raise SetupError(f"verifying key supports 2^{vk.srs_vk.num_vars} entries")
    tokens, nxt = statement_words(st)
    transcript = Transcript()
    absorb_statement(transcript, vk.digest(), st, circuit)
    T = len(tokens)
    public = {"tokens": pad_flat(np.array(tokens, dtype=object), (T,)), "next": [nxt]}
    commitments = dict(zip(commitment.names, commitment.points))
    for name in circuit.key_tables:
        if name not in vk.tables:
            raise SetupError(f"verifying key lacks table {name}")
        commitments[table_id(name)] = vk.tables[name]
    verify_run(circuit, transcript, proof, public=public, commitments=commitments, srs_vk=vk.srs_vk)
    return time.perf_counter() - t0


# ---------------------------------------------------------------- weight range proof

def weight_circuit(commitment: TransformerCommitment) -> "weights_mod.WeightRangeCircuit":
    """The weight range circuit of a commitment (its header fixes shapes, widths and chunking)."""
    inner = compile_model(commitment.cfg, 1, commitment.tq)  # model shapes do not depend on the prompt
    names = model_names(commitment.cfg)
    return weights_mod.compile_weights([inner.specs[n] for n in names], param_bits(commitment.cfg, commitment.tq),
                                       commitment.tq.digit_bits, inner.digest(), commitment.tq.chunk_vars)


def prove_weights(pk: ProvingKey, model: CommittedTransformer, rng=None) -> bytes:
    """The weight range proof of a committed transformer (made once, at commit time)."""
    return weights_mod.prove_committed(weight_circuit(model.commitment), pk, model, rng or system_rng())


def verify_weights(vk: VerifyingKey, commitment: TransformerCommitment, proof_bytes: bytes) -> float:
    """Verify a transformer's weight range proof; raises on anything but a valid one, returns the seconds."""
    t0 = time.perf_counter()
    circuit = weight_circuit(commitment)
    check_listed_circuit(commitment, 0, circuit)
    weights_mod.verify_committed(circuit, vk, commitment, proof_bytes)
    return time.perf_counter() - t0
