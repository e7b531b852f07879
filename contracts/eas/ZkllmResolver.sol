// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IZkllmVerifier} from "../IZkllmVerifier.sol";
import {ModelRegistry} from "../ModelRegistry.sol";
import {IERC165} from "../standards/IERC165.sol";
import {EasAttestation, IEasReader, IEasSchemaResolver} from "./IEasSchemaResolver.sol";

/// @title ZkllmResolver
/// @notice An Ethereum Attestation Service (EAS) schema resolver: an EAS attestation under a
///         schema that names this resolver exists only if it carries a zero-knowledge proof
///         that a registered model produced its output, bound to the attestation's attester.
/// @dev Schema (`SCHEMA`): `uint256 modelId, bytes modelCommitment, uint256[] input,
///      uint256[] output, bytes proof`; attestation data = abi.encode of those five values,
///      with `proof` the proof `InferenceAttestations.attest` takes. On attest, EAS calls
///      `attest(attestation)`; the checks are those of `InferenceAttestations.attest`:
///      - the model exists in `registry` (else `ModelRegistry.UnknownModel`) and is not
///        Revoked (else `ModelRevoked`; Deprecated models verify);
///      - keccak256(modelCommitment) is the registered digest (else `CommitmentMismatch`);
///      - the model's verifier accepts with the attestation's **attester** as the bound
///        attester and returns a non-zero statement hash; its revert data is passed up
///        unchanged, so EAS reverts with the verifier's error. A copy of someone's
///        attestation data attested by another account is therefore a false proof.
///      Data that does not decode reverts without data. ETH is refused (`isPayable` false).
///      Nothing is stored here: EAS holds the record.
///
///      Revocation: EAS revocations (of a revocable schema) are accepted whoever's they are
///      by EAS's rules (only the attester may revoke); this resolver adds no condition. The
///      model's own status lives in the registry and is not pushed into EAS: when the model
///      is revoked there, its earlier EAS attestations stay unrevoked in EAS, so a consumer
///      must also read the registry -- `isValid(uid)` does all of it in one call.
///      Anyone can register further EAS schemas naming this resolver; their data must still
///      decode as `SCHEMA` and carry a valid proof, but a consumer pins the schema uid it
///      trusts (`isValid` accepts only the two uids of `SCHEMA` with this resolver).
///      This contract re-declares the resolver interface instead of importing the EAS
///      package, so that the project's contracts build without node packages.
contract ZkllmResolver is IEasSchemaResolver, IERC165 {
    /// @notice The EAS schema string to register with this resolver.
    string public constant SCHEMA =
        "uint256 modelId,bytes modelCommitment,uint256[] input,uint256[] output,bytes proof";

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
    /// @notice `verifier` returned fewer than 32 bytes.
    error InvalidVerifierResponse(address verifier);

    /// @notice EAS attestation `uid` of `attester` carries a valid proof of `modelId`.
    event InferenceResolved(
        bytes32 indexed uid, uint256 indexed modelId, address indexed attester, bytes32 statementHash
    );

    /// @notice The EAS contract this resolver serves.
    address public immutable eas;
    /// @notice The registry whose models are attested.
    ModelRegistry public immutable registry;

    constructor(address eas_, ModelRegistry registry_) {
        if (eas_ == address(0)) revert InvalidEAS();
        eas = eas_;
        registry = registry_;
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

    /// @notice The two EAS schema uids of `SCHEMA` with this resolver: (irrevocable, revocable).
    function schemaUids() public view returns (bytes32 irrevocable, bytes32 revocable) {
        irrevocable = keccak256(abi.encodePacked(SCHEMA, address(this), false));
        revocable = keccak256(abi.encodePacked(SCHEMA, address(this), true));
    }

    /// @notice Whether EAS attestation `uid` exists under `SCHEMA` with this resolver, is
    ///         neither revoked nor expired, and its model is not Revoked in the registry.
    ///         (Its proof was checked when it was made: EAS cannot hold it otherwise.)
    function isValid(bytes32 uid) external view returns (bool) {
        EasAttestation memory a = IEasReader(eas).getAttestation(uid);
        (bytes32 irrevocable, bytes32 revocable) = schemaUids();
        if (a.uid == bytes32(0) || (a.schema != irrevocable && a.schema != revocable)) return false;
        if (a.revocationTime != 0) return false;
        if (a.expirationTime != 0 && a.expirationTime <= block.timestamp) return false;
        uint256 modelId = abi.decode(a.data, (uint256));
        if (modelId == 0 || modelId > registry.modelCount()) return false;
        return registry.statusOf(modelId) != ModelRegistry.ModelStatus.Revoked;
    }

    /// @dev Verifies the proof an attestation carries; reverts on any failure.
    function _check(EasAttestation calldata attestation) private {
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
        (bool ok, bytes memory ret) = verifier.staticcall(
            abi.encodeCall(IZkllmVerifier.verify, (modelDigest, modelCommitment, input, output, attester, proof))
        );
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        if (ret.length < 32) revert InvalidVerifierResponse(verifier);
        return abi.decode(ret, (bytes32));
    }
}
