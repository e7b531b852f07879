"""Mutation fuzzing of the Python verifiers: every mutated proof or statement must be
rejected with a typed error.

A *target* is one valid proof with its statement and the verifier call that accepts it
(:func:`mlp_target`, :func:`transformer_target`: small models, seeded keys and blinds).
:func:`fuzz` applies random mutations to the proof bytes (bit flips, 32-byte words
replaced, incremented or made non-canonical, truncation, extension, items swapped,
dropped or inserted with the header kept consistent, points replaced by other valid
points) and to the statement's words, runs the verifier on each and sorts the outcome:

* rejected: ``MalformedError`` (``MalformedProofError`` included) or ``VerificationError``,
  counted by error type and check name (the ``check`` of a ``VerificationError``, the
  message with its numbers blanked for a malformed input);
* accepted: the verifier returned normally -- a false proof accepted;
* crashed: any other exception (``IndexError``, a library's ``ValueError``, an
  ``AssertionError``, ...) -- the verify path must turn untrusted bytes into typed errors.

The mutations only assume the wire format's two typed item streams
(``Proof.g1_bytes``/``Proof.frs``) and that a statement is a dataclass of bytes, ints and
lists of ints, so the fuzzer keeps working when protocols change what the proof holds.
A mutation that leaves the proof and the statement unchanged is drawn again. Case ``i``
of a run with seed ``s`` on target ``t`` draws from ``random.Random(f"{s}/{t}/{i}")``:
a failure is replayed alone with ``--case``. Statement words that differ from the
proven ones by a multiple of r (kind ``statement_alias``) probe the canonical-statement
check.

    python -m prover.fuzz --n 20000 --seed 1                       # the full count (both targets)
    python -m prover.fuzz --seed 1 --target mlp --case 1234        # replay one case, with traceback

Exit status 0 when every mutation was rejected with a typed error, 1 otherwise.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import random
import re
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from .errors import MalformedError, VerificationError
from .field import R

#: errors that count as a rejection (subclasses included)
TYPED = (MalformedError, VerificationError)
WORD = 32
MAX_SHOWN = 20  # failures printed one by one; the rest are counted by kind


@dataclass
class Target:
    """A valid proof, its statement, and ``verify(statement, proof_bytes)`` that accepts them."""
    name: str
    proof_bytes: bytes
    statement: object
    verify: Callable[[object, bytes], object]
    proof: object = None  # the parsed prover.proof.Proof (item-level mutations)

    def __post_init__(self):
        from .proof import Proof
        self.proof = Proof.from_bytes(self.proof_bytes)
        self.verify(self.statement, self.proof_bytes)  # the unmutated pair must verify
        self.header_len = len(self.proof_bytes) - sum(map(len, self.proof.g1_bytes)) - WORD * len(self.proof.frs)


# ---------------------------------------------------------------- targets

def mlp_target(seed: int = 0, d: tuple = (16, 32, 16), act: str = "gelu", rows: int = 2) -> Target:
    """A small MLP proof (``rows`` inputs) with seeded setup, commitment blinds and proof blinds."""
    import torch

    from . import api, keys
    from .circuit import compile_mlp
    from .model.mlp import arch_of, build_mlp
    from .quant import QuantSpec
    from .rng import seeded
    model = build_mlp(*d, act, seed=seed)
    quant = QuantSpec()
    n = max(compile_mlp(arch_of(model), quant, rows).num_vars, quant.lookup_in_bits)
    pk = keys.setup(n, quant, rng=seeded(seed + 1))
    cm = api.commit_model(pk, model, quant, rng=seeded(seed + 2))
    x = torch.rand(rows, d[0], dtype=torch.float64, generator=torch.Generator().manual_seed(seed + 3)) * 2 - 1
    res = api.prove(pk, cm, x, rng=seeded(seed + 4))
    vk = pk.verifying_key()
    return Target("mlp", res.proof.to_bytes(), res.statement, lambda st, raw: api.verify(vk, cm.commitment, st, raw))


def transformer_target(name: str = "tiny-llama", seed: int = 0, layers: int = 1, tokens: int = 4) -> Target:
    """A small transformer proof: config ``name`` cut to ``layers`` blocks, a ``tokens``-token prompt."""
    import torch

    from .model.configs import get_config
    from .model.loaders import build_model
    from .rng import seeded
    from .transformer import prove as tp
    cfg = get_config(name).with_(n_layers=layers)
    model = build_model(cfg, seed)
    pk = tp.setup(cfg, rng=seeded(seed + 1), max_rows=tokens)
    cm = tp.commit_model(pk, model, rng=seeded(seed + 2))
    prompt = torch.randint(0, cfg.vocab_size, (tokens,), generator=torch.Generator().manual_seed(seed + 3))
    res = tp.prove(pk, cm, prompt, rng=seeded(seed + 4))
    vk = pk.verifying_key()
    return Target(name, res.proof.to_bytes(), res.statement, lambda st, raw: tp.verify(vk, cm.commitment, st, raw))


TARGETS = {"mlp": mlp_target, "tiny-llama": lambda seed=0: transformer_target("tiny-llama", seed),
           "tiny-gpt2": lambda seed=0: transformer_target("tiny-gpt2", seed)}
DEFAULT_TARGETS = ("mlp", "tiny-llama")


# ---------------------------------------------------------------- byte-level mutations

def _word_offset(rng: random.Random, t: Target, size: int) -> int:
    """A 32-byte word: mostly on the item grid after the header, sometimes anywhere."""
    if rng.random() < 0.85 and size - t.header_len >= WORD:
        return t.header_len + WORD * rng.randrange((size - t.header_len) // WORD)
    return rng.randrange(size - WORD + 1)


def _set_word(b: bytearray, off: int, f) -> str:
    old = int.from_bytes(b[off:off + WORD], "big")
    new = f(old) % 2 ** 256
    b[off:off + WORD] = new.to_bytes(WORD, "big")
    return f"word@{off}"


def _bytes_mutation(f):
    """Wrap ``f(rng, target, bytearray) -> description`` as a mutation of the proof bytes."""
    def run(rng, t):
        b = bytearray(t.proof_bytes)
        desc = f(rng, t, b)
        return desc, bytes(b), t.statement
    return run


@_bytes_mutation
def bit_flip(rng, t, b):
    i = rng.randrange(len(b) * 8)
    b[i // 8] ^= 1 << (i % 8)
    return f"bit {i}"


@_bytes_mutation
def bit_flips(rng, t, b):
    bits = rng.sample(range(len(b) * 8), rng.randint(2, 8))
    for i in bits:
        b[i // 8] ^= 1 << (i % 8)
    return f"bits {sorted(bits)}"


@_bytes_mutation
def byte_random(rng, t, b):
    i = rng.randrange(len(b))
    b[i] = rng.randrange(256)
    return f"byte {i} = {b[i]}"


@_bytes_mutation
def word_random(rng, t, b):
    return _set_word(b, _word_offset(rng, t, len(b)), lambda v: rng.getrandbits(256)) + " random"


@_bytes_mutation
def word_plus_one(rng, t, b):
    return _set_word(b, _word_offset(rng, t, len(b)), lambda v: v + 1) + " + 1"


@_bytes_mutation
def word_minus_one(rng, t, b):
    return _set_word(b, _word_offset(rng, t, len(b)), lambda v: v - 1) + " - 1"


@_bytes_mutation
def word_plus_r(rng, t, b):
    return _set_word(b, _word_offset(rng, t, len(b)), lambda v: v + R) + " + r"


@_bytes_mutation
def word_extreme(rng, t, b):
    v = rng.choice([0, 1, R - 1, R, 2 ** 256 - 1, 2 ** 255])
    return _set_word(b, _word_offset(rng, t, len(b)), lambda _: v) + f" = {v:#x}"


@_bytes_mutation
def swap_words(rng, t, b):
    a, c = (_word_offset(rng, t, len(b)) for _ in range(2))
    wa, wc = bytes(b[a:a + WORD]), bytes(b[c:c + WORD])
    b[a:a + WORD], b[c:c + WORD] = wc, wa
    return f"swap words @{a} @{c}"


@_bytes_mutation
def delete_word(rng, t, b):
    off = _word_offset(rng, t, len(b))
    del b[off:off + WORD]
    return f"delete word @{off}"


@_bytes_mutation
def truncate(rng, t, b):
    n = rng.choice([rng.randrange(len(b)), len(b) - 1, len(b) - WORD, len(b) - 128, t.header_len,
                    rng.randrange(t.header_len + 1)])
    del b[max(n, 0):]
    return f"truncate to {len(b)}"


@_bytes_mutation
def extend(rng, t, b):
    what = rng.choice(["random", "word", "zeros", "item"])
    if what == "random":
        tail = rng.randbytes(rng.randint(1, 160))
    elif what == "zeros":
        tail = bytes(rng.choice([1, WORD, 128]))
    else:
        off = _word_offset(rng, t, len(b))
        tail = bytes(b[off:off + (WORD if what == "word" else 128)])
    b.extend(tail)
    return f"extend by {len(tail)} bytes ({what})"


# ---------------------------------------------------------------- item-level mutations

def _item_mutation(f):
    """Wrap ``f(rng, g1_bytes, frs) -> description`` as a mutation of the proof's item streams;
    the header is rewritten to match (a proof that still parses, reaching the protocol checks)."""
    def run(rng, t):
        from .proof import Proof
        g1b, frs = list(t.proof.g1_bytes), list(t.proof.frs)
        desc = f(rng, g1b, frs)
        p = Proof(t.proof.circuit_digest, [None] * len(g1b), g1b, frs)
        return desc, p.to_bytes(), t.statement
    return run


def _two_different(rng, xs) -> tuple[int, int] | None:
    for _ in range(20):
        i, j = rng.randrange(len(xs)), rng.randrange(len(xs))
        if xs[i] != xs[j]:
            return i, j
    return None


@_item_mutation
def fr_value(rng, g1b, frs):
    i = rng.randrange(len(frs))
    how = rng.choice(["+1", "-1", "random", "zero", "+r", "neg"])
    v = {"+1": (frs[i] + 1) % R, "-1": (frs[i] - 1) % R, "random": rng.randrange(R), "zero": 0,
         "+r": frs[i] + R if frs[i] + R < 2 ** 256 else R, "neg": (-frs[i]) % R}[how]
    frs[i] = v
    return f"fr[{i}] {how}"


@_item_mutation
def fr_swap(rng, g1b, frs):
    ij = _two_different(rng, frs)
    if ij is None:
        return "no distinct field elements"
    i, j = ij
    frs[i], frs[j] = frs[j], frs[i]
    return f"swap fr[{i}] fr[{j}]"


@_item_mutation
def fr_drop_insert(rng, g1b, frs):
    i = rng.randrange(len(frs) + 1)
    if rng.random() < 0.5 and frs:
        i = min(i, len(frs) - 1)
        del frs[i]
        return f"drop fr[{i}]"
    frs.insert(i, rng.choice([0, 1, rng.randrange(R), frs[rng.randrange(len(frs))] if frs else 0]))
    return f"insert fr at {i}"


def _g1_choice(rng, g1b) -> bytes:
    from .pcs.curve import g1_generator, g1_to_bytes
    how = rng.choice(["other", "infinity", "generator"])
    if how == "infinity":
        return bytes(128)
    if how == "generator":
        return g1_to_bytes(g1_generator())
    return g1b[rng.randrange(len(g1b))]


@_item_mutation
def g1_replace(rng, g1b, frs):
    if not g1b:
        return "no points"
    i = rng.randrange(len(g1b))
    g1b[i] = _g1_choice(rng, g1b)
    return f"replace point {i}"


@_item_mutation
def g1_swap(rng, g1b, frs):
    ij = _two_different(rng, g1b) if g1b else None
    if ij is None:
        return "no distinct points"
    i, j = ij
    g1b[i], g1b[j] = g1b[j], g1b[i]
    return f"swap points {i} {j}"


@_item_mutation
def g1_drop_insert(rng, g1b, frs):
    i = rng.randrange(len(g1b) + 1)
    if rng.random() < 0.5 and g1b:
        i = min(i, len(g1b) - 1)
        del g1b[i]
        return f"drop point {i}"
    g1b.insert(i, _g1_choice(rng, g1b) if g1b else bytes(128))
    return f"insert point at {i}"


# ---------------------------------------------------------------- statement mutations

def _int_value(rng, v: int) -> tuple[str, int]:
    how = rng.choice(["+1", "-1", "random", "zero", "negate", "huge", "negative"])
    return how, {"+1": v + 1, "-1": v - 1, "random": rng.randrange(R), "zero": 0, "negate": -v,
                 "huge": rng.randrange(R, 2 ** 256), "negative": -rng.randrange(1, 2 ** 64)}[how]


def _statement_fields(st) -> list[tuple[str, object]]:
    return [(f.name, getattr(st, f.name)) for f in dataclasses.fields(st)
            if isinstance(getattr(st, f.name), (bytes, int, list)) and not isinstance(getattr(st, f.name), bool)]


def statement_word(rng, t):
    """One word of the statement changed (mod r), or a list word dropped, added or swapped."""
    name, v = rng.choice(_statement_fields(t.statement))
    if isinstance(v, bytes):
        i = rng.randrange(len(v) * 8)
        new = bytearray(v)
        new[i // 8] ^= 1 << (i % 8)
        new, desc = bytes(new), f"bit {i}"
    elif isinstance(v, int):
        desc, new = _int_value(rng, v)
    else:
        new = list(v)
        op = rng.choice(["value", "value", "value", "drop", "append", "swap"]) if new else "append"
        i = rng.randrange(len(new)) if new else 0
        if op == "value":
            how, new[i] = _int_value(rng, new[i])
            desc = f"[{i}] {how}"
        elif op == "drop":
            del new[i]
            desc = f"drop [{i}]"
        elif op == "append":
            new.append(rng.choice([0, 1, rng.randrange(256), rng.randrange(R)]))
            desc = "append"
        else:
            ij = _two_different(rng, new)
            if ij is None:
                return "nothing to swap", t.proof_bytes, t.statement
            i, j = ij
            new[i], new[j] = new[j], new[i]
            desc = f"swap [{i}] [{j}]"
    return f"{name} {desc}", t.proof_bytes, dataclasses.replace(t.statement, **{name: new})


def statement_alias(rng, t):
    """One statement word replaced by the same value plus a non-zero multiple of r."""
    fields = [(n, v) for n, v in _statement_fields(t.statement) if isinstance(v, (int, list)) and v != []]
    name, v = rng.choice(fields)
    k = rng.choice([1, -1, 2])
    if isinstance(v, int):
        return f"{name} {k:+}r", t.proof_bytes, dataclasses.replace(t.statement, **{name: v + k * R})
    new = list(v)
    i = rng.randrange(len(new))
    new[i] += k * R
    return f"{name}[{i}] {k:+}r", t.proof_bytes, dataclasses.replace(t.statement, **{name: new})


PROOF_MUTATIONS = {
    "bit_flip": bit_flip, "bit_flips": bit_flips, "byte_random": byte_random, "word_random": word_random,
    "word_plus_one": word_plus_one, "word_minus_one": word_minus_one, "word_plus_r": word_plus_r,
    "word_extreme": word_extreme, "swap_words": swap_words, "delete_word": delete_word, "truncate": truncate,
    "extend": extend, "fr_value": fr_value, "fr_swap": fr_swap, "fr_drop_insert": fr_drop_insert,
    "g1_replace": g1_replace, "g1_swap": g1_swap, "g1_drop_insert": g1_drop_insert,
}
STATEMENT_MUTATIONS = {"statement_word": statement_word, "statement_alias": statement_alias}


# ---------------------------------------------------------------- the run

def reason(e: BaseException) -> str:
    """``Type:check`` of a rejection: the ``check`` (or ``where``) it names, else its message with
    numbers and quoted labels blanked."""
    check = getattr(e, "check", None) or getattr(e, "where", None)
    if check is None:
        check = re.sub(r"'[^']*'", "'_'", re.sub(r"\d+", "#", str(e)))[:60]
    return f"{type(e).__name__}:{check}"


@dataclass
class Report:
    target: str
    seed: int
    tried: int = 0
    by_kind: Counter = field(default_factory=Counter)
    rejected: Counter = field(default_factory=Counter)    # reason -> count
    failures: list = field(default_factory=list)          # (case, kind, description, outcome)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict:
        return {"target": self.target, "seed": self.seed, "tried": self.tried, "rejected": sum(self.rejected.values()),
                "failures": len(self.failures), "seconds": round(self.seconds, 1),
                "by_kind": dict(sorted(self.by_kind.items())), "by_error": dict(self.rejected.most_common()),
                "failed_cases": [{"case": c, "kind": k, "mutation": d, "outcome": o} for c, k, d, o in self.failures]}


def draw(t: Target, seed: int, case: int, kinds: dict, statement_share: float):
    """Case ``case``: (kind, description, proof bytes, statement), never the unmutated pair."""
    rng = random.Random(f"{seed}/{t.name}/{case}")
    stmt = {k: f for k, f in kinds.items() if k in STATEMENT_MUTATIONS}
    prf = {k: f for k, f in kinds.items() if k not in STATEMENT_MUTATIONS}
    for _ in range(100):
        pool = stmt if stmt and (not prf or rng.random() < statement_share) else prf
        kind = rng.choice(sorted(pool))
        desc, raw, st = pool[kind](rng, t)
        if raw != t.proof_bytes or st != t.statement:
            return kind, desc, raw, st
    raise RuntimeError(f"case {case}: no mutation changed anything")


def run_case(t: Target, kind: str, desc: str, raw: bytes, st) -> tuple[str, str | None]:
    """(reason or outcome, failure text or None) of one mutated pair."""
    try:
        t.verify(st, raw)
    except TYPED as e:
        return reason(e), None
    except Exception as e:  # noqa: BLE001 -- the point: anything untyped is a finding
        return f"CRASH {type(e).__name__}", f"crashed: {type(e).__name__}: {e}"
    return "ACCEPTED", "accepted"


def fuzz(t: Target, n: int, seed: int = 0, kinds: dict | None = None, statement_share: float = 0.25,
         log=None) -> Report:
    """Run ``n`` mutation cases on target ``t``; ``kinds`` maps kind names to mutations
    (default: all of :data:`PROOF_MUTATIONS` and :data:`STATEMENT_MUTATIONS`)."""
    kinds = kinds or {**PROOF_MUTATIONS, **STATEMENT_MUTATIONS}
    rep = Report(t.name, seed)
    t0 = time.perf_counter()
    for case in range(n):
        kind, desc, raw, st = draw(t, seed, case, kinds, statement_share)
        outcome, failure = run_case(t, kind, desc, raw, st)
        rep.tried += 1
        rep.by_kind[kind] += 1
        if failure is None:
            rep.rejected[outcome] += 1
        else:
            rep.failures.append((case, kind, desc, failure))
            if log and len(rep.failures) <= MAX_SHOWN:
                log(f"FAIL {t.name} seed {seed} case {case} ({kind}: {desc}): {failure}")
        if log and (case + 1) % 1000 == 0:
            log(f"  {t.name}: {case + 1}/{n} in {time.perf_counter() - t0:.0f}s")
    rep.seconds = time.perf_counter() - t0
    return rep


def summary(reports: list[Report]) -> str:
    """The human-readable summary: counts per target, per error reason and per mutation kind."""
    lines = []
    for r in reports:
        lines.append(f"{r.target}: {r.tried} mutations (seed {r.seed}) in {r.seconds:.0f}s: "
                     f"{sum(r.rejected.values())} rejected with a typed error, {len(r.failures)} failures")
        lines += [f"    {c:6d}  {why}" for why, c in r.rejected.most_common()]
        lines.append("    by mutation: " + ", ".join(f"{k} {c}" for k, c in sorted(r.by_kind.items())))
        lines += [f"    FAIL seed {r.seed} case {c} ({k}: {d}): {o}" for c, k, d, o in r.failures[:MAX_SHOWN]]
        if r.failures:
            lines.append(f"    replay one: python -m prover.fuzz --seed {r.seed} --target {r.target} --case CASE "
                         f"(and this run's --kinds/--skip/--statement-share)")
        if len(r.failures) > MAX_SHOWN:
            lines.append(f"    ... {len(r.failures) - MAX_SHOWN} more failures: "
                         + ", ".join(f"{k} {c}" for k, c in Counter(k for _, k, _, _ in r.failures).items()))
    total = sum(r.tried for r in reports)
    bad = sum(len(r.failures) for r in reports)
    lines.append(f"total: {total} mutations, {total - bad} rejected with a typed error, {bad} failures")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m prover.fuzz", description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=20000, help="mutations in total, split over the targets (default 20000)")
    p.add_argument("--seed", type=int, default=1, help="seed of the mutations (default 1)")
    p.add_argument("--target", action="append", choices=sorted(TARGETS),
                   help=f"proof to mutate (repeatable; default: {', '.join(DEFAULT_TARGETS)})")
    p.add_argument("--kinds", help=f"comma-separated mutation kinds (default all: "
                                   f"{', '.join([*PROOF_MUTATIONS, *STATEMENT_MUTATIONS])})")
    p.add_argument("--skip", help="comma-separated mutation kinds to leave out (e.g. statement_alias)")
    p.add_argument("--statement-share", type=float, default=0.25,
                   help="share of the cases that mutate the statement (default 0.25)")
    p.add_argument("--case", type=int, help="replay this one case (with --target and the run's --kinds, --skip and "
                                            "--statement-share) and show its traceback")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    a = p.parse_args(argv)
    all_kinds = {**PROOF_MUTATIONS, **STATEMENT_MUTATIONS}
    try:
        kinds = all_kinds if not a.kinds else {k: all_kinds[k] for k in a.kinds.split(",")}
        for k in (a.skip.split(",") if a.skip else []):
            del kinds[k]
    except KeyError as e:
        p.error(f"unknown mutation kind {e}")
    if not kinds:
        p.error("no mutation kinds left")
    names = a.target or list(DEFAULT_TARGETS)
    log = (lambda m: print(m, file=sys.stderr, flush=True))
    if a.case is not None:
        t = TARGETS[names[0]](0)
        kind, desc, raw, st = draw(t, a.seed, a.case, kinds, a.statement_share)
        print(f"{t.name} seed {a.seed} case {a.case}: {kind}: {desc}")
        try:
            t.verify(st, raw)
            print("ACCEPTED")
            return 1
        except TYPED as e:
            print(f"rejected: {reason(e)}: {e}")
            return 0
        except Exception:  # noqa: BLE001
            traceback.print_exc()
            return 1
    reports = []
    for i, name in enumerate(names):
        log(f"building the {name} proof")
        t = TARGETS[name](0)
        share = a.n // len(names) + (1 if i < a.n % len(names) else 0)
        reports.append(fuzz(t, share, a.seed, kinds, a.statement_share, log=log))
    print(json.dumps([r.as_dict() for r in reports]) if a.json else summary(reports))
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
