// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ZkMask} from "../ZkMask.sol";
import {TCircuit, TDescription} from "./TCircuit.sol";
import {VerifierKeyData} from "../VerifierKeyData.sol";
import {BatchOpening} from "../BatchOpening.sol";
import {Channel} from "../Transcript.sol";
import {TCtx} from "./TContext.sol";
import {TLogup} from "./TLogup.sol";

/// @title TModel
/// @notice What both transformer contracts (`TransformerVerifier`, `TransformerWeightVerifier`)
///         do with a model commitment before their transcripts start (fetch the circuit
///         description it lists, decoded by the registry; attach its points) and the phases of
///         `circuit.run` they share (commitments first, the batch opening last).
library TModel {
    /// @notice The key lacks a setup table the circuit reads (Python: SetupError).
    error MissingTableHash(bytes32 nameHash);

    /// @notice `TransformerCircuits.parsedFor` at `reg`: the description `commitment` lists for
    ///         `rows`-token prompts (0: the weight range circuit), checked against the
    ///         commitment's header and `rows` and parsed by the registry straight into this
    ///         call's memory; the calldata offset of the commitment's points and their count.
    function parsedFor(address reg, bytes calldata commitment, uint256 rows)
        internal
        view
        returns (TCircuit memory c, uint256 pointsOff, uint256 count)
    {
        bool ok;
        uint256 rel;
        assembly ("memory-safe") {
            let base := mload(0x40)
            let n := commitment.length
            mstore(base, shl(224, 0x57cfcf9e)) // parsedFor(bytes,uint256,uint256)
            mstore(add(base, 4), 0x60)
            mstore(add(base, 36), rows)
            mstore(add(base, 68), base)
            mstore(add(base, 100), n)
            calldatacopy(add(base, 132), commitment.offset, n)
            ok := staticcall(gas(), reg, base, add(132, n), 0, 0)
            let size := returndatasize()
            returndatacopy(base, 0, size)
            if iszero(ok) { revert(base, size) }
            if lt(size, 128) { revert(0, 0) }
            c := mload(add(base, sub(size, 128)))
            mstore(0x40, mload(add(base, sub(size, 96))))
            rel := mload(add(base, sub(size, 64)))
            count := mload(add(base, sub(size, 32)))
        }
        pointsOff = _offset(commitment) + rel;
    }

    function _offset(bytes calldata b) private pure returns (uint256 o) {
        assembly ("memory-safe") {
            o := b.offset
        }
    }

    /// @notice Model tensors (in `specs` order, the commitment's order) and setup tables.
    function attachCommitments(TCircuit memory c, uint256 pointsOff, uint256 vk) internal pure {
        uint256 count = c.nModel;
        uint256 mem;
        assembly ("memory-safe") {
            mem := mload(0x40)
            mstore(0x40, add(mem, mul(count, 128)))
            calldatacopy(mem, pointsOff, mul(count, 128))
        }
        uint256 j;
        uint256 n = c.kind.length;
        for (uint256 i = 0; i < n; ++i) {
            if (c.kind[i] == TDescription.KIND_MODEL) {
                c.commitment[i] = mem + 128 * j++;
            }
        }
        for (uint256 i = 0; i < c.keyTid.length; ++i) {
            uint256 ptr = VerifierKeyData.table(vk, c.keyName[i]);
            if (ptr == 0) revert MissingTableHash(c.keyName[i]);
            c.commitment[c.keyTid[i]] = ptr;
        }
    }

    /// @notice Phases 1-3 of `circuit.run`: the witness commitments, every lookup's
    ///         multiplicities, every lookup's inverse columns.
    function receiveCommitments(TCtx memory ctx) internal pure {
        TCircuit memory c = ctx.c;
        ZkMask.commitPool(ctx.ch); // the mask pool first (`prover/zk/mask.py`)
        for (uint256 i = 0; i < c.witness.length; ++i) {
            c.commitment[c.witness[i]] = Channel.recvG1(ctx.ch, "witness");
        }
        for (uint256 l = 0; l < c.lookups.length; ++l) {
            c.commitment[c.lookups[l].mult] = Channel.recvG1(ctx.ch, "lookup/m");
        }
        for (uint256 l = 0; l < c.lookups.length; ++l) {
            TLogup.commitInverses(ctx, c.lookups[l]);
        }
    }

    /// @notice The claim store as the batch opening reads it (with its combined claims' terms).
    function claimSet(TCtx memory ctx) internal pure returns (BatchOpening.ClaimSet memory) {
        return BatchOpening.ClaimSet(
            ctx.nClaims, ctx.claimTid, ctx.claimPoint, ctx.claimValue, ctx.c.kind.length, ctx.c.commitment,
            ctx.nTerms, ctx.termClaim, ctx.termCoef, ctx.termPoint
        );
    }

    /// @notice Phase 5 of `circuit.run`: the batch opening of every recorded claim.
    function openClaims(TCtx memory ctx, uint256 vk) internal view {
        BatchOpening.open(ctx.ch, claimSet(ctx), vk);
    }
}
