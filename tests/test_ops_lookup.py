"""Layer ops and lookups in isolation, on a small SRS, each with a tampering case."""
import random

import pytest
import torch

from prover import keys
from prover.channel import ProverChannel, VerifierChannel
from prover.context import ProverCtx, TensorSpec, VerifierCtx, attach_commit
from prover.zk import mask as zkmask
from prover.errors import VerificationError
from prover.field import R
from prover.lookup import logup
from prover.lookup.tables import FunctionTable, RangeTable
from prover.ops.add import Add
from prover.ops.hadamard import Hadamard
from prover.poly.mle import prefix_indicator
from prover.pcs import batch
from prover.poly.mle import evaluate, pad_flat
from prover.rng import seeded
from prover.transcript import Transcript


@pytest.fixture(scope="module")
def small():
    from prover.pcs import srs
    return keys.ProvingKey(srs.setup(8, rng=seeded(21)), {})


def _run(small, specs, values, committed, body, tamper=None):
    """Commit ``committed`` tensors, run ``body(ctx)``, open; then verify the same way."""
    pch = ProverChannel(Transcript())
    p = ProverCtx(ch=pch, specs=specs, values=values, srs=small.srs, rng=seeded(1))
    zkmask.commit_pool(p, 16)
    for t in committed:
        attach_commit(p, t, "c")
    body(p)
    batch.open_claims(p)
    frs = list(pch.frs)
    if tamper:
        tamper(frs)
    from prover.pcs.curve import g1_to_bytes
    vch = VerifierChannel(Transcript(), pch.g1s, [g1_to_bytes(g) for g in pch.g1s], frs)
    v = VerifierCtx(ch=vch, specs=specs)
    zkmask.commit_pool(v, 0)
    for t in committed:
        attach_commit(v, t, "c")
    body(v)
    batch.open_claims(v, small.verifying_key().srs_vk)
    vch.assert_consumed()


def _root(op, out, n):
    def body(ctx):
        r = ctx.ch.challenges("root", n)
        ctx.producers[out] = op
        ctx.claim(out, r, "root")
    return body


@pytest.mark.parametrize("Op", [Add, Hadamard])
def test_elementwise_ops(small, Op):
    rnd = random.Random(3)
    x = [rnd.randrange(-1000, 1000) for _ in range(12)]
    y = [rnd.randrange(-1000, 1000) for _ in range(12)]
    z = [a + b for a, b in zip(x, y)] if Op is Add else [a * b for a, b in zip(x, y)]
    specs = {k: TensorSpec(k, (3, 4), kind) for k, kind in (("x", "advice"), ("y", "advice"), ("z", "virtual"))}
    vals = {k: pad_flat(torch.tensor(v).reshape(3, 4), (3, 4)) for k, v in (("x", x), ("y", y), ("z", z))}
    op = Op("x", "y", "z")
    _run(small, specs, dict(vals), ["x", "y"], _root(op, "z", 4))
    bad = dict(vals)
    bad["z"] = list(bad["z"])
    bad["z"][1] += 1  # prover claims a wrong z
    with pytest.raises(VerificationError):
        _run(small, specs, bad, ["x", "y"], _root(op, "z", 4))


def test_range_and_function_tables_two_views():
    rnd = random.Random(0)
    for t in (RangeTable(6), FunctionTable("gelu", 6, 2, 4), FunctionTable("silu", 5, 1, 3)):
        tin = t.materialise() if isinstance(t, RangeTable) else t.inputs()
        pt = [rnd.randrange(R) for _ in range(t.bits)]
        assert t.in_mle(pt) == evaluate([v % R for v in tin], pt)
        for b in range(t.size):
            bits = [(b >> (t.bits - 1 - i)) & 1 for i in range(t.bits)]
            assert t.in_mle(bits) == tin[b] % R


def test_function_table_values():
    t = FunctionTable("relu", 4, 1, 2)
    assert t.inputs()[0] == -8 and t.outputs()[0] == 0 and t.outputs()[-1] == 14
    g = FunctionTable("gelu", 12, 8, 16)
    assert abs(g.outputs()[g.inputs().index(256)] / 65536 - 0.8413447) < 1e-4


def test_prefix_indicator():
    rnd = random.Random(1)
    for m in range(4):
        pt = [rnd.randrange(R) for _ in range(m)]
        for count in range((1 << m) + 1):
            vec = [1] * count + [0] * ((1 << m) - count)
            assert prefix_indicator(count, pt) == evaluate(vec, pt)


def _lookup_case(small, keys_in, keys_out, table, tamper=None):
    n = 3
    specs = {"k": TensorSpec("k", (1 << n,), "advice")}
    vals = {"k": [v % R for v in keys_in]}
    cols = [("k",)]
    if keys_out is not None:
        specs["o"] = TensorSpec("o", (1 << n,), "advice")
        vals["o"] = [v % R for v in keys_out]
        cols = [("k", "o")]
        specs["T"] = TensorSpec("T", (table.size,), "table")
        vals["T"] = [v % R for v in table.outputs()]
    inst = logup.LookupInstance("lk", table, cols, "T" if keys_out is not None else None)
    inst.mult_id, inst.a_ids, inst.b_id = "m", ["A"], "B"
    specs.update({"m": TensorSpec("m", (table.size,), "advice"), "A": TensorSpec("A", (1 << n,), "proof"),
                  "B": TensorSpec("B", (table.size,), "proof")})
    committed = [k for k in ("k", "o") if k in vals]

    def body(ctx):
        if "T" in specs:
            if ctx.is_prover:
                from prover.pcs import kzg
                ctx.commitments["T"] = kzg.commit(ctx.srs, ctx.values["T"], 0)
                ctx.blinds["T"] = 0
            else:
                ctx.commitments["T"] = _T[0]  # what the prover committed (a stand-in for the vk)
        if ctx.is_prover:
            m = [0] * table.size
            lo = table.lo if inst.pair else 0
            from prover.field.ref import to_signed
            for k in ctx.values["k"]:
                if 0 <= to_signed(k) - lo < table.size:
                    m[to_signed(k) - lo] += 1
            ctx.values["m"] = m
        attach_commit(ctx, "m", "m")
        logup.commit_inverses(ctx, inst)
        logup.run_sumchecks(ctx, inst)
        if ctx.is_prover and "T" in specs:
            _T[0] = ctx.commitments["T"]
    _run(small, specs, vals, committed, body, tamper)


_T = [None]


def test_range_lookup_accepts_members_and_rejects_outsiders(small):
    t = RangeTable(4)
    _lookup_case(small, [0, 1, 15, 7, 7, 7, 3, 2], None, t)
    with pytest.raises(VerificationError):
        _lookup_case(small, [0, 1, 16, 7, 7, 7, 3, 2], None, t)
    with pytest.raises(VerificationError):
        _lookup_case(small, [0, 1, -1, 7, 7, 7, 3, 2], None, t)


def test_function_lookup_accepts_pairs_and_rejects_wrong_outputs(small):
    t = FunctionTable("relu", 4, 0, 0)
    ins = [-8, -1, 0, 3, 7, 5, 5, -2]
    outs = [max(v, 0) for v in ins]
    _lookup_case(small, ins, outs, t)
    bad = list(outs)
    bad[3] += 1
    with pytest.raises(VerificationError):
        _lookup_case(small, ins, bad, t)


def test_lookup_round_polynomial_tampered(small):
    """The proof sends no sum of the inverses: the first field element after the commitments
    is the first round polynomial of the zero-sum sumcheck; one off, the final check fails."""
    def tamper(frs):
        frs[0] = (frs[0] + 1) % R
    with pytest.raises(VerificationError) as e:
        _lookup_case(small, [0, 1, 2, 3, 4, 5, 6, 7], None, RangeTable(3), tamper)
    assert e.value.check == "lookup"


def test_outsider_with_consistent_inverse_rejected_at_lookup(small):
    """Key 16 in the 4-bit range table: its A entry is 1/(beta + 16) (well formed) and m counts
    the other keys only, so sum A != sum B and the zero-sum claim is false."""
    with pytest.raises(VerificationError) as e:
        _lookup_case(small, [0, 1, 16, 7, 7, 7, 3, 2], None, RangeTable(4))
    assert e.value.check == "lookup"


# (column sizes, table): the witness side longer than, as long as, shorter than the table
SHAPES = [((8, 64), RangeTable(4)), ((16,), RangeTable(4)), ((4, 8), RangeTable(6)),
          ((8, 32), FunctionTable("relu", 5, 0, 0))]


def _shaped_lookup(small, sizes, table, rnd):
    from op_harness import run_fragment, run_lookups, wire_lookup
    specs, vals, cols = {}, {}, []
    for c, size in enumerate(sizes):
        ins = [rnd.randrange(table.size) + (table.lo if isinstance(table, FunctionTable) else 0) for _ in range(size)]
        specs[f"k{c}"] = TensorSpec(f"k{c}", (size,), "advice")
        vals[f"k{c}"] = [v % R for v in ins]
        if isinstance(table, FunctionTable):
            outs = table.outputs()
            specs[f"o{c}"] = TensorSpec(f"o{c}", (size,), "advice")
            vals[f"o{c}"] = [outs[v - table.lo] % R for v in ins]
            cols.append((f"k{c}", f"o{c}"))
        else:
            cols.append((f"k{c}",))
    tout = None
    if isinstance(table, FunctionTable):
        tout = "T"
        specs["T"] = TensorSpec("T", (table.size,), "table")
        vals["T"] = [v % R for v in table.outputs()]
    inst = logup.LookupInstance("lk0", table, cols, tout)
    wire_lookup(inst, specs)
    committed = [t for t in vals if specs[t].kind == "advice"]
    run_fragment(small, specs, vals, committed, lambda ctx: run_lookups(ctx, [inst]))


@pytest.mark.parametrize("sizes,table", SHAPES)
def test_zero_sum_lookup_with_uneven_sides_accepted(small, sizes, table):
    _shaped_lookup(small, sizes, table, random.Random(len(sizes) + table.bits))


@pytest.mark.parametrize("mode", ["m", "A", "B"])
@pytest.mark.parametrize("sizes,table", SHAPES)
def test_wrong_multiplicity_inverse_or_b_rejected_at_lookup(small, monkeypatch, sizes, table, mode):
    """A multiplicity moved to another row, an entry of A or of B one off, each committed by
    the prover and run through the sumcheck honestly: only the final check `lookup` tells."""
    from op_harness import lookup_cheat
    lookup_cheat(monkeypatch, mode)
    with pytest.raises(VerificationError) as e:
        _shaped_lookup(small, sizes, table, random.Random(len(sizes) + table.bits))
    assert e.value.check == "lookup"
