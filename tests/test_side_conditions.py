"""Side conditions of the quantization settings (``prover.quant``, ``TQuant.validate``).

The verifier builds its circuit from whatever settings a model commitment carries, and those
are chosen by the model owner. With ``argmax_digits = 32`` every field element has a valid
digit decomposition, so "logit[k] - logit[j] >= 0" holds for every k and a proof for any
token verified; large ``bound_bits`` (free rescale quotients) and ``exp_digits`` (free
softmax shifts) broke the same way. Each condition is tested at its boundary here; the
Solidity side (description parser, MLP commitment decoder) in
``tests/chain/test_side_conditions_chain.py``.
"""
from __future__ import annotations

import dataclasses
import json
import struct

import pytest
import torch

from prover.errors import MalformedError, UnsafeParameterError
from prover.model.configs import get_config
from prover.quant import MAX_WIDTH, QuantSpec
from prover.transformer import prove as tp
from prover.transformer.compile import TQuant, compile_model
from prover.transformer.presets import PRESETS

CFG = get_config("tiny-llama").with_(n_layers=1, max_seq=4)


def _condition(fn) -> str:
    with pytest.raises(UnsafeParameterError) as e:
        fn()
    assert isinstance(e.value, MalformedError)  # a ValueError too: bad input, not a false proof
    return e.value.condition


# (safe settings, the same with one field past its boundary, condition); defaults otherwise
TQUANT_BOUNDARIES = [
    ({"digit_bits": 16, "bound_bits": 32}, {"digit_bits": 17}, "digit-bits"),
    ({"digit_bits": 1}, {"digit_bits": 0}, "digit-bits"),
    ({"bound_bits": MAX_WIDTH}, {"bound_bits": MAX_WIDTH + 8}, "bound-width"),
    ({"bound_bits": 24}, {"bound_bits": 28}, "bound-width"),        # not whole digits
    ({"bound_bits": 24}, {"bound_bits": 256}, "bound-width"),       # free rescale quotients
    ({"weight_bits": 24}, {"weight_bits": 25}, "weight-bits"),      # weight_bits <= bound_bits
    ({"weight_bits": 2}, {"weight_bits": 1}, "weight-bits"),
    ({"exp_digits": 8}, {"exp_digits": 9}, "exp-width"),            # 8 x 8 = 64 bits
    ({"exp_digits": 1}, {"exp_digits": 0}, "exp-width"),
    ({"exp_digits": 2}, {"exp_digits": 32}, "exp-width"),           # free softmax shifts
    ({"argmax_digits": 8}, {"argmax_digits": 9}, "argmax-width"),
    ({"argmax_digits": 1}, {"argmax_digits": 0}, "argmax-width"),
    ({"argmax_digits": 3}, {"argmax_digits": 32}, "argmax-width"),  # any token is the argmax
    ({"silu_in_bits": 20}, {"silu_in_bits": 21}, "table-bits"),
    ({"bound_bits": 48, "weight_bits": 40}, {"weight_bits": 41}, "weight-bits"),
    ({"silu_in_bits": 2}, {"silu_in_bits": 1}, "table-bits"),
    ({"act_frac": 32}, {"act_frac": 33}, "fraction-bits"),
    ({"act_frac": 1}, {"act_frac": 0}, "fraction-bits"),
    ({"silu_in_frac": 0}, {"silu_in_frac": -1}, "fraction-bits"),
    ({"prob_frac": 16}, {"prob_frac": 20}, "prob-frac"),
    ({"norm_precision": 32}, {"norm_precision": 33}, "norm-precision"),
    ({"chunk_vars": 32}, {"chunk_vars": 33}, "chunk-vars"),
    ({"chunk_vars": 0}, {"chunk_vars": -1}, "chunk-vars"),
]


def _id(bad: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in bad.items())


@pytest.mark.parametrize("ok,bad,condition", TQUANT_BOUNDARIES, ids=[_id(b) for _, b, _ in TQUANT_BOUNDARIES])
def test_tquant_condition_at_its_boundary(ok, bad, condition):
    TQuant(**ok)
    assert _condition(lambda: TQuant(**{**ok, **bad})) == condition


def test_presets_and_default_are_safe():
    TQuant().validate()
    for tq in PRESETS.values():
        tq.validate()


def test_rescale_shift_of_the_architecture_is_checked_at_compile_time():
    """The score shift 2a + log2(hd)/2 - score_frac depends on the config: 25 is not whole digits."""
    compile_model(CFG, 2, TQuant(score_frac=10))
    assert _condition(lambda: compile_model(CFG, 2, TQuant(score_frac=9))) == "rescale-shift"


def _unsafe_header_commitment(honest_enc: bytes, **changes) -> bytes:
    """The honest commitment encoding with its header's quantization settings replaced."""
    (hl,) = struct.unpack(">I", honest_enc[6:10])
    d = json.loads(honest_enc[10:10 + hl])
    d["tq"].update(changes)
    h = json.dumps(d, sort_keys=True, separators=(",", ":")).encode()
    return honest_enc[:6] + struct.pack(">I", len(h)) + h + honest_enc[10 + hl:]


@pytest.fixture(scope="module")
def tiny():
    from prover.model.loaders import build_model
    from prover.rng import seeded
    model = build_model(CFG, 0)
    pk = tp.setup(CFG, rng=seeded(1))
    cm = tp.commit_model(pk, model, rng=seeded(2))
    res = tp.prove(pk, cm, torch.tensor([3, 1]), rng=seeded(3))
    return pk, cm, res


@pytest.mark.parametrize("changes,condition", [({"argmax_digits": 32}, "argmax-width"),
                                               ({"bound_bits": 256}, "bound-width"),
                                               ({"exp_digits": 32}, "exp-width")])
def test_attack_unsafe_settings_in_the_commitment_are_refused(tiny, changes, condition):
    """The cheating model owner publishes a commitment whose header widens a digit range until
    every field element decomposes. Decoding refuses it, and so does the verifier handed such
    a commitment object directly (it validates before compiling), so no proof is checked
    against it."""
    pk, cm, res = tiny
    tp.verify(pk.verifying_key(), cm.commitment, res.statement, res.proof.to_bytes())  # honest: accepted
    enc = _unsafe_header_commitment(cm.commitment.encode(), **changes)
    with pytest.raises(UnsafeParameterError) as e:
        tp.TransformerCommitment.decode(enc)
    assert e.value.condition == condition
    bad_tq = object.__new__(TQuant)
    for f in dataclasses.fields(TQuant):
        object.__setattr__(bad_tq, f.name, changes.get(f.name, getattr(cm.commitment.tq, f.name)))
    forged = dataclasses.replace(cm.commitment)
    forged.tq = bad_tq
    st = dataclasses.replace(res.statement, model_digest=forged.digest())
    with pytest.raises(UnsafeParameterError) as e:
        tp.verify(pk.verifying_key(), forged, st, res.proof.to_bytes())
    assert e.value.condition == condition


# (safe spec, the same spec with one field past its boundary, condition)
QUANTSPEC_BOUNDARIES = [
    ({"digit_bits": 16, "lookup_in_frac_bits": 16}, {"digit_bits": 17}, "digit-bits"),
    ({"lookup_in_bits": 20}, {"lookup_in_bits": 21}, "table-bits"),
    ({"weight_bits": 40}, {"weight_bits": 41}, "weight-bits"),
    ({"weight_bits": 2}, {"weight_bits": 1}, "weight-bits"),
    ({"act_frac_bits": 32, "digit_bits": 1}, {"act_frac_bits": 33}, "fraction-bits"),
    ({"lookup_in_frac_bits": 32, "act_frac_bits": 24}, {"lookup_in_frac_bits": 33}, "fraction-bits"),
    ({"weight_frac_bits": 8}, {"weight_frac_bits": 12}, "rescale-shift"),
    ({"weight_frac_bits": 8}, {"weight_frac_bits": 0}, "rescale-shift"),
    ({"lookup_in_frac_bits": 24}, {"lookup_in_frac_bits": 32}, "rescale-shift"),  # a + w - l = 0
]


@pytest.mark.parametrize("ok,bad,condition", QUANTSPEC_BOUNDARIES,
                         ids=[_id(b) for _, b, _ in QUANTSPEC_BOUNDARIES])
def test_quantspec_condition_at_its_boundary(ok, bad, condition):
    QuantSpec(**ok)
    assert _condition(lambda: QuantSpec(**{**ok, **bad})) == condition
