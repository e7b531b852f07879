"""Run one protocol fragment as prover and as verifier, for op-level tests.

``run_fragment`` commits the listed tensors, runs ``body(ctx)`` on a prover
context, opens every claim, then replays the same steps on a verifier context
over the proof items (optionally tampered). It raises what the verifier raises.

Tensors of kind "table" are committed without blinding by the prover and handed to
the verifier as known commitments (as the verifying key does); tensors of kind
"input"/"output" are public (evaluated by the verifier from ``values``).
"""
from __future__ import annotations

from prover.channel import ProverChannel, VerifierChannel
from prover.context import ProverCtx, VerifierCtx, attach_commit
from prover.zk import mask as zkmask
from prover.lookup import logup
from prover.pcs import batch, kzg
from prover.pcs.curve import g1_to_bytes
from prover.rng import seeded
from prover.transcript import Transcript


def run_lookups(ctx, instances) -> None:
    """Phases 1-3 of the schedule for ``instances`` (multiplicities, inverses, sumchecks)."""
    for lk in instances:
        if ctx.is_prover:
            ctx.values[lk.mult_id] = logup.multiplicities(lk, ctx.values)
        attach_commit(ctx, lk.mult_id, "lookup/m")
    for lk in instances:
        logup.commit_inverses(ctx, lk)
    for lk in instances:
        logup.run_sumchecks(ctx, lk)


def wire_lookup(inst, specs) -> None:
    """Give a LookupInstance its multiplicity/inverse tensors and their specs."""
    from prover.context import TensorSpec
    inst.mult_id = f"{inst.label}/m"
    specs[inst.mult_id] = TensorSpec(inst.mult_id, (inst.table.size,), "advice")
    inst.a_ids = [f"{inst.label}/A{c}" for c in range(len(inst.columns))]
    for aid, col in zip(inst.a_ids, inst.columns):
        specs[aid] = TensorSpec(aid, specs[col[0]].shape, "proof")
    inst.b_id = f"{inst.label}/B"
    specs[inst.b_id] = TensorSpec(inst.b_id, (inst.table.size,), "proof")


def lenient_multiplicities(monkeypatch) -> None:
    """Play a cheating prover: count table rows, silently skipping values not in the table."""
    from prover.field.ref import to_signed

    def lenient(inst, values):
        m = [0] * inst.table.size
        lo = inst.table.lo if inst.pair else 0
        for col in inst.columns:
            for k in values[col[0]]:
                idx = to_signed(k) - lo
                if 0 <= idx < inst.table.size:
                    m[idx] += 1
        return m
    monkeypatch.setattr(logup, "multiplicities", lenient)


def lookup_cheat(monkeypatch, mode: str, label: str = "lk0") -> None:
    """Play a cheating prover on lookup ``label`` whose columns are all in the table:
    ``m``: one count of the multiplicities moved to the next row (m committed so, B
    consistent with it, so the two sides sum differently); ``A`` / ``B``: the first entry of
    the first inverse column A / of B one off when committed. The sumcheck then runs on the
    committed values, so only the lookup's final check can tell."""
    import numpy as np
    from prover.field import R, native

    if mode == "m":
        honest = logup.multiplicities

        def moved(inst, values):
            m = honest(inst, values)
            if inst.label == label:
                k = next(i for i, c in enumerate(m) if c)
                m[k] -= 1
                m[(k + 1) % len(m)] += 1
            return m
        monkeypatch.setattr(logup, "multiplicities", moved)
        return
    assert mode in ("A", "B"), mode
    commit = logup.attach_commit
    done = []

    def off_by_one(ctx, tid, lbl):
        if ctx.is_prover and lbl == f"{label}/{mode}" and not done:
            v = ctx.values[tid]
            v = native.to_ints(v) if isinstance(v, np.ndarray) else [int(x) for x in v]
            v[0] = (v[0] + 1) % R
            ctx.values[tid] = v
            ctx.commit_rows.pop(tid, None)  # commit the altered values, not the table rows
            done.append(tid)
        commit(ctx, tid, lbl)
    monkeypatch.setattr(logup, "attach_commit", off_by_one)


def run_fragment(pk, specs, values, committed, body, *, producers=None, tamper=None, ints=None,
                 verifier_tables=None) -> None:
    """Prove then verify ``body``; ``tamper(frs, g1s)`` may edit the proof items in place.

    ``verifier_tables`` (id -> G1) overrides the table commitments the verifier trusts
    (by default those of the prover's table values, as a verifying key would hold)."""
    pch = ProverChannel(Transcript())
    p = ProverCtx(ch=pch, specs=specs, values=dict(values), srs=pk.srs, rng=seeded(1))
    p.ints = ints or {}
    p.public = {t: v for t, v in values.items() if specs[t].kind in ("input", "output")}
    p.producers = dict(producers or {})
    tables = {}
    for t, s in specs.items():
        if s.kind == "table":
            tables[t] = kzg.commit(pk.srs, values[t], 0)
            p.commitments[t], p.blinds[t] = tables[t], 0
    zkmask.commit_pool(p, 256)  # blocks for the masks and shadows of one op and its lookups
    for t in committed:
        attach_commit(p, t, "c")
    body(p)
    batch.open_claims(p)
    frs, g1s = list(pch.frs), list(pch.g1s)
    if tamper:
        tamper(frs, g1s)
    vch = VerifierChannel(Transcript(), g1s, [g1_to_bytes(g) for g in g1s], frs)
    v = VerifierCtx(ch=vch, specs=specs)
    v.public = dict(p.public)
    v.producers = dict(producers or {})
    v.commitments.update(tables)
    v.commitments.update(verifier_tables or {})
    zkmask.commit_pool(v, 0)
    for t in committed:
        attach_commit(v, t, "c")
    body(v)
    batch.open_claims(v, pk.verifying_key().srs_vk)
    vch.assert_consumed()


def swap_layers(circuit, ints, ids=None) -> list[str]:
    """Play a cheating prover: trade layer 0's slice of every stacked committed tensor (or of
    ``ids``) with layer 1's. Returns the ids swapped."""
    L = circuit.cfg.n_layers
    done = []
    committed = [t for ms in getattr(circuit, "pools", {}).values() for t, _ in ms] or circuit.witness
    for tid in ids if ids is not None else committed:
        sp = circuit.specs[tid]
        if len(sp.shape) >= 2 and sp.shape[0] == L and hasattr(ints.get(tid), "clone"):
            t = ints[tid].clone()
            t[[0, 1]] = t[[1, 0]]
            ints[tid] = t
            done.append(tid)
    return done


def item_cases(layout, last_every: int = 1) -> list[tuple[str, int, str]]:
    """(kind, index, label) of the first item of every (label, kind) of a proof layout, and of
    the last item of every ``last_every``-th one."""
    picks: dict = {}
    for label, kind, idx in layout:
        picks.setdefault((label, kind), []).append(idx)
    return sorted({(kind, ix[0], label) for (label, kind), ix in picks.items()}
                  | {(kind, ix[-1], label) for n, ((label, kind), ix) in enumerate(sorted(picks.items()))
                     if n % last_every == 0})


def altered_proof(proof, kind: str, idx: int) -> bytes:
    """``proof`` with item ``idx`` changed: a field element plus one, or a G1 point replaced by
    the next different point of the same proof."""
    from prover.field import R
    from prover.proof import Proof
    g1s, g1b, frs = list(proof.g1s), list(proof.g1_bytes), list(proof.frs)
    if kind == "fr":
        frs[idx] = (frs[idx] + 1) % R
    else:
        j = next(j for j in range(1, len(g1b)) if g1b[(idx + j) % len(g1b)] != g1b[idx])
        g1s[idx], g1b[idx] = g1s[(idx + j) % len(g1s)], g1b[(idx + j) % len(g1b)]
    return Proof(proof.circuit_digest, g1s, g1b, frs).to_bytes()


def forge_runner_up(ints) -> None:
    """Witness hook: claim the runner-up logit as the next token, with the argmax digits forged
    (two's complement low bits of the negative differences)."""
    import torch
    row = ints["head.q"][-1]
    k = int(torch.argsort(row, descending=True)[1])
    ints["next"] = torch.tensor([k])
    diff = row[k] - row - (torch.arange(row.numel()) < k).to(torch.int64)
    for m in range(3):
        ints[f"am.d{m}"] = (diff >> (8 * m)) & 255


def wrong_bound_digit(ints, digit: str = "o.q.b0") -> None:
    """Witness hook: one range-bound digit of a rescaled quotient flipped in its low bit (still
    a valid digit, so every lookup holds); only the fused bound identity at the Rescale root
    can tell."""
    t = ints[digit].clone()
    t.view(-1)[0] ^= 1
    ints[digit] = t


def wrap_output(quant, entry: int = 0):
    """A witness hook for an MLP proof (``api.prove``): the output wrap-around. Output
    ``entry``'s remainder rem -> rem - d (d = +-1, still in [0, 2^S)), its quotient
    q -> q + d / 2^S mod r (the signed integer it then is: about 8e71 for S = 16); the
    digits stay digits and 2^S q + rem is unchanged mod r, so every relation holds.
    S = ``quant.linear_shift(False)``, the last layer's shift."""
    import numpy as np

    from prover.field import R

    s, b = quant.linear_shift(False), quant.digit_bits

    def hook(ints) -> None:
        last = max(int(k[1:].split(".")[0]) for k in ints if k.startswith("l") and k.endswith(".q"))
        qid, dids = f"l{last}.q", [f"l{last}.d{k}" for k in range(s // b)]
        rem = sum(int(ints[did].reshape(-1)[entry]) << (b * k) for k, did in enumerate(dids))
        d = 1 if rem >= 1 else -1
        rem -= d
        for k, did in enumerate(dids):
            v = ints[did].clone()
            v.view(-1)[entry] = (rem >> (b * k)) & ((1 << b) - 1)
            ints[did] = v
        flat = [int(v) for v in ints[qid].reshape(-1).tolist()]
        q = (flat[entry] + d * pow(1 << s, -1, R)) % R
        flat[entry] = q - R if q > R // 2 else q
        ints[qid] = np.array(flat, dtype=object).reshape(tuple(ints[qid].shape))

    return hook


#: One linear layer 4 -> 2: the MLP whose output is its only rescale's quotient.
ONE_LINEAR = {"kind": "mlp", "d_in": 4, "layers": [{"linear": 2}]}


def extreme_activation_model(pk, quant):
    """An MLP (``ONE_LINEAR``) and an input that state the extreme activations: with
    L = 2^(io_bits-1) - 1, x = (L, -L, 3, -5) maps to y = (L, -L) (row 0 of W is zero and its
    bias 2^S L; row 1 adds x_2 + x_3 = -2 to a bias that makes -L). Returns (model, x, L)."""
    import torch

    from prover import api

    s, wf, lim = quant.linear_shift(False), quant.weight_frac_bits, (1 << (quant.io_bits - 1)) - 1
    w = torch.tensor([[0, 0, 0, 0], [0, 0, 1 << wf, 1 << wf]])
    b = torch.tensor([lim << s, (-lim << s) + (2 << wf)])
    cm = api.commit_quantized(pk, ONE_LINEAR, {"l0.w": w, "l0.b": b}, quant, rng=seeded(5))
    return cm, torch.tensor([lim, -lim, 3, -5]), lim
