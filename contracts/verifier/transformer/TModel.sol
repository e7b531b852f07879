// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {TCircuit, TDescription} from "./TCircuit.sol";
import {VerifierKeyData} from "../VerifierKeyData.sol";
import {IZkllmVerifier} from "../../IZkllmVerifier.sol";

/// @title TModel
/// @notice What both transformer contracts (`TransformerVerifier`, `TransformerWeightVerifier`)
///         do with a model commitment and a registered circuit description before their
///         transcripts start: decode the commitment, fetch the description, attach points.
library TModel {
    /// @notice The key lacks a setup table the circuit reads (Python: SetupError).
    error MissingTableHash(bytes32 nameHash);

    /// @notice `TransformerCommitment.decode`: "ZKLT" | version u16 (1) | header length u32 |
    ///         header | count u16 | count x 128-byte G1 points (checked by the caller,
    ///         `g1Valid`). Returns keccak256(header), the points' offset and count.
    function decodeCommitment(bytes calldata enc) internal pure returns (bytes32 headerHash, uint256 pointsOff, uint256 count) {
        if (enc.length < 12 || bytes4(enc[0:4]) != "ZKLT") revert IZkllmVerifier.MalformedCommitment(0);
        if (uint16(bytes2(enc[4:6])) != 1) revert IZkllmVerifier.MalformedCommitment(4);
        uint256 hl = uint32(bytes4(enc[6:10]));
        if (enc.length < 12 + hl) revert IZkllmVerifier.MalformedCommitment(6);
        headerHash = keccak256(enc[10:10 + hl]);
        count = uint16(bytes2(enc[10 + hl:12 + hl]));
        if (enc.length != 12 + hl + 128 * count) revert IZkllmVerifier.MalformedCommitment(10 + hl);
        assembly ("memory-safe") {
            pointsOff := add(enc.offset, add(12, hl))
        }
    }

    /// @notice The description registered for `digest` in the `TransformerCircuits` at `reg`,
    ///         parsed by the registry straight into this call's memory (`TransformerCircuits.parsed`).
    function parsed(address reg, bytes32 digest) internal view returns (TCircuit memory c) {
        bool ok;
        assembly ("memory-safe") {
            let base := mload(0x40)
            mstore(base, shl(224, 0x06599d36)) // parsed(bytes32,uint256)
            mstore(add(base, 4), digest)
            mstore(add(base, 36), base)
            ok := staticcall(gas(), reg, base, 68, 0, 0)
            let size := returndatasize()
            returndatacopy(base, 0, size)
            if iszero(ok) { revert(base, size) }
            if lt(size, 64) { revert(0, 0) }
            c := mload(add(base, sub(size, 64)))
            mstore(0x40, mload(add(base, sub(size, 32))))
        }
    }

    /// @notice Model tensors (in `specs` order, the commitment's order) and setup tables.
    function attachCommitments(TCircuit memory c, uint256 pointsOff, uint256 vk) internal pure {
        uint256 count = c.nModel;
        uint256 mem;
        assembly ("memory-safe") {
            mem := mload(0x40)
            mstore(0x40, add(mem, mul(count, 128)))
            calldatacopy(mem, pointsOff, mul(count, 128))
        }
        uint256 j;
        uint256 n = c.kind.length;
        for (uint256 i = 0; i < n; ++i) {
            if (c.kind[i] == TDescription.KIND_MODEL) {
                c.commitment[i] = mem + 128 * j++;
            }
        }
        for (uint256 i = 0; i < c.keyTid.length; ++i) {
            uint256 ptr = VerifierKeyData.table(vk, c.keyName[i]);
            if (ptr == 0) revert MissingTableHash(c.keyName[i]);
            c.commitment[c.keyTid[i]] = ptr;
        }
    }
}
