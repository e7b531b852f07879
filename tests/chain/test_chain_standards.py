"""ERC-165, the ERC-7992 verifier side of InferenceAttestations, and the EAS schema resolver.

The refusals that stop before the verifier need no proof. The paths through a verifier
deploy the real ZkllmVerifier with a small MLP (16-32-8); the EAS tests deploy the real
``SchemaRegistry`` and ``EAS`` of the pinned npm package (compiled once per session with
solc 0.8.29, the output cached in a temporary directory). The gas test measures the
64-256-64 MLP of the session fixtures on the three paths (attest, verifyInference, EAS).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector as selector
from eth_utils import keccak

from zkllm_chain.chain.attestations import InferenceAttestations, pack_inference_proof, pack_words, words_hash
from zkllm_chain.chain.eas import (
    PROOF_SCHEMA,
    RECORD_SCHEMA,
    ZkllmResolver,
    compile_eas,
    deploy_eas,
    encode_inference,
    encode_record,
    schema_uid,
)
from zkllm_chain.chain.errors import TransactionRevertedError, UnknownModelError
from zkllm_chain.chain.registry import model_digest

COMMITMENT = b"\x01commitment of a tiny model"
INPUT = [1, 2, 3, 2**256 - 1]
OUTPUT = [42, 7]
ZERO = b"\0" * 32
EIP7825_CAP = 16_777_216


#: Flows whose every step the embedded chain already runs in the tests above run on anvil only:
#: py-evm takes ~15 s to deploy EAS and certify the model for each, anvil ~1 s.
ANVIL_ONLY = pytest.mark.parametrize("chain", ["anvil"], indirect=True)


def _xor(*sels: bytes) -> bytes:
    out = 0
    for s in sels:
        out ^= int.from_bytes(s, "big")
    return out.to_bytes(4, "big")


IERC165_ID = selector("supportsInterface(bytes4)")
ZKML_VERIFIER_ID = _xor(selector("verifyInference(uint256,bytes32,bytes,bytes)"),
                        selector("proofSystemOf(uint256)"), selector("registry()"))
ZKML_REGISTRY_ID = _xor(selector("registerModel((bytes32,bytes32,bytes32,bytes4,string))"),
                        selector("updateModel(uint256,(bytes32,bytes32,bytes32,bytes4,string))"),
                        selector("deprecateModel(uint256)"), selector("getModel(uint256)"))
EAS_RESOLVER_ID = _xor(*(selector(s) for s in (
    "isPayable()", "attest((bytes32,bytes32,uint64,uint64,uint64,bytes32,address,address,bool,bytes))",
    "multiAttest((bytes32,bytes32,uint64,uint64,uint64,bytes32,address,address,bool,bytes)[],uint256[])",
    "revoke((bytes32,bytes32,uint64,uint64,uint64,bytes32,address,address,bool,bytes))",
    "multiRevoke((bytes32,bytes32,uint64,uint64,uint64,bytes32,address,address,bool,bytes)[],uint256[])")))
PROOF_SYSTEM_ID = keccak(b"zkllm-sumcheck-logup-pst-bls12381-v1")[:4]


@pytest.fixture
def att(chain, signers, registry):
    return InferenceAttestations.deploy(chain, registry.address, signer=signers[0])


def _register(registry, signer, verifier, commitment=COMMITMENT):
    return registry.register(model_digest(commitment), ZERO, ZERO, ZERO, verifier, 1, "", signer=signer).model_id


def _refusal(fn, *args, **kwargs) -> TransactionRevertedError:
    with pytest.raises(TransactionRevertedError) as info:
        fn(*args, **kwargs)
    return info.value


# ------------------------------------------------------------------------------ ERC-165


def test_interface_ids_are_the_xor_of_the_selectors():
    assert IERC165_ID == bytes.fromhex("01ffc9a7")
    assert ZKML_VERIFIER_ID == bytes.fromhex("5df65472")
    assert ZKML_REGISTRY_ID == bytes.fromhex("d28519b1")
    assert EAS_RESOLVER_ID == bytes.fromhex("d5e27b05")
    assert PROOF_SYSTEM_ID == keccak(b"zkllm-sumcheck-logup-pst-bls12381-v1")[:4]


def test_supports_interface(chain, signers, registry, att):
    resolver = ZkllmResolver.deploy(chain, signers[5].address, att.address, signer=signers[0])
    assert resolver.contract.functions.registry().call() == registry.address
    random_id = keccak(b"no such interface")[:4]
    for iid, want_att, want_reg, want_res in ((IERC165_ID, True, True, True),
                                               (ZKML_VERIFIER_ID, True, False, False),
                                               (ZKML_REGISTRY_ID, False, False, False),
                                               (EAS_RESOLVER_ID, False, False, True),
                                               (b"\xff" * 4, False, False, False),
                                               (random_id, False, False, False)):
        assert att.supports_interface(iid) is want_att, iid.hex()
        assert registry.supports_interface(iid) is want_reg, iid.hex()
        assert resolver.supports_interface(iid) is want_res, iid.hex()


def test_erc7992_views(att, registry, signers):
    assert att.registry_address() == registry.address
    model_id = _register(registry, signers[0], registry.address)
    assert att.proof_system_of(model_id) == PROOF_SYSTEM_ID
    with pytest.raises(UnknownModelError):
        att.proof_system_of(model_id + 1)
    # every function of the claimed interface is in the ABI, with the interface's types
    abi = {(e["name"], tuple(i["type"] for i in e["inputs"])): e for e in att.contract.abi if e["type"] == "function"}
    assert ("verifyInference", ("uint256", "bytes32", "bytes", "bytes")) in abi
    assert [o["type"] for o in abi[("proofSystemOf", ("uint256",))]["outputs"]] == ["bytes4"]
    assert [o["type"] for o in abi[("registry", ())]["outputs"]] == ["address"]


# ------------------------------------------------------------- verifyInference before the verifier


def test_verify_inference_refusals_before_the_verifier(att, registry, signers):
    model_id = _register(registry, signers[0], registry.address)
    v = att.verify_inference
    s = signers[1]
    err = _refusal(v, model_id, COMMITMENT, INPUT, OUTPUT, b"p", input_commitment=keccak(b"other"), signer=s)
    assert err.error_name == "InputCommitmentMismatch"
    err = _refusal(v, model_id, COMMITMENT, INPUT, OUTPUT, b"p", output_bytes=pack_words(OUTPUT) + b"\0", signer=s)
    assert err.error_name == "OutputMismatch"
    err = _refusal(v, model_id, COMMITMENT + b"!", INPUT, OUTPUT, b"p", signer=s)
    assert err.error_name == "ModelMismatch"
    with pytest.raises(UnknownModelError) as info:
        v(model_id + 7, COMMITMENT, INPUT, OUTPUT, b"p", signer=s)
    assert info.value.error_args == (model_id + 7,)
    registry.revoke(model_id, signer=signers[0])
    err = _refusal(v, model_id, COMMITMENT, INPUT, OUTPUT, b"p", signer=s)
    assert (err.error_name, err.error_args) == ("VerificationRefused_ModelDeprecated", (model_id,))
    assert att.attestation_count() == 0


def _malformed_envelopes() -> dict[str, bytes]:
    good = pack_inference_proof(COMMITMENT, INPUT, b"zk")
    word = lambda n: n.to_bytes(32, "big")  # noqa: E731
    return {
        "empty": b"",
        "two head words": good[:64],
        "tail cut short": good[:-32],
        "offset past the end": word(10**6) + good[32:],
        "offset 2^256-1": word(2**256 - 1) + good[32:],
        "input offset at the last word": good[:32] + word(len(good) - 32) + good[64:],
        "bytes length 2^255": abi_encode(["bytes", "uint256[]", "bytes"], [b"", [], b""])[:96]
        + word(2**255) + word(0) + word(0),
        "input length 2^251 (x32 overflows)": abi_encode(["bytes", "uint256[]", "bytes"], [b"", [], b""])[:128]
        + word(2**251) + word(0),
    }


@pytest.mark.parametrize("case", list(_malformed_envelopes()))
def test_verify_inference_malformed_proof_envelope(att, registry, signers, case):
    """Every offset and length of abi.encode(bytes, uint256[], bytes) is checked against the
    proof bytes: an envelope that points outside is `InvalidProof`, never an out-of-bounds read."""
    model_id = _register(registry, signers[0], registry.address)
    err = _refusal(att.verify_inference, model_id, COMMITMENT, INPUT, OUTPUT, b"",
                   packed_proof=_malformed_envelopes()[case], input_commitment=words_hash(INPUT), signer=signers[1])
    assert err.error_name == "InvalidProof", case


# ------------------------------------------------------------- through the real verifier


@pytest.fixture(scope="module")
def real():
    """A real proof of a small MLP (16-32-8, GELU), bound to a chosen attester."""
    from verifier_helpers import small_mlp_proofs
    return small_mlp_proofs(41, 5)


@pytest.fixture
def model(chain, signers, registry, real):
    """(model id, verifier address) of the small MLP, certified and registered by signers[0]."""
    from zkllm_chain.chain.verifier import deploy_verifier
    from zkllm_chain.chain.weights import certify_for
    verifier = deploy_verifier(chain, real["vk"], signer=signers[0]).address
    certify_for(chain, verifier, real["commitment"], real["weight_proof"], signer=signers[0])
    return _register(registry, signers[0], verifier, real["commitment"]), verifier


def _verify(att, real, model_id, signer, proof=None, **kw):
    return att.verify_inference(model_id, real["commitment"], real["input"], real["output"],
                                real["proof_for"](signer.address) if proof is None else proof, signer=signer, **kw)


def test_verify_inference_valid_records_and_always_checks(att, model, real, signers):
    model_id, _ = model
    IN, OUT = real["input"], real["output"]
    tx = _verify(att, real, model_id, signers[1])
    (ev,) = tx.events(att.contract, "InferenceVerified")
    assert ev == {"modelId": model_id, "inputCommitment": words_hash(IN), "output": pack_words(OUT),
                  "caller": signers[1].address}
    (rec,) = tx.events(att.contract, "InferenceAttested")
    assert att.is_attested(model_id, IN, OUT) and att.attestation_count() == 1
    a = att.get_attestation(rec["uid"])
    assert (a.attester, a.input_hash, a.output) == (signers[1].address, words_hash(IN), tuple(OUT))

    # recorded already: a garbage proof still fails (success always means "this proof is valid")...
    err = _refusal(_verify, att, real, model_id, signers[1], proof=b"")
    assert err.error_name == "MalformedProof"
    # ...a valid proof of another attester verifies, emits, and leaves the record as it was
    tx = _verify(att, real, model_id, signers[2])
    assert tx.events(att.contract, "InferenceAttested") == []
    assert tx.events(att.contract, "InferenceVerified")[0]["caller"] == signers[2].address
    assert att.get_attestation(rec["uid"]).attester == signers[1].address and att.attestation_count() == 1
    # attest (the idempotent path) returns the same uid without recording again
    res = att.attest(model_id, real["commitment"], IN, OUT, real["proof_for"](signers[3].address), signer=signers[3])
    assert res.uid == rec["uid"] and not res.created


def test_verify_inference_false_proofs(chain, att, model, real, signers):
    model_id, verifier = model
    # (the MLP verifier answers ERC-165 too: IERC165 and IZkllmVerifier = verify ^ proofSystemId)
    from zkllm_chain.chain.contracts import contract_at
    zkllm_id = _xor(selector("verify(bytes32,bytes,uint256[],uint256[],address,bytes)"), selector("proofSystemId()"))
    answers = contract_at(chain, "ZkllmVerifier", verifier).functions.supportsInterface
    assert [answers(i).call() for i in (IERC165_ID, zkllm_id, ZKML_VERIFIER_ID, b"\xff" * 4)] == [True, True,
                                                                                               False, False]
    forged = bytearray(real["proof_for"](signers[1].address))
    forged[-1] ^= 1
    err = _refusal(_verify, att, real, model_id, signers[1], proof=bytes(forged))
    assert err.error_name == "PairingFailed", err  # the last round of the batch opening's sumcheck
    # a copy of signers[1]'s call sent by signers[2]: the proof binds signers[1]
    err = _refusal(_verify, att, real, model_id, signers[2], proof=real["proof_for"](signers[1].address))
    assert err.error_name is not None, err  # the verifier's error: the transcript absorbed signers[2]
    wrong = list(real["output"])
    wrong[0] = (wrong[0] + 1) % 2**255
    err = _refusal(att.verify_inference, model_id, real["commitment"], real["input"], wrong,
                   real["proof_for"](signers[1].address), signer=signers[1])
    assert err.error_name is not None
    assert att.attestation_count() == 0


# ------------------------------------------------------------- EAS


@pytest.fixture(scope="session")
def eas_compiled():
    return compile_eas(Path(tempfile.gettempdir()) / f"zkllm-chain-{os.getuid()}")


@pytest.fixture
def eas(chain, signers, att, eas_compiled):
    """(EAS client, resolver, revocable proof schema uid, revocable record schema uid) on a
    fresh EAS deployment; the resolver reads `att`."""
    client = deploy_eas(chain, eas_compiled, signers[0])
    resolver = ZkllmResolver.deploy(chain, client.eas.address, att.address, signer=signers[0])
    schema = client.register_schema(resolver.address, True, signer=signers[0])
    record = client.register_schema(resolver.address, True, RECORD_SCHEMA, signer=signers[0])
    fns = resolver.contract.functions
    assert fns.PROOF_SCHEMA().call() == PROOF_SCHEMA and fns.RECORD_SCHEMA().call() == RECORD_SCHEMA
    assert schema == schema_uid(resolver.address, True) == fns.schemaUid(PROOF_SCHEMA, True).call()
    assert record == schema_uid(resolver.address, True, RECORD_SCHEMA) == fns.schemaUid(RECORD_SCHEMA, True).call()
    return client, resolver, schema, record


def _data(real, model_id, signer_address, commitment=None, output=None):
    return encode_inference(model_id, commitment or real["commitment"], real["input"], output or real["output"],
                            real["proof_for"](signer_address))


def test_eas_attest_valid(eas, model, real, signers):
    client, resolver, schema, _ = eas
    model_id, _ = model
    data = _data(real, model_id, signers[1].address)
    uid, tx = client.attest(schema, data, recipient=signers[4].address, signer=signers[1])
    a = client.get_attestation(uid)
    assert (a.uid, a.schema, a.attester, a.recipient, a.data) == (uid, schema, signers[1].address,
                                                                    signers[4].address, data)
    assert a.revocation_time == 0 and a.time > 0
    (ev,) = tx.events(resolver.contract, "InferenceResolved")
    assert (ev["uid"], ev["modelId"], ev["attester"]) == (uid, model_id, signers[1].address)
    assert resolver.is_valid(uid)
    assert not resolver.is_valid(keccak(b"no such attestation"))
    # the attester revokes (revocable schema): no longer valid
    client.revoke(schema, uid, signer=signers[1])
    assert client.get_attestation(uid).revocation_time > 0
    assert not resolver.is_valid(uid)


@ANVIL_ONLY
def test_eas_model_revocation_voids_earlier_attestations(eas, model, real, signers, registry):
    client, resolver, schema, _ = eas
    model_id, _ = model
    uid, _ = client.attest(schema, _data(real, model_id, signers[1].address), signer=signers[1])
    assert resolver.is_valid(uid)
    registry.revoke(model_id, signer=signers[0])
    assert client.get_attestation(uid).revocation_time == 0  # EAS does not know...
    assert not resolver.is_valid(uid)  # ...the resolver's check reads the registry
    err = _refusal(client.attest, schema, _data(real, model_id, signers[1].address), signer=signers[1])
    assert (err.error_name, err.error_args) == ("ModelRevoked", (model_id,))


def test_eas_refusals(eas, model, real, signers, registry):
    client, resolver, schema, _ = eas
    model_id, _ = model
    s1 = signers[1]
    forged = bytearray(real["proof_for"](s1.address))
    forged[-1] ^= 1
    cases = {
        "false proof": (encode_inference(model_id, real["commitment"], real["input"], real["output"], bytes(forged)),
                        s1, ("PairingFailed",)),
        "copied by another attester": (_data(real, model_id, s1.address), signers[2], ("COPIER",)),
        "wrong commitment": (_data(real, model_id, s1.address, commitment=real["commitment"] + b"!"), s1,
                             ("CommitmentMismatch",)),
        "unknown model id": (_data(real, model_id + 5, s1.address), s1, ("UnknownModel",)),
        "undecodable data": (b"\x01" * 40, s1, (None,)),
    }
    for name, (data, signer, want) in cases.items():
        with pytest.raises(TransactionRevertedError) as info:
            client.attest(schema, data, signer=signer)
        if want == ("COPIER",):  # a verifier error: the transcript absorbed signers[2] as the attester
            assert info.value.error_name is not None, info.value
            continue
        assert info.value.error_name in want, (name, info.value)
    # the hooks are EAS's only
    att_tuple = (ZERO, schema, 0, 0, 0, ZERO, s1.address, s1.address, True, _data(real, model_id, s1.address))
    from zkllm_chain.chain.contracts import transact
    err = _refusal(transact, resolver.chain, resolver.contract.functions.attest(att_tuple), signer=s1)
    assert err.error_name == "AccessDenied"
    # a schema registered with the resolver as non-revocable works too; then nothing above was recorded
    other = client.register_schema(resolver.address, False, signer=signers[0])
    uid, _ = client.attest(other, _data(real, model_id, s1.address), revocable=False, signer=s1)
    assert resolver.is_valid(uid)


@ANVIL_ONLY
def test_eas_multi_attest(eas, att, model, real, signers):
    """EAS's batch path calls the resolver's multiAttest: every item is checked, one refusal
    refuses the whole batch. (Two proof-schema items of this MLP do not fit under the EIP-7825
    cap -- EAS stores both proofs -- so the accepted batch uses the record schema.)"""
    client, resolver, schema, record = eas
    model_id, _ = model
    good = _data(real, model_id, signers[1].address)
    forged = bytearray(real["proof_for"](signers[1].address))
    forged[-1] ^= 1
    bad = encode_inference(model_id, real["commitment"], real["input"], real["output"], bytes(forged))
    err = _refusal(client.multi_attest, schema, [good, bad], signer=signers[1])
    assert err.error_name == "PairingFailed"
    rec_uid, data = _record(att, real, model_id, signers[1])
    wrong = encode_record(rec_uid, model_id, real["input"], real["output"][:-1])
    err = _refusal(client.multi_attest, record, [data, wrong], signer=signers[1])
    assert (err.error_name, err.error_args) == ("RecordMismatch", (rec_uid,))
    uids, tx = client.multi_attest(record, [data, data], signer=signers[1])
    assert len(uids) == 2 and len(set(uids)) == 2 and all(resolver.is_valid(u) for u in uids)
    assert len(tx.events(resolver.contract, "InferenceResolved")) == 2


def _record(att, real, model_id, signer):
    res = att.attest(model_id, real["commitment"], real["input"], real["output"], real["proof_for"](signer.address),
                     signer=signer)
    return res.uid, encode_record(res.uid, model_id, real["input"], real["output"])


@ANVIL_ONLY
def test_eas_record_schema(eas, att, model, real, signers, registry):
    """The record schema: the proof is checked once by `attest`; the EAS attestation names the
    record, and only its attester can make it."""
    client, resolver, _, record = eas
    model_id, _ = model
    IN, OUT = real["input"], real["output"]
    rec_uid, data = _record(att, real, model_id, signers[1])
    err = _refusal(client.attest, record, data, signer=signers[2])  # someone else's record
    assert (err.error_name, err.error_args) == ("AttesterMismatch", (rec_uid, signers[1].address,
                                                                     signers[2].address))
    uid, tx = client.attest(record, data, signer=signers[1])
    a = client.get_attestation(uid)
    assert (a.schema, a.attester, a.data) == (record, signers[1].address, data)
    (ev,) = tx.events(resolver.contract, "InferenceResolved")
    assert ev["statementHash"] == att.get_attestation(rec_uid).statement_hash
    assert resolver.is_valid(uid) and att.is_attested(model_id, IN, OUT)  # the two agree
    registry.revoke(model_id, signer=signers[0])
    assert not resolver.is_valid(uid) and not att.is_attested(model_id, IN, OUT)  # ...also after revocation
    err = _refusal(client.attest, record, data, signer=signers[1])
    assert (err.error_name, err.error_args) == ("ModelRevoked", (model_id,))


@ANVIL_ONLY
def test_eas_record_schema_refusals(eas, att, model, real, signers):
    client, _, _, record = eas
    model_id, _ = model
    IN, OUT = real["input"], real["output"]
    s1 = signers[1]
    missing = att.attestation_uid(model_id, IN, OUT)
    err = _refusal(client.attest, record, encode_record(missing, model_id, IN, OUT), signer=s1)  # nothing recorded
    assert (err.error_name, err.error_args) == ("UnknownAttestation", (missing,))
    rec_uid, _ = _record(att, real, model_id, s1)
    for name, data in (("model id", encode_record(rec_uid, model_id + 1, IN, OUT)),
                       ("input", encode_record(rec_uid, model_id, IN[:-1], OUT)),
                       ("output", encode_record(rec_uid, model_id, IN, OUT[:-1]))):
        err = _refusal(client.attest, record, data, signer=s1)
        assert (err.error_name, err.error_args) == ("RecordMismatch", (rec_uid,)), name


# ------------------------------------------------------------- gas of the 64-256-64 MLP


@ANVIL_ONLY
def test_gas_of_the_three_paths_mlp_64_256_64(chain, signers, registry, pk, committed, inputs, eas_compiled):
    """attest, verifyInference and an EAS attestation of one inference of the 64-256-64 MLP
    (the demo model), each a first record on its own contract; all under the EIP-7825 cap."""
    from prover import api
    from prover.attester import parse
    from prover.rng import seeded
    from zkllm_chain.chain.verifier import deploy_verifier, field_words
    from zkllm_chain.chain.weights import certify_for
    signer = signers[1]
    res = api.prove(pk, committed, inputs[0], rng=seeded(4), attester=parse(signer.address))
    proof, commitment = res.proof.to_bytes(), committed.commitment.encode()
    IN, OUT = field_words(res.statement.input), field_words(res.statement.output)
    verifier = deploy_verifier(chain, pk.verifying_key(), signer=signers[0]).address
    certify_for(chain, verifier, commitment, api.prove_weights(pk, committed, rng=seeded(5)), signer=signers[0])
    model_id = _register(registry, signers[0], verifier, commitment)

    a1 = InferenceAttestations.deploy(chain, registry.address, signer=signers[0])
    a2 = InferenceAttestations.deploy(chain, registry.address, signer=signers[0])
    res = a1.attest(model_id, commitment, IN, OUT, proof, signer=signer)
    attest_gas = res.tx.gas_used
    verify_gas = a2.verify_inference(model_id, commitment, IN, OUT, proof, signer=signer).gas_used
    client = deploy_eas(chain, eas_compiled, signers[0])
    resolver = ZkllmResolver.deploy(chain, client.eas.address, a1.address, signer=signers[0])
    schema = client.register_schema(resolver.address, True, signer=signers[0])
    record = client.register_schema(resolver.address, True, RECORD_SCHEMA, signer=signers[0])
    uid, tx = client.attest(schema, encode_inference(model_id, commitment, IN, OUT, proof), signer=signer)
    eas_gas = tx.gas_used
    uid2, tx = client.attest(record, encode_record(res.uid, model_id, IN, OUT), signer=signer)
    record_gas = tx.gas_used
    assert resolver.is_valid(uid) and resolver.is_valid(uid2)
    print(f"\n64-256-64 MLP (chain {chain.chain_id}): proof {len(proof)} bytes; attest {attest_gas} gas, "
          f"verifyInference {verify_gas} gas, EAS attest with the proof {eas_gas} gas, "
          f"EAS attest of the attest record {record_gas} gas")
    for g in (attest_gas, verify_gas, eas_gas, record_gas):
        assert g < EIP7825_CAP
