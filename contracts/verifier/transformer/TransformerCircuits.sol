// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {TCircuit, TDescription} from "./TCircuit.sol";

/// @title TransformerCircuits
/// @notice The circuit descriptions (`prover/circuit_desc.py`) a `TransformerVerifier` may
///         interpret, keyed by circuit digest. Only the owner (the verifier's deployer)
///         registers them; like the verifying key they are trusted setup data, and anyone can
///         recompute a description from the model config and compare `descriptionHash`.
///         Each description is stored as the code of data contracts of at most 24,575 bytes.
contract TransformerCircuits {
    uint256 private constant CHUNK = 24575;

    address public immutable owner;

    struct Stored {
        bytes32 descriptionHash;
        uint256 size;
        address[] chunks;
    }

    mapping(bytes32 => Stored) private _circuits;

    event CircuitAdded(bytes32 indexed circuitDigest, bytes32 descriptionHash, uint256 size);

    error NotOwner();
    error CircuitExists(bytes32 circuitDigest);
    /// @notice No description is registered for the proof's circuit digest (Python: "circuit").
    error UnknownCircuit(bytes32 circuitDigest);
    error StoreFailed();

    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice Registers one description (parsed once here to reject malformed bytes).
    function addCircuit(bytes calldata description) external {
        if (msg.sender != owner) revert NotOwner();
        bytes memory d = description;
        uint256 ptr;
        assembly ("memory-safe") {
            ptr := add(d, 32)
        }
        TDescription.parse(ptr, d.length);
        bytes32 digest = TDescription.digestOf(ptr);
        Stored storage st = _circuits[digest];
        if (st.size != 0) revert CircuitExists(digest);
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
        st.descriptionHash = keccak256(d);
        emit CircuitAdded(digest, st.descriptionHash, d.length);
    }

    /// @notice keccak256 of the description registered for `circuitDigest` (0: none).
    function descriptionHash(bytes32 circuitDigest) external view returns (bytes32) {
        return _circuits[circuitDigest].descriptionHash;
    }

    /// @notice The description of `circuitDigest` parsed into a `TCircuit` laid out in memory
    ///         from address `base` on, returned raw: the memory image [base, end) followed by
    ///         two words, the address of the `TCircuit` and `end`. A caller whose free memory
    ///         starts at `base` copies the image there and uses it as is (every pointer in it is
    ///         absolute), so the verifier carries no parser.
    function parsed(bytes32 circuitDigest, uint256 base) external view {
        if (base < 0x80) revert UnknownCircuit(circuitDigest);
        assembly ("memory-safe") {
            mstore(0x40, base)
        }
        bytes memory d = description(circuitDigest);
        uint256 ptr;
        assembly ("memory-safe") {
            ptr := add(d, 32)
        }
        TCircuit memory c = TDescription.parse(ptr, d.length);
        assembly ("memory-safe") {
            let end := mload(0x40)
            mstore(end, c)
            mstore(add(end, 32), end)
            return(base, add(sub(end, base), 64))
        }
    }

    /// @notice The description registered for `circuitDigest`.
    function description(bytes32 circuitDigest) public view returns (bytes memory d) {
        Stored storage st = _circuits[circuitDigest];
        uint256 len = st.size;
        if (len == 0) revert UnknownCircuit(circuitDigest);
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
