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
from prover.field import R
from prover.model.mlp import build_mlp
from zkllm_chain.chain import verifier as cv
from zkllm_chain.chain.backend import connect

EIP170_LIMIT = 24_576
GAS_LIMIT = 1_500_000


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
    pk = vh.small_key(9)
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
    assert {lbl for lbl, _ in labels} >= {"lk0/eval", "lk1/eval", "lk2/eval", "lk2/t/g"}
    for label in ("lk0/eval", "lk1/w/g", "lk1/eval", "lk2/t/g", "linear/x", "open/eval"):
        for j in (labels[(label, "fr")][0], labels[(label, "fr")][-1]):
            proof = vh.set_fr(case.proof, j, (vh.get_fr(case.proof, j) + 1) % R)
            assert_both_reject(s.vk, evm, dep, case.replace(f"{label}[{j}]+1", proof=proof))


# --------------------------------------------------------------------------- field elements

def test_every_field_element_label_tampered(evm, verifier, vk, mid):
    case = mid.case
    labels = vh.items_by_label(mid.result.layout)
    fr_labels = sorted(lbl for lbl, kind in labels if kind == "fr")
    assert {"lk0/sigma", "lk0/w/g", "lk0/t/g", "lk0/eval", "lk1/sigma", "lk1/w/g", "lk1/t/g", "lk1/eval",
            "rescale/q", "rescale/digit", "linear/bias", "linear/g", "linear/x", "linear/w", "open/g",
            "open/eval"} <= set(fr_labels)
    seen = set()
    for label in fr_labels:
        idx = labels[(label, "fr")]
        for j in sorted({idx[0], idx[len(idx) // 2], idx[-1]}):
            proof = vh.set_fr(case.proof, j, (vh.get_fr(case.proof, j) + 1) % R)
            # a round polynomial's element: the final check of the sumcheck's caller
            expect = ({"LookupFinalCheckFailed"} if label.startswith("lk") else
                      {"LinearFinalCheckFailed"} if label == "linear/g" else
                      {"BatchOpeningFailed"}) if label.endswith("/g") else None
            py, ch = assert_both_reject(vk, evm, verifier, case.replace(f"{label}[{j}]+1", proof=proof), expect)
            seen.add(ch[1])
    assert {"LookupFinalCheckFailed", "LinearFinalCheckFailed", "BatchOpeningFailed"} <= seen


# --------------------------------------------------------------------------- G1 points

def test_every_point_label_replaced(evm, verifier, vk, mid):
    case = mid.case
    labels = vh.items_by_label(mid.result.layout)
    g1_labels = sorted(lbl for lbl, kind in labels if kind == "g1")
    assert {"witness", "lookup/m", "lk0/A", "lk0/B", "lk1/A", "lk1/B", "open/quotient", "open/hiding"} <= set(g1_labels)
    for label in g1_labels:
        i = labels[(label, "g1")][-1]
        proof = vh.set_g1(case.proof, i, vh.other_point(i))
        expect = {"PairingFailed"} if label in ("open/quotient", "open/hiding") else {"LookupFinalCheckFailed"}
        assert_both_reject(vk, evm, verifier, case.replace(f"{label}[{i}] replaced", proof=proof), expect)


def test_points_off_the_curve_or_outside_the_subgroup(evm, verifier, vk, mid):
    """Python rejects them when parsing; the contract when the precompile sees them (or
    earlier, when the changed transcript breaks the first sumcheck's final check)."""
    case = mid.case
    labels = vh.items_by_label(mid.result.layout)
    for label, expect in (("witness", {"LookupFinalCheckFailed"}), ("open/quotient", {"PrecompileFailed"}),
                          ("open/hiding", {"PrecompileFailed"})):
        i = labels[(label, "g1")][0]
        for what, enc, says in (("off curve", vh.off_curve_point(), "not on the curve"),
                                ("outside G1", vh.non_subgroup_point(), "not in the prime-order subgroup")):
            proof = vh.set_g1(case.proof, i, enc)
            py, ch = assert_both_reject(vk, evm, verifier, case.replace(f"{label} {what}", proof=proof), expect)
            assert py[1] == "MalformedProofError" and says in py[3], py
    # a non-canonical coordinate (>= p) in the model commitment
    bad = bytearray(case.commitment)
    bad[-48:] = b"\xff" * 48
    bad = bytes(bad)
    from eth_utils import keccak
    py, ch = assert_both_reject(vk, evm, verifier, case.replace("commitment point >= p", commitment=bad,
                                                                 model_digest=keccak(bad)),
                                {"LookupFinalCheckFailed", "PrecompileFailed", "WeightsNotCertified"})
    assert py[1] == "MalformedError"  # (such a commitment cannot be certified: its weight proof fails alike)


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
        ("commitment quant", dict(commitment=bad_quant, model_digest=keccak(bad_quant)), {"MalformedCommitment"}),
        ("other proof", dict(proof=other.case.proof), {"LookupFinalCheckFailed"}),
    ]
    for name, kw, expect in cases:
        assert_both_reject(vk, evm, verifier, case.replace(name, **kw), expect)


def test_statement_words_must_be_canonical(evm, verifier, vk, mid):
    """The contract takes the statement mod r and insists on the canonical word (< r):
    Python reduces any integer, so x and x + r are one Python statement, one calldata."""
    case = mid.case
    bumped = case.replace("input + r", input=[case.input[0] + R] + case.input[1:])
    assert vh.python_verdict(vk, bumped)[0] == "accept"
    assert vh.chain_verdict(evm, verifier, bumped)[1:] == ("NotCanonical", (b"input".ljust(32, b"\0"), 0))
    bumped = case.replace("output + r", output=case.output[:2] + [case.output[2] + R] + case.output[3:])
    assert vh.chain_verdict(evm, verifier, bumped)[1:] == ("NotCanonical", (b"output".ljust(32, b"\0"), 2))


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
