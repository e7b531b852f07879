// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title Bls12381
/// @notice Wrappers of the EIP-2537 precompiles the verifier needs. Encodings are those of
///         `prover/pcs/curve.py`: a G1 point is 128 bytes (x || y, each 16 zero bytes then 48
///         big-endian bytes), a G2 point 256 bytes (x.c0 || x.c1 || y.c0 || y.c1).
/// @dev Every call checks both the success flag and the length of the returned data, so a
///      chain without EIP-2537 (where these addresses are empty accounts that "succeed"
///      with no output) fails with `PrecompileFailed` instead of accepting.
library Bls12381 {
    address internal constant G1_MSM = address(0x0c);
    address internal constant G2_MSM = address(0x0e);
    address internal constant PAIRING_CHECK = address(0x0f);

    uint256 internal constant G1_BYTES = 128;
    uint256 internal constant G2_BYTES = 256;
    uint256 internal constant G1_MSM_ITEM = 160; // point || 32-byte scalar
    uint256 internal constant G2_MSM_ITEM = 288;
    uint256 internal constant PAIR_ITEM = 384; // G1 || G2

    /// @notice A precompile call failed (invalid input, e.g. a point that is not canonical,
    ///         not on the curve or not in the subgroup) or returned data of the wrong length.
    error PrecompileFailed(address precompile);

    /// @notice sum_i s_i P_i over `input` = k x (G1 point || scalar); returns the 128-byte sum
    ///         at a fresh memory pointer. The precompile checks every point (subgroup included).
    function g1Msm(uint256 input, uint256 k) internal view returns (uint256 out) {
        bool ok;
        assembly ("memory-safe") {
            out := mload(0x40)
            mstore(0x40, add(out, 128))
            ok := staticcall(gas(), 0x0c, input, mul(k, 160), out, 128)
            ok := and(ok, eq(returndatasize(), 128))
        }
        if (!ok) revert PrecompileFailed(G1_MSM);
    }

    /// @notice Checks `k` G2 points (encoded as G2MSM input items) by a G2 MSM: the precompile
    ///         rejects points that are not canonical, not on the curve or not in the subgroup.
    function g2MsmCheck(uint256 input, uint256 k) internal view {
        bool ok;
        assembly ("memory-safe") {
            let out := mload(0x40)
            ok := staticcall(gas(), 0x0e, input, mul(k, 288), out, 256)
            ok := and(ok, eq(returndatasize(), 256))
        }
        if (!ok) revert PrecompileFailed(G2_MSM);
    }

    /// @notice prod_i e(P_i, Q_i) == 1 for `input` = k x (G1 || G2).
    function pairingCheck(uint256 input, uint256 k) internal view returns (bool result) {
        bool ok;
        assembly ("memory-safe") {
            let out := mload(0x40)
            ok := staticcall(gas(), 0x0f, input, mul(k, 384), out, 32)
            ok := and(ok, eq(returndatasize(), 32))
            result := eq(mload(out), 1)
        }
        if (!ok) revert PrecompileFailed(PAIRING_CHECK);
    }
}
