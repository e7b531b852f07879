// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ZkMask} from "../ZkMask.sol";
import {FrMath} from "../FrMath.sol";
import {Channel} from "../Transcript.sol";
import {Sumcheck} from "../Sumcheck.sol";
import {TOp} from "./TCircuit.sol";
import {TCtx, TContext} from "./TContext.sol";
import {TOps} from "./TOps.sol";

/// @title TSoftmax
/// @notice `prover/ops/softmax.py` Softmax.root (zkAttn), verifier side.
///         t: S, P, z, U, o, d_k (K), F_k (K), per k >= 1: g_k digits, rem_k digits; iota, rho,
///            rhc, P and c digits;
///         p: T, K, p_out, range bits, digit bits, recip bits q, #g, #rem, #iota, #rho (= #rhc),
///            #P, #c digits, then the batch axes (heads, or layers and heads).
library TSoftmax {
    /// @dev Index of the first batch axis in `op.p`.
    uint256 internal constant AXES = 12;

    struct V {
        uint256 nh;
        uint256 nt;
        uint256 k;
        uint256 rb;
        uint256 nG;
        uint256 nRem;
        uint256 tail; // index in op.t of the first iota digit
        uint256[] s;
        uint256[] al;
        uint256 expected;
        uint256 sv;
        uint256 zv;
        uint256 dv;
        uint256[] fv;
        uint256[] gv;
        uint256[] remv;
        uint256 uv;
        uint256 pv;
        uint256 ov;
        uint256 iv;
        uint256 pdv;
        uint256 cv;
    }

    /// @dev Every tensor of the op is committed (the caller checks), so claims are recorded.
    function root(TCtx memory ctx, TOp memory op) internal pure {
        V memory v;
        for (uint256 i = AXES; i < op.p.length; ++i) {
            v.nh += TOps.lg(op.p[i]);
        }
        v.nt = TOps.lg(op.p[0]);
        v.k = op.p[1];
        v.rb = op.p[3];
        v.nG = op.p[6];
        v.nRem = op.p[7];
        v.tail = 5 + 2 * v.k + (v.k - 1) * (v.nG + v.nRem);
        uint256 n = v.nh + 2 * v.nt;
        uint256[] memory r = Channel.challenges(ctx.ch, "softmax/r", n);
        v.al = FrMath.powers(Channel.challenge(ctx.ch, "softmax/alpha"), v.k + 5);
        (v.s, v.expected) = ZkMask.verify(ctx.ch, "softmax/zero/g", "softmax/zero/r", n, 3, 3, 0);
        _claims(ctx, op, v);
        if (FrMath.mul(TOps.eq(r, v.s), _relation(op, v)) != v.expected) TOps.reject("softmax", 0);
        _rows(ctx, op, v);
    }

    function _claims(TCtx memory ctx, TOp memory op, V memory v) private pure {
        uint256[] memory t = op.t;
        uint256 k = v.k;
        uint256[] memory srow = TOps.seg(v.s, 0, v.nh + v.nt);
        v.sv = TContext.claimCommitted(ctx, t[0], v.s, "softmax/S");
        v.zv = TContext.claimCommitted(ctx, t[2], srow, "softmax/z");
        v.dv = TOps.committedDigitSum(ctx, TOps.seg(t, 5, k), op.p[4], v.s, "softmax/d");
        v.fv = new uint256[](k);
        for (uint256 i = 0; i < k; ++i) {
            v.fv[i] = TContext.claimCommitted(ctx, t[5 + k + i], v.s, "softmax/F");
        }
        v.gv = new uint256[](k);
        v.gv[0] = v.fv[0];
        uint256 base = 5 + 2 * k;
        uint256 per = v.nG + v.nRem;
        for (uint256 i = 1; i < k; ++i) {
            v.gv[i] = TOps.committedDigitSum(ctx, TOps.seg(t, base + (i - 1) * per, v.nG), v.rb, v.s, "softmax/g");
        }
        v.remv = new uint256[](k);
        for (uint256 i = 1; i < k; ++i) {
            v.remv[i] = TOps.committedDigitSum(ctx, TOps.seg(t, base + (i - 1) * per + v.nG, v.nRem), v.rb, v.s, "softmax/rem");
        }
        v.uv = TContext.claimCommitted(ctx, t[3], v.s, "softmax/U");
        v.pv = TContext.claimCommitted(ctx, t[1], v.s, "softmax/P");
        v.ov = TContext.claimCommitted(ctx, t[4], v.s, "softmax/o");
        uint256 at = v.tail;
        v.iv = TOps.committedDigitSum(ctx, TOps.seg(t, at, op.p[8]), v.rb, srow, "softmax/iota");
        at += op.p[8] + 2 * op.p[9];
        v.pdv = TOps.committedDigitSum(ctx, TOps.seg(t, at, op.p[10]), v.rb, v.s, "softmax/pd");
        v.cv = TOps.committedDigitSum(ctx, TOps.seg(t, at + op.p[10], op.p[11]), v.rb, v.s, "softmax/c");
    }

    /// @dev M A + L + sum_k alpha^k G_{k-1} F_k - alpha^(K+1) U iota + alpha^(K+3) o D
    ///      - alpha^(K+4) o M at the sumcheck's point.
    function _relation(TOp memory op, V memory v) private pure returns (uint256) {
        uint256 k = v.k;
        uint256 mv = FrMath.mul(
            _batchInd(op, v.s),
            causalMask(op.p[0], TOps.seg(v.s, v.nh, v.nt), FrMath.suffix(v.s, v.nh + v.nt))
        );
        uint256 av = FrMath.sub(FrMath.sub(v.sv, v.zv), FrMath.mul(v.al[k], v.gv[k - 1]));
        uint256 lv = FrMath.add(_normalisation(op, v, mv), v.dv);
        uint256 one = FrMath.pow2(op.p[2]);
        uint256 half = FrMath.pow2(op.p[2] - 1);
        for (uint256 i = 1; i < k; ++i) {
            uint256 term = FrMath.sub(FrMath.sub(half, FrMath.mul(one, v.gv[i])), v.remv[i]);
            lv = FrMath.add(lv, FrMath.mul(v.al[i], term));
            lv = FrMath.add(lv, FrMath.mul(FrMath.mul(v.al[i], v.gv[i - 1]), v.fv[i]));
        }
        return FrMath.add(FrMath.mul(mv, av), lv);
    }

    /// @dev alpha^K U + alpha^(K+1) (2^q P + c - 2^(q-1) - U iota) + alpha^(K+2) (P - Pd)
    ///      + alpha^(K+3) o D + alpha^(K+4) o (1 - M).
    function _normalisation(TOp memory op, V memory v, uint256 mv) private pure returns (uint256 acc) {
        uint256[] memory al = v.al;
        uint256 k = v.k;
        uint256 q = op.p[5];
        uint256 x = FrMath.add(FrMath.mul(FrMath.pow2(q), v.pv), v.cv);
        x = FrMath.sub(x, FrMath.add(FrMath.pow2(q - 1), FrMath.mul(v.uv, v.iv)));
        acc = FrMath.add(FrMath.mul(al[k], v.uv), FrMath.mul(al[k + 1], x));
        acc = FrMath.add(acc, FrMath.mul(al[k + 2], FrMath.sub(v.pv, v.pdv)));
        uint256 sel = FrMath.add(FrMath.mul(al[k + 3], v.dv), FrMath.mul(al[k + 4], FrMath.sub(1, mv)));
        acc = FrMath.add(acc, FrMath.mul(v.ov, sel));
    }

    /// @dev The row zero-check (`Softmax._rows`): the reciprocal iota, its remainders rho and
    ///      rhc, the selector's row sums and the padded rows.
    function _rows(TCtx memory ctx, TOp memory op, V memory v) private pure {
        uint256 nr = v.nh + v.nt;
        uint256[] memory rr = Channel.challenges(ctx.ch, "softmax/row", nr);
        (uint256[] memory y, uint256 expected) = ZkMask.verify(ctx.ch, "softmax/rows/g", "softmax/rows/r", nr, 3, 3, 0);
        uint256[6] memory c = _rowClaims(ctx, op, v, y);
        uint256 ind = FrMath.mul(_batchInd(op, y), TOps.ind(op.p[0], FrMath.suffix(y, v.nh)));
        if (FrMath.mul(TOps.eq(rr, y), _rowRelation(op, v.al, c, ind)) != expected) TOps.reject("softmax-rows", 0);
    }

    /// @dev (sigma, osum, iota, rho, rhc, z) at the row point y: sigma and osum from the claims
    ///      on U and o at (y, 1/2, ..., 1/2) times 2^(log T).
    function _rowClaims(TCtx memory ctx, TOp memory op, V memory v, uint256[] memory y)
        private
        pure
        returns (uint256[6] memory c)
    {
        uint256[] memory half = new uint256[](v.nt);
        for (uint256 i = 0; i < v.nt; ++i) {
            half[i] = FrMath.INV2;
        }
        uint256[] memory yh = TOps.cat(y, half);
        uint256[] memory t = op.t;
        uint256 w = FrMath.pow2(v.nt);
        c[0] = FrMath.mul(w, TContext.claimCommitted(ctx, t[3], yh, "softmax/Usum"));
        c[1] = FrMath.mul(w, TContext.claimCommitted(ctx, t[4], yh, "softmax/osum"));
        uint256 at = v.tail;
        c[2] = TOps.committedDigitSum(ctx, TOps.seg(t, at, op.p[8]), v.rb, y, "softmax/iota");
        at += op.p[8];
        uint256 nR = op.p[9];
        c[3] = TOps.committedDigitSum(ctx, TOps.seg(t, at, nR), v.rb, y, "softmax/rho");
        c[4] = TOps.committedDigitSum(ctx, TOps.seg(t, at + nR, nR), v.rb, y, "softmax/rho");
        c[5] = TContext.claimCommitted(ctx, t[2], y, "softmax/z");
    }

    /// @dev sigma iota + rho - (2^(p+q) - 1) ind + alpha (rho + rhc - sigma + ind)
    ///      + alpha^2 (osum - ind) + (1 - ind)(alpha^3 iota + alpha^4 z).
    function _rowRelation(TOp memory op, uint256[] memory al, uint256[6] memory c, uint256 ind)
        private
        pure
        returns (uint256 tot)
    {
        uint256 sg = c[0];
        uint256 big = FrMath.sub(FrMath.pow2(op.p[2] + op.p[5]), 1);
        tot = FrMath.sub(FrMath.add(FrMath.mul(sg, c[2]), c[3]), FrMath.mul(big, ind));
        uint256 rem = FrMath.sub(FrMath.add(FrMath.add(c[3], c[4]), ind), sg);
        tot = FrMath.add(tot, FrMath.mul(al[1], rem));
        tot = FrMath.add(tot, FrMath.mul(al[2], FrMath.sub(c[1], ind)));
        uint256 pad = FrMath.add(FrMath.mul(al[3], c[2]), FrMath.mul(al[4], c[5]));
        tot = FrMath.add(tot, FrMath.mul(FrMath.sub(1, ind), pad));
    }

    /// @dev `mle.batch_indicator(axes, point)`: the product over the batch axes of the prefix
    ///      indicator of each axis on its coordinates (the leading ones of `point`).
    function _batchInd(TOp memory op, uint256[] memory point) private pure returns (uint256 acc) {
        acc = 1;
        uint256 off;
        for (uint256 i = AXES; i < op.p.length; ++i) {
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
