// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {FrMath} from "../FrMath.sol";
import {VerifierChannel, Channel} from "../Transcript.sol";
import {TCircuit, TOp} from "./TCircuit.sol";
import {TOps} from "./TOps.sol";
import {ZkMask} from "../ZkMask.sol";

/// @notice `prover/context.py` VerifierCtx over a circuit description: the channel, the
///         circuit, the statement's public words in calldata (tokens, next token) and the
///         claim store.
struct TCtx {
    VerifierChannel ch;
    TCircuit c;
    uint256 tokensOffset; // calldata offset of the tokens (the public input)
    uint256 nTokens;
    uint256 next; // the public output word
    address modules; // the `TransformerModules` contract (steps with committed claims only)
    bool hasTail; // a module step's final reduction, deferred to the caller (`tail`)
    uint256 tailTid;
    uint256[] tailPoint;
    uint256 tailValue;
    uint256 nClaims;
    uint256[] claimTid;
    uint256[][] claimPoint;
    uint256[] claimValue;
    uint256 nTerms; // combined claims' term entries (`BatchOpening.ClaimSet`)
    uint256[] termClaim;
    uint256[] termCoef;
    uint256[][] termPoint;
}

/// @title TContext
/// @notice `claim` / `reduce` of `prover/context.py`: a public tensor is evaluated here, a
///         virtual one is handed to its producer op (dispatched by type code in `TOps`), a
///         committed one is recorded for the batch opening.
library TContext {
    uint256 internal constant KIND_INPUT = 1;
    uint256 internal constant KIND_OUTPUT = 2;
    uint256 internal constant KIND_VIRTUAL = 7;

    function claim(TCtx memory ctx, uint256 tid, uint256[] memory point, bytes32 label)
        internal
        view
        returns (uint256 v)
    {
        uint256 kind = ctx.c.kind[tid];
        if (kind == KIND_INPUT || kind == KIND_OUTPUT) {
            return publicEval(ctx, tid, point);
        }
        v = Channel.recvFr(ctx.ch, label);
        reduce(ctx, tid, point, v);
    }

    function reduce(TCtx memory ctx, uint256 tid, uint256[] memory point, uint256 value) internal view {
        uint256 kind = ctx.c.kind[tid];
        if (kind == KIND_INPUT || kind == KIND_OUTPUT) {
            if (publicEval(ctx, tid, point) != value) TOps.reject("public-tensor", tid);
        } else if (kind == KIND_VIRTUAL) {
            uint256 prod = ctx.c.producer[tid];
            TOps.reduce(ctx, ctx.c.ops[prod - 1], tid, point, value);
        } else {
            record(ctx, tid, point, value);
        }
    }

    /// @notice In a module step: the step's last action, `reduce(tid, point, value)`, handed
    ///         back to the caller (which runs it right after recording the step's claims).
    function tail(TCtx memory ctx, uint256 tid, uint256[] memory point, uint256 value) internal pure {
        ctx.hasTail = true;
        ctx.tailTid = tid;
        ctx.tailPoint = point;
        ctx.tailValue = value;
    }

    /// @notice `claim` of a tensor the caller knows is committed: receive and record.
    function claimCommitted(TCtx memory ctx, uint256 tid, uint256[] memory point, bytes32 label)
        internal
        pure
        returns (uint256 v)
    {
        v = Channel.recvFr(ctx.ch, label);
        record(ctx, tid, point, v);
    }

    /// @notice `mask.shadowed_claim`: receives v~ = f_tid(point) + r S (S the entry of shadow
    ///         block `blk` of the mask pool) and records the claim f_tid(point) + r S = v~ (its
    ///         pool term: `ZkMask.setShadow`, claim index local to a module step until applied).
    function shadowed(TCtx memory ctx, uint256 tid, uint256[] memory point, uint256 r, uint256 blk, bytes32 label)
        internal
        pure
        returns (uint256 v)
    {
        v = Channel.recvFr(ctx.ch, label);
        ZkMask.setShadow(ctx.ch.mask, blk, ctx.nClaims, r);
        record(ctx, tid, point, v);
    }

    /// @notice Records a claim for the batch opening; a claim on a pooled tensor at x is a claim
    ///         on its pool at prefix || x (`context._record`). The prefix is not copied in front
    ///         of x: the claim's tensor word carries it (`BatchOpening.ClaimSet`), so claims made
    ///         together keep sharing their point array.
    function record(TCtx memory ctx, uint256 tid, uint256[] memory point, uint256 value) internal pure {
        tid = _word(ctx, tid);
        uint256 k = ctx.nClaims;
        if (k == ctx.claimTid.length) _grow(ctx);
        uint256[] memory tids = ctx.claimTid;
        uint256[][] memory points = ctx.claimPoint;
        uint256[] memory values = ctx.claimValue;
        assembly ("memory-safe") {
            let at := shl(5, add(k, 1))
            mstore(add(tids, at), tid)
            mstore(add(points, at), point)
            mstore(add(values, at), value)
        }
        ctx.nClaims = k + 1;
    }

    /// @dev A claim's tensor word: a pooled tensor's pool | prefix bits << 16 | prefix << 24.
    function _word(TCtx memory ctx, uint256 tid) private pure returns (uint256) {
        uint256[] memory pools = ctx.c.poolOf;
        if (pools.length != 0 && pools[tid] != 0) {
            uint256 w = pools[tid];
            return ((w & 0xffff) - 1) | ((w >> 16) << 16);
        }
        return tid;
    }

    /// @notice `context.combined_claim` with every term at one point:
    ///         sum_l coefs[l] f_{tids[l]}(point) = value. Claim entry: the first term's tensor and
    ///         the point; every term is a term entry, k | (word + 1) << 64 (`BatchOpening.ClaimSet`).
    function combined(TCtx memory ctx, uint256[] memory tids, uint256[] memory coefs, uint256[] memory point,
                      uint256 value) internal pure {
        uint256 k = ctx.nClaims;
        record(ctx, tids[0], point, value);
        uint256 j = ctx.nTerms;
        if (j + tids.length > ctx.termClaim.length) _growTerms(ctx, 2 * (j + tids.length));
        for (uint256 l = 0; l < tids.length; ++l) {
            ctx.termClaim[j + l] = k | ((_word(ctx, tids[l]) + 1) << 64);
            ctx.termCoef[j + l] = coefs[l];
            ctx.termPoint[j + l] = point;
        }
        ctx.nTerms = j + tids.length;
    }

    /// @dev The term arrays with room for m entries (the first nTerms kept).
    function _growTerms(TCtx memory ctx, uint256 m) private pure {
        uint256[] memory tc = new uint256[](m);
        uint256[] memory tf = new uint256[](m);
        uint256[][] memory tp = new uint256[][](m);
        for (uint256 i = 0; i < ctx.nTerms; ++i) {
            tc[i] = ctx.termClaim[i];
            tf[i] = ctx.termCoef[i];
            tp[i] = ctx.termPoint[i];
        }
        ctx.termClaim = tc;
        ctx.termCoef = tf;
        ctx.termPoint = tp;
    }

    /// @notice The free-memory pointer: where the memory a step allocates begins (`release`).
    function mark() internal pure returns (uint256 fp) {
        assembly ("memory-safe") {
            fp := mload(0x40)
        }
    }

    /// @notice Frees what a step allocated from `fp` on, except what outlives it: the points of
    ///         the claims it recorded (claims `n0..`) and the claim store if it regrew. Those are
    ///         copied above the step's memory, then moved down to `fp` (memory costs gas
    ///         quadratically in its high-water mark, and every step would otherwise stack its
    ///         round arrays, module buffers and challenge vectors on top of the last one's).
    function release(TCtx memory ctx, uint256 fp, uint256 n0) internal pure {
        uint256[] memory tids = ctx.claimTid;
        uint256[][] memory points = ctx.claimPoint;
        uint256[] memory values = ctx.claimValue;
        uint256 n = ctx.nClaims;
        uint256 top = mark();
        uint256 dst = top;
        assembly ("memory-safe") {
            // a point shared by consecutive claims is copied once
            let lastSrc := 0
            let lastDst := 0
            for { let k := n0 } lt(k, n) { k := add(k, 1) } {
                let slot := add(points, shl(5, add(k, 1)))
                let pt := mload(slot)
                if iszero(lt(pt, fp)) {
                    if iszero(eq(pt, lastSrc)) {
                        lastSrc := pt
                        lastDst := add(fp, sub(dst, top))
                        let len := shl(5, add(mload(pt), 1))
                        mcopy(dst, pt, len)
                        dst := add(dst, len)
                    }
                    mstore(slot, lastDst)
                }
            }
            function keep(a, from, to, base, d) -> moved, nd {
                moved := a
                nd := d
                if iszero(lt(a, from)) {
                    let len := shl(5, add(mload(a), 1))
                    mcopy(d, a, len)
                    moved := add(base, sub(d, to))
                    nd := add(d, len)
                }
            }
            tids, dst := keep(tids, fp, top, fp, dst)
            points, dst := keep(points, fp, top, fp, dst)
            values, dst := keep(values, fp, top, fp, dst)
            mcopy(fp, top, sub(dst, top))
            mstore(0x40, add(fp, sub(dst, top)))
        }
        ctx.claimTid = tids;
        ctx.claimPoint = points;
        ctx.claimValue = values;
    }

    /// @dev First capacity: 32 + 1.5 x the tensor count (no regrowth for the tiny models,
    ///      which make ~1.1 claims per tensor; memory is quadratic in gas, and the store lives to
    ///      the end), 32 in a module step (which sees no tensor table).
    function _grow(TCtx memory ctx) private pure {
        uint256 n = ctx.claimTid.length;
        uint256 k = ctx.c.kind.length;
        uint256 m = n == 0 ? 32 + k + k / 2 : 2 * n;
        uint256[] memory tids = new uint256[](m);
        uint256[][] memory points = new uint256[][](m);
        uint256[] memory values = new uint256[](m);
        uint256[] memory a = ctx.claimTid;
        uint256[][] memory b = ctx.claimPoint;
        uint256[] memory c = ctx.claimValue;
        assembly ("memory-safe") {
            let len := shl(5, n)
            mcopy(add(tids, 32), add(a, 32), len)
            mcopy(add(points, 32), add(b, 32), len)
            mcopy(add(values, 32), add(c, 32), len)
        }
        ctx.claimTid = tids;
        ctx.claimPoint = points;
        ctx.claimValue = values;
    }

    /// @notice `evaluate(public[tid], point)`: the tokens (input) padded with zeros to
    ///         2^len(point) entries, or the one output word.
    function publicEval(TCtx memory ctx, uint256 tid, uint256[] memory point) internal pure returns (uint256 acc) {
        bool out = ctx.c.kind[tid] == KIND_OUTPUT;
        uint256 n = out ? 1 : ctx.nTokens;
        uint256 size = uint256(1) << point.length;
        if (n > size) TOps.reject("public-tensor", tid);
        uint256[] memory f = new uint256[](size);
        if (out) {
            f[0] = ctx.next;
        } else {
            uint256 off = ctx.tokensOffset;
            assembly ("memory-safe") {
                calldatacopy(add(f, 32), off, shl(5, n))
            }
        }
        assembly ("memory-safe") {
            let r := 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
            let base := add(f, 32)
            let half := shl(4, size)
            let pz := add(point, 32)
            let pend := add(pz, shl(5, mload(point)))
            for {} lt(pz, pend) { pz := add(pz, 32) } {
                let c := mload(pz)
                let end := add(base, half)
                for {
                    let lo := base
                    let hi := end
                } lt(lo, end) {
                    lo := add(lo, 32)
                    hi := add(hi, 32)
                } {
                    let a := mload(lo)
                    mstore(lo, addmod(a, mulmod(c, addmod(mload(hi), sub(r, a), r), r), r))
                }
                half := shr(1, half)
            }
            acc := mload(base)
        }
    }
}
