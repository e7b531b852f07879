// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IZkllmVerifier
/// @notice On-chain verifier of zero-knowledge proofs that a committed, quantized language
///         model maps `input` to `output`.
/// @dev A verifier is stateless: `verify` is `view` and either returns the hash of the
///      statement it accepted or reverts with a custom error. Implementations SHOULD use the
///      errors declared here (callers such as `InferenceAttestations` pass the revert data
///      through unchanged, so off-chain tooling can decode them by name).
interface IZkllmVerifier {
    /// @notice The proof bytes could not be parsed (wrong length, version, or an encoding
    ///         that is not canonical).
    /// @param offset Byte offset in `proof` at which parsing failed.
    error MalformedProof(uint256 offset);

    /// @notice The proof parsed but a verification check failed.
    /// @param check Identifier of the failing check (implementation defined).
    error ProofRejected(bytes32 check);

    /// @notice `modelCommitment` could not be parsed or does not hash to `modelDigest`.
    /// @param offset Byte offset in `modelCommitment` at which parsing failed.
    error MalformedCommitment(uint256 offset);

    /// @notice The model's weight range proof has not been verified by the weight range
    ///         verifier this verifier trusts (`WeightRangeVerifier.certify`).
    error WeightsNotCertified(bytes32 modelDigest);

    /// @notice A quantization setting or circuit parameter breaks a side condition of the
    ///         soundness arguments (`prover/quant.py`: `UnsafeParameterError(condition)`).
    /// @param condition The side condition's name, e.g. "argmax-width" (left-aligned ASCII).
    error UnsafeParameter(bytes32 condition);

    /// @notice Verifies a proof of one inference.
    /// @param modelDigest keccak256 of `modelCommitment`, as registered in the model registry.
    /// @param modelCommitment Serialized commitment to the model weights.
    /// @param input Input tokens / field elements of the inference.
    /// @param output Output tokens / field elements of the inference.
    /// @param attester The only account that may post this proof as an attestation: the proof
    ///        absorbs it ("statement/attester"), so a proof made for one attester is false for
    ///        any other (`InferenceAttestations` passes `msg.sender`; `prover/attester.py`).
    /// @param proof Serialized proof.
    /// @return statementHash A hash binding everything the verifier checked; never zero.
    function verify(
        bytes32 modelDigest,
        bytes calldata modelCommitment,
        uint256[] calldata input,
        uint256[] calldata output,
        address attester,
        bytes calldata proof
    ) external view returns (bytes32 statementHash);

    /// @notice Identifier of the proof system (and its version) this verifier implements.
    function proofSystemId() external pure returns (bytes32);
}
