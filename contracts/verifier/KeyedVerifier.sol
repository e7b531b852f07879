// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IZkllmVerifier} from "../IZkllmVerifier.sol";
import {VerifierChannel, Transcript} from "./Transcript.sol";
import {Bls12381} from "./Bls12381.sol";
import {VerifierKeyData} from "./VerifierKeyData.sol";

/// @title KeyedVerifier
/// @notice What every zkllm verifier shares: the verifying key (checked, negated where the
///         pairing needs it, and stored as the code of a data contract, see `VerifierKeyData`),
///         its digest `prover.keys.VerifyingKey.digest()`, and the parsing of the proof bytes
///         (`prover/proof.py` `Proof.from_bytes`).
///
///         The constructor takes the exact `VerifierKey.to_bytes()` of the SRS (num_vars | g1 |
///         g2 | tau_g2[..] | xi_g2) and the setup-table commitments (names in ascending order,
///         128-byte G1 points). The digest is keccak256("zkllm-vk/v1" || keccak256(srs vk bytes)
///         || for each table by name: keccak256(name) || G1). Every key point is checked with
///         the EIP-2537 MSM precompiles.
abstract contract KeyedVerifier is IZkllmVerifier {
    /// @notice The key given to the constructor is malformed (`reason`: 0 length, 1 table
    ///         count, 2 table order).
    error InvalidVerifierKey(uint256 reason);
    /// @notice The data contract holding the key could not be created.
    error KeyStoreFailed();
    /// @notice keccak256(modelCommitment) != modelDigest (Python: VerificationError("statement")).
    error ModelDigestMismatch(bytes32 modelDigest, bytes32 commitmentHash);
    /// @notice The proof was made for another circuit (Python: VerificationError("circuit")).
    error CircuitMismatch(bytes32 expected, bytes32 proofCircuit);
    /// @notice The circuit needs more variables than the key supports (Python: SetupError).
    error CircuitTooLarge(uint256 numVars, uint256 keyNumVars);
    /// @notice The key lacks the function table `name` (Python: SetupError).
    error MissingTable(string name);
    /// @notice A word is not canonical: a proof field element not below r (`where` = "proof",
    ///         the index in the proof's field-element stream), or a statement word ("input",
    ///         "output") that does not encode an integer within its stated bound (Python:
    ///         `MalformedStatementError(where, index)`).
    error NotCanonical(bytes32 where, uint256 index);

    uint256 internal constant HEADER = 46; // magic 4 | version 2 | circuit 32 | n_g1 4 | n_fr 4
    uint256 private constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 private constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;

    address public immutable keyStore;
    uint256 internal immutable keyBlobSize;
    uint256 public immutable keyNumVars;
    /// @notice `VerifyingKey.digest()`, absorbed first under "statement/vk".
    bytes32 public immutable vkDigest;

    constructor(bytes memory srsVerifierKey, string[] memory tableNames, bytes memory tableCommitments) {
        if (srsVerifierKey.length < 32) revert InvalidVerifierKey(0);
        uint256 n;
        assembly ("memory-safe") {
            n := mload(add(srsVerifierKey, 32))
        }
        if (n > 32 || srsVerifierKey.length != 32 + 128 + (n + 2) * 256) revert InvalidVerifierKey(0);
        if (tableCommitments.length != 128 * tableNames.length) revert InvalidVerifierKey(1);
        vkDigest = _vkDigest(srsVerifierKey, tableNames, tableCommitments);
        _checkPoints(srsVerifierKey, n, tableCommitments, tableNames.length);
        bytes memory blob = _blob(srsVerifierKey, n, tableNames, tableCommitments);
        bytes memory init = abi.encodePacked(hex"61", uint16(blob.length + 1), hex"80600c6000396000f300", blob);
        address store;
        assembly ("memory-safe") {
            store := create(0, add(init, 32), mload(init))
        }
        if (store == address(0)) revert KeyStoreFailed();
        keyStore = store;
        keyBlobSize = blob.length;
        keyNumVars = n;
    }

    /// @notice `Proof.from_bytes`: header, exact length, every G1 point valid (`g1Valid`;
    ///         else `MalformedProof(46)`, the offset of the first point), every field element
    ///         < r. Sets the two streams of the channel.
    function parseProof(VerifierChannel memory ch, bytes calldata proof) internal view returns (bytes32 circuit) {
        if (proof.length < HEADER) revert MalformedProof(proof.length);
        if (bytes4(proof[0:4]) != "ZKLP") revert MalformedProof(0);
        if (uint16(bytes2(proof[4:6])) != 3) revert MalformedProof(4); // format 3 (`proof.VERSION`)
        circuit = bytes32(proof[6:38]);
        uint256 nG1 = uint32(bytes4(proof[38:42]));
        uint256 nFr = uint32(bytes4(proof[42:46]));
        if (proof.length != HEADER + 128 * nG1 + 32 * nFr) revert MalformedProof(38);
        uint256 base;
        assembly ("memory-safe") {
            base := proof.offset
        }
        ch.g1Next = base + HEADER;
        ch.g1End = ch.g1Next + 128 * nG1;
        ch.frNext = ch.g1End;
        ch.frEnd = ch.frNext + 32 * nFr;
        if (!g1Valid(ch.g1Next, nG1)) revert MalformedProof(HEADER);
        canonical(ch.frNext, nFr, "proof");
        Transcript.init(ch);
    }

    /// @notice Whether the `n` 128-byte G1 encodings at calldata offset `off` are all valid
    ///         points: zero padding, coordinates < p, on the curve, in the prime-order subgroup
    ///         (128 zero bytes, the point at infinity, is valid), as `curve.g1_from_bytes`
    ///         decodes them. One EIP-2537 G1 MSM over them (scalar 1 each) checks them all, so
    ///         an invalid point is rejected where it is parsed, as in Python, not later at the
    ///         precompile it would enter. A call that succeeds without output (no EIP-2537)
    ///         reverts with `PrecompileFailed`.
    function g1Valid(uint256 off, uint256 n) internal view returns (bool ok) {
        if (n == 0) return true;
        uint256 size;
        assembly ("memory-safe") {
            let buf := mload(0x40)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let dst := add(buf, mul(i, 160))
                calldatacopy(dst, add(off, shl(7, i)), 128)
                mstore(add(dst, 128), 1)
            }
            ok := staticcall(gas(), 0x0c, buf, mul(n, 160), buf, 128)
            size := returndatasize()
        }
        if (ok && size != 128) revert Bls12381.PrecompileFailed(Bls12381.G1_MSM);
    }

    /// @notice Reverts with `NotCanonical(where, i)` unless the `n` words at calldata
    ///         offset `off` are all < r; returns `off`.
    function canonical(uint256 off, uint256 n, bytes32 where) internal pure returns (uint256) {
        uint256 bad = n;
        assembly ("memory-safe") {
            let r := 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
            let end := add(off, shl(5, n))
            // four words per step while four remain, then one by one; locate a failure after
            let ok := 1
            let p := off
            for {} and(ok, iszero(gt(add(p, 128), end))) { p := add(p, 128) } {
                ok := and(
                    and(lt(calldataload(p), r), lt(calldataload(add(p, 32)), r)),
                    and(lt(calldataload(add(p, 64)), r), lt(calldataload(add(p, 96)), r))
                )
            }
            if iszero(ok) { p := sub(p, 128) }
            for {} lt(p, end) { p := add(p, 32) } {
                if iszero(lt(calldataload(p), r)) {
                    bad := shr(5, sub(p, off))
                    break
                }
            }
        }
        if (bad != n) revert NotCanonical(where, bad);
        return off;
    }

    /// @notice Reverts with `WeightsNotCertified` unless the weight range verifier at
    ///         `weightRange` has certified `modelDigest` (`certified(bytes32)`).
    function requireCertified(address weightRange, bytes32 modelDigest) internal view {
        bool ok;
        assembly ("memory-safe") {
            let buf := mload(0x40)
            mstore(buf, shl(224, 0xb82bc22c)) // certified(bytes32)
            mstore(add(buf, 4), modelDigest)
            ok := staticcall(gas(), weightRange, buf, 36, buf, 32) // Yul evaluates arguments right to left:
            ok := and(ok, and(gt(returndatasize(), 31), eq(mload(buf), 1))) // read the return after the call
        }
        if (!ok) revert WeightsNotCertified(modelDigest);
    }

    // ------------------------------------------------------------------ verifying key

    /// @notice `VerifyingKey.digest()` from the encodings given to the constructor; the
    ///         table names must be strictly ascending (Python iterates `sorted(tables)`).
    function _vkDigest(bytes memory srsVk, string[] memory names, bytes memory points) private pure returns (bytes32) {
        bytes memory body = abi.encodePacked("zkllm-vk/v1", keccak256(srsVk));
        for (uint256 i = 0; i < names.length; ++i) {
            if (i > 0 && !_less(bytes(names[i - 1]), bytes(names[i]))) revert InvalidVerifierKey(2);
            body = abi.encodePacked(body, keccak256(bytes(names[i])), _slice(points, 128 * i, 128));
        }
        return keccak256(body);
    }

    function _less(bytes memory a, bytes memory b) private pure returns (bool) {
        uint256 n = a.length < b.length ? a.length : b.length;
        for (uint256 i = 0; i < n; ++i) {
            if (a[i] != b[i]) return a[i] < b[i];
        }
        return a.length < b.length;
    }

    function _slice(bytes memory data, uint256 start, uint256 len) private pure returns (bytes memory out) {
        out = new bytes(len);
        assembly ("memory-safe") {
            mcopy(add(out, 32), add(add(data, 32), start), len)
        }
    }

    /// @notice Every key point through the EIP-2537 MSM precompiles (canonical encoding,
    ///         on the curve, in the subgroup); fails loudly on a chain without EIP-2537.
    function _checkPoints(bytes memory srsVk, uint256 n, bytes memory tablePoints, uint256 nTables) private view {
        uint256 k2 = n + 2;
        bytes memory g2in = new bytes(k2 * Bls12381.G2_MSM_ITEM);
        for (uint256 j = 0; j < k2; ++j) {
            // g2, tau_g2[0..n), xi_g2 are consecutive in the key bytes from offset 160
            assembly ("memory-safe") {
                let dst := add(add(g2in, 32), mul(j, 288))
                mcopy(dst, add(add(srsVk, 32), add(160, mul(j, 256))), 256)
                mstore(add(dst, 256), 1)
            }
        }
        uint256 p2;
        assembly ("memory-safe") {
            p2 := add(g2in, 32)
        }
        Bls12381.g2MsmCheck(p2, k2);
        uint256 k1 = nTables + 1;
        bytes memory g1in = new bytes(k1 * Bls12381.G1_MSM_ITEM);
        for (uint256 j = 0; j < k1; ++j) {
            assembly ("memory-safe") {
                let dst := add(add(g1in, 32), mul(j, 160))
                switch j
                case 0 { mcopy(dst, add(srsVk, 64), 128) }
                default { mcopy(dst, add(add(tablePoints, 32), mul(sub(j, 1), 128)), 128) }
                mstore(add(dst, 128), 1)
            }
        }
        uint256 p1;
        assembly ("memory-safe") {
            p1 := add(g1in, 32)
        }
        Bls12381.g1Msm(p1, k1);
    }

    /// @notice The `VerifierKeyData` blob: num_vars, g1, g2, -xi_g2, -tau_g2[..], tables.
    function _blob(bytes memory srsVk, uint256 n, string[] memory names, bytes memory points)
        private
        pure
        returns (bytes memory blob)
    {
        blob = new bytes(VerifierKeyData.size(n, names.length));
        uint256 dst;
        uint256 src;
        assembly ("memory-safe") {
            dst := add(blob, 32)
            src := add(srsVk, 32)
            mcopy(dst, src, 416) // num_vars | g1 | g2
            mcopy(add(dst, 416), add(src, add(416, mul(n, 256))), 256) // xi_g2
            mcopy(add(dst, 672), add(src, 416), mul(n, 256)) // tau_g2[..]
        }
        _negG2(dst + VerifierKeyData.NEG_XI_AT);
        for (uint256 j = 0; j < n; ++j) {
            _negG2(dst + VerifierKeyData.NEG_TAU_AT + 256 * j);
        }
        uint256 at = dst + VerifierKeyData.NEG_TAU_AT + 256 * n;
        uint256 count = names.length;
        assembly ("memory-safe") {
            mstore(at, count)
        }
        for (uint256 i = 0; i < count; ++i) {
            bytes32 h = keccak256(bytes(names[i]));
            uint256 entry = at + 32 + VerifierKeyData.TABLE_ENTRY * i;
            assembly ("memory-safe") {
                mstore(entry, h)
                mcopy(add(entry, 32), add(add(points, 32), mul(i, 128)), 128)
            }
        }
    }

    /// @notice Negates the G2 point at `ptr`: (x, y) -> (x, -y), -y = (p - y.c0, p - y.c1)
    ///         coordinate-wise (0 stays 0), in the 64-byte padded F_p encoding.
    function _negG2(uint256 ptr) private pure {
        _negFp(ptr + 128);
        _negFp(ptr + 192);
    }

    function _negFp(uint256 ptr) private pure {
        uint256 hi;
        uint256 lo;
        assembly ("memory-safe") {
            hi := mload(ptr)
            lo := mload(add(ptr, 32))
        }
        if (hi == 0 && lo == 0) return;
        unchecked {
            uint256 borrow = lo > P_LO ? 1 : 0;
            lo = P_LO - lo;
            hi = P_HI - hi - borrow;
        }
        assembly ("memory-safe") {
            mstore(ptr, hi)
            mstore(add(ptr, 32), lo)
        }
    }
}
