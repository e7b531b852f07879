// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ZkMask} from "../ZkMask.sol";
import {FrMath} from "../FrMath.sol";
import {Channel} from "../Transcript.sol";
import {Sumcheck} from "../Sumcheck.sol";
import {TOp} from "./TCircuit.sol";
import {TCtx, TContext} from "./TContext.sol";
import {TOps} from "./TOps.sol";
import {TModuleCall} from "./TransformerModules.sol";

/// @title TNorm
/// @notice `prover/ops/norm.py` Norm (RMSNorm and LayerNorm), verifier side.
///         t: x, g, b (NONE for RMSNorm), y, inv, m, z, c (= x for RMSNorm), inv digits,
///            lo digits, hi digits, y digits;
///         p: rows, dim, center, digit bits, C, eps term, shift, #inv, #lo, #hi digits, layer
///            groups (0: x is (T, d); L: x is a stack (L, T, d) with per-layer gains and biases).
library TNorm {
    uint256 private constant X = 0;
    uint256 private constant G = 1;
    uint256 private constant B = 2;
    uint256 private constant Y = 3;
    uint256 private constant INV = 4;
    uint256 private constant M = 5;
    uint256 private constant Z = 6;
    uint256 private constant C = 7;
    uint256 private constant DIGITS = 8;

    /// @notice `Norm.root`: the inverse-square-root inequalities at a fresh point, then the
    ///         output rescale.
    /// @dev Layer bits of a stacked input (0 if none).
    function _ng(TOp memory op) private pure returns (uint256) {
        return op.p[10] == 0 ? 0 : TOps.lg(op.p[10]);
    }

    /// @dev Row variables: the layer bits, then the row bits.
    function _nt(TOp memory op) private pure returns (uint256) {
        return _ng(op) + TOps.lg(op.p[0]);
    }

    /// @dev [t < rows] on the row variables (the layer bits are skipped: a stacked bias is zero
    ///      on padded layers), `Norm._row_indicator`.
    function _rowInd(TOp memory op, uint256[] memory r) private pure returns (uint256) {
        return TOps.ind(op.p[0], FrMath.suffix(r, _ng(op)));
    }

    function root(TCtx memory ctx, TOp memory op) internal view {
        uint256 nt = _nt(op);
        uint256[] memory r = Channel.challenges(ctx.ch, TOps.lbl(op, "/r"), nt);
        uint256 rho = Channel.challenge(ctx.ch, TOps.lbl(op, "/rho"));
        uint256 claimV = _slacks(ctx, op, r, rho);
        _isqrt(ctx, op, r, rho, claimV);
        TModuleCall.local(ctx, _rescaleOp(op));
    }

    /// @dev inv(r) against its digits, then lo + rho hi - C + rho (C + 1) from the slack digits.
    function _slacks(TCtx memory ctx, TOp memory op, uint256[] memory r, uint256 rho) private view returns (uint256) {
        uint256[] memory p = op.p;
        uint256 bd = p[3];
        uint256 invR = TContext.claim(ctx, op.t[INV], r, TOps.lbl(op, "/inv"));
        bytes32 dl = TOps.lbl(op, "/digit");
        if (TOps.digitSum(ctx, TOps.seg(op.t, DIGITS, p[7]), bd, r, dl) != invR) TOps.reject("norm-inv-range", 0);
        uint256 lo = TOps.digitSum(ctx, TOps.seg(op.t, DIGITS + p[7], p[8]), bd, r, dl);
        uint256 hi = TOps.digitSum(ctx, TOps.seg(op.t, DIGITS + p[7] + p[8], p[9]), bd, r, dl);
        uint256 cc = p[4] % FrMath.R;
        return FrMath.add(FrMath.sub(FrMath.add(lo, FrMath.mul(rho, hi)), cc), FrMath.mul(rho, FrMath.add(cc, 1)));
    }

    /// @dev The degree-4 sumcheck of m (rho - 1) inv^2 + 2 rho inv + rho) and its final check.
    function _isqrt(TCtx memory ctx, TOp memory op, uint256[] memory r, uint256 rho, uint256 claimV) private view {
        (uint256[] memory s, uint256 expected) =
            ZkMask.verify(ctx.ch, TOps.lbl(op, "/isqrt/g"), TOps.lbl(op, "/isqrt/r"), r.length, 4, 4, claimV);
        uint256 invS = TContext.claim(ctx, op.t[INV], s, TOps.lbl(op, "/inv"));
        uint256 mS = TContext.claim(ctx, op.t[M], s, TOps.lbl(op, "/m"));
        uint256 poly = FrMath.add(
            FrMath.add(FrMath.mul(FrMath.mul(FrMath.sub(rho, 1), invS), invS), FrMath.mul(FrMath.add(rho, rho), invS)), rho
        );
        if (FrMath.mul(FrMath.mul(TOps.eq(r, s), mS), poly) != expected) TOps.reject("norm-isqrt", 0);
    }

    /// @dev The norm's output `Rescale` (z, y, y digits; shift, digit bits) as an op.
    function _rescaleOp(TOp memory op) private pure returns (TOp memory rs) {
        uint256 from = DIGITS + op.p[7] + op.p[8] + op.p[9];
        uint256 n = op.t.length - from;
        rs.kind = TOps.RESCALE;
        rs.t = new uint256[](n + 2);
        rs.t[0] = op.t[Z];
        rs.t[1] = op.t[Y];
        for (uint256 i = 0; i < n; ++i) {
            rs.t[2 + i] = op.t[from + i];
        }
        rs.p = new uint256[](2);
        rs.p[0] = op.p[6];
        rs.p[1] = op.p[3];
        rs.label = "rescale";
        rs.labelLen = 7;
    }

    function reduce(TCtx memory ctx, TOp memory op, uint256 tid, uint256[] memory point, uint256 value)
        internal view
    {
        if (tid == op.t[Z]) _reduceZ(ctx, op, point, value);
        else if (tid == op.t[M]) _reduceM(ctx, op, point, value);
        else _reduceC(ctx, op, point, value);
    }

    function _reduceZ(TCtx memory ctx, TOp memory op, uint256[] memory point, uint256 value) private view {
        uint256 nt = _nt(op);
        uint256 ni = TOps.lg(op.p[1]);
        uint256 target = value;
        if (op.p[2] == 1) {
            uint256[] memory bp = TOps.cat(TOps.seg(point, 0, _ng(op)), FrMath.suffix(point, nt));
            uint256 bv = TContext.claim(ctx, op.t[B], bp, TOps.lbl(op, "/bias"));
            uint256 sh = FrMath.mul(FrMath.pow2(op.p[6]), _rowInd(op, TOps.seg(point, 0, nt)));
            target = FrMath.sub(value, FrMath.mul(sh, bv));
        }
        (uint256[] memory s, uint256 expected) =
            ZkMask.verify(ctx.ch, TOps.lbl(op, "/out/g"), TOps.lbl(op, "/out/r"), nt + ni, 4, 4, target);
        if (FrMath.mul(TOps.eq(point, s), _outClaims(ctx, op, s, nt)) != expected) TOps.reject("norm-output", 0);
    }

    /// @dev c(s) g(s_layer, s_i) inv(s_rows), all claimed.
    function _outClaims(TCtx memory ctx, TOp memory op, uint256[] memory s, uint256 nt) private view returns (uint256) {
        uint256 cv = TContext.claim(ctx, op.t[C], s, TOps.lbl(op, "/c"));
        uint256[] memory gp = TOps.cat(TOps.seg(s, 0, _ng(op)), FrMath.suffix(s, nt));
        uint256 gv = TContext.claim(ctx, op.t[G], gp, TOps.lbl(op, "/gain"));
        uint256 iv = TContext.claim(ctx, op.t[INV], TOps.seg(s, 0, nt), TOps.lbl(op, "/inv"));
        return FrMath.mul(FrMath.mul(cv, gv), iv);
    }

    function _reduceM(TCtx memory ctx, TOp memory op, uint256[] memory point, uint256 value) private view {
        uint256 nt = _nt(op);
        uint256 ni = TOps.lg(op.p[1]);
        uint256 target = FrMath.sub(value, op.p[5] % FrMath.R);
        (uint256[] memory u, uint256 expected) =
            ZkMask.verify(ctx.ch, TOps.lbl(op, "/sumsq/g"), TOps.lbl(op, "/sumsq/r"), nt + ni, 3, 3, target);
        uint256 cu = TContext.claim(ctx, op.t[C], u, TOps.lbl(op, "/c"));
        if (FrMath.mul(FrMath.mul(FrMath.eqEval(point, 0, u, 0, nt), cu), cu) != expected) {
            TOps.reject("norm-sumsq", 0);
        }
    }

    function _reduceC(TCtx memory ctx, TOp memory op, uint256[] memory point, uint256 value) private view {
        uint256 nt = _nt(op);
        uint256 ni = TOps.lg(op.p[1]);
        uint256 xa = TContext.claim(ctx, op.t[X], point, TOps.lbl(op, "/x"));
        uint256[] memory half = new uint256[](ni);
        for (uint256 i = 0; i < ni; ++i) {
            half[i] = FrMath.INV2;
        }
        uint256 xm = TContext.claim(ctx, op.t[X], TOps.cat(TOps.seg(point, 0, nt), half), TOps.lbl(op, "/xrow"));
        uint256 mean = FrMath.mul(FrMath.mul(TOps.ind(op.p[1], FrMath.suffix(point, nt)), FrMath.pow2(ni)), xm);
        if (FrMath.sub(FrMath.mul(op.p[1], xa), mean) != value) TOps.reject("norm-centre", 0);
    }
}
