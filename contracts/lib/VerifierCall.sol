// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title VerifierCall
/// @notice How the attestation contracts (`InferenceAttestations`, `ZkllmResolver`) ask a
///         model's registered verifier: one static call of `IZkllmVerifier.verify`, its revert
///         data passed up unchanged (so the caller sees the verifier's own error), and an
///         answer of at least one word, the statement hash (the callers refuse a zero one).
library VerifierCall {
    /// @notice `verifier` returned fewer than 32 bytes.
    error InvalidVerifierResponse(address verifier);

    /// @notice The statement hash `verifier` returns for `call` (an encoded
    ///         `IZkllmVerifier.verify`); reverts as described above.
    function statementHash(address verifier, bytes memory call) internal view returns (bytes32 h) {
        (bool ok, bytes memory ret) = verifier.staticcall(call);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        if (ret.length < 32) revert InvalidVerifierResponse(verifier);
        h = abi.decode(ret, (bytes32));
    }
}
