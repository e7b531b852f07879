// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {FrMath} from "./FrMath.sol";
import {VerifierChannel, Channel} from "./Transcript.sol";
import {Circuit, RescaleOp, KIND_INPUT, KIND_OUTPUT} from "./Circuit.sol";
import {ZkMask} from "./ZkMask.sol";

/// @notice `prover/context.py` VerifierCtx: the channel, the circuit (specs, producers,
///         commitments) and the claim store. The public tensors are the statement's
///         input and output words in calldata.
struct VerifierCtx {
    VerifierChannel ch;
    Circuit c;
    uint256 inputOffset;
    uint256 outputOffset;
    uint256 nClaims;
    uint256[] claimTid;
    uint256[][] claimPoint;
    uint256[] claimValue;
    uint256 nTerms; // combined claims' term entries (`BatchOpening.ClaimSet`)
    uint256[] termClaim;
    uint256[] termCoef;
    uint256[][] termPoint;
}

/// @title Context
/// @notice `claim` / `reduce` of `prover/context.py`:
///         * claim(tid, point): a public tensor is evaluated here; any other tensor's value
///           is received from the proof; then the value is reduced;
///         * reduce(tid, point, value): a public tensor is checked, a committed one is
///           recorded for the batch opening (the MLP's only virtual tensors, the Linear
///           outputs, are reduced by `Rescale.root` directly, as obligations).
library Context {
    /// @notice A value derived for a public tensor differs from its evaluation
    ///         (Python: VerificationError("public-tensor")).
    error PublicTensorCheckFailed(uint256 tid);
    /// @dev Internal invariant: more claims than `Circuit.maxClaims`.
    error ClaimCapacity();

    function claim(VerifierCtx memory ctx, uint256 tid, uint256[] memory point, bytes32 label)
        internal
        pure
        returns (uint256 v)
    {
        uint256 kind = ctx.c.kind[tid];
        if (kind == KIND_INPUT || kind == KIND_OUTPUT) {
            // reduce() of a public tensor would compare this evaluation with itself
            return publicEval(ctx, tid, point);
        }
        v = Channel.recvFr(ctx.ch, label);
        reduce(ctx, tid, point, v);
    }

    function reduce(VerifierCtx memory ctx, uint256 tid, uint256[] memory point, uint256 value) internal pure {
        uint256 kind = ctx.c.kind[tid];
        if (kind == KIND_INPUT || kind == KIND_OUTPUT) {
            if (publicEval(ctx, tid, point) != value) revert PublicTensorCheckFailed(tid);
        } else {
            _record(ctx, tid, point, value);
        }
    }

    /// @notice A Rescale's obligation absorbed by its Linear (`shadow.close`): the combined
    ///         claim sum_l c c_l g_l(point) (+ its pool term, set by the caller) = value over
    ///         g = (q unless public, d_0, d_1, ...), c_l = 2^S for q and 2^(b k) for d_k.
    function obligation(VerifierCtx memory ctx, RescaleOp memory rs, uint256[] memory point, uint256 c,
                        uint256 value) internal pure {
        bool qHidden = ctx.c.kind[rs.q] != KIND_OUTPUT;
        uint256 nd = rs.digitIds.length;
        uint256 off = qHidden ? 1 : 0;
        uint256[] memory tids = new uint256[](nd + off);
        uint256[] memory coefs = new uint256[](nd + off);
        if (qHidden) {
            tids[0] = rs.q;
            coefs[0] = FrMath.mul(c, FrMath.pow2(rs.shift));
        }
        for (uint256 l = 0; l < nd; ++l) {
            tids[l + off] = rs.digitIds[l];
            coefs[l + off] = FrMath.mul(c, FrMath.pow2(l * rs.digitBits));
        }
        combined(ctx, tids, coefs, point, value);
    }

    /// @notice `context.combined_claim` with every term at one point:
    ///         sum_l coefs[l] f_{tids[l]}(point) = value. Claim entry: the first term's tensor and
    ///         the point; every term is a term entry (`BatchOpening.ClaimSet`).
    function combined(VerifierCtx memory ctx, uint256[] memory tids, uint256[] memory coefs, uint256[] memory point,
                      uint256 value) internal pure {
        uint256 k = ctx.nClaims;
        _record(ctx, tids[0], point, value);
        for (uint256 l = 0; l < tids.length; ++l) {
            _term(ctx, k, tids[l], coefs[l], point);
        }
    }

    /// @dev Term entry of claim k on tensor tid: termClaim = k | (tid + 1) << 64.
    function _term(VerifierCtx memory ctx, uint256 k, uint256 tid, uint256 coef, uint256[] memory point)
        private
        pure
    {
        uint256 j = ctx.nTerms;
        if (j >= ctx.termClaim.length) revert ClaimCapacity();
        ctx.termClaim[j] = k | ((tid + 1) << 64);
        ctx.termCoef[j] = coef;
        ctx.termPoint[j] = point;
        ctx.nTerms = j + 1;
    }

    /// @notice `mask.shadowed_claim`: receives v~ = f_tid(point) + r S (S the entry of shadow
    ///         block `blk` of the mask pool) and records it as the claim f_tid(point) + r S = v~:
    ///         a plain claim whose pool term the batch opening adds (`ZkMask.poolWeight`).
    function shadowed(VerifierCtx memory ctx, uint256 tid, uint256[] memory point, uint256 r, uint256 blk,
                      bytes32 label) internal pure returns (uint256 v) {
        v = Channel.recvFr(ctx.ch, label);
        ZkMask.setShadow(ctx.ch.mask, blk, ctx.nClaims, r);
        _record(ctx, tid, point, v);
    }

    function _record(VerifierCtx memory ctx, uint256 tid, uint256[] memory point, uint256 value) private pure {
        // point.length == num_vars(tid) holds by construction of every caller
        uint256 k = ctx.nClaims;
        uint256[] memory tids = ctx.claimTid;
        uint256[][] memory points = ctx.claimPoint;
        uint256[] memory values = ctx.claimValue;
        if (k >= tids.length) revert ClaimCapacity();
        assembly ("memory-safe") {
            let at := shl(5, add(k, 1))
            mstore(add(tids, at), tid)
            mstore(add(points, at), point)
            mstore(add(values, at), value)
        }
        ctx.nClaims = k + 1;
    }

    /// @notice `evaluate(pad_flat(values, shape), point)` for the input (rows, d_in) or the
    ///         output (rows, d_out): the padded 2^nt x 2^nd table is built in memory (zeros
    ///         outside rows x d) and folded variable by variable, first variable first
    ///         (`mle.fold`: f(c, ..) = lo + c (hi - lo)).
    function publicEval(VerifierCtx memory ctx, uint256 tid, uint256[] memory point) internal pure returns (uint256 acc) {
        uint256 rows = ctx.c.rows;
        bool out = tid == ctx.c.outputId;
        uint256 d = out ? ctx.c.dOut : ctx.c.dIn;
        uint256 off = out ? ctx.outputOffset : ctx.inputOffset;
        uint256 nd = FrMath.log2Ceil(d);
        uint256[] memory f = new uint256[](uint256(1) << point.length);
        assembly ("memory-safe") {
            let r := 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
            let base := add(f, 32)
            let rowBytes := shl(5, d)
            let padBytes := shl(5, shl(nd, 1))
            for { let t := 0 } lt(t, rows) { t := add(t, 1) } {
                calldatacopy(add(base, mul(t, padBytes)), add(off, mul(t, rowBytes)), rowBytes)
            }
            let half := shl(4, mload(f)) // bytes in half of the table
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
