"""ModelRegistry rules, on the embedded chain and on anvil."""
from __future__ import annotations

import pytest
from eth_utils import keccak

from zkllm_chain.chain.errors import TransactionRevertedError, UnknownModelError
from zkllm_chain.chain.registry import ModelStatus, model_digest

COMMITMENT = b"model-commitment-bytes"
CIRCUIT, QUANT, VK = keccak(b"circuit"), keccak(b"quant"), keccak(b"vk")


def _register(registry, signer, commitment=COMMITMENT, uri="ipfs://model", verifier=None):
    return registry.register(model_digest(commitment), CIRCUIT, QUANT, VK, verifier or registry.address, 3, uri,
                             signer=signer)


def _reverted(exc_info, name):
    err = exc_info.value
    assert err.error_name == name, str(err)
    return err


def test_register_and_read_back(chain, registry, signers):
    owner = signers[0]
    reg = _register(registry, owner)
    assert reg.model_id == 1
    m = registry.get_model(1)
    assert m.model_digest == keccak(COMMITMENT)
    assert (m.circuit_digest, m.quant_digest, m.vk_digest) == (CIRCUIT, QUANT, VK)
    assert m.owner == owner.address
    assert m.verifier == registry.address and m.verifier_version == 3
    assert m.status is ModelStatus.ACTIVE and m.uri == "ipfs://model"
    assert m.registered_at == m.updated_at > 0
    assert registry.model_id_of(keccak(COMMITMENT), owner.address) == 1
    assert registry.is_active(1)
    assert registry.model_count() == 1
    assert _register(registry, signers[1], commitment=b"other").model_id == 2


def test_register_emits_event(registry, signers):
    reg = _register(registry, signers[0])
    (ev,) = reg.tx.events(registry.contract, "ModelRegistered")
    assert ev["modelId"] == 1 and ev["modelDigest"] == keccak(COMMITMENT)
    assert ev["owner"] == signers[0].address and ev["verifier"] == registry.address
    assert ev["verifierVersion"] == 3 and ev["uri"] == "ipfs://model"
    assert (ev["circuitDigest"], ev["quantDigest"], ev["vkDigest"]) == (CIRCUIT, QUANT, VK)


def test_attack_digest_squatting_blocks_nobody(registry, signers):
    """A squatter registers the victim's (public) model digest first, with their own verifier:
    the real owner still registers it and gets an entry of their own; each entry names its
    owner and verifier, and a lookup by digest needs the registrant."""
    squatter, victim = signers[1], signers[0]
    evil = _register(registry, squatter).model_id
    mine = _register(registry, victim).model_id
    assert evil != mine
    assert registry.get_model(mine).owner == victim.address and registry.get_model(evil).owner == squatter.address
    assert registry.model_id_of(keccak(COMMITMENT), victim.address) == mine
    assert registry.model_id_of(keccak(COMMITMENT), squatter.address) == evil
    with pytest.raises(UnknownModelError):
        registry.model_id_of(keccak(COMMITMENT), signers[2].address)


def test_duplicate_digest_of_one_registrant_rejected(registry, signers):
    _register(registry, signers[0])
    _register(registry, signers[1])  # another registrant: its own entry
    with pytest.raises(TransactionRevertedError) as info:
        _register(registry, signers[0])
    err = _reverted(info, "AlreadyRegistered")
    assert err.error_args == (keccak(COMMITMENT), 1)
    assert err.args_by_name == {"modelDigest": keccak(COMMITMENT), "modelId": 1}
    assert "AlreadyRegistered(0x" in str(err)


def test_register_input_checks(registry, signers):
    with pytest.raises(TransactionRevertedError) as info:
        registry.register(b"\0" * 32, CIRCUIT, QUANT, VK, registry.address, signer=signers[0])
    _reverted(info, "ZeroModelDigest")
    with pytest.raises(TransactionRevertedError) as info:  # an account without code
        _register(registry, signers[0], verifier=signers[2].address)
    assert _reverted(info, "InvalidVerifier").error_args == (signers[2].address,)


def test_unknown_model(registry, signers):
    for action in (
        lambda: registry.get_model(7),
        lambda: registry.is_active(7),
        lambda: registry.deprecate(7, signer=signers[0]),
        lambda: registry.revoke(7, signer=signers[0]),
        lambda: registry.set_uri(7, "x", signer=signers[0]),
        lambda: registry.transfer_ownership(7, signers[1].address, signer=signers[0]),
    ):
        with pytest.raises(UnknownModelError) as info:
            action()
        assert _reverted(info, "UnknownModel").error_args == (7,)
    with pytest.raises(UnknownModelError) as info:
        registry.model_id_of(keccak(b"nothing"), signers[0].address)
    assert _reverted(info, "UnknownModelDigest").error_args == (keccak(b"nothing"), signers[0].address)


def test_only_owner_changes_an_entry(registry, signers):
    owner, other = signers[0], signers[1]
    _register(registry, owner)
    for action in (
        lambda: registry.deprecate(1, signer=other),
        lambda: registry.revoke(1, signer=other),
        lambda: registry.set_uri(1, "evil", signer=other),
        lambda: registry.transfer_ownership(1, other.address, signer=other),
    ):
        with pytest.raises(TransactionRevertedError) as info:
            action()
        assert _reverted(info, "NotModelOwner").error_args == (1, other.address)
    m = registry.get_model(1)
    assert m.owner == owner.address and m.status is ModelStatus.ACTIVE and m.uri == "ipfs://model"


def test_ownership_transfer_is_two_step(registry, signers):
    """The owner names a pending owner; nothing changes until that account accepts, so a
    mistyped address never receives the entry; only the named account may accept."""
    old, new, third = signers[0], signers[1], signers[2]
    _register(registry, old)
    tx = registry.transfer_ownership(1, new.address, signer=old)
    (ev,) = tx.events(registry.contract, "ModelOwnershipTransferStarted")
    assert (ev["modelId"], ev["owner"], ev["pendingOwner"]) == (1, old.address, new.address)
    assert registry.get_model(1).owner == old.address and registry.pending_owner_of(1) == new.address
    with pytest.raises(TransactionRevertedError) as info:
        registry.accept_ownership(1, signer=third)
    assert _reverted(info, "NotPendingOwner").error_args == (1, third.address)
    tx = registry.accept_ownership(1, signer=new)
    (ev,) = tx.events(registry.contract, "ModelOwnershipTransferred")
    assert (ev["modelId"], ev["previousOwner"], ev["newOwner"]) == (1, old.address, new.address)
    assert registry.get_model(1).owner == new.address and registry.pending_owner_of(1) == "0x" + "00" * 20
    with pytest.raises(TransactionRevertedError) as info:
        registry.set_uri(1, "from old owner", signer=old)
    assert _reverted(info, "NotModelOwner").error_args == (1, old.address)
    registry.set_uri(1, "from new owner", signer=new)
    assert registry.get_model(1).uri == "from new owner"
    with pytest.raises(TransactionRevertedError) as info:  # accepted once: no second accept
        registry.accept_ownership(1, signer=new)
    _reverted(info, "NotPendingOwner")
    # the zero address cancels a pending transfer: nobody can accept
    registry.transfer_ownership(1, third.address, signer=new)
    registry.transfer_ownership(1, "0x" + "00" * 20, signer=new)
    with pytest.raises(TransactionRevertedError) as info:
        registry.accept_ownership(1, signer=third)
    _reverted(info, "NotPendingOwner")
    assert registry.get_model(1).owner == new.address


def test_uri_is_bounded(registry, signers):
    """A metadata URI over MAX_URI_BYTES is refused at registration and on update."""
    limit = registry.contract.functions.MAX_URI_BYTES().call()
    with pytest.raises(TransactionRevertedError) as info:
        _register(registry, signers[0], uri="x" * (limit + 1))
    assert _reverted(info, "UriTooLong").error_args == (limit + 1, limit)
    mid = _register(registry, signers[0], uri="x" * limit).model_id
    with pytest.raises(TransactionRevertedError) as info:
        registry.set_uri(mid, "y" * (limit + 1), signer=signers[0])
    _reverted(info, "UriTooLong")


def test_set_uri_emits_event(registry, signers):
    _register(registry, signers[0])
    tx = registry.set_uri(1, "https://example.org/card.json", signer=signers[0])
    (ev,) = tx.events(registry.contract, "ModelUriChanged")
    assert ev == {"modelId": 1, "uri": "https://example.org/card.json"}


def test_deprecate(registry, signers):
    owner = signers[0]
    _register(registry, owner)
    tx = registry.deprecate(1, signer=owner)
    (ev,) = tx.events(registry.contract, "ModelStatusChanged")
    assert ev == {"modelId": 1, "previousStatus": 0, "newStatus": 1}
    assert registry.status_of(1) is ModelStatus.DEPRECATED
    assert not registry.is_active(1)
    with pytest.raises(TransactionRevertedError) as info:
        registry.deprecate(1, signer=owner)
    assert _reverted(info, "InvalidStatusTransition").error_args == (1, 1, 1)
    registry.set_uri(1, "still editable", signer=owner)


def test_revoke_is_final(registry, signers):
    owner, other = signers[0], signers[1]
    _register(registry, owner)
    registry.deprecate(1, signer=owner)
    tx = registry.revoke(1, signer=owner)
    (ev,) = tx.events(registry.contract, "ModelStatusChanged")
    assert ev == {"modelId": 1, "previousStatus": 1, "newStatus": 2}
    assert registry.status_of(1) is ModelStatus.REVOKED
    for action in (
        lambda: registry.revoke(1, signer=owner),
        lambda: registry.deprecate(1, signer=owner),
        lambda: registry.set_uri(1, "x", signer=owner),
        lambda: registry.transfer_ownership(1, other.address, signer=owner),
    ):
        with pytest.raises(TransactionRevertedError) as info:
            action()
        assert _reverted(info, "ModelIsRevoked").error_args == (1,)
    # the registrant's digest stays taken: a revoked model cannot be registered again by them
    with pytest.raises(TransactionRevertedError) as info:
        _register(registry, owner)
    _reverted(info, "AlreadyRegistered")


def test_active_model_can_be_revoked_directly(registry, signers):
    _register(registry, signers[0])
    registry.revoke(1, signer=signers[0])
    assert registry.get_model(1).status is ModelStatus.REVOKED
