// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IERCZKMLVerifier
/// @notice The verifier interface of the draft ERC-7992 (Verifiable ML Model Inference),
///         written from the specification text. ERC-165 id (the XOR of the three function
///         selectors): 0x5df65472; `verifyInference` alone: 0x80b171ef.
/// @dev `verifyInference` fetches the model's commitment from the registry, validates the
///      proof against it and reverts on any failure (invalid proof, mismatched commitments,
///      unsupported proof system, deprecated model); returning means the proof is valid.
///      `proofSystemId` values are bytes4(keccak256(<lowercase, hyphen-separated name>)).
interface IERCZKMLVerifier {
    /// @notice A proof that `modelId` maps the committed input to `output` was accepted.
    event InferenceVerified(
        uint256 indexed modelId, bytes32 indexed inputCommitment, bytes output, address indexed caller
    );

    /// @notice The proof is false or cannot be decoded.
    error InvalidProof();
    /// @notice The proof is valid but not bound to `modelId`.
    error ModelMismatch();
    /// @notice The proof's input does not match `inputCommitment`.
    error InputCommitmentMismatch();
    /// @notice `output` is not the output the proof is about, or is not well-formed.
    error OutputMismatch();
    /// @notice The model's proof system is not one this verifier checks.
    error UnsupportedProofSystem(bytes4 proofSystemId);
    /// @notice The model is deprecated (in the ERC's sense: no longer to be trusted).
    error VerificationRefused_ModelDeprecated(uint256 modelId);

    /// @notice Verifies one inference of `modelId`; reverts on any failure.
    function verifyInference(uint256 modelId, bytes32 inputCommitment, bytes calldata output, bytes calldata proof)
        external;

    /// @notice The proof system `modelId` is verified with.
    function proofSystemOf(uint256 modelId) external view returns (bytes4);

    /// @notice The model registry this verifier reads.
    function registry() external view returns (address registryAddress);
}
