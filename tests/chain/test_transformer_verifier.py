"""The Solidity transformer verifier against the Python one, on real tiny-llama / tiny-gpt2 proofs.

Valid proofs are accepted by both; tampered statements, commitments and proof items, and
cheating provers, are rejected by both, with the same named check where Python names one
(the contract's ``ProofRejected(check)`` carries Python's ``VerificationError.check``).
Cases are chosen to fail before the pairing where possible: py-evm pairings are slow.
"""
from __future__ import annotations

import dataclasses
import struct
from functools import cached_property

import pytest
import torch

from prover.circuit_desc import describe, transformer_description
from prover.errors import MalformedError, SetupError, VerificationError
from prover.field import R
from prover.model.loaders import build_model
from prover.ops.softmax import Softmax, _digits
from prover.proof import VERSION, Proof
from prover.rng import seeded
from prover.transcript import keccak256
from prover.transformer import prove as tp
from prover.transformer.compile import compile_model, forward
from tests.chain.verifier_helpers import items_by_label, other_point
from tests.op_harness import forge_runner_up, lenient_multiplicities, wrong_bound_digit
from zkllm_chain.chain import connect, load_signer
from zkllm_chain.chain.errors import TransactionRevertedError
from zkllm_chain.chain.transformer_verifier import (TRANSFORMER_VERIFY_GAS, add_circuits, deploy_transformer_verifier,
                                                    transformer_calldata)
from zkllm_chain.chain.verifier import verify_call, verify_transaction
from zkllm_chain.chain.weights import certify

#: Python's VerificationError.check -> the contract errors that name the same check (besides
#: ProofRejected(check), which names it directly).
CHECK_TO_ERROR = {
    "MalformedStatementError": {"NotCanonical"},
    "MalformedProofError": {"MalformedProof", "ProofItemsExhausted"},
    "MalformedError": {"MalformedCommitment"},
    "statement": {"ModelDigestMismatch"},
    "circuit": {"CircuitMismatch", "UnknownCircuit", "CircuitNotListed"},
    "opening": {"PairingFailed"},
}


def _tokens(seed: int, n: int) -> torch.Tensor:
    return torch.randint(0, 256, (n,), generator=torch.Generator().manual_seed(seed))


@dataclasses.dataclass
class Setup:
    pk: object
    vk: object
    cm: object
    res: object

    @property
    def raw(self) -> bytes:
        return self.res.proof.to_bytes()

    @cached_property
    def wp(self) -> bytes:
        """The model's weight range proof (the verifier needs the model certified)."""
        return tp.prove_weights(self.pk, self.cm, rng=seeded(99))


def _setup(name: str, n_layers: int | None, tokens: torch.Tensor, seed: int) -> Setup:
    model = build_model(name, 0)
    if n_layers is not None:
        model = build_model(model.cfg.with_(n_layers=n_layers), 0)
    pk = tp.setup(model.cfg, rng=seeded(seed))
    cm = tp.commit_model(pk, model, rng=seeded(seed + 1))
    res = tp.prove(pk, cm, tokens, rng=seeded(seed + 2))
    return Setup(pk, pk.verifying_key(), cm, res)


@pytest.fixture(scope="module")
def llama():
    return _setup("tiny-llama", None, _tokens(1, 16), 30)


@pytest.fixture(scope="module")
def gpt2():
    return _setup("tiny-gpt2", None, _tokens(2, 11), 40)


@pytest.fixture(scope="module")
def chain():
    return connect()


def _deploy(chain, s: Setup, rows):
    """The verifier for ``s``'s key with the circuits of ``rows``-token prompts, its model certified."""
    dep = deploy_transformer_verifier(chain, s.vk, signer=load_signer(chain))
    add_circuits(chain, dep, s.cm.commitment, rows)
    certify(chain, dep.weights, s.cm.commitment.encode(), s.wp)
    return dep


@pytest.fixture(scope="module")
def llama_dep(chain, llama):
    return _deploy(chain, llama, [16, 11])


def python_verdict(s: Setup, calldata):
    digest, enc, tokens, out, proof = calldata
    try:
        cm = tp.TransformerCommitment.decode(enc)
        st = tp.TStatement(digest, list(tokens), out[0])
        tp.verify(s.vk, cm, st, proof)
    except VerificationError as e:
        return ("reject", e.check)
    except (MalformedError, SetupError) as e:
        return ("reject", type(e).__name__)
    return ("accept", None)


def python_statement_verdict(s: Setup, st: tp.TStatement):
    """``prove.verify`` on a statement that has no calldata (an integer outside [0, 2^256))."""
    try:
        tp.verify(s.vk, s.cm.commitment, st, s.raw)
    except MalformedError as e:
        return ("reject", type(e).__name__)
    return ("accept", None)


def chain_verdict(chain, dep, calldata):
    try:
        return ("accept", verify_call(chain, dep.verifier, calldata, gas=TRANSFORMER_VERIFY_GAS))
    except TransactionRevertedError as e:
        if e.error_name == "ProofRejected":
            return ("reject", bytes(e.error_args[0]).rstrip(b"\0").decode())
        return ("reject", e.error_name)


def assert_same_rejection(chain, s: Setup, dep, calldata):
    py = python_verdict(s, calldata)
    ch = chain_verdict(chain, dep, calldata)
    assert py[0] == "reject" and ch[0] == "reject", (py, ch)
    assert ch[1] == py[1] or ch[1] in CHECK_TO_ERROR.get(py[1], ()), (py, ch)


# ------------------------------------------------------------------ acceptance

def test_description_is_deterministic_and_bound_to_the_model(llama):
    a = transformer_description(llama.cm.commitment, 16)
    assert a == transformer_description(llama.cm.commitment, 16)
    assert a != transformer_description(llama.cm.commitment, 11)
    assert a[5:37] == compile_model(llama.cm.commitment.cfg, 16, llama.cm.commitment.tq).digest()


def test_tiny_llama_proof_verifies_on_chain(chain, llama, llama_dep):
    cd = transformer_calldata(llama.res.statement, llama.cm.commitment, llama.raw)
    assert python_verdict(llama, cd) == ("accept", None)
    tx = verify_transaction(chain, llama_dep.verifier, cd, gas=TRANSFORMER_VERIFY_GAS)
    assert 0 < tx.gas_used < TRANSFORMER_VERIFY_GAS
    assert len(chain.w3.eth.get_code(llama_dep.address)) <= 24_576


def test_tiny_gpt2_short_prompt_verifies_on_chain(chain, gpt2):
    """T = 11: padded rows and keys, the position-rows sumcheck, LayerNorm, biases."""
    dep = _deploy(chain, gpt2, [11])
    cd = transformer_calldata(gpt2.res.statement, gpt2.cm.commitment, gpt2.raw)
    assert python_verdict(gpt2, cd) == ("accept", None)
    assert chain_verdict(chain, dep, cd)[0] == "accept"


# ------------------------------------------------------------------ statement and commitment

def test_wrong_next_token_and_prompt_rejected(chain, llama, llama_dep):
    d, enc, tok, out, proof = transformer_calldata(llama.res.statement, llama.cm.commitment, llama.raw)
    assert_same_rejection(chain, llama, llama_dep, (d, enc, tok, [(out[0] + 1) % 256], proof))
    bad = list(tok)
    bad[3] = (bad[3] + 1) % 256
    assert_same_rejection(chain, llama, llama_dep, (d, enc, bad, out, proof))


def test_statement_words_must_be_canonical(chain, llama, llama_dep):
    """A token or next token that differs from the proven one by r: both reject the word
    (MalformedStatementError / NotCanonical); a canonical word outside [0, vocab) is a false
    statement, rejected by the same check in both (the first one its changed transcript
    breaks, before the embedding and argmax range checks)."""
    d, enc, tok, out, proof = transformer_calldata(llama.res.statement, llama.cm.commitment, llama.raw)
    vocab = llama.cm.commitment.cfg.vocab_size
    for name, cd, expect in (
            ("token + r", (d, enc, [tok[0] + R] + tok[1:], out, proof), "MalformedStatementError"),
            ("token = r", (d, enc, tok[:5] + [R] + tok[6:], out, proof), "MalformedStatementError"),
            ("next + r", (d, enc, tok, [out[0] + R], proof), "MalformedStatementError"),
            ("token = vocab", (d, enc, tok[:-1] + [vocab], out, proof), None),
            ("token = r - 1", (d, enc, [R - 1] + tok[1:], out, proof), None),
            ("next = vocab", (d, enc, tok, [vocab], proof), None),
            ("next = r - 1", (d, enc, tok, [R - 1], proof), None)):
        py = python_verdict(llama, cd)
        assert py[0] == "reject" and expect in (None, py[1]), (name, py)
        assert_same_rejection(chain, llama, llama_dep, cd)
    st = llama.res.statement
    for bad in (dataclasses.replace(st, next_token=st.next_token - R),
                dataclasses.replace(st, tokens=[st.tokens[0] - R] + st.tokens[1:]),
                dataclasses.replace(st, tokens=[st.tokens[0] + R] + st.tokens[1:]),
                dataclasses.replace(st, next_token=float(st.next_token))):
        assert python_statement_verdict(llama, bad) == ("reject", "MalformedStatementError"), bad


def test_invalid_points_rejected_where_parsed(chain, llama, llama_dep):
    """One proof index per G1 role (lookup labels lk<i>/A, lk<i>/B grouped), replaced by an
    off-curve, non-subgroup, x = p or badly padded encoding: malformed to both where parsed.
    Every proof index in Python alone. A model-commitment point so replaced: malformed to
    Python, refused by the contract at the weight gate (it checks the points of certified
    models only, at certification). The point at infinity parses in both and fails the same
    check (a commitment point: see below)."""
    import re

    from eth_utils import keccak

    from prover.errors import MalformedProofError
    from tests.chain import verifier_helpers as vh

    d, enc, tok, out, raw = transformer_calldata(llama.res.statement, llama.cm.commitment, llama.raw)
    roles = {}
    for label, kind, idx in llama.res.layout:
        if kind == "g1":
            roles.setdefault(re.sub(r"^lk\d+/", "lk/", label), idx)
    assert {"witness", "lookup/m", "lk/A", "lk/B", "open/quotient", "open/hiding"} <= set(roles), roles
    for role, idx in sorted(roles.items()):
        for what, point in vh.INVALID_POINTS.items():
            cd = (d, enc, tok, out, vh.set_g1(raw, idx, point))
            assert python_verdict(llama, cd) == ("reject", "MalformedProofError"), (role, what)
            assert chain_verdict(chain, llama_dep, cd) == ("reject", "MalformedProof"), (role, what)
    assert_same_rejection(chain, llama, llama_dep, (d, enc, tok, out, vh.set_g1(raw, roles["witness"], bytes(128))))
    for i in range(vh.counts(raw)[0]):
        with pytest.raises(MalformedProofError):
            Proof.from_bytes(vh.set_g1(raw, i, vh.off_curve_point()))
    for j in range(vh.commitment_count(enc)):
        for what, point in vh.INVALID_POINTS.items():
            bad = vh.set_commitment_point(enc, j, point)
            cd = (keccak(bad), bad, tok, out, raw)
            assert python_verdict(llama, cd) == ("reject", "MalformedError"), (j, what)
            # the contract does not re-check a commitment's points: only a certified model's
            # are used, and the weight verifier refuses to certify these (MalformedCommitment,
            # test_transformer_weights_chain.py); this one is refused at the weight gate
            assert chain_verdict(chain, llama_dep, cd) == ("reject", "WeightsNotCertified"), (j, what)
    bad = vh.set_commitment_point(enc, 0, bytes(128))
    # infinity parses in both; Python then fails a proof check, the contract refuses the other
    # (uncertified) model at the weight gate, which comes after parsing
    assert python_verdict(llama, (keccak(bad), bad, tok, out, raw))[0] == "reject"
    assert chain_verdict(chain, llama_dep, (keccak(bad), bad, tok, out, raw)) == ("reject", "WeightsNotCertified")


def test_other_commitment_and_prompt_length_rejected(chain, llama, llama_dep):
    d, enc, tok, out, proof = transformer_calldata(llama.res.statement, llama.cm.commitment, llama.raw)
    other = tp.commit_model(llama.pk, build_model("tiny-llama", 1), rng=seeded(9)).commitment
    assert_same_rejection(chain, llama, llama_dep, (d, other.encode(), tok, out, proof))          # statement
    cd = (other.digest(), other.encode(), tok, out, proof)  # another model: not certified here
    assert python_verdict(llama, cd)[0] == "reject" and chain_verdict(chain, llama_dep, cd) == (
        "reject", "WeightsNotCertified")
    assert_same_rejection(chain, llama, llama_dep, (d, enc, tok[:11], out, proof))               # circuit


def test_unregistered_circuit_rejected(chain, llama):
    dep = deploy_transformer_verifier(chain, llama.vk)  # no descriptions registered
    cd = transformer_calldata(llama.res.statement, llama.cm.commitment, llama.raw)
    assert chain_verdict(chain, dep, cd) == ("reject", "UnknownCircuit")


class _Unconstrained:
    """A circuit with a model's tensors, circuit digest and prompt length but not one
    constraint: what a forger stores to make a proof of nothing pass."""

    def __init__(self, cm, rows: int, digest: bytes):
        inner = compile_model(cm.cfg, rows, cm.tq)
        self.specs = {n: inner.specs[n] for n in cm.names}
        self.producers, self.witness, self.lookups, self.ops, self.roots = {}, [], [], [], []
        self.rows, self._digest = rows, digest

    def digest(self) -> bytes:
        return self._digest


def _forged(cm, rows: int) -> bytes:
    return describe(_Unconstrained(cm, rows, compile_model(cm.cfg, rows, cm.tq).digest()), keccak256(cm._header()))


def _empty_proof(circuit_digest: bytes) -> bytes:
    """A proof header naming ``circuit_digest`` and no items (46 bytes)."""
    return b"ZKLP" + struct.pack(">H", VERSION) + circuit_digest + struct.pack(">II", 0, 0)


def test_forged_description_is_never_selected(chain, llama, llama_dep):
    """Anyone (here not the deployer) may store a description, even one without a constraint
    that claims the victim's circuit digest, header and prompt length. A proof of nothing for
    any prompt -> any token still runs the description the victim's commitment lists, and fails
    there as it does in Python."""
    from zkllm_chain.chain.accounts import dev_signers
    from zkllm_chain.chain.contracts import transact
    cm = llama.cm.commitment
    forged = _forged(cm, 16)
    c = llama_dep.circuits.contract(chain)
    transact(chain, c.functions.addCircuit(forged), signer=dev_signers(chain)[1], gas=8_000_000)
    assert c.functions.registered(keccak256(forged)).call()
    digest = compile_model(cm.cfg, 16, cm.tq).digest()
    for nxt in (0, 7, 255):
        st = tp.TStatement(cm.digest(), [3] * 16, nxt)
        assert_same_rejection(chain, llama, llama_dep, transformer_calldata(st, cm, _empty_proof(digest)))


def test_commitment_listing_another_description_is_refused(chain, llama, llama_dep):
    """A model owner lists, for 16-token prompts, a description its config does not compile to:
    the Python verifier rejects every proof against that commitment ("circuit"), and the
    tooling refuses to store its circuits or register it (``check_listed_circuits``)."""
    cm = llama.cm.commitment
    bad = dataclasses.replace(cm, circuits=cm.circuits[:16] + (keccak256(_forged(cm, 16)),) + cm.circuits[17:])
    st = dataclasses.replace(llama.res.statement, model_digest=bad.digest())
    with pytest.raises(VerificationError) as e:
        tp.verify(llama.vk, bad, st, llama.raw)
    assert e.value.check == "circuit"
    with pytest.raises(VerificationError):
        tp.check_listed_circuits(bad)
    tp.check_listed_circuits(cm)
    with pytest.raises(VerificationError):
        add_circuits(chain, llama_dep, bad, [16])


def test_prompt_length_the_commitment_does_not_list_rejected(chain, llama, llama_dep):
    cm = llama.cm.commitment
    short = dataclasses.replace(cm, circuits=cm.circuits[:12])  # lists 1 .. 11 tokens
    st = dataclasses.replace(llama.res.statement, model_digest=short.digest())
    cd = transformer_calldata(st, short, llama.raw)
    assert python_verdict(llama, cd) == ("reject", "circuit")
    assert chain_verdict(chain, llama_dep, cd) == ("reject", "CircuitNotListed")


# ------------------------------------------------------------------ proof items

def _altered(proof: Proof, kind: str, idx: int) -> bytes:
    g1s, g1b, frs = list(proof.g1s), list(proof.g1_bytes), list(proof.frs)
    if kind == "fr":
        frs[idx] = (frs[idx] + 1) % R
    else:
        g1b[idx] = other_point(idx)
        from prover.pcs.curve import g1_from_bytes
        g1s[idx] = g1_from_bytes(g1b[idx])
    return Proof(proof.circuit_digest, g1s, g1b, frs).to_bytes()


#: Labels whose first field element is altered (each fails before the pairing).
FR_LABELS = ("lk0/g", "lk0/eval", "lk1/g", "argmax/digit", "softmax/zero/g", "softmax/rows/g",
             "softmax/rho", "softmax/iota",
             "rescale/q", "chain/g", "rope/x", "open/g")


def test_altered_field_elements_rejected_with_the_same_check(chain, llama, llama_dep):
    first = {}
    for label, kind, idx in llama.res.layout:
        first.setdefault((label, kind), idx)
    labels = [lb for lb in FR_LABELS if (lb, "fr") in first]
    assert len(labels) >= 10, sorted({lb for lb, _ in first})
    d, enc, tok, out, _ = transformer_calldata(llama.res.statement, llama.cm.commitment, llama.raw)
    for label in labels:
        bad = _altered(llama.res.proof, "fr", first[(label, "fr")])
        assert_same_rejection(chain, llama, llama_dep, (d, enc, tok, out, bad))


def test_altered_batch_opening_rejected_by_the_pairing(chain, llama, llama_dep):
    """The last round of the opening sumcheck, the last quotient and the hiding term: the
    pairing carries the sumcheck's final check (Python "opening", Solidity PairingFailed)."""
    items = items_by_label(llama.res.layout)
    last = {key: idx[-1] for key, idx in items.items()}
    assert ("open/eval", "fr") not in last  # no evaluation is sent
    d, enc, tok, out, _ = transformer_calldata(llama.res.statement, llama.cm.commitment, llama.raw)
    for label, kind in (("open/g", "fr"), ("open/quotient", "g1"), ("open/hiding", "g1")):
        cd = (d, enc, tok, out, _altered(llama.res.proof, kind, last[(label, kind)]))
        assert python_verdict(llama, cd)[1] == "opening", label
        assert chain_verdict(chain, llama_dep, cd)[1] == "PairingFailed", label


def test_altered_witness_commitment_rejected(chain, llama, llama_dep):
    """A different (valid) point for one committed tensor: only the pairing can tell."""
    idx = next(i for label, kind, i in llama.res.layout if kind == "g1" and label == "witness")
    d, enc, tok, out, _ = transformer_calldata(llama.res.statement, llama.cm.commitment, llama.raw)
    bad = _altered(llama.res.proof, "g1", idx + 3)
    assert_same_rejection(chain, llama, llama_dep, (d, enc, tok, out, bad))


def test_truncated_and_non_canonical_proofs_rejected(chain, llama, llama_dep):
    d, enc, tok, out, raw = transformer_calldata(llama.res.statement, llama.cm.commitment, llama.raw)
    assert chain_verdict(chain, llama_dep, (d, enc, tok, out, raw[:-32]))[1] == "MalformedProof"
    bad = raw[:-32] + R.to_bytes(32, "big")
    assert chain_verdict(chain, llama_dep, (d, enc, tok, out, bad))[1] == "NotCanonical"
    assert python_verdict(llama, (d, enc, tok, out, bad))[0] == "reject"


# ------------------------------------------------------------------ cheating provers

@pytest.fixture(scope="module")
def one_layer(chain):
    s = _setup("tiny-llama", 1, _tokens(3, 11), 50)
    return s, _deploy(chain, s, [11])


def test_cheating_prover_claims_runner_up_token(chain, one_layer, monkeypatch):
    s, dep = one_layer
    lenient_multiplicities(monkeypatch)
    res = tp.prove(s.pk, s.cm, torch.tensor(s.res.statement.tokens), rng=seeded(8), witness_hook=forge_runner_up)
    assert_same_rejection(chain, s, dep, transformer_calldata(res.statement, s.cm.commitment, res.proof.to_bytes()))


def test_cheating_prover_wrong_bound_digit_rejected(chain, one_layer):
    """A rescaled quotient's bound digit flipped (still a valid digit): the range bound fused
    into the Rescale root fails, on both verifiers, with the same check."""
    s, dep = one_layer
    res = tp.prove(s.pk, s.cm, torch.tensor(s.res.statement.tokens), rng=seeded(13), witness_hook=wrong_bound_digit)
    cd = transformer_calldata(res.statement, s.cm.commitment, res.proof.to_bytes())
    assert python_verdict(s, cd) == ("reject", "range-bound")
    assert_same_rejection(chain, s, dep, cd)


def test_altered_fused_bound_digit_claim_rejected(chain, llama, llama_dep):
    """One bound-digit claim of a fused Rescale root (label "o/digit") plus one."""
    idx = next(i for label, kind, i in llama.res.layout if kind == "fr" and label == "o/digit")
    d, enc, tok, out, _ = transformer_calldata(llama.res.statement, llama.cm.commitment, llama.raw)
    cd = (d, enc, tok, out, _altered(llama.res.proof, "fr", idx))
    assert python_verdict(llama, cd) == ("reject", "range-bound")
    assert chain_verdict(chain, llama_dep, cd) == ("reject", "range-bound")


def test_cheating_prover_publishes_other_prompt(chain, one_layer):
    """The witness is the forward pass of prompt A, the statement says prompt B."""
    s, dep = one_layer
    a = torch.tensor(s.res.statement.tokens)
    b = a.clone()
    b[5] = (b[5] + 7) % 256
    ref = forward(compile_model(s.cm.commitment.cfg, len(a), s.cm.commitment.tq), s.cm.params, a)

    def hook(ints):
        for k, v in ref.items():
            if k != "tokens":
                ints[k] = v

    res = tp.prove(s.pk, s.cm, b, rng=seeded(11), witness_hook=hook)
    assert_same_rejection(chain, s, dep, transformer_calldata(res.statement, s.cm.commitment, res.proof.to_bytes()))


@pytest.mark.parametrize("mode", ["m", "A", "B"])
def test_lookup_cheats_rejected_with_the_lookup_check(chain, one_layer, monkeypatch, mode):
    """The prover of ``op_harness.lookup_cheat`` on lk0 (a multiplicity moved to another row,
    an entry of A or of B one off, each committed): both reject with the check "lookup"."""
    from tests.op_harness import lookup_cheat
    s, dep = one_layer
    lookup_cheat(monkeypatch, mode)
    res = tp.prove(s.pk, s.cm, torch.tensor(s.res.statement.tokens), rng=seeded(19))
    cd = transformer_calldata(res.statement, s.cm.commitment, res.proof.to_bytes())
    assert python_verdict(s, cd) == ("reject", "lookup")
    assert chain_verdict(chain, dep, cd) == ("reject", "lookup")


# ------------------------------------------------------------------ cheating softmax provers

def _cheat_softmax(monkeypatch, edit):
    """Play a prover whose softmax witness is ``edit(op, S, honest)`` in the forward pass, so
    everything downstream (P V, the logits, the token) follows it consistently."""
    honest_witness = Softmax.witness

    def forward(self, ints):
        S = ints[self.s]
        ints.update(edit(self, S, honest_witness(self, S)))
    lenient_multiplicities(monkeypatch)
    monkeypatch.setattr(Softmax, "forward", forward)


def _shifted(op, S, honest, keep_selector=False):
    """z one unit above the maximum on the last row of the last head: a non-max shift."""
    z = honest[op.z].clone()
    z.view(-1)[-1] += 1
    w = op.witness(S, z=z, lenient=True)
    if keep_selector:
        w[op.o] = honest[op.o]
    return w


def _iota_up(op, S, honest):
    """iota one above floor((2^(p+q) - 1) / sigma) on one row (rho goes negative)."""
    U = honest[op.u]
    iota = op.reciprocal(U.sum(-1))
    iota.view(-1)[-1] += 1
    return op.normalise(dict(honest), U, iota)


def _p_shifted(op, S, honest):
    """P one unit up on an entry, its normalisation remainder c = 2^q down (negative)."""
    w = dict(honest)
    U = w[op.u]
    X = U * op.reciprocal(U.sum(-1)).unsqueeze(-1) + (1 << (op.recip_bits - 1))
    P = w[op.p].clone()
    P.view(-1)[-op.T] += 1  # the last row's first key (unmasked)
    w[op.p] = P
    for ids, val in ((op.pd, P), (op.c, X - (P << op.recip_bits))):
        for x, v in zip(ids, _digits(val, op.range_bits, len(ids))):
            w[x] = v
    return w


@pytest.mark.parametrize("edit,check", [
    (_shifted, "softmax-rows"),                                         # no selector can sum to 1
    (lambda op, S, h: _shifted(op, S, h, keep_selector=True), "softmax"),  # selector where D = 1
    (_iota_up, "lookup"),                                               # a range digit < 0
    (_p_shifted, "lookup"),                                             # a range digit < 0
], ids=["non-max-shift", "stale-selector", "non-canonical-iota", "p-remainder-shifted"])
def test_cheating_softmax_rejected(chain, one_layer, monkeypatch, edit, check):
    """The softmax witness is a function of the scores: a non-max row shift (with the
    selector left empty or on the old maximum), a reciprocal off its rounding, or an output
    with a shifted remainder is rejected by both verifiers with the same check."""
    s, dep = one_layer
    _cheat_softmax(monkeypatch, edit)
    res = tp.prove(s.pk, s.cm, torch.tensor(s.res.statement.tokens), rng=seeded(17))
    cd = transformer_calldata(res.statement, s.cm.commitment, res.proof.to_bytes())
    if check is not None:
        assert python_verdict(s, cd) == ("reject", check)
    assert_same_rejection(chain, s, dep, cd)


# ------------------------------------------------------------------ attestation on a real node

def test_attest_transformer_on_anvil(anvil_node, llama):
    """service: deploy, register the model with the transformer verifier, attest (the node
    verifies the proof inside the transaction), check; a second attest is idempotent."""
    from zkllm_chain import service
    from zkllm_chain.chain.accounts import dev_signers
    snapshot = anvil_node.rpc("evm_snapshot")
    try:
        ch = anvil_node.connect(expected_chain_id=31337)
        signer = dev_signers(ch)[0]
        c = service.deploy_all(ch, llama.vk, signer=signer)
        tdep = service.deploy_transformer(ch, llama.vk, llama.cm.commitment, [16], signer=signer,
                                          weights_proof=llama.wp)
        mid = service.register_model(c, llama.cm.commitment, llama.vk, signer=signer, verifier=tdep.address)
        from prover.attester import parse
        from prover.errors import ZkllmError
        res = tp.prove(llama.pk, llama.cm, torch.tensor(llama.res.statement.tokens), rng=seeded(77),
                       attester=parse(signer.address))
        st, raw, gas = res.statement, res.proof.to_bytes(), service.TRANSFORMER_ATTEST_GAS
        assert service.check(c, mid, st)["attested"] is False
        copier = dev_signers(ch)[1]
        with pytest.raises(ZkllmError, match="bound to attester"):  # the tooling refuses before sending
            service.attest(c, mid, llama.cm.commitment, st, raw, signer=copier, gas=gas)
        with pytest.raises(TransactionRevertedError):  # a copied transaction: a false proof for the copier
            c.attestations.attest(mid, llama.cm.commitment.encode(), [int(t) for t in st.tokens], [st.next_token],
                                  raw, signer=copier, gas=gas)
        out = service.attest(c, mid, llama.cm.commitment, st, raw, signer=signer, gas=gas)
        assert out.created and out.gas_used > 1_000_000
        assert c.attestations.get_attestation(out.uid).attester == signer.address
        again = service.attest(c, mid, llama.cm.commitment, st, raw, signer=signer, gas=gas)
        assert not again.created and again.uid == out.uid
        assert service.check(c, mid, st)["attested"] is True
        bad = dataclasses.replace(st, next_token=(st.next_token + 1) % 256)
        with pytest.raises(TransactionRevertedError):
            service.attest(c, mid, llama.cm.commitment, bad, raw, signer=signer, gas=gas)
    finally:
        anvil_node.rpc("evm_revert", snapshot)


def test_cli_transformer_flow_on_anvil(anvil_node, tmp_path):
    """zkllm setup/commit/prove for tiny-llama, then deploy (with the transformer verifier),
    register (with the circuit of the prompt length), attest and check on a real node."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "ZKLLM_PRIVATE_KEY": "0x" + bytes(anvil_node.dev_keys[0]).hex()}

    def zkllm(*args):
        p = subprocess.run([sys.executable, "-m", "zkllm_chain.cli", *args, "--json", "--quiet"],
                           capture_output=True, text=True, cwd=root, env=env)
        assert p.returncode == 0, f"zkllm {' '.join(args)} failed ({p.returncode}): {p.stderr}"
        return json.loads(p.stdout.strip().splitlines()[-1])

    d = tmp_path
    zkllm("setup", "--model", "tiny-llama", "--tokens", "8", "--out", str(d / "params"))
    zkllm("commit", "--params", str(d / "params"), "--model", "tiny-llama", "--out", str(d / "model"))
    zkllm("prove", "--params", str(d / "params"), "--model", str(d / "model"), "--prompt-ids",
          "[72, 101, 108, 108, 111, 32, 119, 111]", "--out", str(d / "proof.bin"))
    snapshot = anvil_node.rpc("evm_snapshot")
    try:
        chain = ["--rpc-url", anvil_node.url, "--deployments", str(d / "deployments")]
        dep = zkllm("deploy", "--vk", str(d / "params" / "vk.json"), *chain)
        assert dep["transformer_verifier"] and dep["bytecode_bytes"]["TransformerVerifier"] <= 24_576
        reg = zkllm("register", "--vk", str(d / "params" / "vk.json"), "--commitment", str(d / "model"),
                    "--prompt-lengths", "8", *chain)
        mid = str(reg["model_id"])
        st = str(d / "proof.statement.json")
        assert zkllm("check", "--model-id", mid, "--statement", st, *chain)["attested"] is False
        att = zkllm("attest", "--model-id", mid, "--commitment", str(d / "model"), "--statement", st, "--proof",
                    str(d / "proof.bin"), *chain)
        assert att["created"] is True and att["gas_used"] > 1_000_000
        assert zkllm("check", "--model-id", mid, "--statement", st, *chain)["uid"] == att["uid"]
    finally:
        anvil_node.rpc("evm_revert", snapshot)


def test_cheating_prover_swaps_layer_inputs(chain, llama, llama_dep):
    """The committed layer inputs X[0] <-> X[1] (the residual chain must catch it)."""
    from tests.op_harness import swap_layers
    tok = torch.tensor(llama.res.statement.tokens)
    c = compile_model(llama.cm.commitment.cfg, len(tok), llama.cm.commitment.tq)
    swapped = []
    res = tp.prove(llama.pk, llama.cm, tok, rng=seeded(12),
                   witness_hook=lambda ints: swapped.extend(swap_layers(c, ints, ["X"])))
    assert swapped == ["X"]
    assert_same_rejection(chain, llama, llama_dep,
                          transformer_calldata(res.statement, llama.cm.commitment, res.proof.to_bytes()))


# ------------------------------------------------------------------ pooled witness layout

def test_pooled_witness_proof_verifies_on_chain(chain):
    """TQuant(pool_witness=True): the advice committed in a few pools (claims on a member are
    claims on its pool at the member's block prefix); the same verifier accepts, and an
    altered pooled evaluation is rejected with the same check."""
    from prover.transformer.compile import TQuant
    tq = TQuant(pool_witness=True)
    m = build_model("tiny-llama", 0)
    pk = tp.setup(m.cfg, tq, rng=seeded(61))
    cm = tp.commit_model(pk, m, tq, rng=seeded(62))
    res = tp.prove(pk, cm, _tokens(4, 16), rng=seeded(63))
    s = Setup(pk, pk.verifying_key(), cm, res)
    dep = _deploy(chain, s, [16])
    cd = transformer_calldata(res.statement, cm.commitment, s.raw)
    assert python_verdict(s, cd) == ("accept", None)
    tx = verify_transaction(chain, dep.verifier, cd, gas=TRANSFORMER_VERIFY_GAS)
    assert tx.gas_used < 10_000_000, tx.gas_used
    idx = next(i for label, kind, i in res.layout if kind == "fr" and label == "lk0/eval")
    d, enc, tok, out, _ = cd
    assert_same_rejection(chain, s, dep, (d, enc, tok, out, _altered(res.proof, "fr", idx)))


# ------------------------------------------------------------------ grouped-query attention, group 3

def _gqa_setup(cfg, tokens, seed: int) -> Setup:
    model = build_model(cfg, 2)
    pk = tp.setup(cfg, rng=seeded(seed))
    cm = tp.commit_model(pk, model, rng=seeded(seed + 1))
    return Setup(pk, pk.verifying_key(), cm, tp.prove(pk, cm, tokens, rng=seeded(seed + 2)))


@pytest.fixture(scope="module")
def gqa3(chain):
    """Six query heads over two KV heads: a group of 3, so K's and V's expansions are each a
    sumcheck over the KV heads (``views._group_reduce``), run by the modules contract."""
    cfg = build_model("tiny-llama", 0).cfg.with_(n_layers=1, d_model=96, n_heads=6, n_kv_heads=2, d_ffn=128)
    s = _gqa_setup(cfg, _tokens(5, 8), 70)
    return s, _deploy(chain, s, [8])


GQA_LABELS = ("gqa/k/g", "gqa/k/src", "gqa/v/g", "gqa/v/src")


def test_group_of_three_is_described(gqa3, llama):
    """The expansions carry their sumcheck's label; a power-of-two group stays a bare view."""
    s, _ = gqa3
    desc = transformer_description(s.cm.commitment, 8)
    assert b"gqa/k" in desc and b"gqa/v" in desc
    assert b"gqa" not in transformer_description(llama.cm.commitment, 16)


def test_group_of_three_proof_verifies_on_chain(chain, gqa3):
    s, dep = gqa3
    cd = transformer_calldata(s.res.statement, s.cm.commitment, s.raw)
    assert python_verdict(s, cd) == ("accept", None)
    tx = verify_transaction(chain, dep.verifier, cd, gas=TRANSFORMER_VERIFY_GAS)
    assert 0 < tx.gas_used < TRANSFORMER_VERIFY_GAS
    print(f"group-3 verify gas: {tx.gas_used}")


def test_group_of_three_altered_rounds_and_claims_rejected(chain, gqa3):
    """Every field element of both GQA sumchecks (round coefficients) and of their claims on
    the KV source, plus one: both verifiers reject with "gqa"."""
    s, dep = gqa3
    idxs = {}
    for label, kind, idx in s.res.layout:
        if kind == "fr" and label in GQA_LABELS:
            idxs.setdefault(label, []).append(idx)
    assert set(idxs) == set(GQA_LABELS), sorted(idxs)
    assert len(idxs["gqa/k/g"]) == 2 and len(idxs["gqa/v/g"]) == 2  # one KV-head bit, degree 2
    d, enc, tok, out, _ = transformer_calldata(s.res.statement, s.cm.commitment, s.raw)
    for label in GQA_LABELS:
        for idx in idxs[label]:
            cd = (d, enc, tok, out, _altered(s.res.proof, "fr", idx))
            assert python_verdict(s, cd) == ("reject", "gqa"), label
            assert chain_verdict(chain, dep, cd) == ("reject", "gqa"), label


def test_one_kv_head_group_of_three_verifies_on_chain(chain):
    """Three query heads over one KV head: the GQA sumchecks have no rounds (the claim is
    w_0 src), their source claims are still checked by both verifiers."""
    cfg = build_model("tiny-llama", 0).cfg.with_(n_layers=1, d_model=48, n_heads=3, n_kv_heads=1, d_ffn=64)
    s = _gqa_setup(cfg, _tokens(6, 8), 80)
    dep = _deploy(chain, s, [8])
    cd = transformer_calldata(s.res.statement, s.cm.commitment, s.raw)
    assert python_verdict(s, cd) == ("accept", None)
    assert chain_verdict(chain, dep, cd)[0] == "accept"
    assert not any(label.startswith("gqa/") and label.endswith("/g") for label, _, _ in s.res.layout)
    idx = next(i for label, kind, i in s.res.layout if kind == "fr" and label == "gqa/v/src")
    d, enc, tok, out, _ = cd
    bad = (d, enc, tok, out, _altered(s.res.proof, "fr", idx))
    assert python_verdict(s, bad) == ("reject", "gqa")
    assert chain_verdict(chain, dep, bad) == ("reject", "gqa")
