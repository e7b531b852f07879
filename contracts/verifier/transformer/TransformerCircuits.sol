// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {TCircuit, TDescription} from "./TCircuit.sol";

/// @title TransformerCircuits
/// @notice The circuit descriptions (`prover/circuit_desc.py`) the transformer verifiers
///         interpret, content-addressed: a description is stored under its keccak256, and
///         anyone may store one. Which description a proof runs is not chosen here: the model
///         commitment lists, per prompt length T, the keccak256 of its T-token circuit's
///         description (entry 0: its weight range circuit), so the model owner commits to
///         them, and the Python tooling recomputes and compares every entry
///         (`prove.check_listed_circuits`) before registering or trusting a model.
///         Each description is stored as the code of data contracts of at most 24,575 bytes.
contract TransformerCircuits {
    uint256 private constant CHUNK = 24575;

    struct Stored {
        uint256 size;
        address[] chunks;
    }

    mapping(bytes32 => Stored) private _circuits;

    event CircuitAdded(bytes32 indexed descriptionHash, bytes32 circuitDigest, uint256 size);

    error CircuitExists(bytes32 descriptionHash);
    /// @notice No description is stored under the hash the commitment lists (Python: "circuit").
    error UnknownCircuit(bytes32 descriptionHash);
    /// @notice The commitment lists no circuit for `rows`-token prompts (Python: "circuit").
    error CircuitNotListed(uint256 rows, uint256 listed);
    /// @notice The listed description is not for the commitment's header or for `rows` tokens
    ///         (same signature as `KeyedVerifier.CircuitMismatch`; Python: "circuit").
    error CircuitMismatch(bytes32 expected, bytes32 proofCircuit);
    /// @notice The commitment's bytes are malformed at byte `offset` (same signature as
    ///         `IZkllmVerifier.MalformedCommitment`; Python: MalformedError).
    error MalformedCommitment(uint256 offset);
    error StoreFailed();

    /// @notice Stores one description under its keccak256 (parsed once here to reject
    ///         malformed bytes and unsafe parameters). Anyone may call it.
    function addCircuit(bytes calldata description) external returns (bytes32 key) {
        bytes memory d = description;
        uint256 ptr;
        assembly ("memory-safe") {
            ptr := add(d, 32)
        }
        TDescription.parse(ptr, d.length);
        key = keccak256(d);
        Stored storage st = _circuits[key];
        if (st.size != 0) revert CircuitExists(key);
        for (uint256 off = 0; off < d.length; off += CHUNK) {
            uint256 len = d.length - off < CHUNK ? d.length - off : CHUNK;
            bytes memory init = abi.encodePacked(hex"61", uint16(len + 1), hex"80600c6000396000f300", description[off:off + len]);
            address a;
            assembly ("memory-safe") {
                a := create(0, add(init, 32), mload(init))
            }
            if (a == address(0)) revert StoreFailed();
            st.chunks.push(a);
        }
        st.size = d.length;
        emit CircuitAdded(key, TDescription.digestOf(ptr), d.length);
    }

    /// @notice Whether a description is stored under `descriptionHash`.
    function registered(bytes32 descriptionHash) external view returns (bool) {
        return _circuits[descriptionHash].size != 0;
    }

    /// @notice `TransformerCommitment.decode`: "ZKLT" | version u16 (2) | header length u32 |
    ///         header | n u16 | n x 32-byte description hashes | count u16 | count x 128-byte
    ///         G1 points (checked by the verifier, `g1Valid`). Returns keccak256(header), the
    ///         listed hash for `rows` tokens (entry `rows`), the points' offset within `enc`
    ///         and their count.
    function _decode(bytes calldata enc, uint256 rows)
        private
        pure
        returns (bytes32 headerHash, bytes32 listed, uint256 pointsRel, uint256 count)
    {
        if (enc.length < 14 || bytes4(enc[0:4]) != "ZKLT") revert MalformedCommitment(0);
        if (uint16(bytes2(enc[4:6])) != 2) revert MalformedCommitment(4);
        uint256 hl = uint32(bytes4(enc[6:10]));
        if (enc.length < 14 + hl) revert MalformedCommitment(6);
        headerHash = keccak256(enc[10:10 + hl]);
        uint256 n = uint16(bytes2(enc[10 + hl:12 + hl]));
        pointsRel = 14 + hl + 32 * n;
        if (enc.length < pointsRel) revert MalformedCommitment(10 + hl);
        count = uint16(bytes2(enc[pointsRel - 2:pointsRel]));
        if (enc.length != pointsRel + 128 * count) revert MalformedCommitment(pointsRel - 2);
        if (rows >= n) revert CircuitNotListed(rows, n);
        listed = bytes32(enc[12 + hl + 32 * rows:44 + hl + 32 * rows]);
    }

    /// @notice The description `commitment` lists for `rows`-token prompts (0: its weight range
    ///         circuit), checked to be for the commitment's header and for `rows`, parsed into a
    ///         `TCircuit` laid out in memory from address `base` on, returned raw: the memory
    ///         image [base, end) followed by four words, the address of the `TCircuit`, `end`,
    ///         the offset of the commitment's points within `commitment`, and their count. A
    ///         caller whose free memory starts at `base` copies the image there and uses it as
    ///         is (every pointer in it is absolute), so the verifiers carry no parser.
    function parsedFor(bytes calldata commitment, uint256 rows, uint256 base) external view {
        if (base < 0x80) revert MalformedCommitment(0);
        (bytes32 headerHash, bytes32 listed, uint256 pointsRel, uint256 count) = _decode(commitment, rows);
        assembly ("memory-safe") {
            mstore(0x40, base)
        }
        bytes memory d = description(listed);
        uint256 ptr;
        assembly ("memory-safe") {
            ptr := add(d, 32)
        }
        TCircuit memory c = TDescription.parse(ptr, d.length);
        if (c.headerHash != headerHash || c.rows != rows) revert CircuitMismatch(c.headerHash, headerHash);
        assembly ("memory-safe") {
            let end := mload(0x40)
            mstore(end, c)
            mstore(add(end, 32), end)
            mstore(add(end, 64), pointsRel)
            mstore(add(end, 96), count)
            return(base, add(sub(end, base), 128))
        }
    }

    /// @notice The description stored under `descriptionHash`.
    function description(bytes32 descriptionHash) public view returns (bytes memory d) {
        Stored storage st = _circuits[descriptionHash];
        uint256 len = st.size;
        if (len == 0) revert UnknownCircuit(descriptionHash);
        d = new bytes(len);
        uint256 n = st.chunks.length;
        for (uint256 i = 0; i < n; ++i) {
            address a = st.chunks[i];
            uint256 off = i * CHUNK;
            uint256 size = len - off < CHUNK ? len - off : CHUNK;
            assembly ("memory-safe") {
                extcodecopy(a, add(add(d, 32), off), 1, size)
            }
        }
    }
}
