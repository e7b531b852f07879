// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ZkMask} from "./ZkMask.sol";
import {FrMath} from "./FrMath.sol";
import {Channel, MaskLog} from "./Transcript.sol";
import {LinearOp, RescaleOp, KIND_INPUT, KIND_OUTPUT} from "./Circuit.sol";
import {VerifierCtx, Context} from "./Context.sol";

/// @title Linear
/// @notice `prover/ops/linear.py` with the obligation of its Rescale (`prover/zk/shadow.py`):
///         the claim z(r) = 2^S q(r) + sum_k 2^(b k) d_k(r) - 2^(S-1) arrives with nothing
///         sent (`Rescale.root`) and is reduced by one shadowed sumcheck over a selector b and
///         the input axis, v = sum_{b,i} (1 - b) (x~ W~ + ind_T(r_t) 2^-ni B~) + 2^-ni (b K + (1 - 2b) P_F),
///         where x~, W~, B~ carry shadow entries of the mask pool (a public x none) and
///         K = -(the obligation's committed part). Its final check holds K and P_F, so it is
///         recorded as a combined claim on q, the digits and the pool for the batch opening.
library Linear {
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

    function reduce(VerifierCtx memory ctx, LinearOp memory op, RescaleOp memory rs, uint256[] memory point,
                    uint256 value) internal pure {
        bool xPublic = ctx.c.kind[op.x] == KIND_INPUT;
        uint256 sx = xPublic ? type(uint256).max : ZkMask.takeShadow(ctx.ch.mask); // x, W, b (sw + 1), P_F
        uint256 sw = ZkMask.takeShadow(ctx.ch.mask);
        ZkMask.takeShadow(ctx.ch.mask);
        uint256 sf = ZkMask.takeShadow(ctx.ch.mask);
        (uint256[] memory s, uint256 expected) =
            ZkMask.verify(ctx.ch, "linear/g", "linear/r", FrMath.log2Ceil(op.dIn) + 1, xPublic ? 2 : 3, 2, value);
        uint256 lhs = _operands(ctx, op, point, s, sx, sw);
        _close(ctx, rs, point, s, expected, lhs, sf);
    }

    /// @dev `shadow.close`: sum_l (-r_b 2^-ni c_l) g_l(r) + (1 - 2 r_b) 2^-ni P_F = expected - (1 - r_b) lhs.
    function _close(VerifierCtx memory ctx, RescaleOp memory rs, uint256[] memory point, uint256[] memory s,
                    uint256 expected, uint256 lhs, uint256 sf) private pure {
        uint256 rb = s[0];
        uint256 w = FrMath.inv2Pow(s.length - 1);
        ZkMask.setShadow(ctx.ch.mask, sf, ctx.nClaims, FrMath.mul(FrMath.sub(1, FrMath.add(rb, rb)), w));
        Context.obligation(
            ctx, rs, point, FrMath.sub(0, FrMath.mul(rb, w)), FrMath.sub(expected, FrMath.mul(FrMath.sub(1, rb), lhs))
        );
    }

    /// @dev x~ W~ + ind_T(r_t) 2^-ni B~ from the operands' sent values (x public: evaluated).
    function _operands(VerifierCtx memory ctx, LinearOp memory op, uint256[] memory point, uint256[] memory s,
                       uint256 sx, uint256 sw) private pure returns (uint256) {
        uint256 nt = FrMath.log2Ceil(op.rows);
        uint256[] memory si = FrMath.suffix(s, 1);
        uint256[] memory xp = FrMath.concat(FrMath.slice(point, 0, nt), nt, si);
        uint256 xv = sx == type(uint256).max
            ? Context.publicEval(ctx, op.x, xp)
            : Context.shadowed(ctx, op.x, xp, s[0], sx, "linear/x");
        uint256[] memory rO = FrMath.suffix(point, nt);
        uint256 wv = Context.shadowed(ctx, op.w, FrMath.concat(rO, rO.length, si), s[0], sw, "linear/w");
        return FrMath.add(FrMath.mul(xv, wv), _bias(ctx, op, point, s, sw + 1));
    }

    /// @dev ind_T(r_t) 2^-ni B~(r_b).
    function _bias(VerifierCtx memory ctx, LinearOp memory op, uint256[] memory point, uint256[] memory s, uint256 sb)
        private
        pure
        returns (uint256)
    {
        uint256 nt = FrMath.log2Ceil(op.rows);
        uint256 cb = FrMath.mul(prefixIndicator(op.rows, FrMath.slice(point, 0, nt)), FrMath.inv2Pow(s.length - 1));
        return FrMath.mul(cb, Context.shadowed(ctx, op.b, FrMath.suffix(point, nt), s[0], sb, "linear/bias"));
    }
}

/// @title Rescale
/// @notice `prover/ops/rescale.py` Rescale.root with an absorbing producer: at a fresh point r
///         nothing is sent; z's Linear receives the obligation z(r) = 2^S q(r) +
///         sum_k 2^(b k) d_k(r) - 2^(S-1) (a public q, the output, evaluated into the value).
library Rescale {
    function root(VerifierCtx memory ctx, RescaleOp memory rs) internal pure {
        uint256[] memory r = Channel.challenges(ctx.ch, "rescale/r", ctx.c.numVarsOf[rs.z]);
        uint256 v = FrMath.sub(0, FrMath.pow2(rs.shift - 1));
        if (ctx.c.kind[rs.q] == KIND_OUTPUT) {
            v = FrMath.add(v, FrMath.mul(FrMath.pow2(rs.shift), Context.publicEval(ctx, rs.q, r)));
        }
        Linear.reduce(ctx, ctx.c.linears[ctx.c.producer[rs.z]], rs, r, v);
    }
}
