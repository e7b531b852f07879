// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title VerifierKeyData
/// @notice Layout of the verifying key as the verifier stores it: the runtime code of a
///         data contract (a leading 0x00 STOP byte, then the blob below), read back with
///         one EXTCODECOPY per verification. All points in EIP-2537 encoding.
///
///           0     num_vars                 32 bytes
///           32    g1                       128
///           160   g2                       256
///           416   -xi_g2                   256
///           672   -tau_g2[j], j < num_vars 256 each
///           T     table count              32      (T = 672 + 256 num_vars)
///           T+32  per table: keccak256(name) || G1 commitment of its output column (160)
///
/// @dev Functions take `vk`, the memory address of the blob's first byte.
library VerifierKeyData {
    uint256 internal constant G1_AT = 32;
    uint256 internal constant G2_AT = 160;
    uint256 internal constant NEG_XI_AT = 416;
    uint256 internal constant NEG_TAU_AT = 672;
    uint256 internal constant TABLE_ENTRY = 160;

    function size(uint256 n, uint256 nTables) internal pure returns (uint256) {
        return NEG_TAU_AT + 256 * n + 32 + TABLE_ENTRY * nTables;
    }

    function numVars(uint256 vk) internal pure returns (uint256 n) {
        assembly ("memory-safe") {
            n := mload(vk)
        }
    }

    function g1(uint256 vk) internal pure returns (uint256) {
        return vk + G1_AT;
    }

    function g2(uint256 vk) internal pure returns (uint256) {
        return vk + G2_AT;
    }

    function negXiG2(uint256 vk) internal pure returns (uint256) {
        return vk + NEG_XI_AT;
    }

    function negTauG2(uint256 vk, uint256 j) internal pure returns (uint256) {
        return vk + NEG_TAU_AT + 256 * j;
    }

    /// @notice Memory address of the commitment of the table whose name hashes to
    ///         `nameHash`, or 0 if the key has no such table.
    function table(uint256 vk, bytes32 nameHash) internal pure returns (uint256 ptr) {
        uint256 at = vk + NEG_TAU_AT + 256 * numVars(vk);
        uint256 count;
        assembly ("memory-safe") {
            count := mload(at)
        }
        for (uint256 i = 0; i < count; ++i) {
            uint256 entry = at + 32 + TABLE_ENTRY * i;
            bytes32 h;
            assembly ("memory-safe") {
                h := mload(entry)
            }
            if (h == nameHash) return entry + 32;
        }
        return 0;
    }

    /// @notice Copies the blob from `store` (skipping its STOP byte) to fresh memory.
    function load(address store, uint256 blobSize) internal view returns (uint256 vk) {
        assembly ("memory-safe") {
            vk := mload(0x40)
            mstore(0x40, add(vk, blobSize))
            extcodecopy(store, vk, 1, blobSize)
        }
    }
}
