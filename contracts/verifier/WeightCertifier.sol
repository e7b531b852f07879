// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Transcript, VerifierChannel} from "./Transcript.sol";
import {KeyedVerifier} from "./KeyedVerifier.sol";

/// @title WeightCertifier
/// @notice What the two weight range verifiers (`WeightRangeVerifier` for MLPs,
///         `TransformerWeightVerifier` for transformers) share: the certified set and
///         `certify`, the statement absorbed before the proof (`prover/weights.py`
///         `absorb_statement`), and the refusal to verify inferences. Each implements `check`,
///         the weight range proof of its model family.
abstract contract WeightCertifier is KeyedVerifier {
    bytes32 public constant PROOF_SYSTEM_ID = "zkllm-weight-range-logup-pst/v1";
    /// @dev `prover.weights.TAG`, zero-padded to 32 bytes as absorbed.
    bytes32 internal constant TAG = "zkllm-weight-range/v1";

    /// @notice This contract certifies weights; it verifies no inference.
    error NotAnInferenceVerifier();

    event Certified(bytes32 indexed modelDigest);

    /// @notice Model digests whose weight range proof verified here.
    mapping(bytes32 => bool) public certified;

    constructor(bytes memory srsVerifierKey, string[] memory tableNames, bytes memory tableCommitments)
        KeyedVerifier(srsVerifierKey, tableNames, tableCommitments)
    {}

    function proofSystemId() external pure returns (bytes32) {
        return PROOF_SYSTEM_ID;
    }

    function verify(bytes32, bytes calldata, uint256[] calldata, uint256[] calldata, address, bytes calldata)
        external
        pure
        returns (bytes32)
    {
        revert NotAnInferenceVerifier();
    }

    /// @notice Verifies `proof` for `modelCommitment` and records its digest as certified
    ///         (idempotent). Reverts exactly where `check` does.
    function certify(bytes calldata modelCommitment, bytes calldata proof) external returns (bytes32 modelDigest) {
        modelDigest = check(modelCommitment, proof);
        if (!certified[modelDigest]) {
            certified[modelDigest] = true;
            emit Certified(modelDigest);
        }
    }

    /// @notice The weight range proof's verifier: the model digest of a valid proof, a revert otherwise.
    function check(bytes calldata modelCommitment, bytes calldata proof) public view virtual returns (bytes32);

    /// @notice `weights.absorb_statement`: the domain tag, vk digest, model digest, circuit digest.
    function absorbStatement(VerifierChannel memory ch, bytes32 modelDigest, bytes32 circuitDigest) internal view {
        Transcript.absorbWord(ch, "weights/domain", TAG);
        Transcript.absorbWord(ch, "statement/vk", vkDigest);
        Transcript.absorbWord(ch, "statement/model", modelDigest);
        Transcript.absorbWord(ch, "statement/circuit", circuitDigest);
    }
}
