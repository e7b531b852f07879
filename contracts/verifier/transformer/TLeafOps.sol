// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ZkMask} from "../ZkMask.sol";
import {FrMath} from "../FrMath.sol";
import {Channel} from "../Transcript.sol";
import {Sumcheck} from "../Sumcheck.sol";
import {TOp} from "./TCircuit.sol";
import {TCtx, TContext} from "./TContext.sol";
import {TOps} from "./TOps.sol";

/// @title TLeafOps
/// @notice The ops whose claims are all on committed tensors, except possibly one final
///         reduction (`TContext.tail`): run by `TransformerModules` (see there). Same labels
///         and checks as `prover/ops/*.py` and `prover/transformer/views.py`.
library TLeafOps {
    /// @notice `RangeBound.root`: t = q, digits; p = bits, digit bits.
    function rangeBound(TCtx memory ctx, TOp memory op) internal pure {
        uint256 q = op.t[0];
        uint256[] memory r = Channel.challenges(ctx.ch, TOps.lbl(op, "/r"), ctx.c.numVars[q]);
        uint256 qv = TContext.claimCommitted(ctx, q, r, TOps.lbl(op, "/q"));
        uint256 acc = TOps.committedDigitSum(ctx, TOps.seg(op.t, 1, op.t.length - 1), op.p[1], r, TOps.lbl(op, "/digit"));
        if (FrMath.sub(FrMath.add(qv, FrMath.pow2(op.p[0] - 1)), acc) != 0) TOps.reject("range-bound", 0);
    }

    /// @notice `Argmax.root`: t = logits, k (public), digits; p = vocab, digit bits, rows.
    function argmax(TCtx memory ctx, TOp memory op) internal pure {
        uint256 vocab = op.p[0];
        uint256 nv = TOps.lg(vocab);
        uint256 rows = op.p[2];
        uint256[] memory prefix = rows == 0 ? new uint256[](0) : TOps.bitsOf(rows - 1, TOps.lg(rows));
        uint256 k = ctx.next;
        if (k >= vocab) TOps.reject("argmax", 0);
        uint256 logits = op.t[0];
        uint256 lk = TContext.claimCommitted(ctx, logits, TOps.cat(prefix, TOps.bitsOf(k, nv)), TOps.lbl(op, "/top"));
        uint256[] memory r = Channel.challenges(ctx.ch, TOps.lbl(op, "/r"), nv);
        uint256 dv = TOps.committedDigitSum(ctx, TOps.seg(op.t, 2, op.t.length - 2), op.p[1], r, TOps.lbl(op, "/digit"));
        uint256 lv = FrMath.sub(FrMath.sub(FrMath.mul(lk, TOps.ind(vocab, r)), TOps.ind(k, r)), dv);
        TContext.tail(ctx, logits, TOps.cat(prefix, r), lv);
    }

    /// @notice `Hadamard.reduce`: t = x, y, z.
    function hadamard(TCtx memory ctx, TOp memory op, uint256[] memory point, uint256 value) internal pure {
        (uint256[] memory s, uint256 expected) =
            ZkMask.verify(ctx.ch, "hadamard/g", "hadamard/r", point.length, 3, 3, value);
        uint256 xv = TContext.claimCommitted(ctx, op.t[0], s, "hadamard/x");
        uint256 yv = TContext.claimCommitted(ctx, op.t[1], s, "hadamard/y");
        if (FrMath.mul(FrMath.mul(TOps.eq(point, s), xv), yv) != expected) TOps.reject("hadamard", 0);
    }

    /// @notice `Embedding.reduce`: t = tokens, E, x; p = rows, vocab, dim.
    function embedding(TCtx memory ctx, TOp memory op, uint256[] memory point, uint256 value) internal pure {
        uint256 rows = op.p[0];
        uint256 nt = TOps.lg(rows);
        uint256 nv = TOps.lg(op.p[1]);
        if (ctx.nTokens < rows) TOps.reject("embedding", 0);
        for (uint256 t = 0; t < rows; ++t) {
            if (_token(ctx, t) >= op.p[1]) TOps.reject("embedding", 0);
        }
        uint256[] memory rT = TOps.seg(point, 0, nt);
        uint256[] memory rD = FrMath.suffix(point, nt);
        (uint256[] memory s, uint256 expected) = ZkMask.verify(ctx.ch, TOps.lbl(op, "/g"), TOps.lbl(op, "/r"), nv, 2, 2, value);
        uint256 ev = TContext.claimCommitted(ctx, op.t[1], TOps.cat(s, rD), TOps.lbl(op, "/E"));
        if (FrMath.mul(_onehot(ctx, rows, nv, rT, s), ev) != expected) TOps.reject("embedding", 0);
    }

    function _token(TCtx memory ctx, uint256 t) private pure returns (uint256 v) {
        uint256 off = ctx.tokensOffset + 32 * t;
        assembly ("memory-safe") {
            v := calldataload(off)
        }
    }

    /// @notice `embedding.onehot_eval`: sum_t TOps.eq(r_t, t) TOps.eq(bits(tok_t), s).
    function _onehot(TCtx memory ctx, uint256 rows, uint256 nv, uint256[] memory rT, uint256[] memory s)
        private
        pure
        returns (uint256 acc)
    {
        uint256 nt = rT.length;
        for (uint256 t = 0; t < rows; ++t) {
            uint256 e = 1;
            for (uint256 i = 0; i < nt; ++i) {
                uint256 z = rT[i];
                e = FrMath.mul(e, (t >> (nt - 1 - i)) & 1 == 1 ? z : FrMath.sub(1, z));
            }
            uint256 tok = _token(ctx, t);
            for (uint256 i = 0; i < nv; ++i) {
                uint256 z = s[i];
                e = FrMath.mul(e, (tok >> (nv - 1 - i)) & 1 == 1 ? z : FrMath.sub(1, z));
            }
            acc = FrMath.add(acc, e);
        }
    }

    /// @notice `RoPE.reduce`: t = x, cos, sin, z; p = heads, rows, head_dim.
    function rope(TCtx memory ctx, TOp memory op, uint256[] memory point, uint256 value) internal pure {
        uint256 nht = op.p[0] + TOps.lg(op.p[1]);
        (uint256[] memory s, uint256 expected) =
            ZkMask.verify(ctx.ch, TOps.lbl(op, "/g"), TOps.lbl(op, "/r"), nht + TOps.lg(op.p[2]), 3, 3, value);
        uint256 off = Channel.recvFrs(ctx.ch, TOps.lbl(op, "/x"), 2);
        uint256 x0;
        uint256 x1;
        assembly ("memory-safe") {
            x0 := calldataload(off)
            x1 := calldataload(add(off, 32))
        }
        if (FrMath.mul(TOps.eq(point, s), _ropeTerms(ctx, op, s, x0, x1)) != expected) TOps.reject("rope", 0);
        uint256 g = Channel.challenge(ctx.ch, TOps.lbl(op, "/gamma"));
        uint256[] memory gp = new uint256[](1);
        gp[0] = g;
        TContext.tail(ctx, op.t[0], TOps.cat3(TOps.seg(s, 0, nht), gp, FrMath.suffix(s, nht + 1)),
            FrMath.add(FrMath.mul(FrMath.sub(1, g), x0), FrMath.mul(g, x1)));
    }

    /// @dev ((1 - s_a) x0 + s_a x1) C(s_t, s_u) + (s_a x0 - (1 - s_a) x1) S(s_t, s_u), C and S claimed.
    function _ropeTerms(TCtx memory ctx, TOp memory op, uint256[] memory s, uint256 x0, uint256 x1)
        private
        pure
        returns (uint256)
    {
        uint256 nh = op.p[0];
        uint256 nt = TOps.lg(op.p[1]);
        uint256[] memory tu = TOps.cat(TOps.seg(s, nh, nt), FrMath.suffix(s, nh + nt + 1));
        uint256 cv = TContext.claimCommitted(ctx, op.t[1], tu, TOps.lbl(op, "/cos"));
        uint256 sv = TContext.claimCommitted(ctx, op.t[2], tu, TOps.lbl(op, "/sin"));
        uint256 sA = s[nh + nt];
        uint256 oneMinusA = FrMath.sub(1, sA);
        uint256 xs = FrMath.add(FrMath.mul(oneMinusA, x0), FrMath.mul(sA, x1));
        uint256 rs = FrMath.sub(FrMath.mul(sA, x0), FrMath.mul(oneMinusA, x1));
        return FrMath.add(FrMath.mul(xs, cv), FrMath.mul(rs, sv));
    }

    /// @notice `PositionRows.reduce`: t = src, z; p = rows, table rows, dim.
    function positionRows(TCtx memory ctx, TOp memory op, uint256[] memory point, uint256 value) internal pure {
        uint256 rows = op.p[0];
        uint256 nt = TOps.lg(rows);
        uint256[] memory hi = new uint256[](TOps.lg(op.p[1]) - nt);
        if (rows == uint256(1) << nt) {
            TContext.tail(ctx, op.t[0], TOps.cat(hi, point), value);
            return;
        }
        uint256[] memory rT = TOps.seg(point, 0, nt);
        uint256[] memory rD = FrMath.suffix(point, nt);
        (uint256[] memory s, uint256 expected) = ZkMask.verify(ctx.ch, TOps.lbl(op, "/g"), TOps.lbl(op, "/r"), nt, 3, 3, value);
        uint256 pv = TContext.claimCommitted(ctx, op.t[0], TOps.cat3(hi, s, rD), TOps.lbl(op, "/P"));
        if (FrMath.mul(FrMath.mul(TOps.eq(rT, s), TOps.ind(rows, s)), pv) != expected) TOps.reject("position", 0);
    }
    /// @notice `BiasAdd.reduce`: t = zz, b, z; p = rows, nl. z = zz + [t < rows] b.
    function biasAdd(TCtx memory ctx, TOp memory op, uint256[] memory point, uint256 value) internal pure {
        uint256 nl = op.p[1];
        uint256 nt = TOps.lg(op.p[0]);
        uint256 bv = TContext.claimCommitted(ctx, op.t[1], TOps.cat(TOps.seg(point, 0, nl), FrMath.suffix(point, nl + nt)),
            TOps.lbl(op, "/b"));
        TContext.tail(ctx, op.t[0], point, FrMath.sub(value, FrMath.mul(TOps.ind(op.p[0], TOps.seg(point, nl, nt)), bv)));
    }

    /// @notice `KVExpand.reduce` / `VTExpand.reduce` with a group g that is not a power of two
    ///         (`views._group_reduce`): t = src, z; p = kv_heads, g[, rows, hd], nl; label
    ///         "gqa/k" or "gqa/v". The claim dst(pre, r_h, x) = v is
    ///         sum_k w_k src(pre, k, x), w_k = sum_{h < H, h / g = k} eq(r_h, h): one degree-2
    ///         sumcheck over the nkv KV-head bits, then src claimed at its point with the KV
    ///         coordinates s (KVExpand: pre + s + r[nh:]; VTExpand: pre + r_t + s + r_j) and
    ///         w(s) src(s) checked ("gqa"). w(s) = sum_{h < H} eq(r_h, h) eq(s, h / g), O(H).
    function groupExpand(TCtx memory ctx, TOp memory op, uint256[] memory point, uint256 value) internal pure {
        (uint256[] memory s, uint256 expected) =
            ZkMask.verify(ctx.ch, TOps.lbl(op, "/g"), TOps.lbl(op, "/r"), TOps.lg(op.p[0]), 2, 2, value);
        uint256 sv = TContext.claimCommitted(ctx, op.t[0], _groupSrcPoint(op, point, s), TOps.lbl(op, "/src"));
        if (FrMath.mul(_groupWeightAt(op, point, s), sv) != expected) TOps.reject("gqa", 0);
    }

    /// @dev src's point: the claim's point with its head coordinates r_h replaced by s and,
    ///      for VTExpand, (r_h, r_j, r_t) placed as (r_t, s, r_j).
    function _groupSrcPoint(TOp memory op, uint256[] memory point, uint256[] memory s)
        private
        pure
        returns (uint256[] memory)
    {
        uint256 nl = op.p[op.p.length - 1];
        uint256 at = nl + TOps.lg(op.p[0] * op.p[1]); // after r_h
        uint256[] memory pre = TOps.seg(point, 0, nl);
        if (op.kind == TOps.KV_EXPAND) return TOps.cat3(pre, s, FrMath.suffix(point, at));
        uint256 nj = TOps.lg(op.p[3]);
        return TOps.cat(TOps.cat3(pre, FrMath.suffix(point, at + nj), s), TOps.seg(point, at, nj));
    }

    /// @dev `evaluate(views._group_weights(r_h, ...), s)` = sum_{h < heads} eq(r_h, h) eq(s, h / g),
    ///      from the eq tables of r_h (2^nh entries, nh = lg(heads)) and s.
    function _groupWeightAt(TOp memory op, uint256[] memory point, uint256[] memory s)
        private
        pure
        returns (uint256 acc)
    {
        uint256 group = op.p[1];
        uint256 heads = op.p[0] * group;
        uint256[] memory eh = _eqTable(TOps.seg(point, op.p[op.p.length - 1], TOps.lg(heads)));
        uint256[] memory es = _eqTable(s);
        for (uint256 h = 0; h < heads; ++h) {
            acc = FrMath.add(acc, FrMath.mul(eh[h], es[h / group]));
        }
    }

    /// @dev `mle.eq_table(point)`: [eq(b, point) for b in {0,1}^n], b's MSB paired with point[0].
    function _eqTable(uint256[] memory point) private pure returns (uint256[] memory t) {
        uint256 n = point.length;
        t = new uint256[](uint256(1) << n);
        t[0] = 1;
        for (uint256 i = 0; i < n; ++i) {
            uint256 z = point[i];
            // doubled in place from the top: t[2j] = t[j] (1 - z), t[2j + 1] = t[j] z
            for (uint256 j = uint256(1) << i; j > 0; --j) {
                uint256 e = t[j - 1];
                uint256 hi = FrMath.mul(e, z);
                t[2 * j - 1] = hi;
                t[2 * j - 2] = FrMath.sub(e, hi);
            }
        }
    }

    /// @notice `Rescale.root`: t = z, q, digits[, bound digits]; p = shift, digit bits[, bound
    ///         bits, number of bound digits]; label "rescale" (or the fused bound's label). At a
    ///         fresh point z(r) = 2^S q(r) + sum_k 2^(b k) d_k(r) - 2^(S-1), handed on to z; with
    ///         a fused `RangeBound` its digits are claimed at the same point (label + "/digit")
    ///         and q(r) + 2^(B-1) = sum_k 2^(b k) u_k(r) is checked.
    function rescale(TCtx memory ctx, TOp memory op) internal pure {
        uint256 z = op.t[0];
        uint256 shift = op.p[0];
        uint256 nb = op.p.length > 2 ? op.p[3] : 0;
        uint256[] memory r = Channel.challenges(ctx.ch, "rescale/r", ctx.c.numVars[z]);
        uint256 qv = TContext.claimCommitted(ctx, op.t[1], r, "rescale/q");
        uint256 v = FrMath.add(FrMath.mul(FrMath.pow2(shift), qv),
            TOps.committedDigitSum(ctx, TOps.seg(op.t, 2, op.t.length - 2 - nb), op.p[1], r, "rescale/digit"));
        if (op.p.length > 2) {
            uint256 acc = TOps.committedDigitSum(ctx, FrMath.suffix(op.t, op.t.length - nb), op.p[1], r, TOps.lbl(op, "/digit"));
            if (FrMath.sub(FrMath.add(qv, FrMath.pow2(op.p[2] - 1)), acc) != 0) TOps.reject("range-bound", 0);
        }
        TContext.tail(ctx, z, r, FrMath.sub(v, FrMath.pow2(shift - 1)));
    }
}
