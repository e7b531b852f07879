// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ZkMask} from "./ZkMask.sol";
import {FrMath} from "./FrMath.sol";
import {Channel} from "./Transcript.sol";
import {LinearOp, RescaleOp} from "./Circuit.sol";
import {VerifierCtx, Context} from "./Context.sol";
import {Sumcheck} from "./Sumcheck.sol";

/// @title Linear
/// @notice `prover/ops/linear.py`: a claim z(r_t, r_o) = v is reduced by one degree-2
///         sumcheck over a shadow selector b and the input axis,
///         v = sum_{b,i} (1 - b) (x(r_t, i) W~(b, i) + ind_T(r_t) 2^-ni B~(b)), where
///         W~ = W(r_o, .) + b S_w and B~ = b(r_o) + b S_b hide the model's evaluations behind
///         two shadow entries of the mask pool; the final check is on the sent W~, B~.
library Linear {
    /// @notice x(r_t, s) W(r_o, s) differs from the sumcheck's final claim
    ///         (Python: VerificationError("linear")). `layer` is the layer index.
    error LinearFinalCheckFailed(uint256 layer);

    /// @notice `prefix_indicator(count, point)`: MLE of [1]*count + [0]*(2^m - count).
    function prefixIndicator(uint256 count, uint256[] memory point) internal pure returns (uint256 acc) {
        uint256 m = point.length;
        if (count >= uint256(1) << m) return 1;
        uint256 full = 1;
        for (uint256 i = 0; i < m; ++i) {
            uint256 z = point[i];
            if ((count >> (m - 1 - i)) & 1 == 1) {
                acc = addmod(acc, mulmod(full, addmod(1, FrMath.R - z, FrMath.R), FrMath.R), FrMath.R);
                full = mulmod(full, z, FrMath.R);
            } else {
                full = mulmod(full, addmod(1, FrMath.R - z, FrMath.R), FrMath.R);
            }
        }
    }

    function reduce(VerifierCtx memory ctx, LinearOp memory op, uint256[] memory point, uint256 value) internal pure {
        uint256 nt = FrMath.log2Ceil(op.rows);
        uint256 sw = ZkMask.takeShadow(ctx.ch.mask); // the shadows of W's (sw) and b's (sw + 1) evaluations
        ZkMask.takeShadow(ctx.ch.mask);
        (uint256[] memory s, uint256 expected) =
            ZkMask.verify(ctx.ch, "linear/g", "linear/r", FrMath.log2Ceil(op.dIn) + 1, 2, 2, value);
        uint256[] memory rT = FrMath.slice(point, 0, nt);
        uint256[] memory rO = FrMath.suffix(point, nt);
        uint256[] memory si = FrMath.suffix(s, 1);
        uint256 xv = Context.claim(ctx, op.x, FrMath.concat(rT, nt, si), "linear/x");
        uint256 wv = Context.shadowed(ctx, op.w, FrMath.concat(rO, rO.length, si), s[0], sw, "linear/w");
        uint256 bv = Context.shadowed(ctx, op.b, rO, s[0], sw + 1, "linear/bias");
        uint256 cb = FrMath.mul(prefixIndicator(op.rows, rT), FrMath.inv2Pow(si.length));
        if (FrMath.mul(FrMath.sub(1, s[0]), FrMath.add(FrMath.mul(xv, wv), FrMath.mul(cb, bv))) != expected) {
            revert LinearFinalCheckFailed(op.layer);
        }
    }
}

/// @title Rescale
/// @notice `prover/ops/rescale.py` Rescale.root: at a fresh point r,
///         z(r) = 2^S q(r) + sum_k 2^(b k) d_k(r) - 2^(S-1), handed to z's producer.
library Rescale {
    function root(VerifierCtx memory ctx, RescaleOp memory rs) internal pure {
        uint256 n = ctx.c.numVarsOf[rs.z];
        uint256[] memory r = Channel.challenges(ctx.ch, "rescale/r", n);
        uint256 v = FrMath.mul(FrMath.pow2(rs.shift), Context.claim(ctx, rs.q, r, "rescale/q"));
        for (uint256 k = 0; k < rs.digitIds.length; ++k) {
            uint256 dv = Context.claim(ctx, rs.digitIds[k], r, "rescale/digit");
            v = FrMath.add(v, FrMath.mul(FrMath.pow2(k * rs.digitBits), dv));
        }
        Context.reduce(ctx, rs.z, r, FrMath.sub(v, FrMath.pow2(rs.shift - 1)));
    }
}
