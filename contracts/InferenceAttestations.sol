// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IZkllmVerifier} from "./IZkllmVerifier.sol";
import {ModelRegistry} from "./ModelRegistry.sol";

/// @title InferenceAttestations
/// @notice Records, after checking a zero-knowledge proof, that a registered model produced
///         `output` from `input`. Records follow the shape of Ethereum Attestation Service
///         attestations: a uid, the subject (model), the attester and when.
/// @dev Rules:
///      - the model must exist in the registry and must not be Revoked. Deprecated models can
///        still be attested: deprecation only says "superseded"; revocation says "do not trust".
///      - keccak256(modelCommitment) must equal the registered model digest.
///      - the registered verifier's `verify` must accept (and return a non-zero statement
///        hash); when it reverts, its revert data is passed up unchanged.
///      - uid = keccak256(abi.encode(chainId, address(this), modelId, inputHash, outputHash)) with
///        inputHash = keccak256(abi.encodePacked(input)) (the concatenated 32-byte words),
///        and likewise for outputHash.
///      - attesting the same (model, input, output) again returns the existing uid; nothing
///        is stored or emitted a second time and the proof is not checked again.
contract InferenceAttestations {
    /// @notice One attested inference.
    struct Attestation {
        bytes32 uid;
        uint256 modelId;
        bytes32 inputHash;
        bytes32 outputHash;
        bytes32 statementHash;
        address attester;
        uint64 blockNumber;
        uint64 time;
        uint256[] output;
    }

    /// @notice `modelId` is revoked in the registry; it cannot be attested.
    error ModelRevoked(uint256 modelId);
    /// @notice keccak256(modelCommitment) differs from the registered model digest.
    error CommitmentMismatch(uint256 modelId, bytes32 expected, bytes32 actual);
    /// @notice The verifier accepted but returned a zero statement hash.
    error EmptyStatement(uint256 modelId);
    /// @notice `verifier` returned fewer than 32 bytes.
    error InvalidVerifierResponse(address verifier);
    /// @notice No attestation has `uid`.
    error UnknownAttestation(bytes32 uid);

    /// @notice A new inference was attested.
    event InferenceAttested(
        bytes32 indexed uid, uint256 indexed modelId, bytes32 inputHash, bytes32 outputHash, address indexed attester
    );

    /// @notice The registry whose models are attested.
    ModelRegistry public immutable registry;

    mapping(bytes32 uid => Attestation) private _attestations;
    uint256 private _count;

    constructor(ModelRegistry registry_) {
        registry = registry_;
    }

    /// @notice Checks `proof` with the model's verifier and records the inference.
    /// @param modelId Registry id of the model.
    /// @param modelCommitment Serialized model commitment; must hash to the model digest.
    /// @param input Input of the inference.
    /// @param output Output of the inference.
    /// @param proof Proof for the model's verifier.
    /// @return uid Identifier of the (new or existing) attestation.
    function attest(
        uint256 modelId,
        bytes calldata modelCommitment,
        uint256[] calldata input,
        uint256[] calldata output,
        bytes calldata proof
    ) external returns (bytes32 uid) {
        address verifier;
        bytes32 statementHash;
        {
            (statementHash, verifier) = _attestableModel(modelId, modelCommitment);
            uid = _uid(modelId, _hashWords(input), _hashWords(output));
            if (_attestations[uid].attester != address(0)) return uid;
        }
        statementHash = _verify(verifier, statementHash, modelCommitment, input, output, proof);
        if (statementHash == bytes32(0)) revert EmptyStatement(modelId);
        _record(uid, modelId, _hashWords(input), output, statementHash);
    }

    /// @dev Stores a verified attestation of `msg.sender`.
    function _record(bytes32 uid, uint256 modelId, bytes32 inputHash, uint256[] calldata output, bytes32 statementHash)
        private
    {
        Attestation storage a = _attestations[uid];
        bytes32 outputHash = _hashWords(output);
        a.uid = uid;
        a.modelId = modelId;
        a.inputHash = inputHash;
        a.outputHash = outputHash;
        a.statementHash = statementHash;
        a.attester = msg.sender;
        a.blockNumber = uint64(block.number);
        a.time = uint64(block.timestamp);
        a.output = output;
        ++_count;
        emit InferenceAttested(uid, modelId, inputHash, outputHash, msg.sender);
    }

    /// @notice Whether (modelId, input, output) is attested and the model is not revoked.
    /// @dev Returns false for unknown models rather than reverting.
    function isAttested(uint256 modelId, uint256[] calldata input, uint256[] calldata output)
        external
        view
        returns (bool)
    {
        bytes32 uid = _uid(modelId, _hashWords(input), _hashWords(output));
        if (_attestations[uid].attester == address(0)) return false;
        return registry.statusOf(modelId) != ModelRegistry.ModelStatus.Revoked;
    }

    /// @notice The attestation `uid`, whatever the model's status is now.
    function getAttestation(bytes32 uid) external view returns (Attestation memory) {
        Attestation storage a = _attestations[uid];
        if (a.attester == address(0)) revert UnknownAttestation(uid);
        return a;
    }

    /// @notice The uid that (modelId, input, output) has or would have.
    function attestationUid(uint256 modelId, uint256[] calldata input, uint256[] calldata output)
        external
        view
        returns (bytes32)
    {
        return _uid(modelId, _hashWords(input), _hashWords(output));
    }

    /// @notice Number of distinct attestations recorded.
    function attestationCount() external view returns (uint256) {
        return _count;
    }

    /// @dev The registry entry of `modelId` if it may be attested with `modelCommitment`.
    function _attestableModel(uint256 modelId, bytes calldata modelCommitment)
        private
        view
        returns (bytes32 modelDigest, address verifier)
    {
        // attestationInfo reverts with ModelRegistry.UnknownModel for unknown ids; it does not
        // read the URI, so its length costs attestations nothing.
        ModelRegistry.ModelStatus status;
        (modelDigest, verifier, status) = registry.attestationInfo(modelId);
        if (status == ModelRegistry.ModelStatus.Revoked) revert ModelRevoked(modelId);
        bytes32 commitmentHash = keccak256(modelCommitment);
        if (commitmentHash != modelDigest) revert CommitmentMismatch(modelId, modelDigest, commitmentHash);
    }

    /// @dev The verifier checks this call's statement with `msg.sender` as the attester: a
    ///      proof binds the one account that may post it (`IZkllmVerifier.verify`), so a copy of
    ///      this transaction sent by anyone else is a false proof. A revert is passed up unchanged.
    function _verify(
        address verifier,
        bytes32 modelDigest,
        bytes calldata modelCommitment,
        uint256[] calldata input,
        uint256[] calldata output,
        bytes calldata proof
    ) private view returns (bytes32 statementHash) {
        (bool ok, bytes memory ret) = verifier.staticcall(
            abi.encodeCall(IZkllmVerifier.verify, (modelDigest, modelCommitment, input, output, msg.sender, proof))
        );
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        if (ret.length < 32) revert InvalidVerifierResponse(verifier);
        statementHash = abi.decode(ret, (bytes32));
    }

    /// @dev Like an EAS uid, it names the chain and this contract, so that two deployments (or
    ///      two chains) never share an attestation id.
    function _uid(uint256 modelId, bytes32 inputHash, bytes32 outputHash) private view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), modelId, inputHash, outputHash));
    }

    /// @dev keccak256 of the words of `values` laid end to end (= keccak256(abi.encodePacked(values))).
    function _hashWords(uint256[] calldata values) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let len := mul(values.length, 0x20)
            calldatacopy(ptr, values.offset, len)
            h := keccak256(ptr, len)
        }
    }
}
