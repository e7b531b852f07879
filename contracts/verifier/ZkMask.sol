// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {VerifierChannel, MaskLog, Channel} from "./Transcript.sol";
import {Sumcheck} from "./Sumcheck.sol";

/// @title ZkMask
/// @notice `prover/zk/mask.py` (verifier side): the proof's mask pool and the masked
///         sumcheck. A masked sumcheck receives G ("<label>/G"), draws rho ("<label>/rho"),
///         runs the rounds of f + rho g on claim + rho G, receives y = g(r) ("<label>/y") and
///         returns expected - rho y, f's final value, for the caller's unchanged final check;
///         y and the rounds' (r_i, degree) are logged for the batch opening, where y is a
///         weighted claim on the pool: sum_i P(bits(block_i) || curve(d_i, r_i)).
library ZkMask {
    uint256 private constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
    uint256 internal constant BLOCK_VARS = 3;
    uint256 internal constant MAX_POOL_VARS = 28;

    /// @notice The declared pool size is out of range (Python: MalformedProofError
    ///         "mask pool size ... out of range").
    error MaskPoolSize(uint256 vars);
    /// @notice More masked rounds than the pool has blocks (Python: MalformedProofError
    ///         "mask pool ... too small").
    error MaskPoolExhausted();

    /// @notice `commit_pool` (verifier): K ("zk/mask-vars"), then the pool's commitment
    ///         ("zk/mask"). The log can hold min(2^(K-3), field elements left) rounds: every
    ///         round reads at least one field element (`_reserve`).
    function commitPool(VerifierChannel memory ch) internal pure {
        uint256 k = Channel.recvFr(ch, "zk/mask-vars");
        if (k < BLOCK_VARS || k > MAX_POOL_VARS) revert MaskPoolSize(k);
        MaskLog memory m = ch.mask;
        m.vars = k;
        m.commitment = Channel.recvG1(ch, "zk/mask");
        _reserve(m, (ch.frEnd - ch.frNext) / 32, uint256(1) << (k - BLOCK_VARS));
    }

    /// @notice A log for `cap` rounds at most (a module step: the field elements it reads).
    function reserve(MaskLog memory m, uint256 cap) internal pure {
        _reserve(m, cap, cap);
    }

    /// @dev Rounds (and shadows) read at least one field element each, a masked sumcheck at
    ///      least three (G, a round, y): its y and end entries need a third of the room. (Memory
    ///      costs gas quadratically in its high-water mark, and this log lives to the end.)
    function _reserve(MaskLog memory m, uint256 frs, uint256 blocks) private pure {
        uint256 cap = frs < blocks ? frs : blocks;
        m.r = new uint256[](cap);
        m.deg = new uint256[](cap);
        cap = frs / 3 < cap ? frs / 3 : cap;
        m.y = new uint256[](cap);
        m.end = new uint256[](cap);
    }

    /// @notice `mask.verify`: the masked sumcheck of `n` rounds (the first of degree
    ///         `firstDegree`, the others `degree`) on `claim`; returns f's SubClaim. With no
    ///         rounds there is nothing to mask and nothing is received: (empty point, claim).
    function verify(
        VerifierChannel memory ch,
        bytes32 labelG,
        bytes32 labelR,
        uint256 n,
        uint256 firstDegree,
        uint256 degree,
        uint256 claim
    ) internal pure returns (uint256[] memory point, uint256 expected) {
        if (n == 0) return (point, claim); // no rounds, nothing to mask (Python: the same)
        uint256 rho;
        (claim, rho) = _open(ch, labelG, claim);
        (point, expected) = Sumcheck.verifyFirst(ch, labelG, labelR, n, firstDegree, degree, claim);
        expected = _close(ch, labelG, point, firstDegree, degree, rho, expected);
    }

    /// @dev G, rho: the claim of f + rho g.
    function _open(VerifierChannel memory ch, bytes32 labelG, uint256 claim) private pure returns (uint256, uint256) {
        (bytes32 lG, bytes32 lRho,) = labels(labelG);
        uint256 total = Channel.recvFr(ch, lG);
        uint256 rho = Channel.challenge(ch, lRho);
        return (addmod(claim, mulmod(rho, total, R), R), rho);
    }

    /// @dev y, logged; f's final value expected - rho y.
    function _close(
        VerifierChannel memory ch,
        bytes32 labelG,
        uint256[] memory point,
        uint256 firstDegree,
        uint256 degree,
        uint256 rho,
        uint256 expected
    ) private pure returns (uint256) {
        (,, bytes32 lY) = labels(labelG);
        uint256 y = Channel.recvFr(ch, lY);
        _log(ch.mask, point, firstDegree, degree, y);
        return addmod(expected, R - mulmod(rho, y, R), R);
    }

    /// @notice "<p>/G", "<p>/rho", "<p>/y" from the rounds' label "<p>/g" (ASCII, right-padded
    ///         with zero bytes; <p> at most 29 characters).
    function labels(bytes32 labelG) internal pure returns (bytes32 lG, bytes32 lRho, bytes32 lY) {
        uint256 w = uint256(labelG);
        uint256 len;
        assembly ("memory-safe") {
            for {} and(lt(len, 32), iszero(iszero(byte(len, w)))) { len := add(len, 1) } {}
        }
        uint256 sh = 8 * (32 - len); // the trailing "g" is the byte at this shift
        lG = bytes32(w ^ (uint256(0x67 ^ 0x47) << sh));
        lY = bytes32(w ^ (uint256(0x67 ^ 0x79) << sh));
        lRho = bytes32((w ^ (uint256(0x67 ^ 0x72) << sh)) | (uint256(0x68) << (sh - 8)) | (uint256(0x6f) << (sh - 16)));
    }

    function _log(MaskLog memory m, uint256[] memory point, uint256 firstDegree, uint256 degree, uint256 y)
        private
        pure
    {
        uint256 n = point.length;
        uint256 at = m.nRounds;
        if (at + n > m.r.length || m.nSc >= m.y.length) revert MaskPoolExhausted();
        uint256[] memory rs = m.r;
        uint256[] memory ds = m.deg;
        assembly ("memory-safe") {
            let rp := add(add(rs, 32), shl(5, at))
            let dp := add(add(ds, 32), shl(5, at))
            let pp := add(point, 32)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                mstore(add(rp, shl(5, i)), mload(add(pp, shl(5, i))))
                mstore(add(dp, shl(5, i)), degree)
            }
            if n { mstore(dp, firstDegree) }
        }
        m.nRounds = at + n;
        m.y[m.nSc] = y;
        m.end[m.nSc] = at + n;
        m.nSc += 1;
    }

    /// @notice `mask.take_shadow`: the next block, logged as a round that no sumcheck reads
    ///         (degree word 0 until `setShadow`); its entry S = P(bits(block) || 0, 0, 0) hides
    ///         one claim.
    function takeShadow(MaskLog memory m) internal pure returns (uint256 blk) {
        blk = m.nRounds;
        if (blk >= m.r.length) revert MaskPoolExhausted();
        m.nRounds = blk + 1;
    }

    /// @notice `count` consecutive shadow blocks; returns the first.
    function takeShadows(MaskLog memory m, uint256 count) internal pure returns (uint256 first) {
        first = m.nRounds;
        if (first + count > m.r.length) revert MaskPoolExhausted();
        m.nRounds = first + count;
    }

    /// @notice Claim `claim` carries coef * S of shadow block `blk` (`mask.shadowed_claim`'s
    ///         pool term): logged in the block's round entry as r = coef, degree word
    ///         (claim + 1) << 8.
    function setShadow(MaskLog memory m, uint256 blk, uint256 claim, uint256 coef) internal pure {
        m.r[blk] = coef;
        m.deg[blk] = (claim + 1) << 8;
    }

    /// @dev Per block i: a_i = alpha^(base + j(i)) eq(curve(d_i, r_i), s[lo:lo+3]), j(i) the
    ///      sumcheck of round i; a shadow's block: alpha^k coef eq((0, 0, 0), s[lo:lo+3]). `lo`: the
    ///      memory address of those three coordinates.
    function _blockWeights(MaskLog memory m, uint256[] memory apow, uint256 base, uint256 lo)
        private
        pure
        returns (uint256[] memory a)
    {
        a = new uint256[](m.nRounds == 0 ? 1 : m.nRounds);
        // per coordinate c of s_lo3: (1 - c, 2 c - 1), so that eq(x, c) = (1 - c) + x (2 c - 1)
        uint256[6] memory t;
        for (uint256 k = 0; k < BLOCK_VARS; ++k) {
            uint256 c;
            assembly ("memory-safe") {
                c := mload(add(lo, shl(5, k)))
            }
            t[2 * k] = addmod(1, R - c, R);
            t[2 * k + 1] = addmod(c + c, R - 1, R);
        }
        assembly ("memory-safe") {
            // eq(curve(d, x), s_lo3) from the table t: the curves of Python's `mask.curve`
            function curveEq(d, x, tab) -> e {
                let r := 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
                let x2 := mulmod(x, x, r)
                let v := x
                let w := 0
                switch d
                case 1 { v := 0 }
                case 2 {}
                case 3 { w := x }
                case 4 { w := x2 }
                default {
                    v := x2
                    w := x2
                }
                e := addmod(mload(tab), mulmod(x, mload(add(tab, 32)), r), r)
                e := mulmod(e, addmod(mload(add(tab, 64)), mulmod(v, mload(add(tab, 96)), r), r), r)
                e := mulmod(e, addmod(mload(add(tab, 128)), mulmod(w, mload(add(tab, 160)), r), r), r)
            }
            // MaskLog: vars | commitment | nRounds | r | deg | nSc | y | end
            let rp := add(mload(add(m, 96)), 32)
            let dp := add(mload(add(m, 128)), 32)
            let ep := add(mload(add(m, 224)), 32) // end[j], advanced with j
            let ap := add(add(apow, 32), shl(5, base)) // alpha^(base + j), advanced with j
            for { let i := 0 } lt(i, mload(add(m, 64))) { i := add(i, 1) } {
                let d := mload(add(dp, shl(5, i)))
                switch and(d, 0xff)
                case 0 { // a shadow's block: k = (d >> 8) - 1, coef = r_i; eq((0, 0, 0), s_lo3) = curveEq(1, 0)
                    if d {
                        let c := mulmod(mload(add(apow, shl(5, shr(8, d)))), mload(add(rp, shl(5, i))), R)
                        mstore(add(a, shl(5, add(i, 1))), mulmod(c, curveEq(1, 0, t), R))
                    }
                }
                default {
                    for {} iszero(gt(mload(ep), i)) {} {
                        ep := add(ep, 32)
                        ap := add(ap, 32)
                    }
                    mstore(add(a, shl(5, add(i, 1))), mulmod(mload(ap), curveEq(d, mload(add(rp, shl(5, i))), t), R))
                }
            }
        }
    }

    /// @notice sum over the pool's claims j (claim index base + j, weight apow[base + j]) of
    ///         alpha^(base+j) sum_{i in j} eq(bits(i) || curve(d_i, r_i), s) for the pool's
    ///         K-coordinate point s: the pool's W(s) in the batch opening. One fold of the
    ///         per-block weights over s's block bits (O(blocks)). A shadow's block (a round of
    ///         degree 0) takes alpha^k coef eq((0, 0, 0), s_lo3) instead, k the claim it hides.
    function poolWeight(MaskLog memory m, uint256[] memory apow, uint256 base, uint256[] memory s, uint256 off)
        internal
        pure
        returns (uint256 acc)
    {
        uint256 nb = m.vars - BLOCK_VARS;
        uint256 count = m.nRounds;
        if (off + m.vars > s.length || (m.nSc != 0 && base + m.nSc > apow.length)) revert MaskPoolExhausted();
        uint256 lo;
        assembly ("memory-safe") {
            lo := add(add(s, 32), shl(5, add(off, nb)))
        }
        uint256[] memory a = _blockWeights(m, apow, base, lo);
        assembly ("memory-safe") {
            let sp := add(s, 32)
            let ad := add(a, 32)
            // fold the block bits, least significant (last coordinate) first; absent blocks are 0
            let len := count
            for { let b := nb } gt(b, 0) { b := sub(b, 1) } {
                let x := mload(add(sp, shl(5, add(off, sub(b, 1)))))
                let omx := addmod(1, sub(R, x), R)
                let half := shr(1, add(len, 1))
                for { let t := 0 } lt(t, half) { t := add(t, 1) } {
                    let i2 := shl(1, t)
                    let hi := 0
                    if lt(add(i2, 1), len) { hi := mload(add(ad, shl(5, add(i2, 1)))) }
                    mstore(add(ad, shl(5, t)), addmod(mulmod(mload(add(ad, shl(5, i2))), omx, R), mulmod(hi, x, R), R))
                }
                len := half
            }
            if count { acc := mload(ad) }
        }
    }

}
