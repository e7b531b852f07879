// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {FrMath} from "../FrMath.sol";
import {Channel} from "../Transcript.sol";
import {Sumcheck} from "../Sumcheck.sol";
import {TOp} from "./TCircuit.sol";
import {TCtx, TContext} from "./TContext.sol";
import {TOps} from "./TOps.sol";

/// @title TSoftmax
/// @notice `prover/ops/softmax.py` Softmax.root (zkAttn), verifier side.
///         t: S, P, z, d_k (K), F_k (K), per k >= 1: g_k digits, rem_k digits; ulo, uhi;
///         p: T, K, p_out, range bits, digit bits, bound B, #g, #rem, #u digits, then the
///            batch axes (heads, or layers and heads).
library TSoftmax {
    struct V {
        uint256 nh;
        uint256 nt;
        uint256 k;
        uint256 rb;
        uint256 nG;
        uint256 nRem;
        uint256[] s;
        uint256[] al;
        uint256 expected;
        uint256 sv;
        uint256 zv;
        uint256 dv;
        uint256[] fv;
        uint256[] gv;
        uint256[] remv;
        uint256 pv;
    }

    /// @dev Every tensor of the op is committed (the caller checks), so claims are recorded.
    function root(TCtx memory ctx, TOp memory op) internal pure {
        V memory v;
        for (uint256 i = 9; i < op.p.length; ++i) {
            v.nh += TOps.lg(op.p[i]);
        }
        v.nt = TOps.lg(op.p[0]);
        v.k = op.p[1];
        v.rb = op.p[3];
        v.nG = op.p[6];
        v.nRem = op.p[7];
        uint256 n = v.nh + 2 * v.nt;
        uint256[] memory r = Channel.challenges(ctx.ch, "softmax/r", n);
        v.al = FrMath.powers(Channel.challenge(ctx.ch, "softmax/alpha"), v.k + 1);
        (v.s, v.expected) = Sumcheck.verify(ctx.ch, "softmax/zero/g", "softmax/zero/r", n, 3, 0);
        _claims(ctx, op, v);
        if (FrMath.mul(TOps.eq(r, v.s), _relation(op, v)) != v.expected) TOps.reject("softmax", 0);
        _rowSums(ctx, op, v);
    }

    function _claims(TCtx memory ctx, TOp memory op, V memory v) private pure {
        uint256[] memory t = op.t;
        uint256 k = v.k;
        v.sv = TContext.claimCommitted(ctx, t[0], v.s, "softmax/S");
        v.zv = TContext.claimCommitted(ctx, t[2], TOps.seg(v.s, 0, v.nh + v.nt), "softmax/z");
        v.dv = TOps.committedDigitSum(ctx, TOps.seg(t, 3, k), op.p[4], v.s, "softmax/d");
        v.fv = new uint256[](k);
        for (uint256 i = 0; i < k; ++i) {
            v.fv[i] = TContext.claimCommitted(ctx, t[3 + k + i], v.s, "softmax/F");
        }
        v.gv = new uint256[](k);
        v.gv[0] = v.fv[0];
        uint256 base = 3 + 2 * k;
        uint256 per = v.nG + v.nRem;
        for (uint256 i = 1; i < k; ++i) {
            v.gv[i] = TOps.committedDigitSum(ctx, TOps.seg(t, base + (i - 1) * per, v.nG), v.rb, v.s, "softmax/g");
        }
        v.remv = new uint256[](k);
        for (uint256 i = 1; i < k; ++i) {
            v.remv[i] = TOps.committedDigitSum(ctx, TOps.seg(t, base + (i - 1) * per + v.nG, v.nRem), v.rb, v.s, "softmax/rem");
        }
        v.pv = TContext.claimCommitted(ctx, t[1], v.s, "softmax/P");
    }

    /// @dev M A + L + sum_k alpha^k G_{k-1} F_k at the sumcheck's point.
    function _relation(TOp memory op, V memory v) private pure returns (uint256) {
        uint256 k = v.k;
        uint256 one = FrMath.pow2(op.p[2]);
        uint256 half = FrMath.pow2(op.p[2] - 1);
        uint256 mv = FrMath.mul(
            _batchInd(op, v.s),
            causalMask(op.p[0], TOps.seg(v.s, v.nh, v.nt), FrMath.suffix(v.s, v.nh + v.nt))
        );
        uint256 av = FrMath.sub(FrMath.sub(FrMath.add(v.dv, v.sv), v.zv), FrMath.mul(v.al[k], v.gv[k - 1]));
        uint256 lv = FrMath.mul(v.al[k], v.pv);
        uint256 prod;
        for (uint256 i = 1; i < k; ++i) {
            uint256 term = FrMath.sub(FrMath.sub(half, FrMath.mul(one, v.gv[i])), v.remv[i]);
            lv = FrMath.add(lv, FrMath.mul(v.al[i], term));
            prod = FrMath.add(prod, FrMath.mul(FrMath.mul(v.al[i], v.gv[i - 1]), v.fv[i]));
        }
        return FrMath.add(FrMath.add(FrMath.mul(mv, av), lv), prod);
    }

    function _rowSums(TCtx memory ctx, TOp memory op, V memory v) private pure {
        uint256 nh = v.nh;
        uint256 nt = v.nt;
        uint256[] memory rr = Channel.challenges(ctx.ch, "softmax/row", nh + nt);
        uint256[] memory half = new uint256[](nt);
        for (uint256 i = 0; i < nt; ++i) {
            half[i] = FrMath.INV2;
        }
        uint256 psum = FrMath.mul(FrMath.pow2(nt), TContext.claimCommitted(ctx, op.t[1], TOps.cat(rr, half), "softmax/Psum"));
        uint256 uBase = 3 + 2 * v.k + (v.k - 1) * (v.nG + v.nRem);
        uint256 nU = op.p[8];
        uint256 ulo = TOps.committedDigitSum(ctx, TOps.seg(op.t, uBase, nU), v.rb, rr, "softmax/u");
        uint256 uhi = TOps.committedDigitSum(ctx, TOps.seg(op.t, uBase + nU, nU), v.rb, rr, "softmax/u");
        uint256 indv = FrMath.mul(_batchInd(op, rr), TOps.ind(op.p[0], FrMath.suffix(rr, nh)));
        uint256 bound = op.p[5];
        uint256 one = FrMath.pow2(op.p[2]);
        bool bad = FrMath.sub(FrMath.sub(psum, FrMath.mul(indv, FrMath.sub(one, bound))), ulo) != 0
            || FrMath.sub(FrMath.add(ulo, uhi), FrMath.mul(FrMath.mul(2, bound), indv)) != 0;
        if (bad) TOps.reject("softmax-rowsum", 0);
    }

    /// @dev `mle.batch_indicator(axes, point)`: the product over the batch axes of the prefix
    ///      indicator of each axis on its coordinates (the leading ones of `point`).
    function _batchInd(TOp memory op, uint256[] memory point) private pure returns (uint256 acc) {
        acc = 1;
        uint256 off;
        for (uint256 i = 9; i < op.p.length; ++i) {
            uint256 k = TOps.lg(op.p[i]);
            acc = FrMath.mul(acc, TOps.ind(op.p[i], TOps.seg(point, off, k)));
            off += k;
        }
    }

    /// @notice `softmax.causal_mask_mle(T, t, j)`: MLE of [j <= t < T], by the comparison
    ///         automaton over the bits (state (a, c): j vs t and t vs T - 1, each 0 equal so
    ///         far, 1 less, 2 greater), O(m).
    function causalMask(uint256 T, uint256[] memory tPt, uint256[] memory jPt) internal pure returns (uint256 acc) {
        uint256 m = tPt.length;
        uint256 lim = T - 1;
        uint256[9] memory w;
        w[0] = 1;
        for (uint256 i = 0; i < m; ++i) {
            uint256[9] memory nx;
            uint256 lb = (lim >> (m - 1 - i)) & 1;
            uint256[2] memory ft = [FrMath.sub(1, tPt[i]), tPt[i]];
            uint256[2] memory fj = [FrMath.sub(1, jPt[i]), jPt[i]];
            for (uint256 st = 0; st < 9; ++st) {
                uint256 wt = w[st];
                if (wt == 0) continue;
                uint256 a = st / 3;
                uint256 c = st % 3;
                for (uint256 tb = 0; tb < 2; ++tb) {
                    uint256 nc = c != 0 ? c : (tb == lb ? 0 : (tb < lb ? 1 : 2));
                    uint256 wtt = FrMath.mul(wt, ft[tb]);
                    for (uint256 jb = 0; jb < 2; ++jb) {
                        uint256 na = a != 0 ? a : (jb == tb ? 0 : (jb < tb ? 1 : 2));
                        uint256 idx = na * 3 + nc;
                        nx[idx] = FrMath.add(nx[idx], FrMath.mul(wtt, fj[jb]));
                    }
                }
            }
            w = nx;
        }
        acc = FrMath.add(FrMath.add(w[0], w[1]), FrMath.add(w[3], w[4]));
    }
}
