"""The weight range proof (prover.weights): an honest model's proof verifies; a model owner
who committed a weight outside its quantized width cannot make one that does, whichever
digits the cheating prover commits; boundaries; tampered and misplaced proofs."""
import dataclasses

import pytest
import torch

from prover import api, keys, weights
from prover.circuit import compile_mlp, field_values
from prover.errors import MalformedError, MalformedProofError, QuantizationRangeError, VerificationError
from prover.field import R
from prover.lookup import logup
from prover.model.commitment import CommittedModel, ModelCommitment
from prover.model.mlp import build_mlp
from prover.pcs import chunked, kzg
from prover.pcs.curve import randbelow
from prover.quant import QuantSpec
from prover.rng import seeded
from tests.op_harness import altered_proof

WB = QuantSpec().weight_bits          # 24: weights in [-2^23, 2^23)
BB = WB + QuantSpec().act_frac_bits   # 40: biases in [-2^39, 2^39)


@pytest.fixture(scope="module")
def pk():
    return keys.setup(12, rng=seeded(1))


@pytest.fixture(scope="module")
def vk(pk):
    return pk.verifying_key()


@pytest.fixture(scope="module")
def model(pk):
    return api.commit_model(pk, build_mlp(16, 32, 8, "gelu", seed=0), rng=seeded(2))


@pytest.fixture(scope="module")
def proof(pk, model):
    return api.prove_weights(pk, model, rng=seeded(3))


def recommit(pk, model: CommittedModel, tid: str, value: int, idx: int = 5) -> CommittedModel:
    """The model owner commits, by hand, the model with entry ``idx`` of ``tid`` set to ``value``."""
    cm = model.commitment
    params = {k: v.clone() for k, v in model.params.items()}
    params[tid].view(-1)[idx] = value
    vals = field_values(compile_mlp(cm.arch, cm.quant), params)
    rng = seeded(7)
    blinds = {n: randbelow(rng, R) for n in cm.names}
    points = [kzg.commit(pk.srs, vals[n], blinds[n]) for n in cm.names]
    return CommittedModel(ModelCommitment(cm.arch, cm.quant, cm.names, points), params, blinds)


def cheat_digits(circuit, params, mode: str) -> dict:
    """The cheating prover's witness. ``wrap``: digits of (w + 2^(bits-1)) mod 2^bits, so every
    digit is in range and only the linear identity can tell; ``overflow``: the top digit takes
    the whole high part, so the identity holds and only the range lookup can tell."""
    ints = {n: params[n] for n in circuit.model_tensors()}
    for wb in circuit.roots:
        u = ints[wb.w] + (1 << (wb.bits - 1))
        for k, (did, width) in enumerate(zip(wb.digit_ids, wb.widths)):
            d = u >> (k * wb.digit_bits)
            ints[did] = d if (mode == "overflow" and k == len(wb.digit_ids) - 1) else d & ((1 << width) - 1)
    return ints


def lenient_multiplicities(inst, values):
    """Multiplicities that count only the in-table entries (an honest prover refuses instead)."""
    m = [0] * inst.table.size
    for col in inst.columns:
        for k in values[col[0]]:
            k = int(k)
            if 0 <= k < inst.table.size:
                m[k] += 1
    return m


def cheat_prove(pk, model: CommittedModel, mode: str) -> bytes:
    cm = model.commitment
    circuit = api.weight_circuit(cm)
    ints = cheat_digits(circuit, model.params, mode)
    return weights.prove(circuit, pk.srs, pk.verifying_key().digest(), cm.digest(), ints,
                         dict(zip(cm.names, cm.points)), dict(model.blinds), seeded(9))[0].to_bytes()


def test_honest_model_passes(vk, model, proof):
    assert api.verify_weights(vk, model.commitment, proof) >= 0


def test_circuit_covers_every_model_tensor_at_its_width(model):
    c = api.weight_circuit(model.commitment)
    assert [wb.w for wb in c.roots] == model.commitment.names
    assert {wb.w: wb.bits for wb in c.roots} == {"l0.w": WB, "l0.b": BB, "l2.w": WB, "l2.b": BB}
    assert all(len(wb.digit_ids) == wb.bits // 8 for wb in c.roots)


@pytest.mark.parametrize("tid,value", [("l0.w", (1 << (WB - 1)) - 1), ("l0.w", -(1 << (WB - 1))),
                                       ("l2.b", (1 << (BB - 1)) - 1), ("l2.b", -(1 << (BB - 1)))])
def test_boundary_values_accepted(pk, vk, model, tid, value):
    m = recommit(pk, model, tid, value)
    assert api.verify_weights(vk, m.commitment, api.prove_weights(pk, m, rng=seeded(3))) >= 0


@pytest.mark.parametrize("tid,value", [("l0.w", 1 << (WB - 1)), ("l0.w", -(1 << (WB - 1)) - 1),
                                       ("l0.w", 1 << 40), ("l0.w", -(1 << 60)), ("l2.b", 1 << (BB - 1))])
def test_honest_prover_refuses_out_of_range_weight(pk, model, tid, value):
    with pytest.raises(QuantizationRangeError):
        api.prove_weights(pk, recommit(pk, model, tid, value), rng=seeded(3))


@pytest.mark.parametrize("tid,value", [("l0.w", 1 << (WB - 1)), ("l0.w", -(1 << (WB - 1)) - 1),
                                       ("l0.w", 1 << 40), ("l0.w", -(1 << 60)),   # r - 2^60 in the field
                                       ("l2.b", 1 << (BB - 1)), ("l2.b", -(1 << (BB - 1)) - 1)])
def test_out_of_range_weight_with_wrapped_digits_rejected(pk, vk, model, tid, value):
    """Digits of the true value mod 2^bits: every lookup holds, the linear identity does not (a
    combined claim of the batch opening: nothing about the weights is sent)."""
    m = recommit(pk, model, tid, value)
    with pytest.raises(VerificationError) as e:
        api.verify_weights(vk, m.commitment, cheat_prove(pk, m, "wrap"))
    assert e.value.check == "opening"


@pytest.mark.parametrize("tid,value", [("l0.w", 1 << (WB - 1)), ("l0.w", -(1 << (WB - 1)) - 1),
                                       ("l0.w", -(1 << 60))])
def test_out_of_range_weight_with_oversized_digit_rejected(pk, vk, model, monkeypatch, tid, value):
    """The linear identity holds with a top digit outside [0, 2^8): the range lookup rejects."""
    m = recommit(pk, model, tid, value)
    monkeypatch.setattr(logup, "multiplicities", lenient_multiplicities)
    with pytest.raises(VerificationError) as e:
        api.verify_weights(vk, m.commitment, cheat_prove(pk, m, "overflow"))
    assert e.value.check == "lookup"


def test_cheating_witness_for_an_in_range_model_is_harmless(pk, vk, model):
    """The wrap witness of an honest model is the honest witness: the attack needs a bad weight."""
    assert api.verify_weights(vk, model.commitment, cheat_prove(pk, model, "wrap")) >= 0


@pytest.mark.parametrize("kind,idx", [("fr", 0), ("fr", -1), ("g1", 0), ("g1", -1)])
def test_tampered_proof_rejected(vk, model, proof, kind, idx):
    from prover.proof import Proof
    p = Proof.from_bytes(proof)
    idx = idx % (len(p.frs) if kind == "fr" else len(p.g1s))
    with pytest.raises(VerificationError):
        api.verify_weights(vk, model.commitment, altered_proof(p, kind, idx))


@pytest.mark.parametrize("cut", [1, 32, len(b"ZKLP")])
def test_malformed_proof_bytes(vk, model, proof, cut):
    with pytest.raises(MalformedProofError):
        api.verify_weights(vk, model.commitment, proof[:-cut])
    with pytest.raises(MalformedProofError):
        api.verify_weights(vk, model.commitment, proof + b"\0" * cut)


def test_proof_of_another_model_rejected(pk, vk, model, proof):
    """Same header, other weights: the model digest in the transcript ties the proof to its model."""
    other = api.commit_model(pk, build_mlp(16, 32, 8, "gelu", seed=1), rng=seeded(4))
    with pytest.raises(VerificationError):
        api.verify_weights(vk, other.commitment, proof)
    wider = api.commit_model(pk, build_mlp(16, 64, 8, "gelu", seed=0), rng=seeded(4))
    with pytest.raises(VerificationError) as e:
        api.verify_weights(vk, wider.commitment, proof)
    assert e.value.check == "circuit"


def test_proof_under_another_key_rejected(model, proof):
    other_vk = keys.setup(12, rng=seeded(11)).verifying_key()
    with pytest.raises(VerificationError):
        api.verify_weights(other_vk, model.commitment, proof)


@pytest.fixture(scope="module")
def model20(pk):
    """weight_bits 20 at 8-bit digits: weights 8+8+4 bits, biases 8+8+8+8+4 (a 4-bit top-digit table)."""
    return api.commit_model(pk, build_mlp(16, 32, 8, "gelu", seed=0), quant=QuantSpec(weight_bits=20), rng=seeded(2))


def test_width_not_a_multiple_of_digit_bits_uses_a_top_digit_table(pk, vk, model20):
    c = api.weight_circuit(model20.commitment)
    assert [lk.table.bits for lk in c.lookups] == [8, 4]
    assert len(c.lookups[1].columns) == 4  # one top digit per tensor
    assert api.verify_weights(vk, model20.commitment, api.prove_weights(pk, model20, rng=seeded(3))) >= 0
    m = recommit(pk, model20, "l0.w", (1 << 19) - 1)
    assert api.verify_weights(vk, m.commitment, api.prove_weights(pk, m, rng=seeded(3))) >= 0


@pytest.mark.parametrize("mode,check", [("wrap", "opening"), ("overflow", "lookup")])
def test_top_digit_beyond_its_width_rejected(pk, vk, model20, monkeypatch, mode, check):
    """w = 2^19 at 20 bits: u = 2^20, whose top digit 16 fits an 8-bit digit but not the 4-bit table."""
    m = recommit(pk, model20, "l0.w", 1 << 19)
    monkeypatch.setattr(logup, "multiplicities", lenient_multiplicities)
    with pytest.raises(VerificationError) as e:
        api.verify_weights(vk, m.commitment, cheat_prove(pk, m, mode))
    assert e.value.check == check


def test_width_outside_the_supported_range_is_refused(model):
    cm = model.commitment
    c = api.weight_circuit(cm)
    specs = [c.specs[n] for n in cm.names]
    with pytest.raises(MalformedError):
        weights.compile_weights(specs, {n: 129 for n in cm.names}, 8, b"")


# ---------------------------------------------------------------- transformers (chunked)

@pytest.fixture(scope="module")
def tiny():
    from prover.model.loaders import build_model
    from prover.transformer import prove as tp
    from prover.transformer.compile import TQuant
    m = build_model("tiny-llama", 0)
    tq = TQuant(chunk_vars=12)
    tpk = tp.setup(m.cfg, tq, rng=seeded(3), max_rows=4)
    return tpk, tp.commit_model(tpk, m, tq, rng=seeded(4))


def test_transformer_chunked_honest_passes_and_tampering_rejected(tiny):
    from prover.proof import Proof
    from prover.transformer import prove as tp
    tpk, tm = tiny
    assert any(isinstance(p, chunked.ChunkedCommitment) for p in tm.commitment.points)
    pb = tp.prove_weights(tpk, tm, rng=seeded(5))
    tvk = tpk.verifying_key()
    assert tp.verify_weights(tvk, tm.commitment, pb) >= 0
    with pytest.raises(VerificationError):
        tp.verify_weights(tvk, tm.commitment, altered_proof(Proof.from_bytes(pb), "fr", 3))


def test_transformer_chunked_out_of_range_weight_rejected(tiny):
    """A chunked tensor (wq, 2^14 entries in chunks of 2^12) with one entry 2^23 recommitted."""
    from prover.transformer import prove as tp
    tpk, tm = tiny
    cm = tm.commitment
    params = {k: v.clone() for k, v in tm.params.items()}
    params["wq"].view(-1)[4097] = 1 << (WB - 1)
    circuit = tp.weight_circuit(cm)
    from prover.field.smallvec import pad_small
    spec = circuit.specs["wq"]
    k = chunked.chunk_vars_of(spec.num_vars, cm.tq.chunk_vars)
    assert k
    blinds = dict(tm.blinds)
    blinds["wq"] = [randbelow(seeded(8), R) for _ in range(1 << (spec.num_vars - k))]
    points = list(cm.points)
    points[cm.names.index("wq")] = chunked.commit(tpk.srs, pad_small(params["wq"], spec.shape), blinds["wq"],
                                                  chunk_vars=k)
    bad = tp.TransformerCommitment(cm.cfg, cm.tq, cm.names, points)
    with pytest.raises(QuantizationRangeError):
        tp.prove_weights(tpk, tp.CommittedTransformer(bad, params, blinds), rng=seeded(5))
    ints = cheat_digits(circuit, params, "wrap")
    pb = weights.prove(circuit, tpk.srs, tpk.verifying_key().digest(), bad.digest(), ints,
                       dict(zip(bad.names, bad.points)), blinds, seeded(9))[0].to_bytes()
    with pytest.raises(VerificationError) as e:
        tp.verify_weights(tpk.verifying_key(), bad, pb)
    assert e.value.check == "opening"
