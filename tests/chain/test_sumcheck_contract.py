"""`Sumcheck.sol` against `prover/sumcheck.py`, directly: a small test-only contract
(compiled here from the library's own sources, never committed) runs the Solidity
verifier on the same rounds as the Python verifier, honest and tampered, with one
degree for every round and with a first round of its own degree."""
from __future__ import annotations

import random
import shutil

import pytest

from prover import sumcheck as sc
from prover.channel import ProverChannel, VerifierChannel
from prover.errors import MalformedProofError
from prover.field import R
from prover.transcript import Transcript
from zkllm_chain.chain.backend import connect
from zkllm_chain.chain.artifacts import CONTRACTS_DIR
from zkllm_chain.chain.solc import compile_contracts

HARNESS = """// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;
import {VerifierChannel, Transcript} from "./verifier/Transcript.sol";
import {Sumcheck} from "./verifier/Sumcheck.sol";

contract SumcheckHarness {
    function run(uint256[] calldata frs, uint256 n, uint256 firstDegree, uint256 degree, uint256 claim)
        external pure returns (uint256[] memory point, uint256 expected, uint256 consumed)
    {
        uint256 start;
        assembly { start := frs.offset }
        VerifierChannel memory ch;
        (ch.state, ch.frNext, ch.frEnd) = (Transcript.INITIAL_STATE, start, start + 32 * frs.length);
        (point, expected) = Sumcheck.verifyFirst(ch, "t/g", "t/r", n, firstDegree, degree, claim);
        consumed = (ch.frNext - start) / 32;
    }
}
"""


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    src = tmp_path_factory.mktemp("sumcheck-harness")
    (src / "verifier").mkdir()
    for name in ("Sumcheck.sol", "Transcript.sol"):
        shutil.copy(CONTRACTS_DIR / "verifier" / name, src / "verifier" / name)
    (src / "SumcheckHarness.sol").write_text(HARNESS)
    c = compile_contracts(src).contracts["SumcheckHarness"]
    w3 = connect().w3
    tx = w3.eth.contract(abi=c.abi, bytecode=c.bytecode).constructor().transact({"from": w3.eth.accounts[0]})
    addr = w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
    return w3.eth.contract(address=addr, abi=c.abi)


def _terms(rnd, n, degree, extra):
    half = 1 << (n - 1)
    beta = rnd.randrange(R)
    sel = [(1 - beta) % R] * half + [beta] * half
    out = []
    for _ in range(2):
        fs = [[rnd.randrange(R) for _ in range(1 << n)] for _ in range(degree)]
        out.append(sc.Term(rnd.randrange(R), [sel, *fs] if extra else fs))
    return out


def _python(frs, n, first, degree, claim):
    ch = VerifierChannel(Transcript(), [], [], frs)
    try:
        sub = sc.verify(ch, "t", n, degree, claim, first_degree=first)
    except MalformedProofError:
        return None
    return sub.point, sub.expected, ch._fi


@pytest.mark.parametrize("n,degree,extra", [(5, 2, True), (4, 3, True), (3, 4, False), (6, 2, False), (1, 3, True)])
def test_solidity_sumcheck_matches_python(harness, n, degree, extra):
    rnd = random.Random(n * 10 + degree)
    terms = _terms(rnd, n, degree, extra)
    first = degree + 1 if extra else degree
    claim = sum(t.coeff * sc._product_sum(t.factors) for t in terms) % R
    pc = ProverChannel(Transcript())
    sc.prove(pc, "t", n, degree, terms, first_degree=first)
    cases = [list(pc.frs)]
    for i in sorted({0, first - 1, min(first, len(pc.frs) - 1), len(pc.frs) - 1}):  # each round kind, tampered
        t = list(pc.frs)
        t[i] = (t[i] + 1) % R
        cases.append(t)
    for frs in cases:
        want = _python(frs, n, first, degree, claim)
        point, expected, used = harness.functions.run(frs, n, first, degree, claim).call()
        assert (list(point), expected, used) == (want[0], want[1], want[2])
    honest = _python(cases[0], n, first, degree, claim)
    assert all(_python(t, n, first, degree, claim)[1] != honest[1] for t in cases[1:])
    # too few items: both refuse (Python MalformedProofError, Solidity ProofItemsExhausted)
    assert _python(pc.frs[:-1], n, first, degree, claim) is None
    with pytest.raises(Exception, match="revert|Exhausted|0x"):
        harness.functions.run(list(pc.frs[:-1]), n, first, degree, claim).call()
