"""The prove/verify API.

* ``commit_model``: the model owner quantizes a torch module and commits to it.
* ``prove``: the prover operator runs the quantized forward pass on an input and
  proves it; returns the proof and the public statement.
* ``verify``: sees only the proof bytes, the statement (model digest, input,
  output), the public model commitment and the verifying key. Raises
  ``MalformedProofError``/``MalformedError`` for bytes or statements that do not
  parse, ``VerificationError`` (with the failing check) for a false proof, and
  returns a ``Verified`` record otherwise.
* ``prove_weights`` / ``verify_weights``: the model owner's one-time proof that every
  committed weight is an integer of its stated width (``prover.weights``); an
  inference is only meaningful for a model whose weight proof verifies.

Statement encoding: ``input`` and ``output`` are signed integers v with
|v| < 2^(io_bits-1) (``QuantSpec.io_bits``: quantized activations at scale
2^act_frac_bits); the transcript and the on-chain verifier take the word v mod r. Any
other integer (v + r, or one beyond the bound) is rejected with
``MalformedStatementError``, as the contract rejects its word with ``NotCanonical``:
``statement_ints`` reads contract words back into the integers they encode.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from . import attester as attester_mod
from .circuit import Circuit, absorb_statement, compile_mlp, field_values, forward, prove_run, table_id, verify_run
from .errors import MalformedError, MalformedStatementError, SetupError, VerificationError
from .field import R
from .field.ref import integer
from .keys import ProvingKey, VerifyingKey
from .model.commitment import CommittedModel, ModelCommitment
from .model.mlp import arch_of, param_bits, quantize_params
from .pcs import kzg
from .pcs.curve import randbelow
from .poly.mle import pad_flat
from .proof import Proof
from .quant import QuantSpec, dequantize, quantize
from .rng import system as system_rng
from .transcript import Transcript
from . import weights as weights_mod


@dataclass
class Statement:
    """What a proof claims: model ``model_digest`` maps ``input`` to ``output`` (quantized ints),
    and only ``attester`` may post it on-chain (``prover.attester``)."""
    model_digest: bytes
    input: list[int]
    output: list[int]
    attester: bytes = attester_mod.NONE

    def to_json(self) -> str:
        return json.dumps({"format": "zkllm-statement", "model_digest": "0x" + self.model_digest.hex(),
                           "input": self.input, "output": self.output,
                           "attester": attester_mod.to_hex(self.attester)})

    @classmethod
    def from_json(cls, text: str) -> "Statement":
        try:
            d = json.loads(text)
            st = cls(bytes.fromhex(d["model_digest"].removeprefix("0x")), [_json_int(v) for v in d["input"]],
                     [_json_int(v) for v in d["output"]], attester_mod.parse(d.get("attester")))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise MalformedError(f"not a statement file: {e}") from e
        if len(st.model_digest) != 32:
            raise MalformedError("model digest must be 32 bytes")
        return st


def _json_int(v) -> int:
    """A JSON integer as it is (no rounding of 1.5, no reading of "7"): ``verify`` judges its range."""
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"{v!r} is not an integer")
    return v


def statement_words(values, bits: int, where: str) -> list[int]:
    """The field words v mod r of statement integers, each checked to be an integer with
    |v| < 2^(bits-1); raises ``MalformedStatementError(where, index)`` at the first that is not."""
    lim = 1 << (bits - 1)
    out = []
    for i, v in enumerate(values):
        v = integer(v)
        if v is None or not -lim < v < lim:
            raise MalformedStatementError(where, i, f"not an integer v with |v| < 2^{bits - 1}")
        out.append(v % R)
    return out



def statement_ints(words) -> list[int]:
    """Contract words -> the statement integers they encode: a word w < r is the signed
    integer in (-r/2, r/2] congruent to it; a word >= r is left as it is (``verify`` rejects
    it, as the contract does)."""
    return [w - R if R // 2 < w < R else w for w in (int(x) for x in words)]


@dataclass
class Verified:
    statement: Statement
    circuit_digest: bytes
    seconds: float


@dataclass
class ProveResult:
    proof: Proof
    statement: Statement
    output_float: torch.Tensor
    timings: dict = field(default_factory=dict)
    layout: list = field(default_factory=list)  # (label, "g1" | "fr", index): what each proof item is


def commit_model(pk: ProvingKey, module: torch.nn.Module, quant: QuantSpec | None = None, rng=None) -> CommittedModel:
    quant = quant or QuantSpec()
    return commit_quantized(pk, arch_of(module), quantize_params(module, quant), quant, rng)


def commit_quantized(pk: ProvingKey, arch: dict, params: dict[str, torch.Tensor], quant: QuantSpec,
                     rng=None) -> CommittedModel:
    """Commit to already quantized integer weights ``params`` (``l{i}.w``, ``l{i}.b``) of ``arch``."""
    rng = rng or system_rng()
    circuit = compile_mlp(arch, quant)
    names = circuit.model_tensors()
    vals = field_values(circuit, params)
    if circuit.num_vars > pk.srs.num_vars:
        raise SetupError(f"model needs an SRS of 2^{circuit.num_vars} entries, this one has 2^{pk.srs.num_vars}")
    blinds, points = {}, []
    for n in names:
        blinds[n] = randbelow(rng, R)
        points.append(kzg.commit(pk.srs, vals[n], blinds[n]))
    return CommittedModel(ModelCommitment(arch, quant, names, points), params, blinds)


def circuit_for(commitment: ModelCommitment, input_len: int) -> Circuit:
    d_in = commitment.arch["d_in"]
    if input_len <= 0 or input_len % d_in:
        raise MalformedError(f"input has {input_len} values, not a multiple of the model's input width {d_in}")
    return compile_mlp(commitment.arch, commitment.quant, rows=input_len // d_in)


def prove(pk: ProvingKey, model: CommittedModel, x: torch.Tensor, rng=None, quantized: bool = False,
          witness_hook=None, attester: bytes = attester_mod.NONE) -> ProveResult:
    """Prove one inference. ``x``: float input (quantized here) or ints if ``quantized``;
    ``attester``: the account that may post the proof on-chain (``prover.attester``).

    Raises ``QuantizationRangeError`` for an input or output activation outside the
    statement range (``QuantSpec.io_bits``), which no verifier would accept.

    ``witness_hook(ints)`` may alter the integer witness after the forward pass (and after
    that range check); the soundness tests use it to play a cheating prover. Leave it ``None``.
    """
    rng = rng or system_rng()
    cm = model.commitment
    t0 = time.perf_counter()
    xq = x.to(torch.int64) if quantized else quantize(x, cm.quant.act_frac_bits)
    xq = xq.reshape(-1, cm.arch["d_in"])
    cm.quant.check_io(xq.reshape(-1).tolist(), "input")
    circuit = circuit_for(cm, xq.numel())
    if circuit.num_vars > pk.srs.num_vars:
        raise SetupError(f"circuit needs an SRS of 2^{circuit.num_vars} entries, this one has 2^{pk.srs.num_vars}")
    ints = forward(circuit, model.params, xq)
    cm.quant.check_io(ints[circuit.output_id].reshape(-1).tolist(), "output")
    out_f = dequantize(ints[circuit.output_id], cm.quant.act_frac_bits)
    if witness_hook is not None:
        witness_hook(ints)
    vals = field_values(circuit, ints)
    out_id = circuit.output_id
    statement = Statement(cm.digest(), [int(v) for v in xq.reshape(-1).tolist()],
                          [int(v) for v in ints[out_id].reshape(-1).tolist()], attester_mod.parse(attester))
    for t in circuit.tables():
        if t.name not in pk.tables:
            raise SetupError(f"proving key lacks table {t.name}; run setup with this model's QuantSpec")
        vals[table_id(t)] = pk.tables[t.name][0]
    t1 = time.perf_counter()

    transcript = Transcript()
    vk = pk.verifying_key()
    absorb_statement(transcript, vk.digest(), statement.model_digest, circuit,
                     [v % R for v in statement.input], [v % R for v in statement.output], statement.attester)
    tables = {table_id(t): pk.tables[t.name][1] for t in circuit.tables()}
    proof, layout = prove_run(circuit, transcript, vals, ints=ints, public={"x": vals["x"], out_id: vals[out_id]},
                              srs=pk.srs, rng=rng, commitments={**dict(zip(cm.names, cm.points)), **tables},
                              blinds={**model.blinds, **{t: 0 for t in tables}})
    t2 = time.perf_counter()
    return ProveResult(proof, statement, out_f, {"forward_s": t1 - t0, "prove_s": t2 - t1}, layout)


def verify(vk: VerifyingKey, commitment: ModelCommitment, statement: Statement, proof_bytes: bytes) -> Verified:
    """Verify ``proof_bytes`` for ``statement``; raises on anything but a valid proof."""
    t0 = time.perf_counter()
    proof = Proof.from_bytes(proof_bytes)
    if commitment.digest() != statement.model_digest:
        raise VerificationError("statement", "the model commitment does not match the statement's model digest")
    circuit = circuit_for(commitment, len(statement.input))
    out_spec = circuit.specs[circuit.output_id]
    if len(statement.output) != out_spec.shape[0] * out_spec.shape[1]:
        raise MalformedError(f"output has {len(statement.output)} values, the circuit produces "
                             f"{out_spec.shape[0] * out_spec.shape[1]}")
    if proof.circuit_digest != circuit.digest():
        raise VerificationError("circuit", "the proof was made for a different circuit (model shape or input length)")
    if circuit.num_vars > vk.srs_vk.num_vars:
        raise SetupError(f"verifying key supports 2^{vk.srs_vk.num_vars} entries, the circuit needs 2^{circuit.num_vars}")
    inp = statement_words(statement.input, circuit.quant.io_bits, "input")
    out = statement_words(statement.output, circuit.quant.io_bits, "output")
    transcript = Transcript()
    absorb_statement(transcript, vk.digest(), statement.model_digest, circuit, inp, out,
                     attester_mod.parse(statement.attester))
    xs = circuit.specs["x"].shape
    public = {"x": pad_flat(np.array(inp, dtype=object).reshape(xs), xs),
              circuit.output_id: pad_flat(np.array(out, dtype=object).reshape(out_spec.shape), out_spec.shape)}
    commitments = dict(zip(commitment.names, commitment.points))
    for t in circuit.tables():
        if t.name not in vk.tables:
            raise SetupError(f"verifying key lacks table {t.name}")
        commitments[table_id(t)] = vk.tables[t.name]
    verify_run(circuit, transcript, proof, public=public, commitments=commitments, srs_vk=vk.srs_vk)
    return Verified(statement, circuit.digest(), time.perf_counter() - t0)


def weight_circuit(commitment: ModelCommitment) -> weights_mod.WeightRangeCircuit:
    """The weight range circuit of a model commitment (its header fixes every shape and width)."""
    inner = compile_mlp(commitment.arch, commitment.quant)
    names = inner.model_tensors()
    return weights_mod.compile_weights([inner.specs[n] for n in names], param_bits(names, commitment.quant),
                                       commitment.quant.digit_bits, inner.digest())


def prove_weights(pk: ProvingKey, model: CommittedModel, rng=None) -> bytes:
    """The weight range proof of a committed model (made once, at commit time)."""
    return weights_mod.prove_committed(weight_circuit(model.commitment), pk, model, rng or system_rng())


def verify_weights(vk: VerifyingKey, commitment: ModelCommitment, proof_bytes: bytes) -> float:
    """Verify a model's weight range proof; raises on anything but a valid one, returns the seconds."""
    t0 = time.perf_counter()
    weights_mod.verify_committed(weight_circuit(commitment), vk, commitment, proof_bytes)
    return time.perf_counter() - t0
