"""BatchOpening.sol against prover/pcs/batch.py on claim sets with weighted claims.

No verifier records weighted claims yet, so a test-only contract (compiled here, never
committed) hands a claim set -- plain, pooled and weighted claims -- and the opening's
proof items to ``BatchOpening.open``; the same claims go to the Python verifier. Both accept
the honest opening and reject a wrong weighted value, a wrong coefficient (first or later
term), a tampered last sumcheck round, quotient and pi_xi (Python "opening", Solidity
``PairingFailed``).
"""
from __future__ import annotations

import random

import pytest

from prover.channel import ProverChannel, VerifierChannel
from prover.context import Claim, ProverCtx, TensorSpec, VerifierCtx, attach_commit
from prover.errors import VerificationError
from prover.field import R
from prover.pcs import batch, kzg
from prover.pcs import srs as srs_mod
from prover.pcs.curve import G1Point, g1_to_bytes, g2_to_bytes
from prover.rng import seeded
from prover.transcript import Transcript

HARNESS = """// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {BatchOpening} from "../verifier/BatchOpening.sol";
import {VerifierChannel} from "../verifier/Transcript.sol";

contract BatchOpeningHarness {
    struct Claims {
        uint256[] tid;
        uint256[][] point;
        uint256[] value;
        uint256[] termClaim;
        uint256[] termCoef;
        uint256[][] termPoint;
    }

    function open(bytes32 state, bytes memory key, bytes memory commitments, bytes calldata items, uint256 nG1,
                  Claims memory c) external view returns (bool) {
        uint256 nT = commitments.length / 128;
        uint256[] memory cm = new uint256[](nT);
        uint256 vk;
        uint256 off;
        assembly {
            vk := add(key, 32)
            off := items.offset
            for { let i := 0 } lt(i, nT) { i := add(i, 1) } {
                mstore(add(cm, add(32, shl(5, i))), add(add(commitments, 32), mul(128, i)))
            }
        }
        VerifierChannel memory ch; // no mask pool (ch.mask.vars == 0): the opening is not masked
        (ch.state, ch.g1Next, ch.g1End, ch.frNext, ch.frEnd) =
            (state, off, off + 128 * nG1, off + 128 * nG1, off + items.length);
        BatchOpening.ClaimSet memory cs = BatchOpening.ClaimSet(
            c.tid.length, c.tid, c.point, c.value, nT, cm, c.termClaim.length, c.termClaim, c.termCoef, c.termPoint
        );
        BatchOpening.open(ch, cs, vk);
        return ch.frNext == ch.frEnd && ch.g1Next == ch.g1End;
    }
}
"""

TIDS = {"a": 0, "b": 1, "pool": 2}


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    from zkllm_chain.chain.accounts import load_signer
    from zkllm_chain.chain.artifacts import CONTRACTS_DIR
    from zkllm_chain.chain.backend import connect
    from zkllm_chain.chain.solc import compile_contracts
    from zkllm_chain.chain.verifier import _as_artifact, deploy_artifact

    src = tmp_path_factory.mktemp("harness") / "BatchOpeningHarness.sol"
    src.write_text(HARNESS)
    compiled = compile_contracts(CONTRACTS_DIR, extra_sources={"test/BatchOpeningHarness.sol": src})
    chain = connect()
    dep = deploy_artifact(chain, "BatchOpeningHarness", _as_artifact(compiled.contracts["BatchOpeningHarness"]), (),
                          load_signer(chain), 3_000_000)
    return chain, dep


@pytest.fixture(scope="module")
def srs():
    return srs_mod.setup(6, random.Random(7))


def _key_blob(vk) -> bytes:
    """The VerifierKeyData layout (no tables) for an SRS verifier key."""
    return b"".join([vk.num_vars.to_bytes(32, "big"), g1_to_bytes(vk.g1), g2_to_bytes(vk.g2), g2_to_bytes(-vk.xi_g2),
                     *(g2_to_bytes(-t) for t in vk.tau_g2), (0).to_bytes(32, "big")])


def _specs():
    return {"a": TensorSpec("a", (16,), "advice"), "b": TensorSpec("b", (4, 8), "advice"),
            "pool": TensorSpec("pool", (2, 8), "advice"), "p0": TensorSpec("p0", (8,), "advice"),
            "p1": TensorSpec("p1", (8,), "advice")}


POOLED = {"p0": ("pool", [0]), "p1": ("pool", [1])}


def _prove(weighted: bool):
    """(commitments, claims, transcript state before the opening, its g1 items, its fr items)."""
    rng = random.Random(3)
    vals = {"a": [rng.randrange(R) for _ in range(16)], "b": [rng.randrange(R) for _ in range(32)],
            "p0": [rng.randrange(R) for _ in range(8)], "p1": [rng.randrange(R) for _ in range(8)]}
    vals["pool"] = vals["p0"] + vals["p1"]
    srs = srs_mod.setup(6, random.Random(7))
    p = ProverCtx(ch=ProverChannel(Transcript()), specs=_specs(), values=vals, srs=srs, rng=seeded(1),
                  pooled=dict(POOLED))
    for t in TIDS:
        attach_commit(p, t, "c")
    pt = lambda m: [rng.randrange(R) for _ in range(m)]  # noqa: E731
    z = pt(4)
    p.claim("a", z)
    p.claim("p1", pt(3))
    if weighted:
        for tid, m, k in (("a", 4, 3), ("p0", 3, 2)):
            terms = [(rng.randrange(R), pt(m)) for _ in range(k)]
            terms[0] = (terms[0][0], z) if tid == "a" else terms[0]  # shares the plain claim's point
            p.weighted_claim(tid, terms, sum(c * kzg.evaluate(vals[tid], q) for c, q in terms) % R)
    p.claim("b", pt(5))
    p.claim("a", z)  # a repeated point
    p.claim("p0", pt(3))
    state, ng1, nfr = p.ch.transcript.state, len(p.ch.g1s), len(p.ch.frs)
    batch.open_claims(p)
    return ({t: p.commitments[t] for t in TIDS}, list(p.claims), state, list(p.ch.g1s[ng1:]), list(p.ch.frs[nfr:]))


@pytest.fixture(scope="module")
def proofs():
    return {w: _prove(w) for w in (False, True)}


def _py_verdict(srs, commitments, claims, state, g1s, frs):
    t = Transcript()
    t.state = state
    v = VerifierCtx(ch=VerifierChannel(t, g1s, [g1_to_bytes(g) for g in g1s], frs), specs=_specs(),
                    pooled=dict(POOLED))
    v.commitments.update(commitments)
    v.claims = [Claim(c.tid, list(c.point), c.value, c.terms) for c in claims]
    try:
        batch.open_claims(v, srs.verifier_key())
        v.ch.assert_consumed()
    except VerificationError as e:
        return ("reject", e.check)
    return ("accept", None)


def _word(tid, point):
    """Tensor word and unprefixed point of a claim (pool claims carry their 1-bit prefix)."""
    if tid == "pool":
        return TIDS[tid] | 1 << 16 | point[0] << 24, point[1:]
    return TIDS[tid], list(point)


def _chain_args(srs, commitments, claims, state, g1s, frs):
    tid, point, value, t_claim, t_coef, t_point = [], [], [], [], [], []
    for k, c in enumerate(claims):
        if c.terms is None:
            w, z = _word(c.tid, c.point)
        else:
            w, z = _word(c.tid, c.terms[0][1])  # the first term's point
            for coef, q in c.terms:
                t_claim.append(k)
                t_coef.append(coef)
                t_point.append(_word(c.tid, q)[1])
        tid.append(w)
        point.append(z)
        value.append(c.value)
    items = b"".join(g1_to_bytes(g) for g in g1s) + b"".join(x.to_bytes(32, "big") for x in frs)
    cms = b"".join(g1_to_bytes(commitments[t]) for t in TIDS)
    return (state, _key_blob(srs.verifier_key()), cms, items, len(g1s), (tid, point, value, t_claim, t_coef, t_point))


def _chain_verdict(harness, args):
    from zkllm_chain.chain.contracts import decode_revert
    chain, dep = harness
    fn = dep.contract(chain).functions.open(*args)
    try:
        ok = fn.call({"gas": 20_000_000})
        return ("accept", fn.estimate_gas({"gas": 20_000_000})) if ok else ("reject", "unconsumed")
    except Exception as exc:  # noqa: BLE001 - a revert: name its custom error
        from zkllm_chain.chain.contracts import revert_error
        err = revert_error(exc, function="open", extra_abis=[dep.artifact.abi])
        if err is None:
            raise
        return ("reject", err.error_name)


def _both(srs, harness, case):
    return _py_verdict(srs, *case), _chain_verdict(harness, _chain_args(srs, *case))


def test_honest_openings_with_and_without_weighted_claims_accepted(srs, harness, proofs):
    for w in (False, True):
        py, ch = _both(srs, harness, proofs[w])
        assert py == ("accept", None) and ch[0] == "accept", (w, py, ch)


def _tampered(case, what):
    commitments, claims, state, g1s, frs = case
    claims = [Claim(c.tid, list(c.point), c.value, None if c.terms is None else list(c.terms)) for c in claims]
    g1s, frs = list(g1s), list(frs)
    k = next(i for i, c in enumerate(claims) if c.terms is not None and c.tid == "pool")
    if what == "weighted value":
        claims[k].value = (claims[k].value + 1) % R
    elif what.startswith("coefficient"):
        i = 0 if what == "coefficient" else -1
        c0, z0 = claims[k].terms[i]
        claims[k].terms[i] = ((c0 + 1) % R, z0)
    elif what == "last round":
        frs[-1] = (frs[-1] + 1) % R
    elif what == "quotient":
        g1s[-2] = g1s[-2] + G1Point()
    elif what == "pi_xi":
        g1s[-1] = g1s[-1] + G1Point()
    return commitments, claims, state, g1s, frs


@pytest.mark.parametrize("what", ["weighted value", "coefficient", "coefficient of the last term", "last round",
                                  "quotient", "pi_xi"])
def test_tampered_openings_rejected_by_both(srs, harness, proofs, what):
    py, ch = _both(srs, harness, _tampered(proofs[True], what))
    assert py == ("reject", "opening") and ch == ("reject", "PairingFailed"), (what, py, ch)
