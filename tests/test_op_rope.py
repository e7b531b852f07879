"""RoPE op (rotate-half) with committed cos/sin tables, followed by a Rescale."""
import pytest
import torch

from op_harness import run_fragment, run_lookups, wire_lookup
from prover import keys
from prover.context import TensorSpec
from prover.errors import MalformedProofError, VerificationError
from prover.field import R
from prover.lookup import logup
from prover.lookup.tables import RangeTable
from prover.model.llama import apply_rope, rope_cos_sin
from prover.ops.rescale import Rescale
from prover.ops.rope import RoPE, rope_tables
from prover.pcs import kzg, srs
from prover.poly.mle import pad_flat
from prover.rng import seeded

REJECT = (VerificationError, MalformedProofError)
A, C, DB = 10, 12, 6  # activation scale 2^A, table scale 2^C, digit bits (2 digits)
BASE = 10000.0


@pytest.fixture(scope="module")
def pk():
    return keys.ProvingKey(srs.setup(9, rng=seeded(61)), {})


def _case(H, T, hd, seed=0, tables=None, xlim=4 << A):
    x = torch.randint(-xlim, xlim, (H, T, hd), generator=torch.Generator().manual_seed(seed))
    cos, sin = tables or rope_tables(T, hd, BASE, C)
    rope = RoPE("x", "cos", "sin", "z", H, T, hd)
    rs = Rescale("z", "y", ["d0", "d1"], C, DB)
    ints = {"x": x, "cos": cos, "sin": sin}
    rope.forward(ints)
    rs.forward(ints)
    specs = {"x": TensorSpec("x", (H, T, hd), "advice"), "cos": TensorSpec("cos", (T, hd // 2), "table"),
             "sin": TensorSpec("sin", (T, hd // 2), "table"), "z": TensorSpec("z", (H, T, hd), "virtual"),
             "y": TensorSpec("y", (H, T, hd), "advice")}
    for d in rs.digit_ids:
        specs[d] = TensorSpec(d, (H, T, hd), "advice")
    vals = _field(ints, specs, rs.pad_values())
    return rope, rs, ints, specs, vals


def _field(ints, specs, pads):
    vals = {}
    for t, sp in specs.items():
        flat = pad_flat(ints[t], sp.shape)
        if pads.get(t):
            mask = pad_flat(torch.ones(sp.shape, dtype=torch.int64), sp.shape)
            flat = [v if m else pads[t] for v, m in zip(flat, mask)]
        vals[t] = flat
    return vals


def _run(pk, rope, rs, specs, vals, vk_tables=None, tamper=None):
    specs = dict(specs)
    inst = logup.LookupInstance("lk", RangeTable(DB), [(d,) for d in rs.digit_ids])
    wire_lookup(inst, specs)

    def body(ctx):
        if not ctx.is_prover and vk_tables:
            ctx.commitments.update(vk_tables)  # the table commitments the verifying key holds
        ctx.producers["z"] = rope
        run_lookups(ctx, [inst])
        rs.root(ctx)
    run_fragment(pk, specs, vals, ["x", "y"] + rs.digit_ids, body, tamper=tamper)


def _vk_tables(pk, T, hd):
    cos, sin = rope_tables(T, hd, BASE, C)
    return {"cos": kzg.commit(pk.srs, pad_flat(cos, (T, hd // 2)), 0),
            "sin": kzg.commit(pk.srs, pad_flat(sin, (T, hd // 2)), 0)}


@pytest.mark.parametrize("shape", [(1, 1, 2), (2, 5, 8), (3, 4, 4), (1, 7, 16)])
def test_honest_proof_verifies(pk, shape):
    rope, rs, ints, specs, vals = _case(*shape, seed=sum(shape))
    _run(pk, rope, rs, specs, vals, vk_tables=_vk_tables(pk, shape[1], shape[2]))


def test_matches_float_rope_within_bound():
    """|y - 2^A rope(x / 2^A)| <= 1/2 + (|x_i| + |x_(i xor h)|) / 2^(C+1), in units of 2^-A."""
    H, T, hd = 3, 9, 16
    rope, rs, ints, specs, vals = _case(H, T, hd, seed=5)
    x = ints["x"]
    cos, sin = rope_cos_sin(T, hd, BASE)
    want = apply_rope(x.double() / (1 << A), cos, sin) * (1 << A)
    err = (ints["y"].double() - want).abs()
    partner = torch.cat((x[..., hd // 2:], x[..., :hd // 2]), dim=-1)
    bound = 0.5 + (x.abs() + partner.abs()).double() / (1 << (C + 1))
    assert bool((err <= bound + 1e-9).all())
    assert float(err.max()) > 0.1  # the bound is exercised, not vacuous


def test_non_power_of_two_head_dim_refused():
    with pytest.raises(ValueError):
        RoPE("x", "cos", "sin", "z", 1, 4, 6)


def test_wrong_rotary_table_rejected(pk):
    """y computed with tables of another base, proven against the true committed tables."""
    H, T, hd = 2, 5, 8
    _, _, bad_ints, _, _ = _case(H, T, hd, seed=1, tables=rope_tables(T, hd, 500000.0, C))
    rope, rs, ints, specs, vals = _case(H, T, hd, seed=1)
    assert not torch.equal(bad_ints["y"], ints["y"])
    bad = dict(vals)
    bad.update(_field(bad_ints, {k: specs[k] for k in ("y", "d0", "d1")}, rs.pad_values()))
    with pytest.raises(VerificationError):
        _run(pk, rope, rs, specs, bad, vk_tables=_vk_tables(pk, T, hd))


def test_substituted_rotary_table_rejected(pk):
    """The prover commits and uses tables of another base; the verifier holds the true ones."""
    H, T, hd = 2, 5, 8
    rope, rs, ints, specs, vals = _case(H, T, hd, seed=1, tables=rope_tables(T, hd, 500000.0, C))
    with pytest.raises(VerificationError):
        _run(pk, rope, rs, specs, vals, vk_tables=_vk_tables(pk, T, hd))


def test_interleaved_convention_rejected(pk):
    """y from the interleaved-pair rotation (GGUF layout) instead of rotate-half."""
    H, T, hd = 1, 4, 8
    rope, rs, ints, specs, vals = _case(H, T, hd, seed=2)
    x = ints["x"]
    c, s = ints["cos"].repeat_interleave(2, -1), ints["sin"].repeat_interleave(2, -1)
    rot = torch.stack((-x[..., 1::2], x[..., ::2]), dim=-1).reshape(x.shape)
    z = x * c + rot * s
    bad_ints = {"z": z}
    rs.forward(bad_ints)
    bad = dict(vals)
    bad.update(_field(bad_ints, {k: specs[k] for k in ("y", "d0", "d1")}, rs.pad_values()))
    with pytest.raises(VerificationError):
        _run(pk, rope, rs, specs, bad, vk_tables=_vk_tables(pk, T, hd))


def test_sign_of_rotation_flipped_rejected(pk):
    """y = x cos - rotate_half(x) sin (the inverse rotation)."""
    H, T, hd = 2, 3, 4
    rope, rs, ints, specs, vals = _case(H, T, hd, seed=3)
    bad_ints = {"cos": ints["cos"], "sin": -ints["sin"], "x": ints["x"]}
    rope.forward(bad_ints)
    rs.forward(bad_ints)
    bad = dict(vals)
    bad.update(_field(bad_ints, {k: specs[k] for k in ("y", "d0", "d1")}, rs.pad_values()))
    with pytest.raises(VerificationError):
        _run(pk, rope, rs, specs, bad, vk_tables=_vk_tables(pk, T, hd))


def test_tampered_proof_items_rejected(pk):
    H, T, hd = 1, 3, 4
    rope, rs, ints, specs, vals = _case(H, T, hd, seed=4)
    vkt = _vk_tables(pk, T, hd)
    n = []
    _run(pk, rope, rs, specs, vals, vk_tables=vkt, tamper=lambda frs, g1s: n.append(len(frs)))
    for idx in range(0, n[0], max(1, n[0] // 15)):
        def tamper(frs, g1s, idx=idx):
            frs[idx] = (frs[idx] + 1) % R
        with pytest.raises(REJECT):
            _run(pk, rope, rs, specs, vals, vk_tables=vkt, tamper=tamper)
