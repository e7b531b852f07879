"""Statements are canonical: the MLP's public output is bounded, and every statement word
is the one encoding of its integer (``prover.api.statement_words``, ``QuantSpec.io_bits``).

* the output wrap-around (``op_harness.wrap_output``): every relation of the proof holds,
  only the statement bound rejects it;
* the boundary: activations of magnitude 2^(io_bits-1) - 1 verify, one more does not, and
  the prover refuses to state it;
* integers that differ from a valid statement by a multiple of r are rejected.

The same cases run against the Solidity verifier in ``tests/chain/test_verifier_diff.py``.
"""
from __future__ import annotations

import pytest
import torch

from prover import api, keys
from prover.errors import MalformedStatementError, QuantizationRangeError
from prover.field import R
from prover.quant import QuantSpec
from prover.rng import seeded
from tests.op_harness import ONE_LINEAR as ARCH, extreme_activation_model, wrap_output

#: 8-bit tables, 4-bit digits: io_bits = 64 - 8 = 56.
SMALL = QuantSpec(act_frac_bits=8, weight_frac_bits=8, lookup_in_frac_bits=4, lookup_in_bits=8, digit_bits=4,
                  weight_bits=16)



@pytest.fixture(scope="module")
def small_pk():
    return keys.setup(8, quant=SMALL, rng=seeded(3))


@pytest.fixture(scope="module")
def boundary(small_pk):
    cm, x, lim = extreme_activation_model(small_pk, SMALL)
    res = api.prove(small_pk, cm, x, rng=seeded(6), quantized=True)
    return cm, res, lim


def _verify(pk, cm, st, proof):
    return api.verify(pk.verifying_key(), cm.commitment, st, proof.to_bytes())


def test_io_bits_bound_keeps_the_last_rescale_inside_the_field():
    for q in (QuantSpec(), SMALL, QuantSpec(act_frac_bits=32, weight_frac_bits=32, lookup_in_frac_bits=32,
                                            digit_bits=16, lookup_in_bits=20, weight_bits=40)):
        s = q.linear_shift(False)
        assert q.io_bits == 64 - s and s + q.io_bits + 1 < 253
        assert 2 * (1 << (s + q.io_bits - 1)) < R  # |2^S q + rem| < 2^(S+B-1): two of them differ by < r


def test_output_wrap_around_is_rejected(small_pk, monkeypatch):
    """The cheating prover: its proof satisfies every relation (without the statement bound
    it verifies, with an output entry of about 1.4e74), and is rejected for the statement."""
    torch.manual_seed(2)
    w, b = torch.randint(-300, 300, (2, 4)), torch.randint(-3000, 3000, (2,))
    cm = api.commit_quantized(small_pk, ARCH, {"l0.w": w, "l0.b": b}, SMALL, rng=seeded(7))
    x = torch.randint(-500, 500, (4,))
    res = api.prove(small_pk, cm, x, rng=seeded(8), quantized=True, witness_hook=wrap_output(SMALL, entry=1))
    honest = api.prove(small_pk, cm, x, rng=seeded(8), quantized=True)
    assert res.statement.output[0] == honest.statement.output[0]
    assert abs(res.statement.output[1]) > 1 << 200
    with pytest.raises(MalformedStatementError) as e:
        _verify(small_pk, cm, res.statement, res.proof)
    assert (e.value.where, e.value.index) == ("output", 1)
    # without the bound, the same proof verifies: it is exactly the wrap-around
    monkeypatch.setattr(QuantSpec, "io_bits", property(lambda self: 256))
    _verify(small_pk, cm, res.statement, res.proof)


def test_largest_activations_accepted_one_more_rejected(small_pk, boundary):
    cm, res, lim = boundary
    assert res.statement.input[:2] == [lim, -lim] and res.statement.output == [lim, -lim]
    _verify(small_pk, cm, res.statement, res.proof)
    for where, field, i, v in (("output", "output", 0, lim + 1), ("output", "output", 1, -lim - 1),
                               ("input", "input", 0, lim + 1), ("input", "input", 1, -lim - 1)):
        vals = list(getattr(res.statement, field))
        vals[i] = v
        st = api.Statement(res.statement.model_digest, **{**{"input": res.statement.input,
                                                            "output": res.statement.output}, field: vals})
        with pytest.raises(MalformedStatementError) as e:
            _verify(small_pk, cm, st, res.proof)
        assert (e.value.where, e.value.index) == (where, i)


def test_prover_refuses_activations_outside_the_range(small_pk, boundary):
    cm, _, lim = boundary
    with pytest.raises(QuantizationRangeError):
        api.prove(small_pk, cm, torch.tensor([lim + 1, 0, 0, 0]), quantized=True)
    with pytest.raises(QuantizationRangeError):
        SMALL.check_io([0, -(lim + 1)], "output")
    SMALL.check_io([lim, -lim], "output")


def test_statement_modulo_r_is_rejected(small_pk, boundary):
    cm, res, _ = boundary
    st = res.statement
    for where, kw in (("input", {"input": [st.input[0] + R] + st.input[1:]}),
                      ("input", {"input": [st.input[0] - R] + st.input[1:]}),
                      ("output", {"output": st.output[:1] + [st.output[1] + R]}),
                      ("output", {"output": st.output[:1] + [st.output[1] % R]}),   # the word, not the integer
                      ("input", {"input": [True] + st.input[1:]}),
                      ("output", {"output": [float(st.output[0])] + st.output[1:]})):
        bad = api.Statement(st.model_digest, kw.get("input", st.input), kw.get("output", st.output))
        with pytest.raises(MalformedStatementError) as e:
            _verify(small_pk, cm, bad, res.proof)
        assert e.value.where == where


def test_statement_words_round_trip():
    lim = (1 << 55) - 1
    vals = [0, 1, -1, lim, -lim]
    words = api.statement_words(vals, 56, "output")
    assert words == [v % R for v in vals] and api.statement_ints(words) == vals
    assert api.statement_ints([R, R + 5]) == [R, R + 5]  # not words: left for verify to reject


def test_statement_files_keep_integers_as_written(boundary):
    """Parsing does not round or reduce: 1.5 and "7" are not integers, x + r stays x + r
    (and ``verify`` rejects it)."""
    import json

    from prover.errors import MalformedError
    from prover.transformer.files import statement_from_json

    _, res, _ = boundary
    d = json.loads(res.statement.to_json())
    for bad in (1.5, "7", True):
        with pytest.raises(MalformedError):
            api.Statement.from_json(json.dumps({**d, "output": [bad] + d["output"][1:]}))
    st = api.Statement.from_json(json.dumps({**d, "input": [d["input"][0] + R] + d["input"][1:]}))
    assert st.input[0] == res.statement.input[0] + R
    t = {"format": "zkllm-transformer-statement", "model_digest": d["model_digest"], "tokens": [1, 2],
         "next_token": 3}
    assert statement_from_json(json.dumps(t)).tokens == [1, 2]
    for bad in ({"next_token": 3.0}, {"tokens": [1, "2"]}):
        with pytest.raises(MalformedError):
            statement_from_json(json.dumps({**t, **bad}))
