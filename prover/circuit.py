"""The model compiler and the proof schedule.

``compile_mlp`` turns an architecture (a list of layers) into a ``Circuit``: tensor
specs, ops in forward order, the rescale roots, and the lookup instances. The same
ops run the quantized forward pass (``forward``) and the proof (``prove_run`` /
``verify_run``), so the proven computation is the forward pass by construction.

Proof schedule (prover and verifier walk it in lock-step):

0. statement: vk digest, model digest, circuit digest, public input, output;
1. witness commitments in forward order (rescale quotients and digits, activation
   outputs), then each lookup's multiplicities;
2. per lookup: beta, gamma, commitments to the inverse vectors;
3. per lookup: one zero-sum sumcheck (witness side minus table side);
4. per rescale, last layer first: a fresh point on the accumulator, reduced
   through the linear layer's sumcheck to the input and the weights;
5. the batch opening of every claim on a committed tensor.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .channel import ProverChannel, VerifierChannel
from .field import native
from .field.ref import to_signed
from .field.smallvec import BOUND as SMALL_BOUND, SmallVec, pad_small
from .context import ProverCtx, TensorSpec, VerifierCtx, attach_commit
from .lookup import logup
from .zk import mask as zkmask
from .lookup.tables import FunctionTable, RangeTable
from .ops.activation import Activation
from .ops.linear import Linear
from .ops.rescale import Rescale
from .pcs import batch
from .poly.mle import pad_flat
from .proof import Proof
from .quant import QuantSpec
from . import attester as attester_mod
from .transcript import keccak256

ACTIVATIONS = ("gelu", "relu", "silu")


@dataclass
class Circuit:
    arch: dict
    quant: QuantSpec
    rows: int
    specs: dict[str, TensorSpec]
    ops: list
    roots: list[Rescale]
    lookups: list[logup.LookupInstance]
    witness: list[str]                 # advice tensors committed in phase 1, in order
    pad_values: dict[str, int] = field(default_factory=dict)

    @property
    def input_id(self) -> str:
        return "x"

    @property
    def output_id(self) -> str:
        return [s.id for s in self.specs.values() if s.kind == "output"][0]

    @property
    def producers(self) -> dict[str, object]:
        """Virtual tensor -> the op that reduces claims on it."""
        return {op.z: op for op in self.ops if hasattr(op, "reduce")}

    def model_tensors(self) -> list[str]:
        return [s.id for s in self.specs.values() if s.kind == "model"]

    def tables(self) -> list[FunctionTable]:
        return [lk.table for lk in self.lookups if lk.pair]

    def digest(self) -> bytes:
        """keccak256(b"zkllm-circuit/v1" || encode_arch(arch, quant) || rows as u32 big-endian)."""
        from .model.arch import encode_arch
        return keccak256(b"zkllm-circuit/v1" + encode_arch(self.arch, self.quant) + self.rows.to_bytes(4, "big"))

    @property
    def num_vars(self) -> int:
        """Variables of the SRS the circuit needs: its largest committed tensor, or the mask
        pool its proofs commit (``zk.mask``), whichever is larger."""
        n = max(s.num_vars for s in self.specs.values() if s.kind != "virtual")
        return max(n, zkmask.pool_vars_for(mask_blocks(self)))


def table_id(t: FunctionTable) -> str:
    return f"table/{t.name}"


def compile_mlp(arch: dict, quant: QuantSpec, rows: int = 1) -> Circuit:
    """arch = {"d_in": int, "layers": [{"linear": d_out} | {"act": name}, ...]}."""
    specs: dict[str, TensorSpec] = {}
    ops: list = []
    roots: list[Rescale] = []
    witness: list[str] = []
    pad_values: dict[str, int] = {}
    acts: dict[str, FunctionTable] = {}
    act_cols: dict[str, list] = {}
    digit_cols: list[tuple[str]] = []

    def add(tid, shape, kind):
        specs[tid] = TensorSpec(tid, tuple(shape), kind)

    layers = arch["layers"]
    if not layers or "linear" not in layers[0]:
        raise ValueError("an MLP must start with a linear layer")
    add("x", (rows, arch["d_in"]), "input")
    cur, width = "x", arch["d_in"]
    for i, layer in enumerate(layers):
        if "linear" in layer:
            d_out = int(layer["linear"])
            last = i == len(layers) - 1
            to_lookup = not last and "act" in layers[i + 1]
            if not last and not to_lookup:
                raise ValueError("two linear layers in a row: fold them into one")
            w, b, z, q = f"l{i}.w", f"l{i}.b", f"l{i}.z", f"l{i}.q"
            add(w, (d_out, width), "model")
            add(b, (d_out,), "model")
            add(z, (rows, d_out), "virtual")
            add(q, (rows, d_out), "output" if last else "advice")
            shift = quant.linear_shift(to_lookup)
            dids = [f"l{i}.d{k}" for k in range(shift // quant.digit_bits)]
            for did in dids:
                add(did, (rows, d_out), "advice")
            lin = Linear(cur, w, b, z, rows, width, d_out)
            rs = Rescale(z, q, dids, shift, quant.digit_bits)
            ops += [lin, rs]
            roots.append(rs)
            pad_values.update(rs.pad_values())
            witness += ([] if last else [q]) + dids
            digit_cols += [(d,) for d in dids]
            cur, width = q, d_out
        elif "act" in layer:
            name = layer["act"]
            if name not in ACTIVATIONS:
                raise ValueError(f"unknown activation {name!r}; choose from {ACTIVATIONS}")
            if i == len(layers) - 1 or "linear" not in layers[i + 1]:
                raise ValueError("an activation must be followed by a linear layer")
            t = FunctionTable(name, quant.lookup_in_bits, quant.lookup_in_frac_bits, quant.act_frac_bits)
            y = f"a{i}"
            add(y, (rows, width), "advice")
            ops.append(Activation(cur, y, t))
            witness.append(y)
            acts[name] = t
            act_cols.setdefault(name, []).append((cur, y))
            cur = y
        else:
            raise ValueError(f"unknown layer {layer!r}")

    lookups = []
    for name, t in acts.items():
        add(table_id(t), (t.size,), "table")
        lookups.append(logup.LookupInstance(f"lk{len(lookups)}", t, act_cols[name], table_id(t)))
    rt = RangeTable(quant.digit_bits)
    lookups.append(logup.LookupInstance(f"lk{len(lookups)}", rt, digit_cols))
    for lk in lookups:
        lk.mult_id = f"{lk.label}/m"
        add(lk.mult_id, (lk.table.size,), "advice")
        lk.a_ids = [f"{lk.label}/A{c}" for c in range(len(lk.columns))]
        for aid, col in zip(lk.a_ids, lk.columns):
            add(aid, specs[col[0]].shape, "proof")
        lk.b_id = f"{lk.label}/B"
        add(lk.b_id, (lk.table.size,), "proof")
    return Circuit(arch, quant, rows, specs, ops, roots, lookups, witness, pad_values)


def forward(circuit: Circuit, params: dict[str, torch.Tensor], x: torch.Tensor) -> dict[str, torch.Tensor]:
    """The quantized forward pass: integer tensors for every tensor of the circuit."""
    ints = dict(params)
    ints["x"] = x.to(torch.int64).reshape(circuit.rows, -1)
    for op in circuit.ops:
        op.forward(ints)
    return ints


def field_values(circuit, ints: dict[str, torch.Tensor], skip_kinds: tuple[str, ...] = ()) -> dict[str, list[int]]:
    """Padded flat field vectors; padded entries take the values the relations need.

    ``circuit`` is anything with ``specs`` and ``pad_values``; tensors whose kind is in
    ``skip_kinds`` are left out (e.g. tables whose values come from the proving key)."""
    vals = {}
    for tid, spec in circuit.specs.items():
        if tid in ints and spec.kind not in skip_kinds:
            small = _small_values(ints[tid], spec, circuit.pad_values.get(tid))
            if small is not None:
                vals[tid] = small
                continue
            flat = pad_flat(ints[tid], spec.shape)
            pv = circuit.pad_values.get(tid)
            if pv is not None:
                mask = pad_flat(torch.ones(spec.shape, dtype=torch.int64), spec.shape)
                flat = [v if m else pv for v, m in zip(flat, mask)]
            vals[tid] = flat
    return vals


def _small_values(t, spec: TensorSpec, pad):
    """The padded values of an integer tensor as a ``SmallVec`` (8 bytes an entry), or None
    for public tensors, non-integer data or entries too large for int64 arithmetic."""
    if spec.kind in ("input", "output") or not isinstance(t, torch.Tensor) or t.is_floating_point():
        return None
    if t.numel() and int(t.abs().max()) >= SMALL_BOUND:
        return None
    v = pad_small(t, spec.shape)
    if pad is not None:
        ps = to_signed(pad)
        if abs(ps) >= SMALL_BOUND:
            return None
        mask = pad_small(torch.ones(spec.shape, dtype=torch.int64), spec.shape).arr
        v.arr[mask == 0] = ps
    return v


def absorb_statement(t, vk_digest: bytes, model_digest: bytes, circuit: Circuit, inp: list[int], out: list[int],
                     attester: bytes):
    t.absorb("statement/vk", vk_digest)
    t.absorb("statement/model", model_digest)
    t.absorb("statement/circuit", circuit.digest())
    t.absorb("statement/attester", attester_mod.word(attester))
    t.absorb_frs("statement/input", inp)
    t.absorb_frs("statement/output", out)


def mask_blocks(circuit, attempt: int = 0) -> int:
    """How many mask-pool blocks (one per sumcheck round) the prover provides, from the
    circuit's shape alone so that every proof of a circuit has the same pool size: an
    estimate (a virtual tensor's claim is reduced over about its own variables, a lookup
    over at most max-vars), times 4^attempt when a run found it too small (``prove_run``
    then starts again)."""
    nmax = max((s.num_vars for s in circuit.specs.values()), default=0) + 1
    virt = sum(s.num_vars + 2 for s in circuit.specs.values() if s.kind == "virtual")
    shadows = 4 * sum(isinstance(op, Linear) for op in circuit.ops)  # a Linear: x, W, b and an obligation
    shadows += sum(len(lk.columns) * (3 if lk.pair else 2) + 3 for lk in circuit.lookups)  # + the b round
    return (virt + len(circuit.lookups) * nmax + shadows + 8) << (2 * attempt)


def run(ctx, circuit: Circuit, vk=None, log=None) -> None:
    """Phases 1-5 of the schedule; identical for prover and verifier contexts. ``log(msg)``
    (optional) hears when each phase starts, with the seconds since the first."""
    t0 = time.perf_counter()

    def phase(msg):
        if log is not None:
            log(f"  [{time.perf_counter() - t0:7.1f}s] {msg}")

    zkmask.commit_pool(ctx, mask_blocks(circuit, getattr(ctx, "mask_attempt", 0)) if ctx.is_prover else 0)
    phase(f"witness commitments ({len(circuit.witness)} tensors)")
    for tid in circuit.witness:
        attach_commit(ctx, tid, "witness")
    phase(f"lookup multiplicities ({len(circuit.lookups)} lookups)")
    for lk in circuit.lookups:
        if ctx.is_prover:
            ctx.values[lk.mult_id] = logup.multiplicities(lk, ctx.values)
        attach_commit(ctx, lk.mult_id, "lookup/m")
    phase("lookup inverse columns")
    for lk in circuit.lookups:
        logup.commit_inverses(ctx, lk)
    phase("lookup sumchecks")
    for lk in circuit.lookups:
        logup.run_sumchecks(ctx, lk)
    phase(f"op reductions ({len(circuit.roots)} roots)")
    for rs in reversed(circuit.roots):
        rs.root(ctx)
    phase(f"batch opening ({len(ctx.claims)} claims)")
    batch.open_claims(ctx, vk)
    phase("done")


def assemble_pool(size: int, members: list[tuple[str, int]], values: dict) -> list[int]:
    """The values of a pooled commitment: each member's padded vector at its (aligned) offset."""
    if all(isinstance(values[tid], SmallVec) for tid, _ in members):
        arr = np.zeros(size, dtype=np.int64)
        for tid, off in members:
            arr[off:off + len(values[tid])] = values[tid].arr
        return SmallVec(arr)
    out = [0] * size
    for tid, off in members:
        v = values[tid]
        out[off:off + len(v)] = v
    return out


def pool_prefixes(circuit) -> dict[str, tuple[str, list[int]]]:
    """tid -> (pool id, the high bits of its block offset): a claim on the member at x is a
    claim on the pool at prefix || x."""
    from .poly.mle import bits_msb
    out = {}
    for pid, members in getattr(circuit, "pools", {}).items():
        n = circuit.specs[pid].num_vars
        for tid, off in members:
            m = circuit.specs[tid].num_vars
            out[tid] = (pid, bits_msb(off >> m, n - m))
    return out


def prove_run(circuit, transcript, values: dict, *, ints: dict, public: dict, srs, rng,
              commitments: dict, blinds: dict, log=None):
    """Phases 1-5 on the prover side, after the statement has been absorbed.

    ``circuit`` is any compiled circuit (MLP or transformer): specs, producers, witness,
    lookups, roots and digest. ``commitments``/``blinds`` hold the commitments the prover
    did not make in this run (model weights, key tables). Returns (proof, item layout)."""
    pools = getattr(circuit, "pools", {})
    for pid, members in pools.items():
        values[pid] = assemble_pool(circuit.specs[pid].shape[0], members, values)
    for attempt in range(3):
        ch = ProverChannel(copy.deepcopy(transcript))
        ctx = ProverCtx(ch=ch, specs=dict(circuit.specs), producers=dict(circuit.producers), values=values,
                        pooled=pool_prefixes(circuit), chunk_vars=getattr(circuit, "chunk_vars", 0),
                        public=public, commitments=dict(commitments), blinds=dict(blinds), srs=srs, rng=rng)
        ctx.ints = ints
        ctx.mask_attempt = attempt
        try:
            with native.cache_scope():
                run(ctx, circuit, log=log)
        except zkmask.PoolExhausted:
            continue
        return Proof.from_items(circuit.digest(), ch.g1s, ch.frs), ch.log
    raise zkmask.PoolExhausted("internal: the mask pool estimate is far too small for this circuit")


def verify_run(circuit, transcript, proof: Proof, *, public: dict, commitments: dict, srs_vk) -> None:
    """Phases 1-5 on the verifier side over ``proof``'s items; raises unless all checks pass."""
    ch = VerifierChannel(transcript, proof.g1s, proof.g1_bytes, proof.frs)
    ctx = VerifierCtx(ch=ch, specs=dict(circuit.specs), producers=dict(circuit.producers), public=public,
                      pooled=pool_prefixes(circuit), chunk_vars=getattr(circuit, "chunk_vars", 0),
                      commitments=dict(commitments))
    run(ctx, circuit, srs_vk)
    ch.assert_consumed()
