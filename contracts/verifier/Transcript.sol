// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;


/// @notice The verifier end of the channel (`prover/channel.py` VerifierChannel) with its
///         transcript state (`prover/transcript.py` Transcript.state).
/// @dev The two typed streams of the proof stay in calldata: `g1Next`/`frNext` are the
///      calldata offsets of the next unread G1 point / field element, `g1End`/`frEnd` the
///      offsets just past each stream. The assembly of `Channel` relies on this field order
///      (byte offsets 0, 32, 64, 96, 128).
struct VerifierChannel {
    bytes32 state;
    uint256 g1Next;
    uint256 g1End;
    uint256 frNext;
    uint256 frEnd;
    MaskLog mask;
}

/// @notice What the masked sumchecks of a proof left for the batch opening
///         (`prover/zk/mask.py`: the pool and its weighted claims): the pool's size
///         (2^vars entries) and commitment, then per round its challenge and degree (round i
///         used block i) and per masked sumcheck its mask value y and the round count after it.
///         A shadow's block (`ZkMask.takeShadow`) is logged as a round whose degree word is
///         (k + 1) << 8 (low byte 0) and whose r is the shadow's coefficient in claim k.
struct MaskLog {
    uint256 vars;
    uint256 commitment;
    uint256 nRounds;
    uint256[] r;
    uint256[] deg;
    uint256 nSc;
    uint256[] y;
    uint256[] end;
}

/// @title Transcript
/// @notice The keccak256 Fiat-Shamir transcript of `prover/transcript.py`, byte for byte:
///         state_0 = keccak256("zkllm-chain/transcript/v1");
///         absorb(label, d): state = keccak256(state || 0x00 || label32 || d);
///         challenge(label): state = keccak256(state || 0x01 || label32), value = state mod R.
/// @dev Labels are `bytes32("...")` literals: ASCII, right-padded with zero bytes, exactly
///      Python's `label32`. The hash input is assembled in scratch memory past the free
///      memory pointer, which is never advanced here.
library Transcript {
    bytes32 internal constant INITIAL_STATE = keccak256("zkllm-chain/transcript/v1");

    function init(VerifierChannel memory ch) internal pure {
        ch.state = INITIAL_STATE;
    }

    /// @notice `absorb(label, word)` for one 32-byte word (a digest or `fr_bytes(x)`).
    function absorbWord(VerifierChannel memory ch, bytes32 label, bytes32 word) internal pure {
        assembly ("memory-safe") {
            let buf := mload(0x40)
            mstore(buf, mload(ch))
            mstore8(add(buf, 32), 0)
            mstore(add(buf, 33), label)
            mstore(add(buf, 65), word)
            mstore(ch, keccak256(buf, 97))
        }
    }

    /// @notice `absorb(label, data)` with `data` = `len` bytes of calldata at `offset`.
    /// @dev `absorb_frs` of k canonical field elements is one absorb of their 32-byte words.
    function absorbCalldata(VerifierChannel memory ch, bytes32 label, uint256 offset, uint256 len) internal pure {
        assembly ("memory-safe") {
            let buf := mload(0x40)
            mstore(buf, mload(ch))
            mstore8(add(buf, 32), 0)
            mstore(add(buf, 33), label)
            calldatacopy(add(buf, 65), offset, len)
            mstore(ch, keccak256(buf, add(65, len)))
        }
    }

    function challenge(VerifierChannel memory ch, bytes32 label) internal pure returns (uint256 value) {
        assembly ("memory-safe") {
            let buf := mload(0x40)
            mstore(buf, mload(ch))
            mstore8(add(buf, 32), 1)
            mstore(add(buf, 33), label)
            let s := keccak256(buf, 65)
            mstore(ch, s)
            value := mod(s, 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001)
        }
    }

    function challenges(VerifierChannel memory ch, bytes32 label, uint256 n) internal pure returns (uint256[] memory out) {
        out = new uint256[](n);
        assembly ("memory-safe") {
            let buf := mload(0x40)
            mstore(buf, mload(ch))
            mstore(add(buf, 33), label)
            let p := add(out, 32)
            let end := add(p, shl(5, n))
            for {} lt(p, end) { p := add(p, 32) } {
                mstore8(add(buf, 32), 1)
                let s := keccak256(buf, 65)
                mstore(buf, s)
                mstore(p, mod(s, 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001))
            }
            mstore(ch, mload(buf))
        }
    }
}

/// @title Channel
/// @notice `VerifierChannel.recv_fr` / `recv_frs` / `recv_g1` / `assert_consumed`: items are
///         read in order from the two streams and absorbed under their label.
library Channel {
    /// @notice The proof ran out of items of one stream while reading `label`
    ///         (Python: MalformedProofError "proof has too few ...").
    error ProofItemsExhausted(bytes32 label);
    /// @notice Items were left unread (Python: MalformedProofError "proof has trailing items").
    error ProofTrailingItems(uint256 g1Left, uint256 frLeft);

    function recvFr(VerifierChannel memory ch, bytes32 label) internal pure returns (uint256 x) {
        bool ok;
        assembly ("memory-safe") {
            // ch: state | g1Next | g1End | frNext | frEnd
            let off := mload(add(ch, 96))
            ok := iszero(gt(add(off, 32), mload(add(ch, 128))))
            if ok {
                x := calldataload(off)
                mstore(add(ch, 96), add(off, 32))
                let buf := mload(0x40)
                mstore(buf, mload(ch))
                mstore8(add(buf, 32), 0)
                mstore(add(buf, 33), label)
                mstore(add(buf, 65), x)
                mstore(ch, keccak256(buf, 97))
            }
        }
        if (!ok) revert ProofItemsExhausted(label);
    }

    /// @notice Receives `n` field elements as one absorb; returns the calldata offset of the first.
    function recvFrs(VerifierChannel memory ch, bytes32 label, uint256 n) internal pure returns (uint256 off) {
        off = ch.frNext;
        if (off + 32 * n > ch.frEnd) revert ProofItemsExhausted(label);
        ch.frNext = off + 32 * n;
        Transcript.absorbCalldata(ch, label, off, 32 * n);
    }

    /// @notice Receives one G1 point; returns a memory copy of its 128-byte EIP-2537 encoding.
    /// @dev Its validity (canonical, on the curve, in G1) is enforced by the EIP-2537
    ///      precompile (MSM or pairing) that every received point is passed to.
    function recvG1(VerifierChannel memory ch, bytes32 label) internal pure returns (uint256 ptr) {
        bool ok;
        assembly ("memory-safe") {
            let off := mload(add(ch, 32))
            ok := iszero(gt(add(off, 128), mload(add(ch, 64))))
            if ok {
                mstore(add(ch, 32), add(off, 128))
                ptr := mload(0x40)
                mstore(0x40, add(ptr, 128))
                calldatacopy(ptr, off, 128)
                let buf := add(ptr, 128)
                mstore(buf, mload(ch))
                mstore8(add(buf, 32), 0)
                mstore(add(buf, 33), label)
                calldatacopy(add(buf, 65), off, 128)
                mstore(ch, keccak256(buf, 193))
            }
        }
        if (!ok) revert ProofItemsExhausted(label);
    }

    function challenge(VerifierChannel memory ch, bytes32 label) internal pure returns (uint256) {
        return Transcript.challenge(ch, label);
    }

    function challenges(VerifierChannel memory ch, bytes32 label, uint256 n) internal pure returns (uint256[] memory) {
        return Transcript.challenges(ch, label, n);
    }

    function assertConsumed(VerifierChannel memory ch) internal pure {
        if (ch.g1Next != ch.g1End || ch.frNext != ch.frEnd) {
            revert ProofTrailingItems((ch.g1End - ch.g1Next) / 128, (ch.frEnd - ch.frNext) / 32);
        }
    }
}
