// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title FrMath
/// @notice Arithmetic in the BLS12-381 scalar field F_r and the multilinear helpers of
///         `prover/poly/mle.py`, `prover/sumcheck.py` and `prover/lookup/tables.py`.
/// @dev Every value handled here is already reduced (< R); results are reduced. The loops
///      are inline assembly with R held on the stack: the legacy code generator reloads a
///      32-byte constant on every use, which made these loops several times dearer.
library FrMath {
    uint256 internal constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
    /// @dev 2^-1 mod R (`sumcheck.INV2`).
    uint256 internal constant INV2 = 0x39f6d3a994cebea4199cec0404d0ec02a9ded2017fff2dff7fffffff80000001;

    error SliceOutOfRange();

    function add(uint256 a, uint256 b) internal pure returns (uint256) {
        return addmod(a, b, R);
    }

    function sub(uint256 a, uint256 b) internal pure returns (uint256) {
        return addmod(a, R - b, R);
    }

    function mul(uint256 a, uint256 b) internal pure returns (uint256) {
        return mulmod(a, b, R);
    }

    function pow(uint256 base, uint256 e) internal pure returns (uint256 acc) {
        assembly ("memory-safe") {
            let r := R
            acc := 1
            for {} e { e := shr(1, e) } {
                if and(e, 1) { acc := mulmod(acc, base, r) }
                base := mulmod(base, base, r)
            }
        }
    }

    /// @notice 2^k mod R (`pow(2, k, R)`).
    function pow2(uint256 k) internal pure returns (uint256) {
        return k < 255 ? (uint256(1) << k) % R : pow(2, k);
    }

    /// @notice `sumcheck.inv2_pow`: 2^-k mod R.
    function inv2Pow(uint256 k) internal pure returns (uint256) {
        return pow(INV2, k);
    }

    /// @notice `sumcheck.term_weight(coeff, n, m)`: coeff * 2^-(n - m).
    function termWeight(uint256 coeff, uint256 n, uint256 m) internal pure returns (uint256) {
        return n == m ? coeff : mulmod(coeff, inv2Pow(n - m), R);
    }

    /// @notice `mle.log2_ceil` for n >= 1: the bit length of n - 1.
    function log2Ceil(uint256 n) internal pure returns (uint256 k) {
        uint256 v = n - 1;
        assembly ("memory-safe") {
            for {} v { v := shr(1, v) } { k := add(k, 1) }
        }
    }

    /// @notice [1, x, x^2, ..., x^(n-1)].
    function powers(uint256 x, uint256 n) internal pure returns (uint256[] memory out) {
        out = new uint256[](n);
        assembly ("memory-safe") {
            let r := 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
            let p := add(out, 32)
            let end := add(p, shl(5, n))
            let acc := 1
            for {} lt(p, end) { p := add(p, 32) } {
                mstore(p, acc)
                acc := mulmod(acc, x, r)
            }
        }
    }

    /// @notice sum_{i < n} a[i] b[i].
    function dot(uint256[] memory a, uint256[] memory b, uint256 n) internal pure returns (uint256 acc) {
        if (n > a.length || n > b.length) revert SliceOutOfRange();
        assembly ("memory-safe") {
            let r := 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
            let pa := add(a, 32)
            let pb := add(b, 32)
            let end := add(pa, shl(5, n))
            for {} lt(pa, end) {
                pa := add(pa, 32)
                pb := add(pb, 32)
            } {
                acc := addmod(acc, mulmod(mload(pa), mload(pb), r), r)
            }
        }
    }

    /// @notice `mle.eq_eval(a[aStart:aStart+len], b[bStart:bStart+len])`:
    ///         prod_i (a_i b_i + (1 - a_i)(1 - b_i)).
    function eqEval(uint256[] memory a, uint256 aStart, uint256[] memory b, uint256 bStart, uint256 len)
        internal
        pure
        returns (uint256 acc)
    {
        if (aStart + len > a.length || bStart + len > b.length) revert SliceOutOfRange();
        assembly ("memory-safe") {
            let r := R
            let pa := add(add(a, 32), shl(5, aStart))
            let pb := add(add(b, 32), shl(5, bStart))
            let end := add(pa, shl(5, len))
            acc := 1
            for {} lt(pa, end) {
                pa := add(pa, 32)
                pb := add(pb, 32)
            } {
                let x := mload(pa)
                let y := mload(pb)
                let t := mulmod(x, y, r)
                // x y + (1 - x)(1 - y) = 2 x y + 1 - (x + y)
                acc := mulmod(acc, addmod(add(add(t, t), 1), sub(r, addmod(x, y, r)), r), r)
            }
        }
    }

    /// @notice `tables.range_mle(bits, point)`: sum_i 2^(bits-1-i) point[i], by Horner's rule.
    function rangeMle(uint256[] memory point) internal pure returns (uint256 acc) {
        assembly ("memory-safe") {
            let r := R
            let p := add(point, 32)
            let end := add(p, shl(5, mload(point)))
            for {} lt(p, end) { p := add(p, 32) } {
                acc := addmod(addmod(acc, acc, r), mload(p), r)
            }
        }
    }

    /// @notice `a[start:start+len]` as a new array.
    function slice(uint256[] memory a, uint256 start, uint256 len) internal pure returns (uint256[] memory out) {
        if (start + len > a.length) revert SliceOutOfRange();
        out = new uint256[](len);
        assembly ("memory-safe") {
            mcopy(add(out, 32), add(add(a, 32), shl(5, start)), shl(5, len))
        }
    }

    /// @notice `a[start:]` (the array itself for start 0).
    function suffix(uint256[] memory a, uint256 start) internal pure returns (uint256[] memory) {
        if (start == 0) return a;
        return slice(a, start, a.length - start);
    }

    /// @notice `a[:aLen] + b` as a new array (Python list concatenation).
    function concat(uint256[] memory a, uint256 aLen, uint256[] memory b) internal pure returns (uint256[] memory out) {
        if (aLen > a.length) revert SliceOutOfRange();
        out = new uint256[](aLen + b.length);
        assembly ("memory-safe") {
            mcopy(add(out, 32), add(a, 32), shl(5, aLen))
            mcopy(add(add(out, 32), shl(5, aLen)), add(b, 32), shl(5, mload(b)))
        }
    }
}
