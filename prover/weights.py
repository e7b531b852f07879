"""The weight range proof: every committed model weight is a small signed integer.

The inference arguments (rescale, norms, argmax) reason about integers, so they assume
each committed model tensor holds integers of a stated width: |w| < 2^(bits-1), with
``bits`` the width the quantizer enforced (``param_bits`` of the model family: the
weight width, wider for biases stored at the accumulator scale). A commitment is to
field elements, though; nothing in an inference proof stops a model owner from having
committed r - 5 or 2^40. This proof, made once when the model is committed, closes
that gap.

Statement: for every model tensor w of ``bits`` bits and every entry j,
w_j in [-2^(bits-1), 2^(bits-1)). Witness: digits u_k (k < ceil(bits / digit_bits)) of
w + 2^(bits-1), each committed as a tensor of w's shape; every digit is ``digit_bits``
wide except the top one, which has the remaining bits - digit_bits (n - 1) (so ``bits``
need not be a multiple of ``digit_bits``). Protocol:

0. transcript: the domain tag (``TAG`` zero-padded to 32 bytes), the verifying-key
   digest, the model digest and this circuit's digest (keccak256(``TAG`` || the model's
   inference-circuit digest));
1. the digit tensors, in model-tensor order, then the range lookup's multiplicities;
2-3. logUp range lookups (``prover.lookup.logup``), one per digit width, widest first
   (``lk0``: the full-width digits), put every digit in [0, 2^width) (check name ``lookup``);
4. per tensor, last first: a fresh point r (label ``weights/r``);
   w(r) + 2^(bits-1) = sum_k 2^(digit_bits k) u_k(r) (check name ``weights``). By
   Schwartz-Zippel the identity holds entrywise, and since the digits are in range the
   right side is an integer in [0, 2^bits) -- far below r -- so w_j is that integer minus
   2^(bits-1) exactly, with no wrap-around;
5. the batch opening of every claim (the model tensors against the model commitment).

Widths that are multiples of ``digit_bits`` (all shipped specs: 24 and 40 bits at 8-bit
digits) need the one full-width range table; another width adds a table for its top
digit (the verifier evaluates every range table's MLE itself). Chunked commitments
(``chunk_vars``) work unchanged: digits and inverse columns are chunked like the
weights. The run is ``prover.circuit.prove_run``/``verify_run`` over a
``WeightRangeCircuit``, so it shares every sub-protocol with the inference proofs.

Zero knowledge: the proof opens each weight tensor at one more random point (one
linear equation in its entries), like each inference proof does.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .circuit import field_values, prove_run, verify_run
from .context import TensorSpec
from .errors import MalformedError, QuantizationRangeError, VerificationError
from .field import R
from .lookup import logup
from .lookup.tables import RangeTable
from .proof import Proof
from .quant import signed_digits, signed_pad_digits
from .transcript import Transcript, keccak256

TAG = b"zkllm-weight-range/v1"


@dataclass
class WeightBound:
    """w in [-2^(bits-1), 2^(bits-1)) via committed digits of w + 2^(bits-1)."""
    w: str
    digit_ids: list[str]
    bits: int
    digit_bits: int

    @property
    def widths(self) -> list[int]:
        """Each digit's width: ``digit_bits``, the top one the remaining bits."""
        n = len(self.digit_ids)
        return [self.digit_bits] * (n - 1) + [self.bits - self.digit_bits * (n - 1)]

    def forward(self, ints: dict) -> None:
        """The honest digits; raises ``QuantizationRangeError`` for an out-of-range weight."""
        w = ints[self.w]
        off = 1 << (self.bits - 1)
        if w.numel() and (int(w.min()) < -off or int(w.max()) >= off):
            raise QuantizationRangeError(f"model tensor '{self.w}' has entries outside "
                                         f"[-2^{self.bits - 1}, 2^{self.bits - 1})")
        ints.update(zip(self.digit_ids, signed_digits(w, self.bits, self.digit_bits, len(self.digit_ids))))

    def pad_values(self) -> dict[str, int]:
        """Padded weight entries are 0, so their digits are those of 2^(bits-1)."""
        return signed_pad_digits(self.bits, self.digit_bits, self.digit_ids)

    def root(self, ctx) -> None:
        """At a fresh point r, w(r) + 2^(bits-1) = sum_k 2^(b k) u_k(r): one combined claim on
        w and its digits for the batch opening, with the public value -2^(bits-1). Nothing is
        sent, so no evaluation of the weights is revealed (``docs/zero-knowledge.md``); a weight
        outside the range fails the opening."""
        r = ctx.ch.challenges("weights/r", ctx.spec(self.w).num_vars)
        terms = [(self.w, 1, r)] + [(did, (-pow(2, k * self.digit_bits, R)) % R, r)
                                    for k, did in enumerate(self.digit_ids)]
        ctx.combined_claim(terms, (-(1 << (self.bits - 1))) % R)


@dataclass
class WeightRangeCircuit:
    """The weight range proof as a circuit ``prove_run``/``verify_run`` accept."""
    inner_digest: bytes                # the model's inference-circuit digest (its header)
    digit_bits: int
    specs: dict[str, TensorSpec]
    roots: list[WeightBound]
    lookups: list[logup.LookupInstance]
    witness: list[str]
    pad_values: dict[str, int] = field(default_factory=dict)
    chunk_vars: int = 0
    producers: dict = field(default_factory=dict)

    def digest(self) -> bytes:
        return keccak256(TAG + self.inner_digest)

    rows = 0      # a circuit description's prompt length: none (inference circuits have >= 1)
    key_tables: tuple = ()

    @property
    def ops(self) -> list[WeightBound]:
        """The ops a circuit description lists: the bounds (every one a root)."""
        return self.roots

    def chunked(self) -> list[str]:
        """The model tensors committed in chunks (``chunk_vars``): a description cannot take them."""
        return [s.id for s in self.specs.values() if s.kind == "model" and self.chunk_vars
                and s.num_vars > self.chunk_vars]

    def model_tensors(self) -> list[str]:
        return [s.id for s in self.specs.values() if s.kind == "model"]

    @property
    def num_vars(self) -> int:
        n = max(s.num_vars for s in self.specs.values())
        return min(n, self.chunk_vars) if self.chunk_vars else n


def compile_weights(model_specs: list[TensorSpec], bits: dict[str, int], digit_bits: int,
                    inner_digest: bytes, chunk_vars: int = 0) -> WeightRangeCircuit:
    """The weight range circuit of model tensors ``model_specs`` (commitment order) with
    widths ``bits``. Raises ``MalformedError`` for widths it cannot prove."""
    specs: dict[str, TensorSpec] = {}
    roots, witness, pads = [], [], {}
    for s in model_specs:
        b = bits[s.id]
        if not 0 < b <= 128:
            raise MalformedError(f"weight width {b} of '{s.id}' is outside [1, 128]")
        specs[s.id] = TensorSpec(s.id, s.shape, "model")
    by_width: dict[int, list[tuple[str]]] = {}
    for s in model_specs:
        n = -(-bits[s.id] // digit_bits)
        wb = WeightBound(s.id, [f"{s.id}.u{k}" for k in range(n)], bits[s.id], digit_bits)
        for did, w in zip(wb.digit_ids, wb.widths):
            specs[did] = TensorSpec(did, s.shape, "advice")
            by_width.setdefault(w, []).append((did,))
        roots.append(wb)
        witness += wb.digit_ids
        pads.update(wb.pad_values())
    lookups = []
    for w in sorted(by_width, reverse=True):  # the full-width table first
        lk = logup.LookupInstance(f"lk{len(lookups)}", RangeTable(w), by_width[w])
        lk.mult_id = f"{lk.label}/m"
        specs[lk.mult_id] = TensorSpec(lk.mult_id, (lk.table.size,), "advice")
        lk.a_ids = [f"{lk.label}/A{c}" for c in range(len(lk.columns))]
        for aid, (did,) in zip(lk.a_ids, lk.columns):
            specs[aid] = TensorSpec(aid, specs[did].shape, "proof")
        lk.b_id = f"{lk.label}/B"
        specs[lk.b_id] = TensorSpec(lk.b_id, (lk.table.size,), "proof")
        lookups.append(lk)
    return WeightRangeCircuit(inner_digest, digit_bits, specs, roots, lookups, witness, pads, chunk_vars)


def absorb_statement(t: Transcript, vk_digest: bytes, model_digest: bytes, circuit: WeightRangeCircuit) -> None:
    t.absorb("weights/domain", TAG.ljust(32, b"\0"))
    t.absorb("statement/vk", vk_digest)
    t.absorb("statement/model", model_digest)
    t.absorb("statement/circuit", circuit.digest())


def witness(circuit: WeightRangeCircuit, params: dict) -> dict:
    """The model tensors and their honest digits (int64 tensors)."""
    ints = {n: params[n] for n in circuit.model_tensors()}
    for wb in circuit.roots:
        wb.forward(ints)
    return ints


def prove(circuit: WeightRangeCircuit, srs, vk_digest: bytes, model_digest: bytes, ints: dict,
          commitments: dict, blinds: dict, rng) -> tuple[Proof, list]:
    """The proof over ``ints`` (model tensors and digits, e.g. from ``witness``) and its item
    layout ((label, "g1" | "fr", index) per item)."""
    values = field_values(circuit, ints)
    t = Transcript()
    absorb_statement(t, vk_digest, model_digest, circuit)
    return prove_run(circuit, t, values, ints=ints, public={}, srs=srs, rng=rng,
                     commitments=commitments, blinds=blinds)


def prove_committed(circuit: WeightRangeCircuit, pk, model, rng) -> bytes:
    """The weight range proof of a committed model (an MLP's ``CommittedModel`` or a
    ``CommittedTransformer``: its ``commitment``, ``params`` and ``blinds``) under proving key ``pk``."""
    from .errors import SetupError
    cm = model.commitment
    if circuit.num_vars > pk.srs.num_vars:
        raise SetupError(f"the weight proof needs an SRS of 2^{circuit.num_vars} entries, the key has "
                         f"2^{pk.srs.num_vars}")
    proof, _ = prove(circuit, pk.srs, pk.verifying_key().digest(), cm.digest(), witness(circuit, model.params),
                     dict(zip(cm.names, cm.points)), dict(model.blinds), rng)
    return proof.to_bytes()


def verify_committed(circuit: WeightRangeCircuit, vk, commitment, proof_bytes: bytes) -> None:
    """``verify`` for a public model commitment (``names``/``points``/``digest``) and key ``vk``."""
    verify(circuit, vk.srs_vk, vk.digest(), commitment.digest(), dict(zip(commitment.names, commitment.points)),
           proof_bytes)


def verify(circuit: WeightRangeCircuit, srs_vk, vk_digest: bytes, model_digest: bytes, commitments: dict,
           proof_bytes: bytes) -> None:
    """Raises ``MalformedProofError`` for bytes that do not parse, ``VerificationError`` for a
    false proof; returns None for a valid one."""
    proof = Proof.from_bytes(proof_bytes)
    if proof.circuit_digest != circuit.digest():
        raise VerificationError("circuit", "the weight range proof was made for another model header")
    if circuit.num_vars > srs_vk.num_vars:
        from .errors import SetupError
        raise SetupError(f"verifying key supports 2^{srs_vk.num_vars} entries, the weight proof needs "
                         f"2^{circuit.num_vars}")
    t = Transcript()
    absorb_statement(t, vk_digest, model_digest, circuit)
    verify_run(circuit, t, proof, public={}, commitments=commitments, srs_vk=srs_vk)
