"""InferenceAttestations and ExampleConsumer.

The rejection paths that stop before the verifier need no proof. The paths through a
verifier deploy the real ZkllmVerifier and attest real proofs of a small MLP.
"""
from __future__ import annotations

import pytest
from eth_utils import keccak

from zkllm_chain.chain.attestations import (
    ExampleConsumer,
    InferenceAttestations,
    attestation_uid,
    words_hash,
)
from zkllm_chain.chain.contracts import send_value
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
    with pytest.raises(TransactionRevertedError) as info:  # nothing pinned: nothing is paid
        consumer.claim_reward(model_id, INPUT, OUTPUT, signer=signers[1])
    assert info.value.error_name == "ModelNotPinned"
    consumer.pin_model(model_id, registry.address, signer=signers[0])
    assert not att.is_attested(model_id, INPUT, OUTPUT)
    assert not att.is_attested(99, INPUT, OUTPUT)
    with pytest.raises(TransactionRevertedError) as info:
        consumer.claim_reward(model_id, INPUT, OUTPUT, signer=signers[1])
    assert info.value.error_name == "NotAttested"
    assert info.value.error_args == (model_id, attestation_uid(att.chain.chain_id, att.address, model_id, INPUT, OUTPUT))


def test_consumer_pin_is_the_deployers_and_set_once(stack, signers):
    registry, _, consumer = stack
    model_id = _register(registry, signers[0], registry.address)
    other = _register(registry, signers[1], registry.address, b"another model")
    with pytest.raises(TransactionRevertedError) as info:
        consumer.pin_model(model_id, registry.address, signer=signers[1])
    assert info.value.error_name == "NotOwner"
    with pytest.raises(TransactionRevertedError) as info:  # the entry names another verifier
        consumer.pin_model(model_id, consumer.address, signer=signers[0])
    assert info.value.error_name == "UntrustedVerifier"
    consumer.pin_model(model_id, registry.address, signer=signers[0])
    assert consumer.trusted_model() == (model_id, registry.address)
    with pytest.raises(TransactionRevertedError) as info:
        consumer.pin_model(other, registry.address, signer=signers[0])
    assert info.value.error_name == "ModelAlreadyPinned"


def test_unknown_attestation(stack):
    _, att, _ = stack
    with pytest.raises(TransactionRevertedError) as info:
        att.get_attestation(keccak(b"x"))
    assert info.value.error_name == "UnknownAttestation"


def test_uid_and_hashes_match_python(stack):
    _, att, _ = stack
    cid = att.chain.chain_id
    assert att.attestation_uid(3, INPUT, OUTPUT) == attestation_uid(cid, att.address, 3, INPUT, OUTPUT)
    assert att.attestation_uid(3, [], []) == attestation_uid(cid, att.address, 3, [], [])
    assert words_hash([]) == keccak(b"")
    with pytest.raises(ValueError):
        words_hash([-1])


# ------------------------------------------------------------- through the real verifier


@pytest.fixture(scope="module")
def real():
    """A real proof of a small MLP (16-32-8, GELU) and its verifying key."""
    from verifier_helpers import small_mlp_proofs
    return small_mlp_proofs(31, 3)


@pytest.fixture
def verifier(chain, signers, real):
    from zkllm_chain.chain.verifier import deploy_verifier
    from zkllm_chain.chain.weights import certify_for
    address = deploy_verifier(chain, real["vk"], signer=signers[0]).address
    certify_for(chain, address, real["commitment"], real["weight_proof"], signer=signers[0])
    return address


def _attest(att, real, signer, proof=None, output=None):
    return att.attest(ATT_MODEL[0], real["commitment"], real["input"], output or real["output"],
                      real["proof_for"](signer.address) if proof is None else proof, signer=signer)


ATT_MODEL = [0]


def _register_real(registry, signers, verifier, real):
    ATT_MODEL[0] = _register(registry, signers[0], verifier, real["commitment"])
    return ATT_MODEL[0]


def test_attest_records_and_deduplicates(chain, stack, signers, verifier, real):
    from zkllm_chain.chain.verifier import statement_hash
    registry, att, _ = stack
    model_id = _register_real(registry, signers, verifier, real)
    IN, OUT = real["input"], real["output"]
    res = _attest(att, real, signers[1])
    assert res.created and res.uid == attestation_uid(chain.chain_id, att.address, model_id, IN, OUT)
    (ev,) = res.tx.events(att.contract, "InferenceAttested")
    assert ev == {"uid": res.uid, "modelId": model_id, "inputHash": words_hash(IN),
                  "outputHash": words_hash(OUT), "attester": signers[1].address}
    a = att.get_attestation(res.uid)
    assert (a.uid, a.model_id, a.attester, a.output) == (res.uid, model_id, signers[1].address, tuple(OUT))
    assert (a.input_hash, a.output_hash) == (words_hash(IN), words_hash(OUT))
    # the verifier saw exactly the digest, input and output that were hashed
    assert a.statement_hash == statement_hash(real["digest"], IN, OUT)
    assert a.block_number == res.tx.block_number and a.time > 0
    assert att.is_attested(model_id, IN, OUT)
    assert not att.is_attested(model_id, IN, OUT[:1])

    again = _attest(att, real, signers[2])
    assert again.uid == res.uid and not again.created
    assert again.tx.events(att.contract, "InferenceAttested") == []
    assert att.get_attestation(res.uid).attester == signers[1].address
    assert att.attestation_count() == 1


def test_failed_verification_records_nothing(stack, signers, verifier, real):
    registry, att, _ = stack
    model_id = _register_real(registry, signers, verifier, real)
    forged = bytearray(real["proof_for"](signers[1].address))
    forged[-1] ^= 1  # the last field element: the batch-opening evaluation chain breaks
    with pytest.raises(TransactionRevertedError) as info:
        _attest(att, real, signers[1], proof=bytes(forged))
    assert info.value.error_name is not None  # decoded custom error of the verifier, passed up unchanged
    wrong = list(real["output"])
    wrong[0] = (wrong[0] + 1) % (2**255)
    with pytest.raises(TransactionRevertedError):
        _attest(att, real, signers[1], output=wrong)
    with pytest.raises(TransactionRevertedError) as info:
        _attest(att, real, signers[1], proof=b"")
    assert info.value.error_name == "MalformedProof"
    assert not att.is_attested(model_id, real["input"], real["output"])
    assert att.attestation_count() == 0


def test_deprecated_model_can_still_be_attested(stack, signers, verifier, real):
    registry, att, _ = stack
    _register_real(registry, signers, verifier, real)
    registry.deprecate(ATT_MODEL[0], signer=signers[0])
    assert _attest(att, real, signers[1]).created


def test_consumer_pays_the_attester_once_and_revocation_voids(chain, stack, signers, verifier, real):
    registry, att, consumer = stack
    model_id = _register_real(registry, signers, verifier, real)
    consumer.pin_model(model_id, verifier, signer=signers[0])
    IN, OUT = real["input"], real["output"]
    uid = _attest(att, real, signers[1]).uid

    with pytest.raises(TransactionRevertedError) as info:  # not funded yet
        consumer.claim_reward(model_id, IN, OUT, signer=signers[2])
    assert info.value.error_name == "InsufficientRewardBalance"
    send_value(chain, consumer.address, 10**16, signer=signers[0])
    before = chain.balance(signers[1].address)
    tx = consumer.claim_reward(model_id, IN, OUT, signer=signers[2])  # anyone may trigger the payment...
    (ev,) = tx.events(consumer.contract, "RewardClaimed")
    assert ev == {"uid": uid, "modelId": model_id, "attester": signers[1].address, "caller": signers[2].address,
                  "amount": 10**15}
    assert chain.balance(signers[1].address) == before + 10**15  # ...but the attester is paid
    assert consumer.claimed_by(uid) == signers[1].address

    with pytest.raises(TransactionRevertedError) as info:
        consumer.claim_reward(model_id, IN, OUT, signer=signers[3])
    assert info.value.error_name == "AlreadyClaimed"
    assert info.value.error_args == (uid, signers[1].address)

    registry.revoke(model_id, signer=signers[0])
    assert not att.is_attested(model_id, IN, OUT)
    assert att.get_attestation(uid).model_id == model_id  # the record itself stays readable
    with pytest.raises(TransactionRevertedError) as info:
        consumer.claim_reward(model_id, IN, OUT[:1], signer=signers[3])
    assert info.value.error_name == "NotAttested"


def test_attack_consumer_cannot_be_drained_with_an_accept_all_model(chain, stack, signers, verifier, real):
    """The attacker registers the victim's commitment (or any model) under their own entry with a
    verifier that accepts everything, attests garbage, and claims: the consumer pays only for
    the model id it pinned, so every claim for the attacker's entry reverts and nothing is paid."""
    registry, att, consumer = stack
    trusted = _register_real(registry, signers, verifier, real)
    consumer.pin_model(trusted, verifier, signer=signers[0])
    send_value(chain, consumer.address, 5 * 10**15, signer=signers[0])
    accept_all = _accept_all_verifier(chain, signers[4])
    evil = registry.register(model_digest(real["commitment"]), ZERO, ZERO, ZERO, accept_all, 1, "",
                             signer=signers[4]).model_id
    balance = chain.balance(consumer.address)
    for k in range(5):
        att.attest(evil, real["commitment"], [k], [k], b"garbage", signer=signers[4])
        assert att.is_attested(evil, [k], [k])  # the attacker's own entry does attest...
        with pytest.raises(TransactionRevertedError) as info:  # ...but the consumer does not trust it
            consumer.claim_reward(evil, [k], [k], signer=signers[4])
        assert info.value.error_name == "UntrustedModel"
        assert info.value.error_args == (evil, trusted)
    assert chain.balance(consumer.address) == balance


def test_attack_copied_attest_transaction_fails_for_the_copier(stack, signers, verifier, real):
    """A proof is bound to its attester: the same attest calldata sent by another account
    (copied from the mempool) is a false proof there, and records nothing; the attester's own
    transaction then succeeds and names the attester. A proof bound to no one (the zero
    address) cannot be attested by anyone."""
    from zkllm_chain.chain.verifier import verify_call
    registry, att, _ = stack
    model_id = _register_real(registry, signers, verifier, real)
    mine = real["proof_for"](signers[1].address)
    with pytest.raises(TransactionRevertedError) as info:
        _attest(att, real, signers[2], proof=mine)  # the copier
    assert info.value.error_name is not None
    assert not att.is_attested(model_id, real["input"], real["output"])
    with pytest.raises(TransactionRevertedError):
        _attest(att, real, signers[2], proof=real["proof_for"]("0x" + "00" * 20))
    res = _attest(att, real, signers[1], proof=mine)
    assert res.created and att.get_attestation(res.uid).attester == signers[1].address
    # the verifier's view: the same proof verifies for its attester only
    cd = (real["digest"], real["commitment"], real["input"], real["output"], mine)
    dep = _verifier_handle(att.chain, verifier)
    assert verify_call(att.chain, dep, cd, attester=signers[1].address)
    with pytest.raises(TransactionRevertedError):
        verify_call(att.chain, dep, cd, attester=signers[2].address)


def _verifier_handle(chain, address):
    from eth_utils import to_checksum_address
    from zkllm_chain.chain.artifacts import load_artifact
    from zkllm_chain.chain.contracts import Deployment
    return Deployment("ZkllmVerifier", to_checksum_address(address), chain.chain_id, None, load_artifact("ZkllmVerifier"))


def _accept_all_verifier(chain, signer) -> str:
    """A contract whose `verify` returns a non-zero word for any call: runtime code
    PUSH1 1, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN."""
    from eth_utils import to_checksum_address

    from zkllm_chain.chain.contracts import _send
    runtime = bytes.fromhex("600160005260206000f3")
    init = bytes.fromhex("60") + bytes([len(runtime)]) + bytes.fromhex("80600b6000396000f3") + runtime
    tx = _send(chain, {"to": None, "data": "0x" + init.hex(), "value": 0}, signer, "accept-all verifier",
               gas=200_000, preflight=False, timeout=60)
    return to_checksum_address(tx.contract_address)


def test_attack_uids_do_not_collide_across_deployments(chain, signers):
    """Two deployments of the attestations contract (on one chain) give the same (model id,
    input, output) different uids: the uid names the chain and the contract, as in EAS."""
    from zkllm_chain.chain.attestations import InferenceAttestations
    from zkllm_chain.chain.registry import ModelRegistry
    reg = ModelRegistry.deploy(chain, signer=signers[0])
    a = InferenceAttestations.deploy(chain, reg.address, signer=signers[0])
    b = InferenceAttestations.deploy(chain, reg.address, signer=signers[0])
    ua, ub = a.attestation_uid(1, INPUT, OUTPUT), b.attestation_uid(1, INPUT, OUTPUT)
    assert ua != ub
    assert ua == attestation_uid(chain.chain_id, a.address, 1, INPUT, OUTPUT)
    assert ub == attestation_uid(chain.chain_id, b.address, 1, INPUT, OUTPUT)
    assert attestation_uid(chain.chain_id + 1, a.address, 1, INPUT, OUTPUT) != ua


def test_attestation_gas_does_not_depend_on_the_uri(stack, signers, verifier, real):
    """An attestation reads the registry entry without its metadata URI: the same inference
    attested under an entry with no URI and one with the longest allowed costs the same gas
    (reading 512 bytes of URI would cost ~34k). The first attestation, which also initialises
    the contract's counter, is a warm-up."""
    registry, att, _ = stack
    limit = registry.contract.functions.MAX_URI_BYTES().call()
    gas = []
    for signer, uri in ((signers[3], ""), (signers[1], ""), (signers[2], "u" * limit)):
        mid = registry.register(model_digest(real["commitment"]), ZERO, ZERO, ZERO, verifier, 1, uri,
                                signer=signer).model_id
        res = att.attest(mid, real["commitment"], real["input"], real["output"], real["proof_for"](signer.address),
                         signer=signer)
        assert res.created
        gas.append(res.tx.gas_used)
    assert abs(gas[1] - gas[2]) < 1_000, gas
