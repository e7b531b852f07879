// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IZkllmVerifier} from "IZkllmVerifier.sol";

/// @notice Test double of a proof verifier. The proof is a keyword:
///         "accept" -> accepted, statement = keccak256(abi.encode(modelDigest,
///         keccak256(modelCommitment), keccak256(abi.encodePacked(input)),
///         keccak256(abi.encodePacked(output))));
///         "zero" -> returns a zero statement; empty -> MalformedProof(0);
///         anything else -> ProofRejected("mock").
contract MockZkllmVerifier is IZkllmVerifier {
    function verify(
        bytes32 modelDigest,
        bytes calldata modelCommitment,
        uint256[] calldata input,
        uint256[] calldata output,
        bytes calldata proof
    ) external pure returns (bytes32) {
        if (proof.length == 0) revert MalformedProof(0);
        bytes32 p = keccak256(proof);
        if (p == keccak256("zero")) return bytes32(0);
        if (p != keccak256("accept")) revert ProofRejected("mock");
        return keccak256(
            abi.encode(
                modelDigest,
                keccak256(modelCommitment),
                keccak256(abi.encodePacked(input)),
                keccak256(abi.encodePacked(output))
            )
        );
    }

    function proofSystemId() external pure returns (bytes32) {
        return "mock";
    }
}
