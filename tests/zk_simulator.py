"""A zero-knowledge simulator for MLP proofs (test harness, never part of the prover).

Zero knowledge means: whatever a proof shows, someone who knows only the statement could have
produced on their own. The simulator here is that someone. It sees the statement (input,
output, attester), the public model commitment and the verifying key, never the weights or the
activations. In exchange it gets what a real prover never has:

* the SRS trapdoor (tau, xi): it can open any commitment to any value;
* a programmable transcript (``programmed``): every challenge is fixed in advance by the
  sequence of labels, whatever the messages, so it knows each challenge before it must
  commit to the message that precedes it.

How it builds a proof:

1. A witness of its own: the forward pass of the model with every weight zero, on the
   statement's input, except that the output is the statement's (it is public). So the last
   layer's relation does not hold in this witness.
2. It runs the ordinary prover on that witness, against the real model commitment. Every
   message is then made from its own witness; where the statement's output enters a
   sumcheck's claimed sum, the claim is false for this witness.
3. It repairs each false claim through the Libra mask's sum G, which is sent before rho: knowing
   rho, it sends G' = G + (sum f - H) / rho, so that H + rho G' is the sum its rounds carry.
   (In an MLP proof every final check ends in the batch opening, so step 4 alone would also
   pass; step 3 keeps the rounds consistent with the claims, as in a real proof, and is what
   a circuit needs whose verifier checks a final value itself.)
4. The batch opening's pairing needs Phi's commitment, which mixes the real model commitment
   with its own: with the trapdoor it picks the quotients uniformly and solves the pairing
   equation for the hiding term.

Steps 3 and 4 need the challenges and the verifier's claims; the simulator gets them by
replaying the (public) verifier over its draft proof, patching the draft as it goes. Its output
must be accepted by the unmodified verifier under the same programmed challenges.
"""
from __future__ import annotations

import random
from contextlib import ExitStack, contextmanager
from unittest import mock

import torch

from prover import api, circuit as circuit_mod, keys, sumcheck
from prover import transcript as tr
from prover.channel import ProverChannel, VerifierChannel
from prover.errors import VerificationError
from prover.field.ref import R
from prover.pcs import kzg, srs as srs_mod
from prover.pcs.curve import G1Point, g1_to_bytes, msm, randbelow
from prover.proof import Proof
from prover.quant import QuantSpec


@contextmanager
def programmed():
    """A test-only programmable transcript: absorbing moves the state by the label alone, so
    every challenge is fixed in advance by the sequence of labels (the same for every proof of
    one circuit), whatever is sent. Both sides run it, so honest proofs still verify."""
    def absorb(self, label, data):
        self.state = tr.keccak256(self.state + b"\x00" + tr.label32(label))

    with mock.patch.object(tr.Transcript, "absorb", absorb):
        yield


class Trapdoor:
    """A development SRS whose secrets are kept: tau (one per variable) and xi. ``tables``
    builds the key tables' (values, commitment) from the SRS (default: the MLP's)."""

    def __init__(self, num_vars: int, seed: int, tables=None):
        rng = random.Random(seed)
        self.taus = [2 + randbelow(rng, R - 2) for _ in range(num_vars)]
        self.xi = 1 + randbelow(rng, R - 1)
        s = srs_mod._setup_from_secrets(num_vars, self.taus, self.xi)
        self.pk = keys.ProvingKey(s, tables(s) if tables else keys.commit_tables(s, QuantSpec()))

    @classmethod
    def for_transformer(cls, cfg, seed: int, rows: int | None = None) -> "Trapdoor":
        """The trapdoor of a transformer key (``prover.transformer.prove.setup``'s shape)."""
        from prover.transformer.compile import TQuant, compile_model, key_table_values

        tq, rows = TQuant(), rows or cfg.max_seq
        tabs = key_table_values(tq, cfg, rows)
        return cls(compile_model(cfg, rows, tq).num_vars, seed,
                   lambda s: {k: (v, kzg.commit(s, v, 0)) for k, v in tabs.items()})

    def forge_opening(self, commitment, point, value, rng) -> kzg.OpeningProof:
        """An opening of ``commitment`` at ``point`` to ``value``, whatever it commits to:
        uniform quotients pi_i (as in a real opening, where each carries a fresh blind), and
        pi_xi = (C - v g - sum_i (tau_{o+i} - z_i) pi_i) / xi, the one hiding term that
        satisfies the verification equation."""
        m = len(point)
        o = len(self.taus) - m
        qs = [msm([G1Point()], [1 + randbelow(rng, R - 1)]) for _ in range(m)]
        inv = pow(self.xi, R - 2, R)
        coefs = [inv, (-value * inv) % R] + [(-(self.taus[o + i] - z) * inv) % R for i, z in enumerate(point)]
        return kzg.OpeningProof(qs, msm([commitment, G1Point(), *qs], coefs))


def _fake_blinds(commitment, rng) -> dict:
    """Blinds for the prover's bookkeeping of the model tensors (one per chunk of a chunked
    commitment); never used against the real points, whose opening is forged."""
    out = {}
    for n, c in zip(commitment.names, commitment.points):
        chunks = getattr(c, "chunks", None)
        out[n] = [randbelow(rng, R) for _ in chunks] if chunks is not None else randbelow(rng, R)
    return out


def _recording_draft(run):
    """Step 2: ``run()`` (the ordinary prover on the simulator's witness) while recording, per
    masked sumcheck label, the sums its first rounds carry (sum f + rho G), in run order."""
    first_sums: dict[str, list[int]] = {}
    state = {"evals": None, "awaiting": set()}
    to_coeffs, send = sumcheck.evals_to_coeffs, ProverChannel.send_frs

    def evals_to_coeffs(evals):
        state["evals"] = list(evals)
        return to_coeffs(evals)

    def send_frs(self, label, xs):
        base, _, kind = label.rpartition("/")
        if kind == "G":
            state["awaiting"].add(base)
        elif kind == "g" and base in state["awaiting"]:  # a masked sumcheck's first round
            state["awaiting"].discard(base)
            e = state["evals"]
            first_sums.setdefault(base, []).append((e[0] + e[1]) % R)
        return send(self, label, xs)

    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(sumcheck, "evals_to_coeffs", evals_to_coeffs))
        stack.enter_context(mock.patch.object(ProverChannel, "send_frs", send_frs))
        return run(), first_sums


def _prove_draft(td: Trapdoor, circuit, transcript, vals, ints, public, commitment, tables, rng):
    """Step 2 for any circuit: ``prove_run`` on the simulator's witness against the real model
    commitment and the key tables, recorded (``_recording_draft``)."""
    return _recording_draft(lambda: circuit_mod.prove_run(
        circuit, transcript, vals, ints=ints, public=public, srs=td.pk.srs, rng=rng,
        commitments={**dict(zip(commitment.names, commitment.points)), **tables},
        blinds={**_fake_blinds(commitment, rng), **{t: 0 for t in tables}})[0])


def _draft(td: Trapdoor, commitment, statement, rng):
    """Steps 1-2 for an MLP: the zero model's witness, the statement's output."""
    pk = td.pk
    circuit = api.circuit_for(commitment, len(statement.input))
    d_in = commitment.arch["d_in"]
    xq = torch.tensor(statement.input, dtype=torch.int64).reshape(-1, d_in)
    params = {n: torch.zeros(circuit.specs[n].shape, dtype=torch.int64) for n in circuit.model_tensors()}
    ints = circuit_mod.forward(circuit, params, xq)
    out_id = circuit.output_id  # the output is public: the statement's, not the forward pass's
    ints[out_id] = torch.tensor(statement.output, dtype=torch.int64).reshape(ints[out_id].shape)
    vals = circuit_mod.field_values(circuit, ints)
    public = {"x": vals["x"], out_id: vals[out_id]}
    tables = {circuit_mod.table_id(t): pk.tables[t.name][1] for t in circuit.tables()}
    for t in circuit.tables():
        vals[circuit_mod.table_id(t)] = pk.tables[t.name][0]
    transcript = tr.Transcript()
    circuit_mod.absorb_statement(transcript, pk.verifying_key().digest(), statement.model_digest, circuit,
                                 [v % R for v in statement.input], [v % R for v in statement.output],
                                 statement.attester)
    return _prove_draft(td, circuit, transcript, vals, ints, public, commitment, tables, rng)


def _draft_transformer(td: Trapdoor, commitment, statement, params, rng):
    """Steps 1-2 for a transformer: the witness of weights the simulator chose (``params``,
    quantized), the statement's next token in place of its own."""
    from prover.transformer import prove as tp
    from prover.transformer.compile import compile_model, field_values, forward, table_id

    pk = td.pk
    circuit = compile_model(commitment.cfg, len(statement.tokens), commitment.tq)
    ints = forward(circuit, params, torch.tensor(statement.tokens, dtype=torch.int64))
    ints["next"] = torch.tensor([statement.next_token], dtype=torch.int64).reshape(ints["next"].shape)
    vals = field_values(circuit, ints)
    for name in circuit.key_tables:
        vals[table_id(name)] = pk.tables[name][0]
    tables = {table_id(name): pk.tables[name][1] for name in circuit.key_tables}
    transcript = tr.Transcript()
    tp.absorb_statement(transcript, pk.verifying_key().digest(), statement, circuit)
    return _prove_draft(td, circuit, transcript, vals, ints, {"tokens": vals["tokens"], "next": vals["next"]},
                        commitment, tables, rng)


def simulate_transformer(td: Trapdoor, commitment, statement, params, rng=None, *,
                         forge_opening: bool = True) -> tuple[bytes, list[str]]:
    """``simulate`` for a transformer: ``params`` are quantized weights of the simulator's own
    choosing (e.g. another seed's model of the same config; it never sees the real ones)."""
    from prover.transformer import prove as tp

    rng = rng or random.Random()
    proof, first_sums = _draft_transformer(td, commitment, statement, params, rng)
    return _repair(td, proof, first_sums, lambda b: tp.verify(td.pk.verifying_key(), commitment, statement, b),
                   rng, forge_opening)


def simulate(td: Trapdoor, commitment, statement, rng=None, *, forge_opening: bool = True) -> tuple[bytes, list[str]]:
    """A proof of ``statement`` for ``commitment`` made without the model's weights (module
    docstring), and the labels of the sumchecks whose false claims it repaired (step 3); call
    it under ``programmed()``. ``forge_opening=False`` skips step 4 (the control that shows the
    trapdoor is what makes the proof pass)."""
    rng = rng or random.Random()
    proof, first_sums = _draft(td, commitment, statement, rng)
    return _repair(td, proof, first_sums, lambda b: api.verify(td.pk.verifying_key(), commitment, statement, b),
                   rng, forge_opening)


def _repair(td: Trapdoor, proof, first_sums, verify, rng, forge_opening: bool) -> tuple[bytes, list[str]]:
    """Steps 3-4: replays ``verify`` over the draft, repairing the Libra sums of false claims
    and forging the opening; returns the patched proof and the repaired sumchecks' labels."""
    fr_patch: dict[int, int] = {}
    g1_patch: dict[int, object] = {}
    seen = {"G": {}, "rho": {}}
    repaired: list[str] = []
    recv, challenge, verify_sc, verify_kzg = (VerifierChannel.recv_frs, VerifierChannel.challenge,
                                              sumcheck.verify, kzg.verify)

    def recv_frs(self, label, n):
        base, _, kind = label.rpartition("/")
        if kind == "G":
            seen["G"][base] = (self, self._fi)
        return recv(self, label, n)

    def chal(self, label):
        v = challenge(self, label)
        base, _, kind = label.rpartition("/")
        if kind == "rho":
            seen["rho"][base] = v
        return v

    def sc_verify(ch, label, n, degree, claim, first_degree=None):
        if label in seen["G"] and n:
            vch, pos = seen["G"].pop(label)
            carried = first_sums[label].pop(0)
            if carried != claim:  # step 3: G' = G + (sum f - H) / rho
                g_new = (vch._frs[pos] + (carried - claim) * pow(seen["rho"][label], R - 2, R)) % R
                vch._frs[pos] = fr_patch[pos] = g_new
                repaired.append(label)
                claim = carried
        return verify_sc(ch, label, n, degree, claim, first_degree=first_degree)

    def kzg_verify(vk, c_phi, point, value, opening):
        if forge_opening:  # step 4: the last m + 1 points of the proof are the opening's
            opening = td.forge_opening(c_phi, point, value, rng)
            items = [*opening.quotients, opening.pi_xi]
            for k, p in enumerate(items):
                g1_patch[len(proof.g1s) - len(items) + k] = p
        return verify_kzg(vk, c_phi, point, value, opening)

    with ExitStack() as stack:
        for obj, name, fn in ((VerifierChannel, "recv_frs", recv_frs), (VerifierChannel, "challenge", chal),
                              (sumcheck, "verify", sc_verify), (kzg, "verify", kzg_verify)):
            stack.enter_context(mock.patch.object(obj, name, fn))
        try:
            verify(proof.to_bytes())
        except VerificationError:
            if forge_opening:  # the simulator failed: say so
                raise
    frs = list(proof.frs)
    for k, v in fr_patch.items():
        frs[k] = v
    g1s = list(proof.g1s)
    for k, p in g1_patch.items():
        g1s[k] = p
    return Proof(proof.circuit_digest, g1s, [g1_to_bytes(p) for p in g1s], frs).to_bytes(), repaired
