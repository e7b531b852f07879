"""InferenceAttestations and ExampleConsumer.

The rejection paths that stop before the verifier run against the committed artifacts
only. The paths through a verifier use a test double (tests/chain/contracts), compiled
once per session.
"""
from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from zkllm_chain.chain.attestations import (
    ExampleConsumer,
    InferenceAttestations,
    attestation_uid,
    words_hash,
)
from zkllm_chain.chain.contracts import deploy, send_value
from zkllm_chain.chain.errors import TransactionRevertedError, UnknownModelError
from zkllm_chain.chain.registry import model_digest

COMMITMENT = b"\x01commitment of a tiny model"
INPUT = [1, 2, 3, 2**256 - 1]
OUTPUT = [42, 7]
ZERO = b"\0" * 32


@pytest.fixture
def stack(chain, signers, registry):
    att = InferenceAttestations.deploy(chain, registry.address, signer=signers[0])
    consumer = ExampleConsumer.deploy(chain, att.address, reward_wei=10**15, signer=signers[0])
    return registry, att, consumer


@pytest.fixture
def mock_verifier(chain, signers, test_artifacts):
    return deploy(chain, "MockZkllmVerifier", signer=signers[0], artifacts_dir=test_artifacts).address


def _register(registry, signer, verifier, commitment=COMMITMENT):
    return registry.register(model_digest(commitment), ZERO, ZERO, ZERO, verifier, 1, "", signer=signer).model_id


# ------------------------------------------------------------- rejections before the verifier


def test_unknown_model(stack, signers):
    _, att, _ = stack
    with pytest.raises(UnknownModelError) as info:
        att.attest(5, COMMITMENT, INPUT, OUTPUT, b"proof", signer=signers[1])
    assert info.value.error_name == "UnknownModel" and info.value.error_args == (5,)


def test_commitment_must_match_the_registered_digest(stack, signers):
    registry, att, _ = stack
    model_id = _register(registry, signers[0], registry.address)
    with pytest.raises(TransactionRevertedError) as info:
        att.attest(model_id, COMMITMENT + b"!", INPUT, OUTPUT, b"proof", signer=signers[1])
    err = info.value
    assert err.error_name == "CommitmentMismatch"
    assert err.error_args == (model_id, keccak(COMMITMENT), keccak(COMMITMENT + b"!"))


def test_revoked_model_cannot_be_attested(stack, signers):
    registry, att, _ = stack
    model_id = _register(registry, signers[0], registry.address)
    registry.revoke(model_id, signer=signers[0])
    with pytest.raises(TransactionRevertedError) as info:
        att.attest(model_id, COMMITMENT, INPUT, OUTPUT, b"proof", signer=signers[1])
    assert info.value.error_name == "ModelRevoked" and info.value.error_args == (model_id,)


def test_consumer_rejects_unattested(stack, signers):
    registry, att, consumer = stack
    model_id = _register(registry, signers[0], registry.address)
    assert not att.is_attested(model_id, INPUT, OUTPUT)
    assert not att.is_attested(99, INPUT, OUTPUT)
    with pytest.raises(TransactionRevertedError) as info:
        consumer.claim_reward(model_id, INPUT, OUTPUT, signer=signers[1])
    assert info.value.error_name == "NotAttested"
    assert info.value.error_args == (model_id, attestation_uid(model_id, INPUT, OUTPUT))


def test_unknown_attestation(stack):
    _, att, _ = stack
    with pytest.raises(TransactionRevertedError) as info:
        att.get_attestation(keccak(b"x"))
    assert info.value.error_name == "UnknownAttestation"


def test_uid_and_hashes_match_python(stack):
    _, att, _ = stack
    assert att.attestation_uid(3, INPUT, OUTPUT) == attestation_uid(3, INPUT, OUTPUT)
    assert att.attestation_uid(3, [], []) == attestation_uid(3, [], [])
    assert words_hash([]) == keccak(b"")
    with pytest.raises(ValueError):
        words_hash([-1])


# ------------------------------------------------------------- through a (mock) verifier


def _statement(commitment, input, output):
    return keccak(abi_encode(["bytes32", "bytes32", "bytes32", "bytes32"],
                             [keccak(commitment), keccak(commitment), words_hash(input), words_hash(output)]))


def test_attest_records_and_deduplicates(chain, stack, signers, mock_verifier):
    registry, att, _ = stack
    model_id = _register(registry, signers[0], mock_verifier)
    res = att.attest(model_id, COMMITMENT, INPUT, OUTPUT, b"accept", signer=signers[1])
    assert res.created and res.uid == attestation_uid(model_id, INPUT, OUTPUT)
    (ev,) = res.tx.events(att.contract, "InferenceAttested")
    assert ev == {"uid": res.uid, "modelId": model_id, "inputHash": words_hash(INPUT),
                  "outputHash": words_hash(OUTPUT), "attester": signers[1].address}
    a = att.get_attestation(res.uid)
    assert (a.uid, a.model_id, a.attester, a.output) == (res.uid, model_id, signers[1].address, tuple(OUTPUT))
    assert (a.input_hash, a.output_hash) == (words_hash(INPUT), words_hash(OUTPUT))
    # the verifier saw exactly the digest, commitment, input and output that were hashed
    assert a.statement_hash == _statement(COMMITMENT, INPUT, OUTPUT)
    assert a.block_number == res.tx.block_number and a.time > 0
    assert att.is_attested(model_id, INPUT, OUTPUT)
    assert not att.is_attested(model_id, INPUT, OUTPUT[:1])

    again = att.attest(model_id, COMMITMENT, INPUT, OUTPUT, b"not checked again", signer=signers[2])
    assert again.uid == res.uid and not again.created
    assert again.tx.events(att.contract, "InferenceAttested") == []
    assert att.get_attestation(res.uid).attester == signers[1].address
    assert att.attestation_count() == 1


def test_verifier_revert_is_passed_up_unchanged(stack, signers, mock_verifier):
    registry, att, _ = stack
    model_id = _register(registry, signers[0], mock_verifier)
    with pytest.raises(TransactionRevertedError) as info:
        att.attest(model_id, COMMITMENT, INPUT, OUTPUT, b"forged", signer=signers[1])
    err = info.value
    assert err.error_name == "ProofRejected"
    assert err.error_args == (b"mock".ljust(32, b"\0"),)
    selector = keccak(b"ProofRejected(bytes32)")[:4]
    assert err.data == selector + b"mock".ljust(32, b"\0")
    with pytest.raises(TransactionRevertedError) as info:
        att.attest(model_id, COMMITMENT, INPUT, OUTPUT, b"", signer=signers[1])
    assert (info.value.error_name, info.value.error_args) == ("MalformedProof", (0,))
    with pytest.raises(TransactionRevertedError) as info:
        att.attest(model_id, COMMITMENT, INPUT, OUTPUT, b"zero", signer=signers[1])
    assert info.value.error_name == "EmptyStatement"
    assert not att.is_attested(model_id, INPUT, OUTPUT)


def test_deprecated_model_can_still_be_attested(stack, signers, mock_verifier):
    registry, att, _ = stack
    model_id = _register(registry, signers[0], mock_verifier)
    registry.deprecate(model_id, signer=signers[0])
    assert att.attest(model_id, COMMITMENT, INPUT, OUTPUT, b"accept", signer=signers[1]).created


def test_consumer_pays_once_and_revocation_voids(chain, stack, signers, mock_verifier):
    registry, att, consumer = stack
    model_id = _register(registry, signers[0], mock_verifier)
    uid = att.attest(model_id, COMMITMENT, INPUT, OUTPUT, b"accept", signer=signers[1]).uid

    with pytest.raises(TransactionRevertedError) as info:  # not funded yet
        consumer.claim_reward(model_id, INPUT, OUTPUT, signer=signers[2])
    assert info.value.error_name == "InsufficientRewardBalance"
    send_value(chain, consumer.address, 10**16, signer=signers[0])
    before = chain.balance(signers[2].address)
    tx = consumer.claim_reward(model_id, INPUT, OUTPUT, signer=signers[2])
    (ev,) = tx.events(consumer.contract, "RewardClaimed")
    assert ev == {"uid": uid, "modelId": model_id, "claimant": signers[2].address, "amount": 10**15}
    cost = tx.gas_used * int(tx.receipt["effectiveGasPrice"])
    assert chain.balance(signers[2].address) == before + 10**15 - cost
    assert consumer.claimed_by(uid) == signers[2].address

    with pytest.raises(TransactionRevertedError) as info:
        consumer.claim_reward(model_id, INPUT, OUTPUT, signer=signers[3])
    assert info.value.error_name == "AlreadyClaimed"
    assert info.value.error_args == (uid, signers[2].address)

    registry.revoke(model_id, signer=signers[0])
    assert not att.is_attested(model_id, INPUT, OUTPUT)
    assert att.get_attestation(uid).model_id == model_id  # the record itself stays readable
    with pytest.raises(TransactionRevertedError) as info:
        consumer.claim_reward(model_id, INPUT, OUTPUT[:1], signer=signers[3])
    assert info.value.error_name == "NotAttested"
