"""Softmax (zkAttn) op: honest proofs, the error bound, the mask MLE, named attacks.

Lookup instances are built in table order: lk0, lk1 the exp tables, lk2 the range table."""
import math
import random
from types import SimpleNamespace

import pytest
import torch

from prover import keys
from prover.circuit import field_values, table_id
from prover.context import TensorSpec
from prover.errors import MalformedProofError, QuantizationRangeError, VerificationError
from prover.field import R
from prover.lookup import logup
from prover.lookup.exp_tables import ExpTable
from prover.lookup.tables import FunctionTable
from prover.ops.softmax import Softmax, causal_mask_mle
from prover.poly.mle import evaluate
from prover.rng import seeded
from tests.op_harness import lenient_multiplicities, run_fragment, run_lookups, wire_lookup

REJECT = (VerificationError, MalformedProofError)
HEADS, T = 2, 5
SMALL = dict(s_in=4, p_out=8, digit_bits=4, num_digits=2, range_bits=4)


@pytest.fixture(scope="module")
def pk():
    from prover.pcs import srs
    return keys.ProvingKey(srs.setup(10, rng=seeded(31)), {})


def _scores(seed, heads=HEADS, t=T, spread=40, junk=True):
    g = torch.Generator().manual_seed(seed)
    S = torch.randint(-spread, spread, (heads, t, t), generator=g)
    if junk:  # masked entries hold arbitrary values (they never reach P)
        S = torch.where(torch.tril(torch.ones(t, t, dtype=torch.bool)), S, torch.randint(-10**6, 10**6, S.shape, generator=g))
    return S


def _float_softmax(S, s_in):
    t = S.shape[-1]
    m = torch.tril(torch.ones(t, t, dtype=torch.bool))
    return torch.softmax((S.double() / (1 << s_in)).masked_fill(~m, float("-inf")), -1)


def _prove(pk, op, wit, S, s_kind="advice", tamper=None, padded=None):
    """Commit S and the op's advice, run the lookups and the root, then a consumer claim on P."""
    specs = {op.s: TensorSpec(op.s, (op.heads, op.T, op.T), s_kind)}
    specs.update(op.tensor_specs())
    ints = dict(wit)
    ints[op.s] = S
    groups: dict = {}
    for table, col in op.lookups():
        groups.setdefault(table, []).append(col)
    insts = []
    for i, (table, cols) in enumerate(groups.items()):
        tid = None
        if isinstance(table, FunctionTable):
            tid = table_id(table)
            specs[tid] = TensorSpec(tid, (table.size,), "table")
        inst = logup.LookupInstance(f"lk{i}", table, cols, tid)
        wire_lookup(inst, specs)
        insts.append(inst)
    vals = field_values(SimpleNamespace(specs=specs, pad_values=op.pad_values()), ints)
    for inst in insts:
        if inst.pair:
            vals[inst.table_out_id] = [v % R for v in inst.table.outputs()]
    if padded is not None:  # a cheating prover's values on the padding
        padded(vals)
    committed = ([op.s] if s_kind == "advice" else []) + op.advice_ids()
    nv = specs[op.p].num_vars

    def body(ctx):
        run_lookups(ctx, insts)
        op.root(ctx)
        pt = ctx.ch.challenges("consumer", nv)
        ctx.claim(op.p, pt, "consumer/P")

    run_fragment(pk, specs, vals, committed, body, tamper=tamper)


def _rejected_by(what, fn):
    with pytest.raises(VerificationError) as ei:
        fn()
    assert what in str(ei.value), str(ei.value)


def _lenient(monkeypatch):
    lenient_multiplicities(monkeypatch)


def _recompute_from(op, wit, start_k=0):
    """Recompute F_k (from the table, even for a tampered digit), products, U and P."""
    fs = []
    for k, t in enumerate(op.tables):
        if k >= start_k:
            wit[op.f[k]] = torch.tensor(t.outputs())[wit[op.d[k]].clamp(0, t.size - 1)]
        fs.append(wit[op.f[k]])
    return _finish(op, wit, fs)


def _finish(op, wit, fs):
    from prover.ops.softmax import _digits
    from prover.quant import rescale
    G = fs[0]
    for k in range(1, op.num_digits):
        G, rem = rescale(G * fs[k], op.p_out)
        for x, v in zip(op.g[k], _digits(G, op.range_bits, op.n_g)):
            wit[x] = v
        for x, v in zip(op.r[k], _digits(rem, op.range_bits, op.n_rem)):
            wit[x] = v
    wit[op.u] = torch.where(op.mask(), G, torch.zeros_like(G))
    return _renormalise(op, wit)


def _renormalise(op, wit, iota=None):
    """The reciprocal (honest unless given), its remainders and P from U."""
    U = wit[op.u]
    return op.normalise(wit, U, op.reciprocal(U.sum(-1)) if iota is None else iota)


# ---------------------------------------------------------------- static pieces

def test_causal_mask_mle_matches_brute_force():
    rnd = random.Random(5)
    for t in (1, 2, 3, 4, 5, 7, 8, 9, 16):
        m = (t - 1).bit_length()
        vec = [1 if (j <= i < t) else 0 for i in range(1 << m) for j in range(1 << m)]
        for _ in range(3):
            pt = [rnd.randrange(R) for _ in range(2 * m)]
            assert causal_mask_mle(t, pt[:m], pt[m:]) == evaluate(vec, pt)
        for b in range(1 << (2 * m)):
            bits = [(b >> (2 * m - 1 - i)) & 1 for i in range(2 * m)]
            assert causal_mask_mle(t, bits[:m], bits[m:]) == vec[b]


def test_exp_tables_values_and_two_views():
    t = ExpTable(8, 8, 8, 16)
    assert t.outputs()[:4] == [65536, round(65536 / math.e), round(65536 * math.exp(-2)), round(65536 * math.exp(-3))]
    assert t.outputs()[-1] == 0 and t.lo == 0 and t.inputs() == list(range(256))
    t0 = ExpTable(8, 0, 8, 16)
    assert all(abs(v - 65536 * math.exp(-d / 256)) <= 0.5 for d, v in enumerate(t0.outputs()))
    rnd = random.Random(2)
    small = ExpTable(4, 4, 4, 8)
    pt = [rnd.randrange(R) for _ in range(4)]
    assert small.in_mle(pt) == evaluate(list(range(16)), pt)
    assert len({ExpTable(4, 0, 4, 8), ExpTable(4, 4, 4, 8), ExpTable(4, 0, 4, 8)}) == 2


# ---------------------------------------------------------------- forward accuracy

@pytest.mark.parametrize("params,heads,t,spread", [(SMALL, HEADS, T, 40), ({}, 4, 32, 2000), ({}, 2, 64, 6000),
                                                   (dict(num_digits=3, digit_bits=6), 3, 24, 3000)])
def test_forward_within_stated_error_bound(params, heads, t, spread):
    op = Softmax("S", "P", heads, t, **params)
    rel, a = op.error_bound()
    worst = 0.0
    for seed in range(4):
        S = _scores(seed, heads, t, spread)
        wit = op.witness(S)
        P = wit["P"].double() / (1 << op.p_out)
        sig = _float_softmax(S, op.s_in)
        err = (P - sig).abs()
        assert bool((err <= rel * sig + a + 1e-12).all())
        assert bool((wit["P"][~op.mask()] == 0).all())
        mx = S.masked_fill(~op.mask(), -10**9).max(-1).values
        assert bool((wit[op.z] == mx).all())  # the shift is the row maximum
        assert bool((wit[op.o].sum(-1) == 1).all())
        worst = max(worst, float(err.max()))
    assert worst <= rel + a


def test_forward_rejects_score_spread_beyond_digits():
    op = Softmax("S", "P", 1, 3, **SMALL)
    S = torch.tensor([[[0, 0, 0], [0, -300, 0], [0, 0, 0]]])
    with pytest.raises(QuantizationRangeError):
        op.witness(S)


# ---------------------------------------------------------------- proofs

@pytest.mark.parametrize("heads,t,kind", [(HEADS, T, "advice"), (1, 4, "input"), (3, 3, "advice")])
def test_honest_proof_verifies(pk, heads, t, kind):
    op = Softmax("S", "P", heads, t, **SMALL)
    S = _scores(7, heads, t)
    _prove(pk, op, op.witness(S), S, s_kind=kind)


def test_honest_proof_three_digits(pk):
    op = Softmax("S", "P", 1, 4, s_in=4, p_out=8, digit_bits=3, num_digits=3, range_bits=4)
    S = _scores(3, 1, 4, spread=60)
    _prove(pk, op, op.witness(S), S)


def test_any_altered_proof_element_rejected(pk):
    op = Softmax("S", "P", 1, 4, **SMALL)
    S = _scores(1, 1, 4)
    wit = op.witness(S)
    counted = []
    _prove(pk, op, wit, S, tamper=lambda frs, g1s: counted.append(len(frs)))
    for i in range(0, counted[0], max(1, counted[0] // 12)):
        def bad(frs, g1s, i=i):
            frs[i] = (frs[i] + 1) % R
        with pytest.raises(REJECT):
            _prove(pk, op, wit, S, tamper=bad)


# ---------------------------------------------------------------- named attacks

def test_attack_shifted_softmax_row(pk, monkeypatch):
    """z_r raised by 1.0 (every exp of the row scaled by 1/e), digits re-derived from the new z:
    no D of the row is zero, so no selector can sum to 1 on it."""
    _lenient(monkeypatch)
    op = Softmax("S", "P", HEADS, T, **SMALL)
    S = _scores(11)
    z = op.witness(S)[op.z].clone()
    z[0, 3] += 1 << op.s_in
    wit = op.witness(S, z=z, lenient=True)
    assert int(wit[op.o][0, 3].sum()) == 0
    _rejected_by("softmax-rows:", lambda: _prove(pk, op, wit, S))


@pytest.mark.parametrize("keep_selector", [False, True])
def test_attack_non_max_shift_plus_one(pk, monkeypatch, keep_selector):
    """The cheating prover of the old row-sum window: z one unit above the row maximum (a
    consistent witness otherwise, P renormalised); its selector is either empty on the row
    (row sums) or left on the maximum, where D = 1 (o D = 0 fails)."""
    _lenient(monkeypatch)
    op = Softmax("S", "P", HEADS, T, **SMALL)
    S = _scores(21)
    honest = op.witness(S)
    z = honest[op.z].clone()
    z[1, 4] += 1
    wit = op.witness(S, z=z, lenient=True)
    if keep_selector:
        wit[op.o] = honest[op.o]
        _rejected_by("softmax:", lambda: _prove(pk, op, wit, S))
    else:
        _rejected_by("softmax-rows:", lambda: _prove(pk, op, wit, S))


def test_attack_non_max_shift_minus_one(pk, monkeypatch):
    """z one unit below the row maximum: D = -1 there, outside the exp table's input range."""
    _lenient(monkeypatch)
    op = Softmax("S", "P", HEADS, T, **SMALL)
    S = _scores(22)
    z = op.witness(S)[op.z].clone()
    z[0, 2] -= 1
    wit = op.witness(S, z=z, lenient=True)
    _rejected_by("lookup: lk1:", lambda: _prove(pk, op, wit, S))  # top exp digit -1, off its table


def test_attack_selector_on_masked_entry(pk, monkeypatch):
    """z above the row maximum and the selector on a masked entry of the row, where D = 0
    (o D = 0 and the row sum hold): o (1 - M) = 0 rejects it."""
    _lenient(monkeypatch)
    op = Softmax("S", "P", HEADS, T, **SMALL)
    S = _scores(23)
    z = op.witness(S)[op.z].clone()
    z[0, 1] += 3
    wit = op.witness(S, z=z, lenient=True)
    o = wit[op.o].clone()
    o[0, 1] = 0
    o[0, 1, 4] = 1
    wit[op.o] = o
    _rejected_by("softmax:", lambda: _prove(pk, op, wit, S))


def test_attack_selector_split(pk, monkeypatch):
    """A selector of weights 2 and -1 (sum 1) on the row maximum and another unmasked entry."""
    _lenient(monkeypatch)
    op = Softmax("S", "P", HEADS, T, **SMALL)
    S = _scores(24)
    wit = op.witness(S)
    o = wit[op.o].clone()
    j = int(o[1, 3].argmax())
    o[1, 3, j] = 2
    o[1, 3, (j + 1) % 4] = -1
    wit[op.o] = o
    _rejected_by("softmax:", lambda: _prove(pk, op, wit, S))


@pytest.mark.parametrize("step", [1, -1])
def test_attack_non_canonical_reciprocal(pk, monkeypatch, step):
    """iota one off its floor on one row (rho or sigma - 1 - rho goes negative)."""
    _lenient(monkeypatch)
    op = Softmax("S", "P", HEADS, T, **SMALL)
    S = _scores(25)
    wit = op.witness(S)
    iota = op.reciprocal(wit[op.u].sum(-1))
    iota[1, 2] += step
    _renormalise(op, wit, iota)
    _rejected_by("lookup: lk2:", lambda: _prove(pk, op, wit, S))  # range table


def test_attack_output_with_shifted_remainder(pk, monkeypatch):
    """P one unit up on an entry, its normalisation remainder 2^q down (negative)."""
    _lenient(monkeypatch)
    op = Softmax("S", "P", HEADS, T, **SMALL)
    S = _scores(26)
    wit = op.witness(S)
    from prover.ops.softmax import _digits
    P = wit[op.p].clone()
    X = wit[op.u] * op.reciprocal(wit[op.u].sum(-1)).unsqueeze(-1) + (1 << (op.recip_bits - 1))
    P[0, 3, 1] += 1
    c = X - (P << op.recip_bits)
    wit[op.p] = P
    for ids, val in ((op.pd, P), (op.c, c)):
        for x, v in zip(ids, _digits(val, op.range_bits, len(ids))):
            wit[x] = v
    _rejected_by("lookup: lk2:", lambda: _prove(pk, op, wit, S))  # range table


def test_attack_output_off_its_digits(pk, monkeypatch):
    """P one unit up on an entry with its digits and remainder left honest."""
    _lenient(monkeypatch)
    op = Softmax("S", "P", HEADS, T, **SMALL)
    S = _scores(27)
    wit = op.witness(S)
    wit[op.p] = wit[op.p].clone()
    wit[op.p][1, 1, 0] += 1
    _rejected_by("softmax:", lambda: _prove(pk, op, wit, S))


def test_attack_wrong_digit_decomposition(pk, monkeypatch):
    """d_0 of an unmasked entry off by one (so D != z - S); F, products and row sums recomputed."""
    _lenient(monkeypatch)
    op = Softmax("S", "P", HEADS, T, **SMALL)
    S = _scores(12)
    wit = op.witness(S)
    wit[op.d[0]] = wit[op.d[0]].clone()
    wit[op.d[0]][1, 4, 2] ^= 1
    _recompute_from(op, wit)
    _rejected_by("softmax: final check", lambda: _prove(pk, op, wit, S))  # zero-check


def test_attack_digit_outside_table(pk, monkeypatch):
    """Same D, but d_0 += 2^b and d_1 -= 1: the exp tables' input column rejects the digit."""
    _lenient(monkeypatch)
    op = Softmax("S", "P", HEADS, T, **SMALL)
    S = _scores(13)
    wit = op.witness(S)
    idx = torch.nonzero(op.mask() & (wit[op.d[1]] > 0))[0].tolist()
    for k, dv in ((0, 1 << op.digit_bits), (1, -1)):
        wit[op.d[k]] = wit[op.d[k]].clone()
        wit[op.d[k]][tuple(idx)] += dv
    # the factor for the oversized digit: its true exp value (not a table entry)
    f0 = wit[op.f[0]].clone()
    dd = int(wit[op.d[0]][tuple(idx)])
    f0[tuple(idx)] = round((1 << op.p_out) * math.exp(-dd / (1 << op.s_in)))
    wit[op.f[0]] = f0
    _recompute_from(op, wit, start_k=1)
    _rejected_by("lookup: lk0:", lambda: _prove(pk, op, wit, S))  # exp table


def test_attack_wrong_exp_table_value(pk, monkeypatch):
    """F_1 of an unmasked entry off by one unit; the product chain, P and row sums follow it."""
    _lenient(monkeypatch)
    op = Softmax("S", "P", HEADS, T, **SMALL)
    S = _scores(14)
    wit = op.witness(S)
    wit[op.f[1]] = wit[op.f[1]].clone()
    wit[op.f[1]][0, 2, 1] += 1
    _finish(op, wit, [wit[f] for f in op.f])
    _rejected_by("lookup: lk1:", lambda: _prove(pk, op, wit, S))  # exp table


def test_attack_masked_entry_nonzero(pk, monkeypatch):
    """U at a masked position set to 1/4, renormalised: relation U = M G_{K-1} fails."""
    _lenient(monkeypatch)
    op = Softmax("S", "P", HEADS, T, **SMALL)
    S = _scores(15)
    wit = op.witness(S)
    wit[op.u] = wit[op.u].clone()
    wit[op.u][1, 1, 3] = 1 << (op.p_out - 2)
    _renormalise(op, wit)
    _rejected_by("softmax: final check", lambda: _prove(pk, op, wit, S))  # zero-check


def test_attack_masked_digit_nonzero(pk, monkeypatch):
    """A digit of D at a masked position set (its exp and products follow): D = M (z - S)."""
    _lenient(monkeypatch)
    op = Softmax("S", "P", HEADS, T, **SMALL)
    S = _scores(17)
    wit = op.witness(S)
    wit[op.d[0]] = wit[op.d[0]].clone()
    wit[op.d[0]][0, 1, 3] = 5
    _recompute_from(op, wit)
    _rejected_by("softmax: final check", lambda: _prove(pk, op, wit, S))  # zero-check


@pytest.mark.parametrize("which", ["z", "iota"])
def test_attack_padded_row_values(pk, monkeypatch, which):
    """A value on a padded row (t >= T) that no entry reads: z or an iota digit set there."""
    _lenient(monkeypatch)
    op = Softmax("S", "P", HEADS, T, **SMALL)
    S = _scores(28)
    wit = op.witness(S)
    tid = op.z if which == "z" else op.iota[0]

    def padded(vals):
        vals[tid] = list(vals[tid])
        vals[tid][T] = 3  # head 0, row T: padding (T = 5 rows pad to 8)
    _rejected_by("softmax-rows:", lambda: _prove(pk, op, wit, S, padded=padded))
