// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IZkllmVerifier} from "../IZkllmVerifier.sol";
import {InferenceAttestations} from "../InferenceAttestations.sol";
import {ModelRegistry} from "../ModelRegistry.sol";
import {VerifierCall} from "../lib/VerifierCall.sol";
import {IERC165} from "../standards/IERC165.sol";
import {EasAttestation, IEasReader, IEasSchemaResolver} from "./IEasSchemaResolver.sol";

/// @title ZkllmResolver
/// @notice An Ethereum Attestation Service (EAS) schema resolver: an EAS attestation under a
///         schema that names this resolver exists only if a zero-knowledge proof that a
///         registered model produced its output, bound to the attestation's attester, was
///         checked -- by this resolver (proof schema) or by `InferenceAttestations` (record
///         schema).
/// @dev Two schemas; the resolver tells them apart by the attestation's schema uid:
///
///      `PROOF_SCHEMA` = `uint256 modelId, bytes modelCommitment, uint256[] input,
///      uint256[] output, bytes proof` (data = abi.encode of the five values, `proof` as
///      `InferenceAttestations.attest` takes it). Self-contained, but EAS stores the data,
///      proof included (about 22,000 gas per 32 bytes: ~13M gas for the 64-256-64 MLP).
///      The checks are those of `InferenceAttestations.attest`:
///      - the model exists in the registry (else `ModelRegistry.UnknownModel`) and is not
///        Revoked (else `ModelRevoked`; Deprecated models verify);
///      - keccak256(modelCommitment) is the registered digest (else `CommitmentMismatch`);
///      - the model's verifier accepts with the attestation's **attester** as the bound
///        attester and returns a non-zero statement hash; its revert data is passed up
///        unchanged, so EAS reverts with the verifier's error. A copy of someone's
///        attestation data attested by another account is therefore a false proof.
///
///      `RECORD_SCHEMA` = `bytes32 attestationUid, uint256 modelId, bytes32 inputHash,
///      bytes32 outputHash`: names a record of `attestations` (an `InferenceAttestations`,
///      whose `attest` / `verifyInference` checked the proof with msg.sender as the attester).
///      The record must exist (else `InferenceAttestations.UnknownAttestation`), its attester
///      must be the EAS attester (else `AttesterMismatch`), its model, input hash and output
///      hash must be the data's (else `RecordMismatch`), and its model must not be Revoked.
///      The proof is checked once, by `attest`; the EAS attestation costs a few hundred
///      thousand gas. Only the account that recorded the inference can make it.
///
///      Data that does not decode reverts without data. ETH is refused (`isPayable` false).
///      Nothing is stored here: EAS holds the record.
///
///      Revocation: EAS revocations (of a revocable schema) are accepted under EAS's rules
///      (only the attester revokes); this resolver adds no condition. The model's status lives
///      in the registry and is not pushed into EAS: when the model is revoked there, its
///      earlier EAS attestations stay unrevoked in EAS, so a consumer must also read the
///      registry -- `isValid(uid)` does all of it in one call.
///      Anyone can register further EAS schemas naming this resolver; their data must still
///      decode and pass the proof-schema checks, but a consumer pins the schema uid it trusts
///      (`isValid` accepts only the uids of the two schemas with this resolver).
///      This contract re-declares the resolver interface instead of importing the EAS
///      package, so that the project's contracts build without node packages.
contract ZkllmResolver is IEasSchemaResolver, IERC165 {
    /// @notice The EAS schema whose data carries the proof (checked here).
    string public constant PROOF_SCHEMA =
        "uint256 modelId,bytes modelCommitment,uint256[] input,uint256[] output,bytes proof";
    /// @notice The EAS schema whose data names a record of `attestations`.
    string public constant RECORD_SCHEMA =
        "bytes32 attestationUid,uint256 modelId,bytes32 inputHash,bytes32 outputHash";

    /// @notice Only the EAS contract may call the resolver hooks.
    error AccessDenied();
    /// @notice The EAS address is zero.
    error InvalidEAS();
    /// @notice A batch has different numbers of attestations and values.
    error InvalidLength();
    /// @notice ETH was sent; this resolver takes none.
    error NotPayable();
    /// @notice `modelId` is revoked in the registry.
    error ModelRevoked(uint256 modelId);
    /// @notice keccak256(modelCommitment) differs from the registered model digest.
    error CommitmentMismatch(uint256 modelId, bytes32 expected, bytes32 actual);
    /// @notice The verifier accepted but returned a zero statement hash.
    error EmptyStatement(uint256 modelId);
    /// @notice The record `attestationUid` was made by `recorded`, not by the EAS attester.
    error AttesterMismatch(bytes32 attestationUid, address recorded, address attester);
    /// @notice The record `attestationUid` has another model, input hash or output hash.
    error RecordMismatch(bytes32 attestationUid);

    /// @notice EAS attestation `uid` of `attester` carries a valid proof of `modelId`.
    event InferenceResolved(
        bytes32 indexed uid, uint256 indexed modelId, address indexed attester, bytes32 statementHash
    );

    /// @notice The EAS contract this resolver serves.
    address public immutable eas;
    /// @notice Where the record schema's attestations are recorded.
    InferenceAttestations public immutable attestations;
    /// @notice The registry whose models are attested (that of `attestations`).
    ModelRegistry public immutable registry;

    constructor(address eas_, InferenceAttestations attestations_) {
        if (eas_ == address(0)) revert InvalidEAS();
        eas = eas_;
        attestations = attestations_;
        registry = ModelRegistry(attestations_.registry());
    }

    modifier onlyEAS() {
        if (msg.sender != eas) revert AccessDenied();
        _;
    }

    /// @notice Semantic version of this resolver (EAS's ISemver shape).
    function version() external pure returns (string memory) {
        return "1.0.0";
    }

    /// @notice ERC-165: IERC165 and the EAS resolver interface (0xd5e27b05).
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == type(IEasSchemaResolver).interfaceId;
    }

    /// @inheritdoc IEasSchemaResolver
    function isPayable() external pure returns (bool) {
        return false;
    }

    /// @inheritdoc IEasSchemaResolver
    function attest(EasAttestation calldata attestation) external payable onlyEAS returns (bool) {
        if (msg.value != 0) revert NotPayable();
        _check(attestation);
        return true;
    }

    /// @inheritdoc IEasSchemaResolver
    function multiAttest(EasAttestation[] calldata attestations, uint256[] calldata values)
        external
        payable
        onlyEAS
        returns (bool)
    {
        if (attestations.length != values.length) revert InvalidLength();
        if (msg.value != 0) revert NotPayable();
        for (uint256 i = 0; i < attestations.length; ++i) {
            _check(attestations[i]);
        }
        return true;
    }

    /// @inheritdoc IEasSchemaResolver
    function revoke(EasAttestation calldata) external payable onlyEAS returns (bool) {
        if (msg.value != 0) revert NotPayable();
        return true;
    }

    /// @inheritdoc IEasSchemaResolver
    function multiRevoke(EasAttestation[] calldata attestations, uint256[] calldata values)
        external
        payable
        onlyEAS
        returns (bool)
    {
        if (attestations.length != values.length) revert InvalidLength();
        if (msg.value != 0) revert NotPayable();
        return true;
    }

    /// @notice The EAS schema uid of `schema` (registered with this resolver as `revocable`).
    function schemaUid(string memory schema, bool revocable) public view returns (bytes32) {
        return keccak256(abi.encodePacked(schema, address(this), revocable));
    }

    /// @notice Whether EAS attestation `uid` exists under one of the two schemas with this
    ///         resolver, is neither revoked nor expired, and its model is not Revoked in the
    ///         registry. (Its proof was checked when it was made: EAS cannot hold it otherwise.)
    function isValid(bytes32 uid) external view returns (bool) {
        EasAttestation memory a = IEasReader(eas).getAttestation(uid);
        if (a.uid == bytes32(0) || a.revocationTime != 0) return false;
        if (a.expirationTime != 0 && a.expirationTime <= block.timestamp) return false;
        uint256 modelId;
        if (_isRecordSchema(a.schema)) {
            (, modelId) = abi.decode(a.data, (bytes32, uint256));
        } else if (a.schema == schemaUid(PROOF_SCHEMA, true) || a.schema == schemaUid(PROOF_SCHEMA, false)) {
            modelId = abi.decode(a.data, (uint256));
        } else {
            return false;
        }
        if (modelId == 0 || modelId > registry.modelCount()) return false;
        return registry.statusOf(modelId) != ModelRegistry.ModelStatus.Revoked;
    }

    function _isRecordSchema(bytes32 schema) private view returns (bool) {
        return schema == schemaUid(RECORD_SCHEMA, true) || schema == schemaUid(RECORD_SCHEMA, false);
    }

    /// @dev Checks one attestation by its schema; reverts on any failure.
    function _check(EasAttestation calldata attestation) private {
        if (_isRecordSchema(attestation.schema)) _checkRecord(attestation);
        else _checkProof(attestation);
    }

    /// @dev The record schema: the data names a record of `attestations` made by the attester.
    function _checkRecord(EasAttestation calldata attestation) private {
        (bytes32 recordUid, uint256 modelId, bytes32 inputHash, bytes32 outputHash) =
            abi.decode(attestation.data, (bytes32, uint256, bytes32, bytes32));
        InferenceAttestations.Attestation memory r = attestations.getAttestation(recordUid);
        if (r.attester != attestation.attester) revert AttesterMismatch(recordUid, r.attester, attestation.attester);
        if (r.modelId != modelId || r.inputHash != inputHash || r.outputHash != outputHash) {
            revert RecordMismatch(recordUid);
        }
        if (registry.statusOf(modelId) == ModelRegistry.ModelStatus.Revoked) revert ModelRevoked(modelId);
        emit InferenceResolved(attestation.uid, modelId, attestation.attester, r.statementHash);
    }

    /// @dev The proof schema: verifies the proof the data carries.
    function _checkProof(EasAttestation calldata attestation) private {
        (uint256 modelId, bytes memory modelCommitment, uint256[] memory input, uint256[] memory output,
            bytes memory proof) = abi.decode(attestation.data, (uint256, bytes, uint256[], uint256[], bytes));
        (bytes32 modelDigest, address verifier) = _attestableModel(modelId, modelCommitment);
        bytes32 statementHash =
            _verify(verifier, modelDigest, modelCommitment, input, output, attestation.attester, proof);
        if (statementHash == bytes32(0)) revert EmptyStatement(modelId);
        emit InferenceResolved(attestation.uid, modelId, attestation.attester, statementHash);
    }

    /// @dev The registry entry of `modelId` if it may be attested with `modelCommitment`.
    function _attestableModel(uint256 modelId, bytes memory modelCommitment)
        private
        view
        returns (bytes32 modelDigest, address verifier)
    {
        ModelRegistry.ModelStatus status;
        (modelDigest, verifier, status) = registry.attestationInfo(modelId);
        if (status == ModelRegistry.ModelStatus.Revoked) revert ModelRevoked(modelId);
        bytes32 commitmentHash = keccak256(modelCommitment);
        if (commitmentHash != modelDigest) revert CommitmentMismatch(modelId, modelDigest, commitmentHash);
    }

    /// @dev The verifier's statement hash for `attester`; a verifier revert is passed up unchanged.
    function _verify(
        address verifier,
        bytes32 modelDigest,
        bytes memory modelCommitment,
        uint256[] memory input,
        uint256[] memory output,
        address attester,
        bytes memory proof
    ) private view returns (bytes32) {
        return VerifierCall.statementHash(
            verifier,
            abi.encodeCall(IZkllmVerifier.verify, (modelDigest, modelCommitment, input, output, attester, proof))
        );
    }
}
