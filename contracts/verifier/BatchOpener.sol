// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {VerifierChannel, MaskLog} from "./Transcript.sol";
import {BatchOpening} from "./BatchOpening.sol";
import {VerifierKeyData} from "./VerifierKeyData.sol";

/// @title BatchOpener
/// @notice `BatchOpening.open` in a contract of its own, so that the verifiers that call it
///         (`TransformerVerifier`) stay under the EIP-170 code size limit. A pure function of
///         its input: the transcript state, the claim store, the commitments, the mask log and
///         the proof items the opening reads; it returns the new transcript state and how many
///         bytes of each stream it read, exactly as running `BatchOpening.open` inline would
///         leave the caller's channel. It holds no state and trusts nothing: the caller passes
///         its own key store, and a wrong input only makes the caller reject.
contract BatchOpener {
    /// @notice The input's sections overrun it (a caller's encoding error).
    error MalformedInput();

    /// @notice `input` (32-byte words; a [len, ...] array is its length then its words):
    ///         state, key store address, key blob size, number of tensors, mask pool vars (0:
    ///         no mask), [claim tensor words], [claim values], [claim point indices], the
    ///         number of distinct points then each as [len, coordinates], [term claim words],
    ///         [term coefficients], the number of terms then each term's point as [len,
    ///         coordinates] (combined claims; none: three zero words), [per tensor: 1 + its
    ///         index in the commitment list, 0 for none], the number of commitments then each
    ///         (128 bytes), the mask pool's commitment (128 bytes), [round r], [round degree],
    ///         [sumcheck y], [sumcheck end], the number of G1 points left in the proof then
    ///         those points (128 bytes each), then the proof's field elements left.
    /// @return state the transcript state after the opening; g1Read, frRead the bytes of each
    ///         stream it read.
    function open(bytes calldata input) external view returns (bytes32 state, uint256 g1Read, uint256 frRead) {
        VerifierChannel memory ch;
        BatchOpening.ClaimSet memory cs;
        uint256 vk;
        (vk, cs.nTensors, ch.mask.vars) = _header(input, ch);
        uint256 base = _copy(input);
        uint256 p = _claims(cs, base + 160);
        p = _terms(cs, p);
        p = _commitments(cs, p);
        p = _mask(ch.mask, p);
        uint256 g1Start = _streams(ch, input, p - base);
        uint256 frStart = ch.g1End;
        BatchOpening.open(ch, cs, vk);
        return (ch.state, ch.g1Next - g1Start, ch.frNext - frStart);
    }

    function _header(bytes calldata input, VerifierChannel memory ch)
        private
        view
        returns (uint256 vk, uint256 nTensors, uint256 vars)
    {
        address store;
        uint256 size;
        bytes32 state;
        assembly ("memory-safe") {
            let o := input.offset
            state := calldataload(o)
            store := calldataload(add(o, 32))
            size := calldataload(add(o, 64))
            nTensors := calldataload(add(o, 96))
            vars := calldataload(add(o, 128))
        }
        ch.state = state;
        vk = VerifierKeyData.load(store, size);
    }

    /// @dev A memory copy of the input; the arrays below point into it.
    function _copy(bytes calldata input) private pure returns (uint256 base) {
        assembly ("memory-safe") {
            base := mload(0x40)
            calldatacopy(base, input.offset, input.length)
            mstore(0x40, add(base, input.length))
        }
    }

    /// @dev The [len, words] array at memory p, in place; returns the offset after it.
    function _arr(uint256 p) private pure returns (uint256[] memory a, uint256 next) {
        assembly ("memory-safe") {
            a := p
            next := add(p, add(32, shl(5, mload(p))))
        }
    }

    /// @dev [tensor words, each with its point's index << 192], [values], the distinct points.
    function _claims(BatchOpening.ClaimSet memory cs, uint256 p) private pure returns (uint256) {
        uint256[] memory tid;
        (tid, p) = _arr(p);
        (cs.value, p) = _arr(p);
        uint256 n = tid.length;
        cs.n = n;
        cs.tid = tid;
        uint256[] memory pts;
        assembly ("memory-safe") {
            let np := mload(p)
            p := add(p, 32)
            pts := mload(0x40)
            mstore(0x40, add(pts, shl(5, np)))
            for { let i := 0 } lt(i, np) { i := add(i, 1) } {
                mstore(add(pts, shl(5, i)), p)
                p := add(p, add(32, shl(5, mload(p))))
            }
        }
        uint256[][] memory point = new uint256[][](n);
        assembly ("memory-safe") {
            for { let k := 0 } lt(k, n) { k := add(k, 1) } {
                let at := add(32, shl(5, k))
                let w := mload(add(tid, at))
                mstore(add(tid, at), and(w, 0xffffffffffffffffffffffffffffffffffffffffffffffff))
                mstore(add(point, at), mload(add(pts, shl(5, shr(192, w)))))
            }
        }
        cs.point = point;
        return p;
    }

    /// @dev [term claim words], [term coefficients] (`BatchOpening.ClaimSet`'s term entries); a
    ///      term's point is its claim's (every combined claim is made at one point: `combined`).
    function _terms(BatchOpening.ClaimSet memory cs, uint256 p) private pure returns (uint256) {
        (cs.termClaim, p) = _arr(p);
        (cs.termCoef, p) = _arr(p);
        uint256 n = cs.termClaim.length;
        cs.nTerms = n;
        if (cs.termCoef.length != n) revert MalformedInput();
        uint256[][] memory pts = new uint256[][](n);
        uint256[][] memory cp = cs.point;
        uint256[] memory tc = cs.termClaim;
        for (uint256 j = 0; j < n; ++j) {
            uint256 k = tc[j] & 0xffffffffffffffff;
            if (k >= cs.n) revert MalformedInput();
            pts[j] = cp[k];
        }
        cs.termPoint = pts;
        return p;
    }

    function _commitments(BatchOpening.ClaimSet memory cs, uint256 p) private pure returns (uint256) {
        uint256[] memory idx;
        (idx, p) = _arr(p);
        uint256 nt = idx.length;
        cs.nTensors = nt;
        uint256[] memory c = new uint256[](nt);
        assembly ("memory-safe") {
            let g1 := add(p, 32)
            for { let t := 0 } lt(t, nt) { t := add(t, 1) } {
                let at := add(32, shl(5, t))
                let i := mload(add(idx, at))
                if i { mstore(add(c, at), add(g1, shl(7, sub(i, 1)))) }
            }
            p := add(g1, shl(7, mload(p)))
        }
        cs.commitment = c;
        return p;
    }

    function _mask(MaskLog memory m, uint256 p) private pure returns (uint256) {
        m.commitment = p;
        (m.r, p) = _arr(p + 128);
        m.nRounds = m.r.length;
        (m.deg, p) = _arr(p);
        (m.y, p) = _arr(p);
        m.nSc = m.y.length;
        (m.end, p) = _arr(p);
        return p;
    }

    /// @dev The channel's two streams in calldata: the G1 points (their count is the word at
    ///      input offset `at`), then the field elements up to the end.
    function _streams(VerifierChannel memory ch, bytes calldata input, uint256 at)
        private
        pure
        returns (uint256 g1Start)
    {
        uint256 count;
        uint256 off;
        assembly ("memory-safe") {
            off := input.offset
            count := calldataload(add(off, at))
        }
        g1Start = off + at + 32;
        ch.g1Next = g1Start;
        ch.g1End = g1Start + 128 * count;
        if (ch.g1End > off + input.length) revert MalformedInput();
        ch.frNext = ch.g1End;
        ch.frEnd = off + input.length;
    }
}

/// @title OpenerCall
/// @notice The caller's side of `BatchOpener.open`: encodes the channel's state, the claim set,
///         the mask log and the proof items left, calls the opener, and advances the channel
///         by what it read. Claims that share a point array (in a row) send it once.
library OpenerCall {
    function open(
        address opener,
        VerifierChannel memory ch,
        BatchOpening.ClaimSet memory cs,
        address keyStore,
        uint256 blobSize
    ) internal view {
        uint256 base;
        uint256 o;
        assembly ("memory-safe") {
            base := mload(0x40)
            o := add(base, 68) // selector, ABI offset and length of `input`
            mstore(o, mload(ch))
            mstore(add(o, 32), keyStore)
            mstore(add(o, 64), blobSize)
            mstore(add(o, 96), mload(add(cs, 128))) // nTensors
            mstore(add(o, 128), mload(mload(add(ch, 160)))) // the mask pool's vars
            o := add(o, 160)
        }
        o = _claims(o, cs);
        o = _terms(o, cs);
        o = _commitments(o, cs);
        o = _mask(o, ch.mask);
        o = _items(o, ch);
        _call(opener, ch, base, o);
    }

    /// @dev The first n words of the memory array a as [n, words] at o; returns the end.
    function _put(uint256 o, uint256 a, uint256 n) private pure returns (uint256 next) {
        assembly ("memory-safe") {
            mstore(o, n)
            mcopy(add(o, 32), add(a, 32), shl(5, n))
            next := add(o, add(32, shl(5, n)))
        }
    }

    /// @dev [tensor words, each with its point's index << 192], [values], the distinct points.
    function _claims(uint256 o, BatchOpening.ClaimSet memory cs) private pure returns (uint256) {
        uint256 n = cs.n;
        uint256 tidOut = o;
        {
            uint256[] memory tid = cs.tid;
            uint256[] memory value = cs.value;
            uint256 a;
            uint256 v;
            assembly ("memory-safe") {
                a := tid
                v := value
            }
            o = _put(o, a, n);
            o = _put(o, v, n);
        }
        uint256[][] memory points = cs.point;
        assembly ("memory-safe") {
            let np := 0
            let last := 0
            let pts := o
            o := add(o, 32)
            for { let k := 0 } lt(k, n) { k := add(k, 1) } {
                let z := mload(add(points, add(32, shl(5, k))))
                if iszero(eq(z, last)) {
                    let len := add(32, shl(5, mload(z)))
                    mcopy(o, z, len)
                    o := add(o, len)
                    np := add(np, 1)
                    last := z
                }
                let slot := add(tidOut, add(32, shl(5, k)))
                mstore(slot, or(mload(slot), shl(192, sub(np, 1))))
            }
            mstore(pts, np)
        }
        return o;
    }

    /// @dev [term claim words], [term coefficients]; no points (a term's point is its claim's).
    function _terms(uint256 o, BatchOpening.ClaimSet memory cs) private pure returns (uint256) {
        uint256 n = cs.nTerms;
        uint256 a;
        uint256 c;
        {
            uint256[] memory tc = cs.termClaim;
            uint256[] memory tf = cs.termCoef;
            assembly ("memory-safe") {
                a := tc
                c := tf
            }
        }
        o = _put(o, a, n);
        return _put(o, c, n);
    }

    /// @dev [per tensor: 1 + its index in the list, 0 for none], the list of commitments.
    function _commitments(uint256 o, BatchOpening.ClaimSet memory cs) private pure returns (uint256) {
        uint256 nt = cs.nTensors;
        uint256[] memory cm = cs.commitment;
        assembly ("memory-safe") {
            let idx := o
            mstore(idx, nt)
            o := add(o, add(32, shl(5, nt)))
            let list := o
            o := add(o, 32)
            let ng := 0
            for { let t := 0 } lt(t, nt) { t := add(t, 1) } {
                let c := mload(add(cm, add(32, shl(5, t))))
                let i := 0
                if c {
                    mcopy(o, c, 128)
                    o := add(o, 128)
                    ng := add(ng, 1)
                    i := ng
                }
                mstore(add(idx, add(32, shl(5, t))), i)
            }
            mstore(list, ng)
        }
        return o;
    }

    /// @dev The pool's commitment (zeros without a pool), [r], [degree], [y], [end].
    function _mask(uint256 o, MaskLog memory m) private pure returns (uint256) {
        uint256 c = m.commitment;
        assembly ("memory-safe") {
            switch c
            case 0 { mstore(o, 0) mstore(add(o, 32), 0) mstore(add(o, 64), 0) mstore(add(o, 96), 0) }
            default { mcopy(o, c, 128) }
        }
        uint256 r;
        uint256 d;
        uint256 y;
        uint256 e;
        {
            uint256[] memory mr = m.r;
            uint256[] memory md = m.deg;
            uint256[] memory my = m.y;
            uint256[] memory me = m.end;
            assembly ("memory-safe") {
                r := mr
                d := md
                y := my
                e := me
            }
        }
        o = _put(o + 128, r, m.nRounds);
        o = _put(o, d, m.nRounds);
        o = _put(o, y, m.nSc);
        return _put(o, e, m.nSc);
    }

    /// @dev The proof's items left: the number of G1 points, the points, the field elements.
    function _items(uint256 o, VerifierChannel memory ch) private pure returns (uint256 end) {
        uint256 g1 = ch.g1Next;
        uint256 g1Len = ch.g1End - g1;
        uint256 fr = ch.frNext;
        uint256 frLen = ch.frEnd - fr;
        assembly ("memory-safe") {
            mstore(o, shr(7, g1Len))
            calldatacopy(add(o, 32), g1, g1Len)
            o := add(o, add(32, g1Len))
            calldatacopy(o, fr, frLen)
            end := add(o, frLen)
        }
    }

    function _call(address opener, VerifierChannel memory ch, uint256 base, uint256 end) private view {
        bytes32 state;
        uint256 g1Read;
        uint256 frRead;
        assembly ("memory-safe") {
            mstore(base, shl(224, 0x382f431b)) // open(bytes)
            mstore(add(base, 4), 32)
            mstore(add(base, 36), sub(end, add(base, 68)))
            let ok := staticcall(gas(), opener, base, sub(end, base), 0, 0)
            returndatacopy(base, 0, returndatasize())
            if iszero(ok) { revert(base, returndatasize()) }
            if iszero(eq(returndatasize(), 96)) { revert(0, 0) }
            state := mload(base)
            g1Read := mload(add(base, 32))
            frRead := mload(add(base, 64))
            mstore(0x40, base) // the input is released
        }
        ch.state = state;
        ch.g1Next += g1Read;
        ch.frNext += frRead;
    }
}
