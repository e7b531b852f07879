"""Embedding op: X = OneHot(tokens) E, one sumcheck over the vocabulary axis."""
import random

import pytest
import torch
import torch.nn.functional as F

from op_harness import run_fragment
from prover import keys
from prover.context import TensorSpec
from prover.errors import MalformedProofError, VerificationError
from prover.field import R
from prover.ops.embedding import Embedding, onehot_eval
from prover.pcs import srs
from prover.poly.mle import evaluate, pad_flat
from prover.rng import seeded

REJECT = (VerificationError, MalformedProofError)


@pytest.fixture(scope="module")
def pk():
    return keys.ProvingKey(srs.setup(9, rng=seeded(51)), {})


def _case(tokens, V, d, seed=0):
    T = len(tokens)
    E = torch.randint(-(1 << 20), 1 << 20, (V, d), generator=torch.Generator().manual_seed(seed))
    tok = torch.tensor(tokens, dtype=torch.int64)
    op = Embedding("tok", "E", "x", T, V, d)
    ints = {"tok": tok, "E": E}
    op.forward(ints)
    specs = {"tok": TensorSpec("tok", (T,), "input"), "E": TensorSpec("E", (V, d), "model"),
             "x": TensorSpec("x", (T, d), "virtual")}
    vals = {k: pad_flat(ints[k], specs[k].shape) for k in specs}
    return op, ints, specs, vals


def _run(pk, op, specs, vals, tamper=None):
    n = specs["x"].num_vars

    def body(ctx):
        ctx.producers["x"] = op
        ctx.claim("x", ctx.ch.challenges("root", n), "root")
    run_fragment(pk, specs, vals, ["E"], body, tamper=tamper)


@pytest.mark.parametrize("tokens,V,d", [([3, 0, 10, 3, 7], 11, 6), ([1], 2, 1), ([0, 1, 2, 3], 4, 4),
                                         ([5, 5, 5], 7, 3)])
def test_honest_proof_verifies(pk, tokens, V, d):
    op, _, specs, vals = _case(tokens, V, d, seed=len(tokens))
    _run(pk, op, specs, vals)


def test_forward_matches_float_embedding():
    op, ints, _, _ = _case([3, 0, 10, 3, 7], 11, 6)
    assert torch.equal(ints["x"].double(), F.embedding(ints["tok"], ints["E"].double()))


def test_onehot_mle_matches_dense():
    rnd = random.Random(2)
    tokens = [3, 0, 6, 3, 5]  # V = 7, T = 5: both padded to 8
    dense = torch.zeros(8, 8, dtype=torch.int64)
    for t, k in enumerate(tokens):
        dense[t, k] = 1
    for _ in range(3):
        r_t, s = [rnd.randrange(R) for _ in range(3)], [rnd.randrange(R) for _ in range(3)]
        assert onehot_eval(tokens, 3, r_t, s) == evaluate([int(v) for v in dense.reshape(-1)], r_t + s)


def test_wrong_token_rejected(pk):
    """The prover embeds token 4 at position 2 while the public input says 10."""
    op, ints, specs, vals = _case([3, 0, 10, 3, 7], 11, 6)
    bad = dict(vals)
    x = ints["x"].clone()
    x[2] = ints["E"][4]
    bad["x"] = pad_flat(x, specs["x"].shape)
    with pytest.raises(VerificationError):
        _run(pk, op, specs, bad)


def test_public_token_swapped_rejected(pk):
    """Honest X for tokens [3, 0, 10, 3, 7] verified against public tokens [3, 0, 4, 3, 7]."""
    op, ints, specs, vals = _case([3, 0, 10, 3, 7], 11, 6)
    bad = dict(vals)
    bad["tok"] = pad_flat(torch.tensor([3, 0, 4, 3, 7]), (5,))
    with pytest.raises(VerificationError):
        _run(pk, op, specs, bad)


def test_token_outside_vocab_rejected(pk):
    op, ints, specs, vals = _case([3, 0, 10], 11, 6)
    bad = dict(vals)
    bad["tok"] = pad_flat(torch.tensor([3, 0, 12]), (3,))
    with pytest.raises(VerificationError):
        _run(pk, op, specs, bad)


def test_wrong_table_entry_rejected(pk):
    """X computed from an embedding row that differs from the committed E in one entry."""
    op, ints, specs, vals = _case([3, 0, 10, 3, 7], 11, 6)
    bad = dict(vals)
    x = ints["x"].clone()
    x[1, 2] += 1
    bad["x"] = pad_flat(x, specs["x"].shape)
    with pytest.raises(VerificationError):
        _run(pk, op, specs, bad)


def test_tampered_proof_items_rejected(pk):
    op, ints, specs, vals = _case([3, 0, 10, 3, 7], 11, 6)
    for idx in (0, 1, 5, 13):  # root value, round coefficients (3 per round, 4 rounds), the E claim
        def tamper(frs, g1s, idx=idx):
            frs[idx] = (frs[idx] + 1) % R
        with pytest.raises(REJECT):
            _run(pk, op, specs, vals, tamper=tamper)
