"""The Solidity verifier against `prover.api.verify`, on the embedded (py-evm) chain.

* valid proofs: both verifiers accept; the contract returns the statement hash;
* differential: every class of tampering (each field-element label of the proof, each
  G1 label, bytes, header, statement, model commitment) is rejected by both, and where
  Python names the failing check the contract reverts with the error for that check
  (a tampered sumcheck round polynomial, or a transcript changed before a sumcheck, is
  caught by the final check of the sumcheck's caller);
* gas of a real verification transaction for the 64-256-64 MLP, and contract sizes.

On py-evm a pairing costs about half a second, so the tampering cases are chosen to fail
before the pairing except for the few that must reach it.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

import verifier_helpers as vh
from prover import api
from prover.field import R
from prover.rng import seeded
from prover.model.mlp import build_mlp
from zkllm_chain.chain import verifier as cv
from zkllm_chain.chain.backend import connect

EIP170_LIMIT = 24_576
GAS_LIMIT = 1_950_000  # format 3 (1.65M) + masked sumchecks and opening, shadowed sumchecks (1.88M)


@pytest.fixture(scope="module")
def evm():
    return connect()


@pytest.fixture(scope="module")
def verifier(evm, vk):
    """The verifier for the session key (2^14, default QuantSpec)."""
    return vh.deploy_verifier(evm, vk)


@pytest.fixture(scope="module")
def mid(evm, verifier, pk):
    """A 16-32-8 GELU MLP proved with the session key (its weights certified): the tampering workload."""
    s = vh.build_setup(pk, build_mlp(16, 32, 8, "gelu", seed=5), vh.random_input(16, seed=6), seed=1)
    vh.certify(evm, verifier, s)
    return s


def assert_both_reject(vk, evm, dep, case, expect_chain: set[str] | None = None):
    py = vh.python_verdict(vk, case)
    ch = vh.chain_verdict(evm, dep, case)
    assert py[0] == "reject", f"{case.name}: Python accepted"
    assert ch[0] == "reject", f"{case.name}: the contract accepted (Python: {py})"
    assert ch[1] is not None, f"{case.name}: undecoded revert"
    if py[1] == "VerificationError":
        assert ch[1] in vh.CHECK_TO_ERROR[py[2]], f"{case.name}: Python check {py[2]!r}, contract {ch[1]}{ch[2]}"
    if expect_chain is not None:
        assert ch[1] in expect_chain, f"{case.name}: contract {ch[1]}{ch[2]}, expected {expect_chain}"
    return py, ch


# --------------------------------------------------------------------------- valid proofs

def test_valid_proof_accepted_by_both(evm, verifier, vk, mid):
    case = mid.case
    assert vh.python_verdict(vk, case)[0] == "accept"
    verdict = vh.chain_verdict(evm, verifier, case)
    assert verdict[0] == "accept"
    assert verdict[1] == cv.statement_hash(case.model_digest, case.input, case.output)


def test_multi_row_multi_activation_small_quant(evm):
    """Three rows (a non-trivial row mask), GELU twice (a two-column lookup), SiLU and
    the range lookup: three lookup instances; 4-bit digits, 8-bit tables."""
    pk = vh.small_key(10)
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(8, 12), nn.GELU(), nn.Linear(12, 6), nn.SiLU(), nn.Linear(6, 10),
                          nn.GELU(), nn.Linear(10, 3)).double()
    s = vh.build_setup(pk, model, vh.random_input(8, seed=4, rows=3), quant=vh.SMALL_QUANT, seed=2)
    dep = vh.deploy_verifier(evm, s.vk)
    vh.certify(evm, dep, s)
    case = s.case
    assert len(case.input) == 24 and len(case.output) == 9
    assert vh.python_verdict(s.vk, case)[0] == "accept"
    verdict = vh.chain_verdict(evm, dep, case)
    assert verdict[0] == "accept", verdict
    assert verdict[1] == cv.statement_hash(case.model_digest, case.input, case.output)
    labels = vh.items_by_label(s.result.layout)
    assert {lbl for lbl, _ in labels} >= {"lk0/eval", "lk1/eval", "lk2/eval", "lk2/g"}
    for label in ("lk0/eval", "lk1/g", "lk1/eval", "lk2/g", "linear/x", "open/g"):
        for j in (labels[(label, "fr")][0], labels[(label, "fr")][-1]):
            proof = vh.set_fr(case.proof, j, (vh.get_fr(case.proof, j) + 1) % R)
            assert_both_reject(s.vk, evm, dep, case.replace(f"{label}[{j}]+1", proof=proof))


# --------------------------------------------------------------------------- field elements

def test_every_field_element_label_tampered(evm, verifier, vk, mid):
    case = mid.case
    labels = vh.items_by_label(mid.result.layout)
    fr_labels = sorted(lbl for lbl, kind in labels if kind == "fr")
    assert not [lbl for lbl in fr_labels if lbl.endswith("/sigma")]  # no sum of the private inverses
    assert {"lk0/g", "lk0/eval", "lk1/g", "lk1/eval",
            "linear/bias", "linear/g", "linear/x", "linear/w", "open/g"} <= set(fr_labels)
    assert "open/eval" not in fr_labels  # the batch opening sends no evaluations
    # a Rescale sends nothing: its Linear absorbs the quotient and digits (``prover/zk/shadow.py``)
    assert not {"rescale/q", "rescale/digit"} & set(fr_labels)
    seen = set()
    for label in fr_labels:
        idx = labels[(label, "fr")]
        for j in sorted({idx[0], idx[len(idx) // 2], idx[-1]}):
            proof = vh.set_fr(case.proof, j, (vh.get_fr(case.proof, j) + 1) % R)
            # a round polynomial's element: the final check of the sumcheck's caller (a Linear's
            # is a combined claim of the batch opening)
            expect = ({"LookupFinalCheckFailed"} if label.startswith("lk") else
                      {"PairingFailed"}) if label.endswith("/g") else None
            py, ch = assert_both_reject(vk, evm, verifier, case.replace(f"{label}[{j}]+1", proof=proof), expect)
            seen.add(ch[1])
    assert {"LookupFinalCheckFailed", "PairingFailed"} <= seen


# --------------------------------------------------------------------------- G1 points

def test_every_point_label_replaced(evm, verifier, vk, mid):
    case = mid.case
    labels = vh.items_by_label(mid.result.layout)
    g1_labels = sorted(lbl for lbl, kind in labels if kind == "g1")
    assert {"witness", "lookup/m", "lk0/A", "lk0/B", "lk1/A", "lk1/B", "open/quotient", "open/hiding", "open/R",
            "zk/mask"} <= set(g1_labels)
    for label in g1_labels:
        i = labels[(label, "g1")][-1]
        proof = vh.set_g1(case.proof, i, vh.other_point(i))
        # the opening's own points (its masks' included) reach only the pairing; every other
        # point, the mask pool's first of all, changes the challenges of the first lookup
        expect = ({"PairingFailed"} if label in ("open/quotient", "open/hiding", "open/R")
                  else {"LookupFinalCheckFailed"})
        assert_both_reject(vk, evm, verifier, case.replace(f"{label}[{i}] replaced", proof=proof), expect)


def test_invalid_points_rejected_where_parsed(evm, verifier, vk, mid):
    """Each G1 role of the proof (one index per label) and every model-commitment point,
    replaced by an encoding that is off the curve, outside the prime-order subgroup, has a
    coordinate >= p or non-zero padding: both verifiers reject it as malformed where they
    parse it (MalformedProofError / MalformedProof, MalformedError / MalformedCommitment).
    The point at infinity is a valid point (the commitment of a zero tensor with blind 0):
    both parse it and reject the false proof with the same check."""
    from eth_utils import keccak

    case = mid.case
    labels = vh.items_by_label(mid.result.layout)
    g1_labels = sorted(lbl for lbl, kind in labels if kind == "g1")
    for label in g1_labels:
        i = labels[(label, "g1")][0]
        for what, enc in vh.INVALID_POINTS.items():
            py, ch = assert_same_outcome(vk, evm, verifier, case.replace(f"{label}[{i}] {what}",
                                                                         proof=vh.set_g1(case.proof, i, enc)))
            assert py[1] == "MalformedProofError" and ch[2] == (vh.HEADER,), (label, what, py, ch)
        py, ch = assert_same_outcome(vk, evm, verifier, case.replace(f"{label}[{i}] infinity",
                                                                     proof=vh.set_g1(case.proof, i, bytes(128))))
        assert py[1] == "VerificationError", (label, py)
    points_at = len(case.commitment) - 128 * vh.commitment_count(case.commitment)
    for j in range(vh.commitment_count(case.commitment)):
        for what, enc in vh.INVALID_POINTS.items():
            bad = vh.set_commitment_point(case.commitment, j, enc)
            py, ch = assert_same_outcome(vk, evm, verifier, case.replace(f"commitment[{j}] {what}", commitment=bad,
                                                                         model_digest=keccak(bad)))
            assert py[1] == "MalformedError" and ch[2] == (points_at,), (j, what, py, ch)
        # infinity is a valid point, so this is another model: never certified on-chain (the
        # contract stops at the gate), and its proof fails in Python
        bad = vh.set_commitment_point(case.commitment, j, bytes(128))
        c = case.replace(f"commitment[{j}] infinity", commitment=bad, model_digest=keccak(bad))
        py, ch = vh.python_verdict(vk, c), vh.chain_verdict(evm, verifier, c)
        assert py[1] == "VerificationError" and ch[:2] == ("reject", "WeightsNotCertified"), (j, py, ch)


def test_zero_tensor_committed_at_infinity_accepted_by_both(evm):
    """The point at infinity is a legitimate commitment: a zero bias committed with blind 0.
    Both verifiers accept the model and its proof."""
    from tests.op_harness import ONE_LINEAR

    class ZeroBlinds:
        def randbelow(self, n):
            return 0

    pk = vh.small_key(10)
    vk = pk.verifying_key()
    w = torch.tensor([[3, -2, 1, 0], [0, 5, -7, 2]])
    cm = api.commit_quantized(pk, ONE_LINEAR, {"l0.w": w, "l0.b": torch.zeros(2, dtype=torch.int64)},
                              vh.SMALL_QUANT, rng=ZeroBlinds())
    assert cm.commitment.encode()[-128:] == bytes(128)  # l0.b, the last point
    res = api.prove(pk, cm, torch.tensor([40, -7, 300, 12]), rng=seeded(23), quantized=True)
    dep = cv.deploy_verifier(evm, vk, compiled=vh.compiled_verifier())
    from zkllm_chain.chain.weights import certify_for
    certify_for(evm, dep.address, cm.commitment.encode(), api.prove_weights(pk, cm, rng=seeded(24)))
    py, ch = assert_same_outcome(vk, evm, dep, vh.case_from(res.statement, cm.commitment, res.proof.to_bytes()))
    assert ch[0] == "accept"


# --------------------------------------------------------------------------- bytes and header

def test_proof_bytes_and_header(evm, verifier, vk, mid):
    case = mid.case
    p = case.proof
    n_g1, n_fr = vh.counts(p)
    bad_fr = vh.get_fr(p, 3) + R if vh.get_fr(p, 3) + R < 1 << 256 else R
    cases = [
        ("empty", b"", {"MalformedProof"}),
        ("short header", p[:40], {"MalformedProof"}),
        ("truncated 1", p[:-1], {"MalformedProof"}),
        ("truncated fr", p[:-32], {"MalformedProof"}),
        ("extended 1", p + b"\0", {"MalformedProof"}),
        ("extended fr", p + bytes(32), {"MalformedProof"}),
        ("bad magic", b"ZKLQ" + p[4:], {"MalformedProof"}),
        ("bad version", p[:4] + b"\x00\x01" + p[6:], {"MalformedProof"}),  # format 1: rounds with c_0
        ("format 2", p[:4] + b"\x00\x02" + p[6:], {"MalformedProof"}),  # format 2: lookups send sigma
        ("circuit digest", p[:6] + bytes([p[6] ^ 1]) + p[7:], {"CircuitMismatch"}),
        ("trailing fr", vh.set_counts(p, n_g1, n_fr + 1) + (5).to_bytes(32, "big"), {"ProofTrailingItems"}),
        ("trailing g1", vh.set_counts(p[:vh.fr_offset(p, 0)] + vh.other_point() + p[vh.fr_offset(p, 0):],
                                      n_g1 + 1, n_fr), {"ProofTrailingItems"}),
        ("missing fr", vh.set_counts(p[:-32], n_g1, n_fr - 1), {"ProofItemsExhausted"}),
        ("missing g1", vh.set_counts(p[:vh.fr_offset(p, 0) - 128] + p[vh.fr_offset(p, 0):], n_g1 - 1, n_fr),
         {"ProofItemsExhausted"}),
        ("fr + r", vh.set_fr(p, 3, bad_fr), {"NotCanonical"}),
        ("fr = r", vh.set_fr(p, n_fr - 1, R), {"NotCanonical"}),
    ]
    for name, proof, expect in cases:
        py, ch = assert_both_reject(vk, evm, verifier, case.replace(name, proof=proof), expect)
        if expect != {"CircuitMismatch"}:
            assert py[1] == "MalformedProofError", (name, py)


# --------------------------------------------------------------------------- statement and model

def test_statement_and_model_commitment(evm, verifier, vk, pk, mid):
    from eth_utils import keccak

    case = mid.case
    other = vh.build_setup(pk, build_mlp(16, 32, 8, "gelu", seed=9), vh.random_input(16, seed=6), seed=3)
    relu = vh.build_setup(pk, build_mlp(16, 32, 8, "relu", seed=5), vh.random_input(16, seed=6), seed=4)
    for s in (other, relu):
        vh.certify(evm, verifier, s)
    enc = case.commitment
    bad_magic = b"ZKLX" + enc[4:]
    long_enc = enc + b"\0"
    arch_len = int.from_bytes(enc[6:8], "big")
    bad_quant = bytearray(enc)
    bad_quant[8 + arch_len - 2] = 3  # digit_bits 3 does not divide the rescale shifts
    bad_quant = bytes(bad_quant)
    cases = [
        ("output value", dict(output=[(case.output[0] + 1) % R] + case.output[1:]), {"LookupFinalCheckFailed"}),
        ("input value", dict(input=case.input[:-1] + [(case.input[-1] + 1) % R]), {"LookupFinalCheckFailed"}),
        ("output short", dict(output=case.output[:-1]), {"OutputLength"}),
        ("input not a multiple", dict(input=case.input[:-1]), {"InputLength"}),
        ("input empty", dict(input=[]), {"InputLength"}),
        ("two rows of input", dict(input=case.input * 2), {"OutputLength"}),
        ("two rows of input and output", dict(input=case.input * 2, output=case.output * 2), {"CircuitMismatch"}),
        ("digest mismatch", dict(model_digest=keccak(b"x")), {"ModelDigestMismatch"}),
        ("other model", dict(commitment=other.case.commitment, model_digest=other.case.model_digest),
         {"LookupFinalCheckFailed"}),
        ("other model, own digest", dict(commitment=other.case.commitment), {"ModelDigestMismatch"}),
        ("other architecture", dict(commitment=relu.case.commitment, model_digest=relu.case.model_digest),
         {"CircuitMismatch"}),
        ("commitment magic", dict(commitment=bad_magic, model_digest=keccak(bad_magic)), {"MalformedCommitment"}),
        ("commitment extended", dict(commitment=long_enc, model_digest=keccak(long_enc)), {"MalformedCommitment"}),
        ("commitment quant", dict(commitment=bad_quant, model_digest=keccak(bad_quant)), {"UnsafeParameter"}),
        ("other proof", dict(proof=other.case.proof), {"LookupFinalCheckFailed"}),
    ]
    for name, kw, expect in cases:
        assert_both_reject(vk, evm, verifier, case.replace(name, **kw), expect)


def assert_same_outcome(vk, evm, dep, case):
    py, ch = vh.python_verdict(vk, case), vh.chain_verdict(evm, dep, case)
    assert vh.same_outcome(py, ch), f"{case.name}: Python {py[:3]}, contract {ch}"
    return py, ch


def test_statement_words_must_be_canonical(evm, verifier, vk, mid):
    """A word that is not v mod r of an activation |v| < 2^(io_bits-1) (io_bits 48 here):
    both reject with the same word named (MalformedStatementError / NotCanonical); the
    extreme words inside the bound are statements, rejected as false by the same check."""
    case = mid.case
    lim = 1 << 47
    for name, kw, outcome in (
            ("input + r", dict(input=[case.input[0] + R] + case.input[1:]), ("input", 0)),
            ("input = r", dict(input=case.input[:3] + [R] + case.input[4:]), ("input", 3)),
            ("input 2^47", dict(input=case.input[:-1] + [lim]), ("input", len(case.input) - 1)),
            ("input -2^47", dict(input=[R - lim] + case.input[1:]), ("input", 0)),
            ("output + r", dict(output=case.output[:2] + [case.output[2] + R] + case.output[3:]), ("output", 2)),
            ("output 2^47", dict(output=[lim] + case.output[1:]), ("output", 0)),
            ("output -2^47", dict(output=case.output[:-1] + [R - lim]), ("output", len(case.output) - 1)),
            ("output 2^255", dict(output=[1 << 255] + case.output[1:]), ("output", 0)),
            ("input 2^47 - 1", dict(input=[lim - 1] + case.input[1:]), "lookup"),
            ("output 1 - 2^47", dict(output=[R - lim + 1] + case.output[1:]), "lookup")):
        py, ch = assert_same_outcome(vk, evm, verifier, case.replace(name, **kw))
        assert py[0] == "reject" and (py[2] == outcome), (name, py)


@pytest.mark.parametrize("label", ["lk0", "lk1"])  # the GELU table, the digit range table
@pytest.mark.parametrize("mode", ["m", "A", "B"])
def test_lookup_cheats_rejected_by_both(evm, verifier, vk, pk, mid, monkeypatch, mode, label):
    """The cheating prover of ``op_harness.lookup_cheat``: a multiplicity moved to another row,
    or an entry of A or of B one off, each committed; both verifiers reject at the lookup's
    zero-sum final check."""
    from tests.op_harness import lookup_cheat
    lookup_cheat(monkeypatch, mode, label)
    res = api.prove(pk, mid.committed, vh.random_input(16, seed=6), rng=seeded(22))
    case = vh.case_from(res.statement, mid.committed.commitment, res.proof.to_bytes(), f"{label} {mode}")
    py, ch = assert_both_reject(vk, evm, verifier, case, {"LookupFinalCheckFailed"})
    assert py[2] == "lookup" and tuple(ch[2]) == (int(label[2:]),), (py, ch)


def test_digit_outside_its_table_rejected_by_both(evm, verifier, vk, pk, mid, monkeypatch):
    """One rescale digit 2^digit_bits above its value (outside the range table), its inverse
    1/(beta + digit) well formed and the multiplicities counting the other digits: the two
    sides of the lookup sum differently; both verifiers reject at the lookup (phase 3, before
    the rescale relation it also breaks)."""
    from tests.op_harness import lenient_multiplicities
    lenient_multiplicities(monkeypatch)
    bits = mid.committed.commitment.quant.digit_bits

    def hook(ints):
        d = ints["l0.d0"].clone()
        d.view(-1)[0] += 1 << bits
        ints["l0.d0"] = d
    res = api.prove(pk, mid.committed, vh.random_input(16, seed=6), rng=seeded(23), witness_hook=hook)
    case = vh.case_from(res.statement, mid.committed.commitment, res.proof.to_bytes(), "digit outside")
    py, ch = assert_both_reject(vk, evm, verifier, case, {"LookupFinalCheckFailed"})
    assert py[2] == "lookup" and tuple(ch[2]) == (1,), (py, ch)


def test_output_wrap_around_rejected_by_both(evm, verifier, vk, pk, mid):
    """The cheating prover of the last rescale (``op_harness.wrap_output``): one output entry
    is about 8e71 and every relation holds; both verifiers reject its statement word."""
    from tests.op_harness import wrap_output

    committed = mid.committed
    x = vh.random_input(16, seed=6)
    res = api.prove(pk, committed, x, rng=seeded(21), witness_hook=wrap_output(committed.commitment.quant, entry=3))
    assert abs(res.statement.output[3]) > 10 ** 70
    case = vh.case_from(res.statement, committed.commitment, res.proof.to_bytes(), "output wrapped")
    py, ch = assert_same_outcome(vk, evm, verifier, case)
    assert py[:3] == ("reject", "MalformedStatementError", ("output", 3)), py


def test_largest_activations_accepted_one_more_rejected(evm):
    """|v| = 2^(io_bits-1) - 1 in the input and the output: both verifiers take the words (the
    contract then stops at the weight gate: this model's bias, 2^S L, is far outside the
    range a weight proof allows, so it can never be certified); one more in any of them: both
    reject that word."""
    from tests.op_harness import extreme_activation_model

    pk = vh.small_key(10)
    vk = pk.verifying_key()
    cm, x, lim = extreme_activation_model(pk, vh.SMALL_QUANT)
    res = api.prove(pk, cm, x, rng=seeded(22), quantized=True)
    assert res.statement.output == [lim, -lim]
    dep = cv.deploy_verifier(evm, vk, compiled=vh.compiled_verifier())
    case = vh.case_from(res.statement, cm.commitment, res.proof.to_bytes())
    assert case.output == [lim, R - lim]
    py, ch = vh.python_verdict(vk, case), vh.chain_verdict(evm, dep, case)
    assert py[0] == "accept" and ch[:2] == ("reject", "WeightsNotCertified"), (py, ch)
    for name, kw, outcome in (("output L + 1", dict(output=[lim + 1, R - lim]), ("output", 0)),
                              ("output -L - 1", dict(output=[lim, R - lim - 1]), ("output", 1)),
                              ("input L + 1", dict(input=[lim + 1] + case.input[1:]), ("input", 0)),
                              ("input -L - 1", dict(input=case.input[:1] + [R - lim - 1] + case.input[2:]),
                               ("input", 1))):
        py, ch = assert_same_outcome(vk, evm, dep, case.replace(name, **kw))
        assert py[2] == outcome, (name, py)


# --------------------------------------------------------------------------- gas and sizes

def test_gas_of_a_verification_transaction(evm, verifier, vk, pk, committed, proved):
    """The 64-256-64 MLP of the session fixtures, certified and verified in real transactions."""
    from prover import api
    from zkllm_chain.chain.weights import certify_for
    case = vh.case_from(proved.statement, committed.commitment, proved.proof.to_bytes())
    assert vh.python_verdict(vk, case)[0] == "accept"
    wp = api.prove_weights(pk, committed)
    cert = certify_for(evm, verifier.address, committed.commitment.encode(), wp)
    print(f"\n64-256-64 MLP weight certification: {cert.gas_used} gas, calldata {cert.calldata_bytes} bytes "
          f"(weight proof {len(wp)} bytes)")
    assert cert.gas_used < 16_777_216
    tx = cv.verify_transaction(evm, verifier, case.calldata)
    print(f"\n64-256-64 MLP on-chain verification: {tx.gas_used} gas, calldata {tx.calldata_bytes} bytes "
          f"(proof {len(case.proof)} bytes, commitment {len(case.commitment)} bytes)")
    assert tx.gas_used < GAS_LIMIT
    assert tx.statement_hash == cv.statement_hash(case.model_digest, case.input, case.output)


def test_contract_sizes(evm, verifier):
    from zkllm_chain.chain.solc import compile_contracts
    from zkllm_chain.chain.artifacts import CONTRACTS_DIR

    result = compile_contracts(CONTRACTS_DIR)
    units = {n: c for n, c in result.contracts.items() if c.source_unit.startswith("verifier/")}
    assert "ZkllmVerifier" in units
    for name, c in units.items():
        assert c.deployed_size < EIP170_LIMIT, (name, c.deployed_size)
    code = evm.w3.eth.get_code(verifier.address)
    store = evm.w3.eth.get_code(cv.key_store(evm, verifier))
    assert 0 < len(code) < EIP170_LIMIT and 0 < len(store) < EIP170_LIMIT
    print(f"\nZkllmVerifier runtime {len(code)} bytes; key store {len(store)} bytes")
