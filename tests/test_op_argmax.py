"""Argmax op: public index k, range-checked differences L[k] - L[j] - [j < k] >= 0."""
import pytest
import torch

from op_harness import lenient_multiplicities, run_fragment, run_lookups, wire_lookup
from prover import keys
from prover.context import TensorSpec
from prover.errors import MalformedProofError, QuantizationRangeError, VerificationError
from prover.field import R
from prover.lookup import logup
from prover.ops.argmax import Argmax
from prover.pcs import srs
from prover.poly.mle import pad_flat
from prover.rng import seeded

REJECT = (VerificationError, MalformedProofError)
BITS = 4  # digit bits; two digits: differences below 2^8


@pytest.fixture(scope="module")
def pk():
    return keys.ProvingKey(srs.setup(8, rng=seeded(41)), {})


@pytest.fixture
def lenient(monkeypatch):
    """A cheating prover's multiplicities: values outside the table are skipped, not refused."""
    lenient_multiplicities(monkeypatch)


def _setup(logits: torch.Tensor, rows=0):
    V = logits.shape[-1]
    dids = ["d0", "d1"]
    op = Argmax("L", "k", dids, V, BITS, rows=rows)
    ints = {"L": logits}
    op.forward(ints)
    specs = {"L": TensorSpec("L", tuple(logits.shape), "advice"), "k": TensorSpec("k", (1,), "output")}
    for d in dids:
        specs[d] = TensorSpec(d, (V,), "advice")
    vals = {t: pad_flat(ints[t], specs[t].shape) for t in specs}
    return op, ints, specs, vals


def _run(pk, op, specs, vals, tamper=None):
    specs = dict(specs)
    (table, _), = set((t, None) for t, _ in op.lookups())
    insts = [logup.LookupInstance("lk", table, [c for _, c in op.lookups()])]
    wire_lookup(insts[0], specs)

    def body(ctx):
        run_lookups(ctx, insts)
        op.root(ctx)
    run_fragment(pk, specs, vals, ["L"] + op.digit_ids, body, tamper=tamper)


def _logits(V, seed, lo=-100, hi=100):
    return torch.randint(lo, hi, (V,), generator=torch.Generator().manual_seed(seed), dtype=torch.int64)


@pytest.mark.parametrize("V", [1, 5, 8, 13])
def test_honest_proof_verifies(pk, V):
    op, ints, specs, vals = _setup(_logits(V, V))
    _run(pk, op, specs, vals)


def test_last_row_of_a_matrix(pk):
    L = torch.randint(-100, 100, (3, 11), generator=torch.Generator().manual_seed(2))
    op, ints, specs, vals = _setup(L, rows=3)
    assert int(ints["k"][0]) == int(torch.argmax(L[2]))
    _run(pk, op, specs, vals)


def test_forward_matches_float_argmax():
    for seed in range(20):
        L = _logits(37, seed)
        op, ints, _, _ = _setup(L)
        f = L.double() / 256
        assert int(ints["k"][0]) == int(torch.argmax(f))  # torch returns the first maximum


def test_spread_too_large_raises():
    L = torch.tensor([0, 300, 5])
    with pytest.raises(QuantizationRangeError):
        _setup(L)


def test_tie_handling(pk):
    """Ties: the smallest index is proven; the larger tied index is rejected."""
    L = torch.tensor([3, 9, -4, 9, 9, 0, 1], dtype=torch.int64)
    op, ints, specs, vals = _setup(L)
    assert int(ints["k"][0]) == 1
    _run(pk, op, specs, vals)


def test_tie_later_index_rejected(pk, lenient):
    L = torch.tensor([3, 9, -4, 9, 9, 0, 1], dtype=torch.int64)
    op, ints, specs, vals = _setup(L)
    k = 3
    bad = dict(vals)
    bad["k"] = [k]
    diff = 9 - L - (torch.arange(7) < k).to(torch.int64)  # -1 at j = 1
    assert int(diff.min()) == -1
    # variant 1: the negative difference sits in digit 0 (relation holds, lookup fails)
    d0 = diff.clone()
    d0[d0 >= 0] &= 15
    d1 = torch.where(diff >= 0, diff >> 4, torch.zeros_like(diff))
    bad["d0"], bad["d1"] = pad_flat(d0, (7,)), pad_flat(d1, (7,))
    with pytest.raises(REJECT):
        _run(pk, op, specs, bad)
    # variant 2: in-range digits of the wrapped value (relation fails)
    bad["d0"], bad["d1"] = pad_flat(diff & 15, (7,)), pad_flat((diff >> 4) & 15, (7,))
    with pytest.raises(REJECT):
        _run(pk, op, specs, bad)


def test_wrong_argmax_rejected(pk, lenient):
    L = torch.tensor([5, -2, 40, 7, 39, 0], dtype=torch.int64)
    op, ints, specs, vals = _setup(L)
    assert int(ints["k"][0]) == 2
    for k in (4, 0, 5):
        bad = dict(vals)
        bad["k"] = [k]
        diff = L[k] - L - (torch.arange(6) < k).to(torch.int64)
        d0 = torch.where(diff >= 0, diff & 15, diff)
        d1 = torch.where(diff >= 0, diff >> 4, torch.zeros_like(diff))
        bad["d0"], bad["d1"] = pad_flat(d0, (6,)), pad_flat(d1, (6,))
        with pytest.raises(REJECT):
            _run(pk, op, specs, bad)


def test_honest_digits_with_wrong_index_rejected(pk):
    """Public k changed after proving-honest digits: the linear relation breaks."""
    L = _logits(9, 3)
    op, ints, specs, vals = _setup(L)
    bad = dict(vals)
    bad["k"] = [(int(ints["k"][0]) + 1) % 9]
    with pytest.raises(REJECT):
        _run(pk, op, specs, bad)


def test_index_outside_vocab_rejected(pk):
    op, ints, specs, vals = _setup(_logits(5, 1))
    bad = dict(vals)
    bad["k"] = [7]
    with pytest.raises(VerificationError):
        _run(pk, op, specs, bad)


def test_tampered_digit_claim_rejected(pk):
    op, ints, specs, vals = _setup(_logits(6, 4))
    n = []

    def probe(frs, g1s):
        n.append(len(frs))
    _run(pk, op, specs, vals, tamper=probe)
    for idx in range(0, n[0], max(1, n[0] // 12)):
        def tamper(frs, g1s, idx=idx):
            frs[idx] = (frs[idx] + 1) % R
        with pytest.raises(REJECT):
            _run(pk, op, specs, vals, tamper=tamper)
