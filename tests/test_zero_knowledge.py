"""What a proof reveals to an observer who sees only public data (statements and proofs).

The observer replays the Python verifier on proofs of one small MLP and keeps the claims the
batch opening opens on the first weight matrix: each is an evaluation of that matrix's
multilinear extension at a point the transcript fixes, i.e. one linear equation in the weights.
With as many independent equations as weights, linear algebra over the field gives the weights.
A zero-knowledge proof must make that impossible: every claim on a weight tensor is now
combined with a fresh shadow entry of the proof's mask pool (``ops/linear.py``), so the
observer's equations each carry an unknown of their own.
"""
from __future__ import annotations

from unittest import mock

import pytest
import torch
from zk_simulator import Trapdoor, programmed, simulate, simulate_transformer

from prover import api, keys
from prover.field.ref import R
from prover.model.mlp import build_mlp
from prover.pcs import batch
from prover.poly.mle import eq_table
from prover.zk import mask as zkmask


def _observe(monkeypatch, pk, model, n_proofs: int):
    """Proves ``n_proofs`` inferences; returns, per proof, every claim the verifier's batch
    opening receives (from the proof and the statement only) and, for the control, the mask
    pool the prover drew (never part of a proof)."""
    vk = pk.verifying_key()
    seen: list[list] = []
    pools: list[list[int]] = []
    original = batch.open_claims

    def spy(ctx, vk=None):
        if vk is not None:  # the verifier's side: only what the proof and the statement give
            seen.append(list(ctx.claims) + list(ctx.mask.claims))
        else:
            pools.append(list(ctx.values[zkmask.POOL]))
        return original(ctx, vk)

    monkeypatch.setattr(batch, "open_claims", spy)
    for i in range(n_proofs):
        x = torch.rand(4, dtype=torch.float64, generator=torch.Generator().manual_seed(i)) * 2 - 1
        res = api.prove(pk, model, x)
        api.verify(vk, model.commitment, res.statement, res.proof.to_bytes())
    return seen, pools


def _rows(claims, target: str, n_target: int, pool_size: int):
    """Each claim that involves only ``target`` and the mask pool as one linear equation
    [pool coefficients | target coefficients | value] (the observer's unknowns: this proof's
    pool entries and the target's n_target entries)."""
    rows = []
    for c in claims:
        terms = c.weighted_terms()
        if not any(t == target for t, _, _ in terms) or any(t not in (target, zkmask.POOL) for t, _, _ in terms):
            continue
        row = [0] * (pool_size + n_target) + [c.value % R]
        for t, coef, point in terms:
            off, width = (0, pool_size) if t == zkmask.POOL else (pool_size, n_target)
            for j, e in enumerate(eq_table(point)[:width]):
                row[off + j] = (row[off + j] + coef * e) % R
        rows.append(row)
    return rows


def _reduce(rows, cols) -> tuple[list[list[int]], int]:
    """Gauss-Jordan over the columns ``cols`` (in order); returns the rows (pivot rows first)
    and how many pivots were found."""
    rows = [list(r) for r in rows]
    rank = 0
    for col in cols:
        piv = next((k for k in range(rank, len(rows)) if rows[k][col]), None)
        if piv is None:
            continue
        rows[rank], rows[piv] = rows[piv], rows[rank]
        inv = pow(rows[rank][col], R - 2, R)
        rows[rank] = [a * inv % R for a in rows[rank]]
        for k in range(len(rows)):
            if k != rank and rows[k][col]:
                f = rows[k][col]
                rows[k] = [(a - f * b) % R for a, b in zip(rows[k], rows[rank])]
        rank += 1
    return rows, rank


def _eliminate(rows, cols: range) -> list[list[int]]:
    """Every equation the observer can form without the unknowns ``cols``: the rows left
    with zeros there after eliminating them."""
    reduced, rank = _reduce(rows, cols)
    return reduced[rank:]


def _solve(equations: list[list[int]], n: int) -> list[int] | None:
    """The unique solution of the equations [coefficients (n) | value] (mod R), or None."""
    reduced, rank = _reduce(equations, range(n))
    if rank < n:
        return None
    return [reduced[k][n] for k in range(n)]


def test_an_observer_cannot_recover_weights_from_proofs(monkeypatch):
    """The first weight matrix (4 x 8: 32 unknowns) seen through 36 proofs. Every claim on it
    is combined with a fresh shadow entry of the proof's mask pool; eliminating the pool
    leaves the observer no equation in the weights at all. Control: an observer who also
    knew the pools (they are never sent) recovers the weights exactly from the same claims,
    so the claims are informative and the shadows are what hides them."""
    pk = keys.setup(12)
    model = api.commit_model(pk, build_mlp(4, 8, 2, "relu", seed=3))
    seen, pools = _observe(monkeypatch, pk, model, 36)
    n = 32
    actual = [int(v) % R for v in model.params["l0.w"].flatten().tolist()]
    learned, known_pool = [], []
    for claims, pool in zip(seen, pools):
        rows = _rows(claims, "l0.w", n, len(pool))
        assert any(any(r[len(pool):-1]) for r in rows)  # the proof does make claims on l0.w
        learned += [r[len(pool):] for r in _eliminate(rows, range(len(pool))) if any(r[len(pool):-1])]
        # the control: the pool's part moved to the right-hand side
        for r in rows:
            rhs = (r[-1] - sum(a * p for a, p in zip(r[:len(pool)], pool))) % R
            known_pool.append(r[len(pool):-1] + [rhs])
    assert learned == [], f"the observer formed {len(learned)} equations in the weights"
    assert _solve(known_pool, n) == actual  # the control recovers them


def _first_layer_equations(monkeypatch, pk, model, n_proofs: int):
    """The observer's attack on the first layer: x is public, so a plain claim z(r) = v on the
    first Linear's output is the linear equation sum_i x(r_t, i) W(r_o, i) + ind(r_t) b(r_o) = v
    in the weights and biases (coefficients from the statement and the transcript). Returns one
    [coefficients (W row-major, then b) | v] row per plain claim, and the values of the claims
    that arrived hidden (obligations, ``prover/zk/shadow.py``)."""
    from prover.ops import linear as linear_op
    from prover.poly.mle import log2_ceil, prefix_indicator

    vk = pk.verifying_key()
    rows, hidden = [], []
    original = linear_op.Linear.reduce

    def spy(self, ctx, tid, point, value, terms=None):
        if not ctx.is_prover and self.w == "l0.w":
            if terms:
                hidden.append(value)
            else:
                nt, ni = log2_ceil(self.rows), log2_ceil(self.d_in)
                r_t, r_o = point[:nt], point[nt:]
                x, et, eo = ctx.public[self.x], eq_table(r_t), eq_table(r_o)
                xf = [sum(et[t] * x[t * (1 << ni) + i] for t in range(1 << nt)) % R for i in range(self.d_in)]
                row = [eo[o] * xf[i] % R for o in range(self.d_out) for i in range(self.d_in)]
                row += [eo[o] * prefix_indicator(self.rows, r_t) % R for o in range(self.d_out)]
                rows.append(row + [value % R])
        return original(self, ctx, tid, point, value, terms=terms) if terms else original(self, ctx, tid, point, value)

    monkeypatch.setattr(linear_op.Linear, "reduce", spy)
    for i in range(n_proofs):
        x = torch.rand(4, dtype=torch.float64, generator=torch.Generator().manual_seed(i)) * 2 - 1
        res = api.prove(pk, model, x)
        api.verify(vk, model.commitment, res.statement, res.proof.to_bytes())
    return rows, hidden


def test_the_first_layer_output_claims_reveal_nothing(monkeypatch):
    """The first Linear's input x is public, so the value of a claim on its output z would be a
    linear equation in W and b: 40 unknowns (4 x 8 + 8). The claim arrives as an obligation
    instead (the Rescale sends nothing; ``prover/zk/shadow.py``): its value is the constant
    -2^(S-1) in every proof (12 proofs), and the observer forms no equation. Control: with the
    claims sent in the clear (the Linear not absorbing), the same observer solves for W and b
    exactly from 44 proofs -- the attack that recovered them before the obligations."""
    from prover.ops import linear as linear_op

    pk = keys.setup(12)
    model = api.commit_model(pk, build_mlp(4, 8, 2, "relu", seed=3))
    actual = [int(v) % R for v in model.params["l0.w"].flatten().tolist()]
    actual += [int(v) % R for v in model.params["l0.b"].flatten().tolist()]
    rows, hidden = _first_layer_equations(monkeypatch, pk, model, 12)  # no equation from any proof
    assert rows == [] and len(hidden) == 12
    assert len(set(hidden)) == 1  # one public constant, whatever the input and the weights
    monkeypatch.setattr(linear_op.Linear, "absorbs", False)
    rows, hidden = _first_layer_equations(monkeypatch, pk, model, 44)
    assert hidden == [] and len(rows) == 44
    assert _solve(rows, 40) == actual


# --------------------------------------------------------------------------- indistinguishability

def _pair_of_models():
    """Two MLPs that differ only in the first layer's weights on input 1, and an input whose
    entry 1 is zero: the same statement (input, output), different weights."""
    a = build_mlp(4, 8, 2, "relu", seed=3)
    b = build_mlp(4, 8, 2, "relu", seed=3)
    with torch.no_grad():
        b[0].weight[:, 1] += 0.375
    x = torch.tensor([0.5, 0.0, -0.25, 0.75], dtype=torch.float64)
    return a, b, x


def _proof_features(p) -> list[int]:
    """Every field element's low four bits and every G1 point's last byte's low four bits, in
    proof order (fixed challenges make positions comparable across proofs)."""
    return [v & 15 for v in p.frs] + [g[-1] & 15 for g in p.g1_bytes]


def _features(pk, model, x, n: int) -> list[list[int]]:
    """``_proof_features`` of ``n`` real proofs."""
    out = []
    for _ in range(n):
        out.append(_proof_features(api.prove(pk, model, x).proof))
    return out


def _chi2_pvalue(a: list[int], b: list[int], bins: int = 16) -> float:
    """Two-sample chi-square homogeneity test over ``bins`` categories (empty categories
    dropped); the p-value by the Wilson-Hilferty approximation (no scipy here)."""
    import math
    ca, cb = [0] * bins, [0] * bins
    for v in a:
        ca[v] += 1
    for v in b:
        cb[v] += 1
    na, nb = len(a), len(b)
    stat, used = 0.0, 0
    for i in range(bins):
        tot = ca[i] + cb[i]
        if not tot:
            continue
        used += 1
        for c, n in ((ca[i], na), (cb[i], nb)):
            e = tot * n / (na + nb)
            stat += (c - e) ** 2 / e
    k = used - 1
    if k <= 0:
        return 1.0
    z = ((stat / k) ** (1 / 3) - (1 - 2 / (9 * k))) / math.sqrt(2 / (9 * k))
    return 0.5 * math.erfc(z / math.sqrt(2))


def _worst_position(fa, fb) -> tuple[float, int]:
    assert len({len(f) for f in fa + fb}) == 1  # one layout: positions line up
    return min((_chi2_pvalue([f[j] for f in fa], [f[j] for f in fb]), j) for j in range(len(fa[0])))


def _comparisons(fa, fb, fs):
    """(what, Bonferroni-corrected p, worst position) of real proofs of weight set A against
    those of weight set B and against simulated ones."""
    for other, what in ((fb, "the weight sets"), (fs, "real and simulated proofs")):
        p, j = _worst_position(fa, other)
        yield what, p * len(fa[0]), j


def test_proofs_for_two_weight_sets_with_one_statement_are_indistinguishable():
    """Two weight sets, one statement, the challenges fixed in advance: the proofs are
    compared position by position (every field element and G1 point) with a chi-square test of
    homogeneity, Bonferroni-corrected over the positions, and so are the real proofs and the
    simulator's (``zk_simulator``: it sees only the statement, the model commitment and the
    trapdoor, never the weights). With the zero-knowledge layer all three samples are alike
    everywhere. Control: with the layer switched off (a mask pool of zeros: no Libra masks, no
    shadows; the proofs still verify) the same test tells the weight sets apart at once, and
    the real proofs from the simulated ones (the weights' evaluations are then fixed by the
    challenges)."""
    from prover.zk import mask as zkmask

    with programmed():
        td = Trapdoor(12, seed=5)
        pk = td.pk
        vk = pk.verifying_key()
        a, b, x = _pair_of_models()
        ma, mb = api.commit_model(pk, a), api.commit_model(pk, b)
        ra, rb = api.prove(pk, ma, x), api.prove(pk, mb, x)
        assert ra.statement.input == rb.statement.input and ra.statement.output == rb.statement.output
        assert ma.params["l0.w"].tolist() != mb.params["l0.w"].tolist()
        for m, r in ((ma, ra), (mb, rb)):
            api.verify(vk, m.commitment, r.statement, r.proof.to_bytes())
        sim, _ = simulate(td, ma.commitment, ra.statement)
        api.verify(vk, ma.commitment, ra.statement, sim)

        fa, fb = _features(pk, ma, x, 120), _features(pk, mb, x, 120)
        fs = _simulated_features(td, ma.commitment, ra.statement, 120)
        for what, p, j in _comparisons(fa, fb, fs):
            assert p > 1e-3, f"position {j} tells {what} apart (corrected p = {p:.3g})"

        with mock.patch.object(zkmask, "randbelow", lambda rng, n: 0):  # the layer off: a pool of zeros
            rz = api.prove(pk, ma, x)
            api.verify(vk, ma.commitment, rz.statement, rz.proof.to_bytes())
            sz, _ = simulate(td, ma.commitment, rz.statement)
            api.verify(vk, ma.commitment, rz.statement, sz)
            fa, fb = _features(pk, ma, x, 30), _features(pk, mb, x, 30)
            fs = _simulated_features(td, ma.commitment, ra.statement, 30)
        for what, p, j in _comparisons(fa, fb, fs):
            assert p < 1e-6, f"without the zero-knowledge layer {what} should be told apart"


def _simulated_features(td, commitment, statement, n: int) -> list[list[int]]:
    """``_features`` of ``n`` simulated proofs."""
    from prover.proof import Proof

    out = []
    for _ in range(n):
        out.append(_proof_features(Proof.from_bytes(simulate(td, commitment, statement)[0])))
    return out


# --------------------------------------------------------------------------- the simulator

def test_a_simulator_without_the_weights_makes_proofs_the_verifier_accepts():
    """The simulator (``zk_simulator``) sees the statement, the model commitment and the
    SRS trapdoor, with the challenges fixed in advance; it never sees the weights (it is not
    given them: a ``ModelCommitment`` holds points only). Its witness is the zero model's, so
    the claims the statement's output makes are false for it; it repairs those through the
    Libra sums and opens the batch opening with the trapdoor. The unmodified verifier accepts
    its proofs for several statements. Control: without the trapdoor (the draft's own
    opening) the same proofs are rejected, so the simulator's witness is not the model's and
    the trapdoor is what carries it."""
    from prover.errors import VerificationError

    with programmed():
        td = Trapdoor(12, seed=9)
        vk = td.pk.verifying_key()
        model = api.commit_model(td.pk, build_mlp(4, 8, 2, "relu", seed=3))
        for i in range(3):
            x = torch.rand(4, dtype=torch.float64, generator=torch.Generator().manual_seed(i)) * 2 - 1
            st = api.prove(td.pk, model, x).statement
            assert any(st.output)  # the zero model's output is zero: the simulator's witness is not the model's
            proof, repaired = simulate(td, model.commitment, st)
            assert "linear" in repaired  # the output's claim was false for its witness, and repaired
            api.verify(vk, model.commitment, st, proof)
            bad, _ = simulate(td, model.commitment, st, forge_opening=False)
            with pytest.raises(VerificationError, match="opening"):
                api.verify(vk, model.commitment, st, bad)


def test_the_simulator_makes_accepted_transformer_proofs():
    """The same simulator for a transformer (tiny-llama's shape, one layer, 8 tokens): its
    witness is another seed's model (weights of its own choosing) with the statement's next
    token in place of its own. The unmodified verifier accepts. Control: without the
    trapdoor it is rejected at the opening. (A transformer's op claims are still sent in the
    clear, so its real and simulated proofs are not yet indistinguishable:
    docs/zero-knowledge.md, "What is not hidden yet".)"""
    from prover.errors import VerificationError
    from prover.model.loaders import build_model
    from prover.transformer import prove as tp
    from prover.transformer.compile import TQuant, compile_model, forward

    real = build_model("tiny-llama", 0)
    real = build_model(real.cfg.with_(n_layers=1), 0)
    mine = tp.quantize_llama(build_model(real.cfg, 2), TQuant())
    with programmed():
        td = Trapdoor.for_transformer(real.cfg, seed=4, rows=8)
        vk = td.pk.verifying_key()
        model = tp.commit_model(td.pk, real, max_rows=8)
        tokens = torch.randint(0, 256, (8,), generator=torch.Generator().manual_seed(1))
        st = tp.prove(td.pk, model, tokens).statement
        own = forward(compile_model(real.cfg, 8, TQuant()), mine, tokens)
        assert int(own["next"][0]) != st.next_token  # its own witness does not give the statement
        proof, repaired = simulate_transformer(td, model.commitment, st, mine)
        assert repaired  # a false claim was repaired
        tp.verify(vk, model.commitment, st, proof)
        bad, _ = simulate_transformer(td, model.commitment, st, mine, forge_opening=False)
        with pytest.raises(VerificationError, match="opening"):
            tp.verify(vk, model.commitment, st, bad)
