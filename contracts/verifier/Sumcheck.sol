// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {VerifierChannel, Channel} from "./Transcript.sol";

/// @title Sumcheck
/// @notice `prover/sumcheck.py` verify: round i receives c_1..c_d of g_i (d words, one absorb
///         under "<label>/g"), derives c_0 = (claim - c_1 - ... - c_d) / 2 from the round
///         identity g_i(0) + g_i(1) = claim, draws r_i under "<label>/r" and sets
///         claim = g_i(r_i). A round never fails on its own: a wrong round polynomial makes
///         the returned claim wrong, which the caller's final check rejects.
/// @dev One assembly loop does the rounds: it is `Channel.recvFrs`, the derivation of c_0,
///      `Transcript.challenge` and `horner` inlined, with the same bytes hashed in the same
///      order (absorb: state || 0x00 || label32 || c_1..c_d; challenge: state || 0x01
///      || label32). The received words are canonical (< r): the verifier checks every
///      field element of the proof before it is read.
library Sumcheck {
    uint256 private constant OK = 0;
    uint256 private constant EXHAUSTED = 1;

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
        return verifyFirst(ch, labelG, labelR, n, degree, degree, claim);
    }

    /// @notice `verify(..., first_degree=firstDegree)`: the first round has degree
    ///         `firstDegree`, the others `degree` (a factor linear in the first variable
    ///         only, e.g. eq(beta, b), raises the first round's degree alone).
    function verifyFirst(
        VerifierChannel memory ch,
        bytes32 labelG,
        bytes32 labelR,
        uint256 n,
        uint256 firstDegree,
        uint256 degree,
        uint256 claim
    ) internal pure returns (uint256[] memory point, uint256 expected) {
        point = new uint256[](n);
        uint256 status = OK;
        uint256 off = ch.frNext;
        assembly ("memory-safe") {
            // c_1 + ... + c_d of the `size` bytes of c_1..c_d at `at`, reduced
            function highSum(at, size) -> total {
                let r := 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
                switch size
                case 64 {
                    total := addmod(calldataload(at), calldataload(add(at, 32)), r)
                }
                case 96 {
                    total := addmod(
                        addmod(calldataload(at), calldataload(add(at, 32)), r), calldataload(add(at, 64)), r
                    )
                }
                default {
                    for { let i := 0 } lt(i, size) { i := add(i, 32) } {
                        total := addmod(total, calldataload(add(at, i)), r)
                    }
                }
            }
            // horner(c_0, c_1..c_d at `at`, x) = c_0 + x (c_1 + x (c_2 + ...))
            function horner(c0, at, size, x) -> acc {
                let r := 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
                switch size
                case 64 {
                    acc := addmod(mulmod(calldataload(add(at, 32)), x, r), calldataload(at), r)
                }
                case 96 {
                    acc := addmod(mulmod(calldataload(add(at, 64)), x, r), calldataload(add(at, 32)), r)
                    acc := addmod(mulmod(acc, x, r), calldataload(at), r)
                }
                default {
                    for { let i := size } i {} {
                        i := sub(i, 32)
                        acc := addmod(mulmod(acc, x, r), calldataload(add(at, i)), r)
                    }
                }
                acc := addmod(mulmod(acc, x, r), c0, r)
            }
            // the transcript state lives in buf[0:32] during the loop
            let buf := mload(0x40)
            mstore(buf, mload(ch)) // ch.state (VerifierChannel field order: state, g1Next, g1End, frNext, frEnd)
            let size := shl(5, firstDegree)
            for { let rnd := 0 } lt(rnd, n) { rnd := add(rnd, 1) } {
                // high = ch.recv_frs(f"{label}/g", degree)
                if gt(add(off, size), mload(add(ch, 128))) { // ch.frEnd
                    status := EXHAUSTED
                    break
                }
                mstore8(add(buf, 32), 0)
                mstore(add(buf, 33), labelG)
                calldatacopy(add(buf, 65), off, size)
                mstore(buf, keccak256(buf, add(65, size)))
                // c_0 = (claim - c_1 - ... - c_d) / 2 (literals: r and FrMath.INV2 = 2^-1 mod r; no
                // stack slots spent on them)
                let c0 := mulmod(
                    addmod(claim, sub(0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001, highSum(off, size)), 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001),
                    0x39f6d3a994cebea4199cec0404d0ec02a9ded2017fff2dff7fffffff80000001,
                    0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
                )
                // r_i = ch.challenge(f"{label}/r")
                mstore8(add(buf, 32), 1)
                mstore(add(buf, 33), labelR)
                mstore(buf, keccak256(buf, 65))
                let x := mod(mload(buf), 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001)
                mstore(add(point, shl(5, add(rnd, 1))), x)
                claim := horner(c0, off, size, x)
                off := add(off, size)
                size := shl(5, degree)
            }
            mstore(ch, mload(buf))
        }
        if (status == EXHAUSTED) revert Channel.ProofItemsExhausted(labelG);
        ch.frNext = off;
        expected = claim;
    }
}
