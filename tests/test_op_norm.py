"""RMSNorm / LayerNorm with a proven inverse square root: honest proofs, float accuracy, attacks."""
from math import isqrt
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from op_harness import lenient_multiplicities, run_fragment, run_lookups, wire_lookup
from prover import keys
from prover.circuit import field_values
from prover.context import TensorSpec
from prover.errors import MalformedProofError, QuantizationRangeError, VerificationError
from prover.lookup import logup
from prover.model.llama import RMSNorm
from prover.ops.norm import layer_norm, rms_norm
from prover.pcs import srs
from prover.quant import QuantSpec, quantize
from prover.rng import seeded

REJECT = (VerificationError, MalformedProofError)
Q = QuantSpec()
A, W = Q.act_frac_bits, Q.weight_frac_bits
EPS = 1e-5
T, D = 3, 12  # both padded: rows 3 -> 4, width 12 -> 16


@pytest.fixture(scope="module")
def pk():
    return keys.ProvingKey(srs.setup(10, rng=seeded(51)), {})


@pytest.fixture
def lenient(monkeypatch):
    """A cheating prover's multiplicities: values outside the table are skipped, not refused."""
    lenient_multiplicities(monkeypatch)


def _inputs(rows, dim, seed, scales=(1.0, 0.02, 30.0)):
    """Residual-stream-like rows (one tiny, one with large outliers), gains ~ 1 + N(0, 0.1^2)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, dim, dtype=torch.float64, generator=g)
    for t in range(rows):
        x[t] *= scales[t % len(scales)]
    x[-1, 0] = 200.0  # a massive activation
    gain = 1 + 0.1 * torch.randn(dim, dtype=torch.float64, generator=g)
    bias = 0.1 * torch.randn(dim, dtype=torch.float64, generator=g)
    return quantize(x, A), quantize(gain, W), quantize(bias, A)


def _op(center, rows=T, dim=D):
    if center:
        return layer_norm("ln", "x", "g", "b", rows, dim, EPS, Q)
    return rms_norm("rn", "x", "g", rows, dim, EPS, Q)


def _ints(op, seed=0):
    x, g, b = _inputs(op.rows, op.dim, seed)
    ints = {"x": x, "g": g}
    if op.center:
        ints["b"] = b
    op.forward(ints)
    return ints


def _bound(op, ints, ref):
    """|y/2^a - ref| <= |ref - b| (1/inv + 2^-(2a+2)/eps)(1 + 2^-20) + 2^-(a+1)."""
    inv = ints[op.inv].double()[:, None]
    rel = 1.0 / inv + 2.0 ** (-2 * A - 2) / EPS
    scaled = ref - ints["b"].double() / 2 ** A if op.center else ref
    return scaled.abs() * rel * (1 + 2 ** -20) + 2.0 ** (-A - 1)


def _reference(op, ints):
    x, g = ints["x"].double() / 2 ** A, ints["g"].double() / 2 ** W
    if op.center:
        return F.layer_norm(x, (op.dim,), g, ints["b"].double() / 2 ** A, EPS)
    norm = RMSNorm(op.dim, EPS).double()
    with torch.no_grad():
        norm.weight.copy_(g)
        return norm(x).detach()


def _prove(pk, op, ints):
    specs = {"x": TensorSpec("x", (op.rows, op.dim), "advice"), "g": TensorSpec("g", (op.dim,), "model")}
    if op.center:
        specs["b"] = TensorSpec("b", (op.dim,), "model")
    specs.update(op.specs())
    inst = logup.LookupInstance("lk", op.lookups()[0][0], [col for _, col in op.lookups()])
    wire_lookup(inst, specs)
    vals = field_values(SimpleNamespace(specs=specs, pad_values=op.pad_values()), ints)
    committed = [t for t in ("x", "g", "b") if t in specs] + op.witness()
    producers = {t: op for t in op.virtuals()}

    def body(ctx):
        run_lookups(ctx, [inst])
        op.root(ctx)
    run_fragment(pk, specs, vals, committed, body, producers=producers)


# ---- honest runs and accuracy

@pytest.mark.parametrize("center", [False, True], ids=["rmsnorm", "layernorm"])
def test_honest_proof_verifies(pk, center):
    op = _op(center)
    _prove(pk, op, _ints(op))


def test_honest_single_row(pk):
    op = _op(False, rows=1, dim=8)
    _prove(pk, op, _ints(op, seed=4))


@pytest.mark.parametrize("center", [False, True], ids=["rmsnorm", "layernorm"])
def test_forward_matches_float_reference(center):
    for seed in range(5):
        op = _op(center, rows=6, dim=64)
        ints = _ints(op, seed)
        ref = _reference(op, ints)
        y = ints[op.y].double() / 2 ** A
        err = (y - ref).abs()
        assert bool((err <= _bound(op, ints, ref)).all()), float((err - _bound(op, ints, ref)).max())
        # inv ~ 2^16 / rms: relative error <= rms * 2^-16 (the rms ~ 30 row keeps ~11 bits)
        assert float(err.max()) < 5e-3
        assert float(err[:2].max()) < 1e-4


def test_inverse_sqrt_is_floor_of_defining_inequality():
    for center in (False, True):
        op = _op(center)
        ints = _ints(op, seed=2)
        for inv, m in zip(ints[op.inv].tolist(), ints[op.m].tolist()):
            assert inv * inv * m <= op.C < (inv + 1) ** 2 * m
            assert inv == isqrt(op.C // m) and 0 <= inv < 1 << op.inv_bits


def test_forward_refuses_out_of_range_input():
    op = _op(False)
    x, g, _ = _inputs(T, D, 0)
    x[0, 0] = 1 << (op.x_bits - 1)
    with pytest.raises(QuantizationRangeError):
        op.forward({"x": x, "g": g})


# ---- attacks

def _recenter(op, ints):
    """The centred input c as exact integers (x itself for RMSNorm)."""
    return np.array(ints[op.c].tolist(), dtype=object)


@pytest.mark.parametrize("center", [False, True], ids=["rmsnorm", "layernorm"])
@pytest.mark.parametrize("delta", [1, -1], ids=["plus_one", "minus_one"])
def test_inverse_sqrt_advice_off_by_one(pk, lenient, center, delta):
    """inv_t +- 1 with slack digits recomputed (one slack goes negative) and the output made consistent."""
    op = _op(center)
    ints = _ints(op)
    c, m = _recenter(op, ints), ints[op.m]
    inv = ints[op.inv].tolist()
    inv[1] += delta
    op._fill(ints, c, m, inv, strict=False)
    with pytest.raises(REJECT, match="lookup: lk:"):
        _prove(pk, op, ints)


def test_inverse_sqrt_advice_off_by_one_with_honest_slack_digits(pk):
    """inv_t + 1 keeping the honest slack digits: the isqrt sumcheck fails."""
    op = _op(False)
    ints = _ints(op)
    keep = {d: ints[d].clone() for d in op.lo_digits + op.hi_digits}
    inv = ints[op.inv].tolist()
    inv[0] += 1
    op._fill(ints, _recenter(op, ints), ints[op.m], inv, strict=False)
    ints.update(keep)
    with pytest.raises(REJECT, match="isqrt"):
        _prove(pk, op, ints)


@pytest.mark.parametrize("center", [False, True], ids=["rmsnorm", "layernorm"])
def test_wrong_sum_of_squares(pk, center):
    """m_t doubled, with inv, slacks and the output all consistent with the wrong m."""
    op = _op(center)
    ints = _ints(op)
    m = list(ints[op.m])
    m[0] *= 2
    inv = [isqrt(op.C // v) for v in m]
    op._fill(ints, _recenter(op, ints), m, inv, strict=True)
    with pytest.raises(VerificationError, match="sumsq"):
        _prove(pk, op, ints)


def test_wrong_mean_layernorm(pk):
    """Row 0 centred on mean + 1 unit (c - d): m, inv, slacks and output consistent with it."""
    op = _op(True)
    ints = _ints(op)
    c = _recenter(op, ints)
    c[0] = c[0] - op.dim
    ints[op.c] = torch.tensor(c.tolist(), dtype=torch.int64)
    m = (c * c).sum(axis=1) + op.eps_term
    inv = [isqrt(op.C // int(v)) for v in m]
    op._fill(ints, c, m, inv, strict=True)
    with pytest.raises(VerificationError, match="norm-centre"):
        _prove(pk, op, ints)


@pytest.mark.parametrize("center", [False, True], ids=["rmsnorm", "layernorm"])
def test_wrong_output_digit(pk, center):
    """One remainder digit changed, quotient kept: the rescale relation breaks."""
    op = _op(center)
    ints = _ints(op)
    d0 = ints[op.y_digits[0]]
    d0[1, 2] = (d0[1, 2] + 1) % (1 << op.digit_bits)
    with pytest.raises(VerificationError, match="norm-output"):
        _prove(pk, op, ints)


def test_wrong_output_quotient_with_compensated_digits(pk, lenient):
    """y + 1 with the top remainder digit lowered by 2^b to keep the relation: the digit leaves the range."""
    op = _op(False)
    ints = _ints(op)
    ints[op.y][0, 3] += 1
    ints[op.y_digits[-1]][0, 3] -= 1 << op.digit_bits
    with pytest.raises(REJECT, match="lookup: lk:"):
        _prove(pk, op, ints)


def test_inverse_sqrt_outside_its_range(pk, lenient):
    """inv digits with a digit pushed past 2^b (value unchanged): the range lookup rejects."""
    op = _op(False)
    ints = _ints(op)
    e0, e1 = ints[op.inv_digits[0]], ints[op.inv_digits[1]]
    t = int(torch.nonzero(e1 > 0)[0])
    e0[t] += 1 << op.digit_bits
    e1[t] -= 1
    with pytest.raises(REJECT, match="lookup: lk:"):
        _prove(pk, op, ints)


# ---- stacked across layers: per-layer gains and biases (groups)

def _stacked(center, layers=3, rows=T, dim=D):
    op = (layer_norm("ln", "x", "g", "b", rows, dim, EPS, Q, groups=layers) if center
          else rms_norm("rn", "x", "g", rows, dim, EPS, Q, groups=layers))
    parts = [_inputs(rows, dim, seed) for seed in range(layers)]
    ints = {"x": torch.stack([p[0] for p in parts]), "g": torch.stack([p[1] for p in parts])}
    if center:
        ints["b"] = torch.stack([p[2] for p in parts])
    return op, ints


def _prove_stacked(pk, op, ints):
    L = op.groups
    specs = {"x": TensorSpec("x", (L, op.rows, op.dim), "advice"), "g": TensorSpec("g", (L, op.dim), "model")}
    if op.center:
        specs["b"] = TensorSpec("b", (L, op.dim), "model")
    specs.update(op.specs())
    inst = logup.LookupInstance("lk", op.lookups()[0][0], [col for _, col in op.lookups()])
    wire_lookup(inst, specs)
    vals = field_values(SimpleNamespace(specs=specs, pad_values=op.pad_values()), ints)
    committed = [t for t in ("x", "g", "b") if t in specs] + op.witness()

    def body(ctx):
        run_lookups(ctx, [inst])
        op.root(ctx)
    run_fragment(pk, specs, vals, committed, body, producers={t: op for t in op.virtuals()})


@pytest.mark.parametrize("center", [False, True], ids=["rmsnorm", "layernorm"])
def test_stacked_layers_match_per_layer_ops_and_verify(pk, center):
    """Three layers (padded to four) in one op equal three separate ops, and the proof verifies."""
    op, ints = _stacked(center)
    op.forward(ints)
    for l in range(op.groups):
        one = _op(center)
        li = {k: ints[k][l] for k in ("x", "g", "b") if k in ints}
        one.forward(li)
        assert torch.equal(li[one.y], ints[op.y][l]) and torch.equal(li[one.inv], ints[op.inv][l])
    _prove_stacked(pk, op, ints)


@pytest.mark.parametrize("center", [False, True], ids=["rmsnorm", "layernorm"])
def test_stacked_gains_of_another_layer_rejected(pk, center):
    """The output of every layer computed with layer 0's gains (and biases): the committed
    y and its digits are consistent, but the gain claim lands on the per-layer tensor."""
    op, ints = _stacked(center)
    honest = dict(ints)
    cheat = {k: v.clone() for k, v in ints.items()}
    cheat["g"] = ints["g"][:1].expand_as(ints["g"]).clone()
    if center:
        cheat["b"] = ints["b"][:1].expand_as(ints["b"]).clone()
    op.forward(cheat)
    for k in ("g", "b"):
        if k in honest:
            cheat[k] = honest[k]
    with pytest.raises(REJECT):
        _prove_stacked(pk, op, cheat)
