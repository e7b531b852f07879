// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {VerifierChannel, Channel} from "./Transcript.sol";

/// @title Sumcheck
/// @notice `prover/sumcheck.py` verify: round i receives the d + 1 coefficients of g_i
///         (one absorb under "<label>/g"), checks g_i(0) + g_i(1) = 2 c_0 + c_1 + ... + c_d
///         against the running claim, draws r_i under "<label>/r" and sets claim = g_i(r_i).
/// @dev One assembly loop does the rounds: it is `Channel.recvFrs`, the round check,
///      `Transcript.challenge` and `horner` inlined, with the same bytes hashed in the same
///      order (absorb: state || 0x00 || label32 || coefficients; challenge: state || 0x01
///      || label32).
library Sumcheck {
    /// @notice Round `round` of the sumcheck whose round label is `label` ("<label>/g")
    ///         failed g(0) + g(1) == claim (Python: VerificationError("sumcheck")).
    error SumcheckRoundFailed(bytes32 label, uint256 round);

    uint256 private constant OK = 0;
    uint256 private constant EXHAUSTED = 1;
    uint256 private constant ROUND_FAILED = 2;

    /// @return point the challenges r_1..r_n
    /// @return expected the final claim the caller must discharge (SubClaim.expected)
    function verify(
        VerifierChannel memory ch,
        bytes32 labelG,
        bytes32 labelR,
        uint256 n,
        uint256 degree,
        uint256 claim
    ) internal pure returns (uint256[] memory point, uint256 expected) {
        point = new uint256[](n);
        uint256 status = OK;
        uint256 rnd;
        uint256 off = ch.frNext;
        uint256 end = ch.frEnd;
        bytes32 state = ch.state;
        assembly ("memory-safe") {
            // 2 c_0 + c_1 + ... + c_d of the `size` bytes of coefficients at `at`
            function roundSum(at, size) -> total {
                let r := 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
                let c0 := calldataload(at)
                switch size
                case 96 {
                    total := addmod(add(c0, c0), addmod(calldataload(add(at, 32)), calldataload(add(at, 64)), r), r)
                }
                case 128 {
                    total := addmod(
                        addmod(add(c0, c0), calldataload(add(at, 32)), r),
                        addmod(calldataload(add(at, 64)), calldataload(add(at, 96)), r),
                        r
                    )
                }
                default {
                    total := addmod(c0, c0, r)
                    for { let i := 32 } lt(i, size) { i := add(i, 32) } {
                        total := addmod(total, calldataload(add(at, i)), r)
                    }
                }
            }
            // horner(coeffs, x)
            function horner(at, size, x) -> acc {
                let r := 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
                switch size
                case 96 {
                    acc := mulmod(calldataload(add(at, 64)), x, r)
                    acc := mulmod(addmod(acc, calldataload(add(at, 32)), r), x, r)
                    acc := addmod(acc, calldataload(at), r)
                }
                case 128 {
                    acc := mulmod(calldataload(add(at, 96)), x, r)
                    acc := mulmod(addmod(acc, calldataload(add(at, 64)), r), x, r)
                    acc := mulmod(addmod(acc, calldataload(add(at, 32)), r), x, r)
                    acc := addmod(acc, calldataload(at), r)
                }
                default {
                    for { let i := size } i {} {
                        i := sub(i, 32)
                        acc := addmod(mulmod(acc, x, r), calldataload(add(at, i)), r)
                    }
                }
            }
            // the transcript state lives in buf[0:32] during the loop
            let buf := mload(0x40)
            mstore(buf, state)
            let size := shl(5, add(degree, 1))
            for {} lt(rnd, n) { rnd := add(rnd, 1) } {
                // coeffs = ch.recv_frs(f"{label}/g", degree + 1)
                if gt(add(off, size), end) {
                    status := EXHAUSTED
                    break
                }
                mstore8(add(buf, 32), 0)
                mstore(add(buf, 33), labelG)
                calldatacopy(add(buf, 65), off, size)
                mstore(buf, keccak256(buf, add(65, size)))
                if iszero(eq(roundSum(off, size), claim)) {
                    status := ROUND_FAILED
                    break
                }
                // r_i = ch.challenge(f"{label}/r")
                mstore8(add(buf, 32), 1)
                mstore(add(buf, 33), labelR)
                mstore(buf, keccak256(buf, 65))
                let x := mod(mload(buf), 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001)
                mstore(add(point, shl(5, add(rnd, 1))), x)
                claim := horner(off, size, x)
                off := add(off, size)
            }
            state := mload(buf)
        }
        if (status == EXHAUSTED) revert Channel.ProofItemsExhausted(labelG);
        if (status == ROUND_FAILED) revert SumcheckRoundFailed(labelG, rnd);
        ch.state = state;
        ch.frNext = off;
        expected = claim;
    }
}
