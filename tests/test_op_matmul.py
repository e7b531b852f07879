"""Batched MatMul op: Z[b] = X[b] @ Y[b]^T, one sumcheck over (batch, inner)."""
import random

import pytest
import torch

from op_harness import run_fragment
from prover import keys
from prover.context import TensorSpec
from prover.errors import MalformedProofError, VerificationError
from prover.field import R
from prover.ops.add import Add
from prover.ops.matmul import MatMul, fold_middle
from prover.pcs import srs
from prover.poly.mle import pad_flat
from prover.rng import seeded

REJECT = (VerificationError, MalformedProofError)


@pytest.fixture(scope="module")
def pk():
    return keys.ProvingKey(srs.setup(9, rng=seeded(31)), {})


def _case(B, T, O, I, seed=0, lim=1 << 20):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(-lim, lim, (B, T, I), generator=g, dtype=torch.int64)
    y = torch.randint(-lim, lim, (B, O, I), generator=g, dtype=torch.int64)
    op = MatMul("x", "y", "z", B, T, O, I)
    ints = {"x": x, "y": y}
    op.forward(ints)
    specs = {"x": TensorSpec("x", (B, T, I), "advice"), "y": TensorSpec("y", (B, O, I), "advice"),
             "z": TensorSpec("z", (B, T, O), "virtual")}
    vals = {k: pad_flat(ints[k], specs[k].shape) for k in ("x", "y", "z")}
    return op, ints, specs, vals


def _body(op, nz):
    def body(ctx):
        ctx.producers["z"] = op
        r = ctx.ch.challenges("root", nz)
        ctx.claim("z", r, "root")
    return body


@pytest.mark.parametrize("shape", [(1, 3, 5, 6), (1, 1, 1, 1), (3, 5, 3, 7), (4, 4, 8, 8), (5, 2, 3, 1)])
def test_honest_proof_verifies(pk, shape):
    op, ints, specs, vals = _case(*shape, seed=sum(shape))
    run_fragment(pk, specs, vals, ["x", "y"], _body(op, specs["z"].num_vars), ints=ints)


def test_forward_matches_float_exactly():
    op, ints, _, _ = _case(3, 5, 4, 7, seed=1)
    ref_z = torch.einsum("bti,boi->bto", ints["x"].double(), ints["y"].double())
    assert torch.equal(ints["z"].double(), ref_z)  # |entries| < 2^47: exact in float64


def test_fold_middle_matches_reference():
    rnd = random.Random(4)
    flat = [rnd.randrange(-1000, 1000) % R for _ in range(2 * 4 * 8)]
    w = [rnd.randrange(R) for _ in range(4)]
    want = [sum(w[m] * flat[(a * 4 + m) * 8 + k] for m in range(4)) % R for a in range(2) for k in range(8)]
    assert fold_middle(flat, (2, 4, 8), w) == want
    big = list(flat)
    big[3] = R - 5 * (1 << 50)  # a large entry: the plain-int path
    want[3] = (want[3] + w[0] * (big[3] - flat[3])) % R
    assert fold_middle(big, (2, 4, 8), w) == want


def test_virtual_operand(pk):
    """Y = Y1 + Y2 is virtual: its claim is handed to the Add op."""
    B, T, O, I = 2, 3, 5, 6
    op, ints, specs, vals = _case(B, T, O, I, seed=7)
    y1 = torch.randint(-100, 100, (B, O, I), generator=torch.Generator().manual_seed(9))
    ints["y1"], ints["y2"] = y1, ints["y"] - y1
    specs["y"] = TensorSpec("y", (B, O, I), "virtual")
    for k in ("y1", "y2"):
        specs[k] = TensorSpec(k, (B, O, I), "advice")
        vals[k] = pad_flat(ints[k], (B, O, I))
    run_fragment(pk, specs, vals, ["x", "y1", "y2"], _body(op, specs["z"].num_vars),
                 producers={"y": Add("y1", "y2", "y")}, ints=ints)


def test_wrong_output_entry_rejected(pk):
    op, ints, specs, vals = _case(3, 5, 3, 7, seed=2)
    bad = dict(vals)
    bad["z"] = list(bad["z"])
    bad["z"][37] = (bad["z"][37] + 1) % R
    with pytest.raises(VerificationError):
        run_fragment(pk, specs, bad, ["x", "y"], _body(op, specs["z"].num_vars), ints=ints)


def test_batches_mixed_up_rejected(pk):
    """Z computed with Y's batches in the wrong order (Z[b] = X[b] Y[b+1]^T)."""
    op, ints, specs, vals = _case(4, 4, 4, 4, seed=3)
    bad = dict(vals)
    z = torch.matmul(ints["x"], ints["y"].roll(1, 0).transpose(-1, -2))
    bad["z"] = pad_flat(z, specs["z"].shape)
    with pytest.raises(VerificationError):
        run_fragment(pk, specs, bad, ["x", "y"], _body(op, specs["z"].num_vars), ints=ints)


def test_batch_one_wrong_operand_rejected(pk):
    """B = 1: the committed X differs in one entry from the X that Z was computed from."""
    op, ints, specs, vals = _case(1, 3, 5, 6, seed=5)
    bad = dict(vals)
    bad["x"] = list(bad["x"])
    bad["x"][2] = (bad["x"][2] - 1) % R
    with pytest.raises(VerificationError):
        run_fragment(pk, specs, bad, ["x", "y"], _body(op, specs["z"].num_vars), ints=ints)


def test_tampered_round_and_claim_rejected(pk):
    op, ints, specs, vals = _case(3, 5, 3, 7, seed=6)
    nz = specs["z"].num_vars
    nrounds = 2 + 3  # log2(4) + log2(8) sumcheck rounds, 4 coefficients each
    # frs: the root value, the round coefficients, the claims on x and y, then the opening
    for idx in [0, 1, 4 * 3 + 2, 4 * nrounds + 1, 4 * nrounds + 2]:
        def tamper(frs, g1s, idx=idx):
            frs[idx] = (frs[idx] + 1) % R
        with pytest.raises(REJECT):
            run_fragment(pk, specs, vals, ["x", "y"], _body(op, nz), tamper=tamper, ints=ints)
