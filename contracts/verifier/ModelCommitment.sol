// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IZkllmVerifier} from "../IZkllmVerifier.sol";

/// @notice A decoded model commitment (`prover/model/commitment.py` ModelCommitment with
///         the architecture and QuantSpec of `prover/model/arch.py`). Byte positions are
///         calldata offsets into the commitment.
struct Arch {
    uint256 archOffset; // encode_arch(arch, quant) bytes
    uint256 archLen;
    uint256 dIn;
    uint256 nLayers;
    uint256[] layerType; // 1 = linear, 2 = activation
    uint256[] layerArg; // d_out, or the activation id (1 gelu, 2 relu, 3 silu)
    uint256 actFracBits;
    uint256 weightFracBits;
    uint256 lookupInFracBits;
    uint256 lookupInBits;
    uint256 digitBits;
    uint256 weightBits;
    uint256 pointsOffset; // the G1 commitments, in Circuit.model_tensors order
    uint256 count;
}

/// @title ModelCommitment
/// @notice `ModelCommitment.decode` and `decode_arch`, plus the structural rules that
///         `compile_mlp` and `QuantSpec.__post_init__` enforce, so that exactly the
///         commitments Python can compile into a circuit are accepted.
///
///         commitment = "ZKLM" | version u16 (=1) | arch_len u16 | arch | count u16 | count x G1
///         arch       = "ZKAR" | version u8 (=1) | kind u8 (=1) | d_in u32 | n_layers u16
///                      | n_layers x (type u8, arg u32) | 6 x u8 quant
///
/// @dev Rejections revert with `MalformedCommitment(offset)`, offset = the byte position in
///      `modelCommitment` of the field that failed. The points are validated by the G1 MSM
///      precompile of the batch opening, which every model commitment enters.
library ModelCommitment {
    uint16 internal constant VERSION = 1;
    uint256 internal constant LINEAR = 1;
    uint256 internal constant ACTIVATION = 2;

    function _fail(uint256 offset) private pure {
        revert IZkllmVerifier.MalformedCommitment(offset);
    }

    function _u(uint256 offset, uint256 nbytes) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := shr(sub(256, mul(8, nbytes)), calldataload(offset))
        }
    }

    function decode(bytes calldata enc) internal pure returns (Arch memory a) {
        uint256 base;
        assembly ("memory-safe") {
            base := enc.offset
        }
        if (enc.length < 8 || bytes4(enc[0:4]) != "ZKLM") _fail(0);
        if (uint16(bytes2(enc[4:6])) != VERSION) _fail(4);
        uint256 alen = uint16(bytes2(enc[6:8]));
        if (enc.length < 8 + alen) _fail(6);
        a.archOffset = base + 8;
        a.archLen = alen;
        decodeArch(a, base);
        uint256 off = 8 + alen;
        if (enc.length < off + 2) _fail(off);
        a.count = _u(base + off, 2);
        off += 2;
        if (enc.length != off + 128 * a.count) _fail(off - 2);
        a.pointsOffset = base + off;
        checkMlp(a, base);
        if (a.count != 2 * ((a.nLayers + 1) / 2)) _fail(off - 2);
    }

    /// @notice `decode_arch` plus `QuantSpec.__post_init__`.
    function decodeArch(Arch memory a, uint256 base) internal pure {
        uint256 p = a.archOffset;
        uint256 rel = p - base;
        uint256 len = a.archLen;
        if (len < 4 || _u(p, 4) != uint32(bytes4("ZKAR"))) _fail(rel);
        if (len < 12) _fail(rel + 4);
        if (_u(p + 4, 1) != 1 || _u(p + 5, 1) != 1) _fail(rel + 4);
        a.dIn = _u(p + 6, 4);
        a.nLayers = _u(p + 10, 2);
        if (len != 12 + 5 * a.nLayers + 6) _fail(rel + 10);
        a.layerType = new uint256[](a.nLayers);
        a.layerArg = new uint256[](a.nLayers);
        for (uint256 i = 0; i < a.nLayers; ++i) {
            uint256 typ = _u(p + 12 + 5 * i, 1);
            uint256 arg = _u(p + 13 + 5 * i, 4);
            if (!(typ == LINEAR || (typ == ACTIVATION && arg >= 1 && arg <= 3))) _fail(rel + 12 + 5 * i);
            a.layerType[i] = typ;
            a.layerArg[i] = arg;
        }
        uint256 q = p + len - 6;
        a.actFracBits = _u(q, 1);
        a.weightFracBits = _u(q + 1, 1);
        a.lookupInFracBits = _u(q + 2, 1);
        a.lookupInBits = _u(q + 3, 1);
        a.digitBits = _u(q + 4, 1);
        a.weightBits = _u(q + 5, 1);
        // QuantSpec.__post_init__: the side conditions, under the names Python uses
        uint256 b = a.digitBits;
        if (b == 0 || b > 16) _unsafe("digit-bits");
        if (a.lookupInBits < 2 || a.lookupInBits > 20) _unsafe("table-bits");
        if (a.weightBits < 2 || a.weightBits > 40) _unsafe("weight-bits");
        if (a.actFracBits == 0 || a.actFracBits > 32 || a.weightFracBits > 32 || a.lookupInFracBits > 32) {
            _unsafe("fraction-bits");
        }
        // both rescale shifts positive multiples of digit_bits
        if (a.weightFracBits == 0 || a.weightFracBits % b != 0) _unsafe("rescale-shift");
        uint256 acc = a.actFracBits + a.weightFracBits;
        if (acc <= a.lookupInFracBits || (acc - a.lookupInFracBits) % b != 0) _unsafe("rescale-shift");
    }

    function _unsafe(bytes32 condition) private pure {
        revert IZkllmVerifier.UnsafeParameter(condition);
    }

    /// @notice The layer rules of `compile_mlp` (linear, then (activation, linear)*), and
    ///         positive dimensions (`mle.log2_ceil` rejects 0).
    function checkMlp(Arch memory a, uint256 base) internal pure {
        uint256 rel = a.archOffset - base;
        if (a.dIn == 0) _fail(rel + 6);
        if (a.nLayers == 0) _fail(rel + 10);
        for (uint256 i = 0; i < a.nLayers; ++i) {
            uint256 want = i % 2 == 0 ? LINEAR : ACTIVATION;
            if (a.layerType[i] != want) _fail(rel + 12 + 5 * i);
            if (want == LINEAR && a.layerArg[i] == 0) _fail(rel + 13 + 5 * i);
        }
        if (a.layerType[a.nLayers - 1] != LINEAR) _fail(rel + 12 + 5 * (a.nLayers - 1));
    }

    /// @notice `QuantSpec.linear_shift(to_lookup)`.
    function linearShift(Arch memory a, bool toLookup) internal pure returns (uint256) {
        uint256 acc = a.actFracBits + a.weightFracBits;
        return acc - (toLookup ? a.lookupInFracBits : a.actFracBits);
    }
}
