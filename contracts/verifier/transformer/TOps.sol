// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ZkMask} from "../ZkMask.sol";
import {IZkllmVerifier} from "../../IZkllmVerifier.sol";
import {FrMath} from "../FrMath.sol";
import {Channel} from "../Transcript.sol";
import {Sumcheck} from "../Sumcheck.sol";
import {Linear} from "../Ops.sol";
import {TOp} from "./TCircuit.sol";
import {TCtx, TContext} from "./TContext.sol";
import {TNorm} from "./TNorm.sol";
import {TModuleCall} from "./TransformerModules.sol";

/// @title TOps
/// @notice The verifier side of every op of `prover/ops/*.py` and `prover/transformer/views.py`
///         a circuit description can name, dispatched by type code (`prover/circuit_desc.py`).
///         Same transcript labels, same checks in the same order; a failed check reverts with
///         `ProofRejected(check)`, `check` the name Python's VerificationError carries.
library TOps {
    uint256 internal constant RESCALE = 1;
    uint256 internal constant RANGE_BOUND = 2;
    uint256 internal constant LINEAR = 3; // an MLP op (ZkllmVerifier); no transformer description names it
    uint256 internal constant LINEAR_NB = 4;
    uint256 internal constant ADD = 5;
    uint256 internal constant HADAMARD = 6;
    uint256 internal constant MATMUL = 7;
    uint256 internal constant EMBEDDING = 8;
    uint256 internal constant ROPE = 9;
    uint256 internal constant HEAD_SPLIT = 10;
    uint256 internal constant HEAD_MERGE = 11;
    uint256 internal constant KV_EXPAND = 12;
    uint256 internal constant VT_EXPAND = 13;
    uint256 internal constant POSITION_ROWS = 14;
    uint256 internal constant NORM = 15;
    uint256 internal constant SOFTMAX = 16;
    uint256 internal constant ARGMAX = 17;
    uint256 internal constant LAYER_SLICE = 18;
    uint256 internal constant BIAS_ADD = 19;
    uint256 internal constant RESIDUAL_CHAIN = 20;

    /// @notice An op type the verifier does not know (a description from a newer compiler).
    error UnknownOp(uint256 kind);

    function reject(bytes32 check, uint256) internal pure {
        revert IZkllmVerifier.ProofRejected(check);
    }

    // ------------------------------------------------------------------ helpers

    /// @notice The op's label followed by `suffix` (e.g. "L0.n1" + "/isqrt/g").
    function lbl(TOp memory op, bytes32 suffix) internal pure returns (bytes32) {
        return op.label | (suffix >> (op.labelLen * 8));
    }

    function seg(uint256[] memory a, uint256 start, uint256 len) internal pure returns (uint256[] memory) {
        return FrMath.slice(a, start, len);
    }

    function cat(uint256[] memory a, uint256[] memory b) internal pure returns (uint256[] memory) {
        return FrMath.concat(a, a.length, b);
    }

    function cat3(uint256[] memory a, uint256[] memory b, uint256[] memory c) internal pure returns (uint256[] memory) {
        return FrMath.concat(FrMath.concat(a, a.length, b), a.length + b.length, c);
    }

    function eq(uint256[] memory a, uint256[] memory b) internal pure returns (uint256) {
        return FrMath.eqEval(a, 0, b, 0, a.length);
    }

    function ind(uint256 count, uint256[] memory point) internal pure returns (uint256) {
        return Linear.prefixIndicator(count, point);
    }

    /// @notice The n bits of idx, most significant first, as field elements.
    function bitsOf(uint256 idx, uint256 n) internal pure returns (uint256[] memory out) {
        out = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            out[i] = (idx >> (n - 1 - i)) & 1;
        }
    }

    function lg(uint256 n) internal pure returns (uint256) {
        return FrMath.log2Ceil(n);
    }

    /// @notice sum_k 2^(base k) claim(ids[k], point): a value from its committed digits.
    function digitSum(TCtx memory ctx, uint256[] memory ids, uint256 base, uint256[] memory point, bytes32 label)
        internal
        view
        returns (uint256 acc)
    {
        for (uint256 k = 0; k < ids.length; ++k) {
            uint256 v = TContext.claim(ctx, ids[k], point, label);
            acc = FrMath.add(acc, FrMath.mul(FrMath.pow2(base * k), v));
        }
    }

    /// @notice `digitSum` of digits the caller knows are committed: received and recorded.
    function committedDigitSum(TCtx memory ctx, uint256[] memory ids, uint256 base, uint256[] memory point,
                               bytes32 label) internal pure returns (uint256 acc) {
        for (uint256 k = 0; k < ids.length; ++k) {
            uint256 v = TContext.claimCommitted(ctx, ids[k], point, label);
            acc = FrMath.add(acc, FrMath.mul(FrMath.pow2(base * k), v));
        }
    }

    // ------------------------------------------------------------------ dispatch

    function reduce(TCtx memory ctx, TOp memory op, uint256 tid, uint256[] memory point, uint256 value)
        internal
        view
    {
        uint256 k = op.kind;
        if (k == LINEAR_NB) _linearNb(ctx, op, point, value);
        else if (k == ADD) _add(ctx, op, point, value);

        else if (k == MATMUL) _matmul(ctx, op, point, value);
        else if (k == EMBEDDING || k == ROPE || k == HADAMARD || k == POSITION_ROWS || k == BIAS_ADD) {
            TModuleCall.step(ctx, op, point, value);
        }
        else if (k >= HEAD_SPLIT && k <= VT_EXPAND || k == LAYER_SLICE) _view(ctx, op, point, value);
        else if (k == NORM) TNorm.reduce(ctx, op, tid, point, value);
        else revert UnknownOp(k);
    }

    function root(TCtx memory ctx, TOp memory op) internal view {
        uint256 k = op.kind;
        if (k == RESCALE || k == RANGE_BOUND) TModuleCall.local(ctx, op);
        else if (k == ARGMAX || k == SOFTMAX) TModuleCall.step(ctx, op, new uint256[](0), 0);
        else if (k == NORM) TNorm.root(ctx, op);
        else if (k == RESIDUAL_CHAIN) _residualChain(ctx, op);
        else revert UnknownOp(k);
    }

    // ------------------------------------------------------------------ roots

    // ------------------------------------------------------------------ reductions

    /// @notice `LinearNB.reduce`: t = x, w, z; p = rows, d_in, d_out.
    function _linearNb(TCtx memory ctx, TOp memory op, uint256[] memory point, uint256 value) private view {
        uint256 nt = lg(op.p[0]);
        uint256[] memory rT = seg(point, 0, nt);
        uint256[] memory rO = FrMath.suffix(point, nt);
        (uint256[] memory s, uint256 expected) =
            ZkMask.verify(ctx.ch, lbl(op, "/g"), lbl(op, "/r"), lg(op.p[1]), 2, 2, value);
        uint256 xv = TContext.claim(ctx, op.t[0], cat(rT, s), lbl(op, "/x"));
        uint256 wv = TContext.claim(ctx, op.t[1], cat(rO, s), lbl(op, "/w"));
        if (FrMath.mul(xv, wv) != expected) reject("linear", 0);
    }

    /// @notice `Add.reduce`: t = x, y, z.
    function _add(TCtx memory ctx, TOp memory op, uint256[] memory point, uint256 value) private view {
        uint256 xv = TContext.claim(ctx, op.t[0], point, "add/x");
        TContext.reduce(ctx, op.t[1], point, FrMath.sub(value, xv));
    }

    /// @notice `MatMul.reduce`: t = x, y, z; p = batch, rows, cols, inner.
    function _matmul(TCtx memory ctx, TOp memory op, uint256[] memory point, uint256 value) private view {
        uint256 nb = op.p[0];
        (uint256[] memory s, uint256 expected) =
            ZkMask.verify(ctx.ch, lbl(op, "/g"), lbl(op, "/r"), nb + lg(op.p[3]), 3, 3, value);
        uint256[] memory sB = seg(s, 0, nb);
        uint256 xy = _matmulClaims(ctx, op, point, s, nb);
        if (FrMath.mul(eq(seg(point, 0, nb), sB), xy) != expected) reject("matmul", 0);
    }

    /// @dev X(s_b, r_t, s_i) Y(s_b, r_o, s_i), both claimed.
    function _matmulClaims(TCtx memory ctx, TOp memory op, uint256[] memory point, uint256[] memory s, uint256 nb)
        private
        view
        returns (uint256)
    {
        uint256 nt = lg(op.p[1]);
        uint256[] memory sB = seg(s, 0, nb);
        uint256[] memory sI = FrMath.suffix(s, nb);
        uint256 xv = TContext.claim(ctx, op.t[0], cat3(sB, seg(point, nb, nt), sI), lbl(op, "/x"));
        uint256 yv = TContext.claim(ctx, op.t[1], cat3(sB, FrMath.suffix(point, nb + nt), sI), lbl(op, "/y"));
        return FrMath.mul(xv, yv);
    }

    /// @notice The zero-cost views of `views.py`: t = src, z; the last param is nl, the layer
    ///         bits passed through in front (LayerSlice: the layer index, then nl).
    ///         HeadSplit (heads, rows, hd): src point = r[nh:nh+nt] + r[:nh] + r[nh+nt:];
    ///         HeadMerge (heads, rows, hd): src point = r[nt:nt+nh] + r[:nt] + r[nt+nh:];
    ///         KVExpand (kv_heads, group): src point = r[:nkv] + r[nh:];
    ///         VTExpand (kv_heads, group, rows, hd): src point = r_t + r_h[:nkv] + r_j;
    ///         (a KVExpand or VTExpand whose group is not a power of two is a module step:
    ///         `TLeafOps.groupExpand`);
    ///         LayerSlice (layer): src point = bits(layer) + r.
    function _view(TCtx memory ctx, TOp memory op, uint256[] memory point, uint256 value) private view {
        uint256 k = op.kind;
        uint256[] memory p = op.p;
        uint256 nl = p[p.length - 1];
        if (k == LAYER_SLICE) {
            TContext.reduce(ctx, op.t[0], cat(bitsOf(p[0], nl), point), value);
            return;
        }
        uint256[] memory r = FrMath.suffix(point, nl);
        uint256[] memory src;
        if (k == HEAD_SPLIT) {
            uint256 nh = lg(p[0]);
            uint256 nt = lg(p[1]);
            src = cat3(seg(r, nh, nt), seg(r, 0, nh), FrMath.suffix(r, nh + nt));
        } else if (k == HEAD_MERGE) {
            uint256 nh = lg(p[0]);
            uint256 nt = lg(p[1]);
            src = cat3(seg(r, nt, nh), seg(r, 0, nt), FrMath.suffix(r, nt + nh));
        } else if (_notPow2(p[1])) {
            TModuleCall.step(ctx, op, point, value); // a group that is not a power of two
            return;
        } else if (k == KV_EXPAND) {
            src = cat(seg(r, 0, lg(p[0])), FrMath.suffix(r, lg(p[0] * p[1])));
        } else {
            uint256 nh = lg(p[0] * p[1]);
            uint256 nj = lg(p[3]);
            src = cat3(FrMath.suffix(r, nh + nj), seg(r, 0, lg(p[0])), seg(r, nh, nj));
        }
        TContext.reduce(ctx, op.t[0], cat(seg(point, 0, nl), src), value);
    }

    function _notPow2(uint256 g) private pure returns (bool) {
        unchecked {
            return g & (g - 1) != 0;
        }
    }

    /// @notice `ResidualChain.root`: t = X, x0, Y; p = layers. X(r_l, r) - eq(r_l, 0) x0(r)
    ///         = sum_m next(r_l, m) [m < L-1] Y(m, r), one degree-3 sumcheck over the layer bits.
    function _residualChain(TCtx memory ctx, TOp memory op) private view {
        uint256 layers = op.p[0];
        uint256 nl = lg(layers);
        uint256[] memory r = Channel.challenges(ctx.ch, lbl(op, "/r"), ctx.c.numVars[op.t[0]]);
        uint256 xv = TContext.claim(ctx, op.t[0], r, lbl(op, "/x"));
        uint256 x0v = TContext.claim(ctx, op.t[1], FrMath.suffix(r, nl), lbl(op, "/x0"));
        uint256 target = FrMath.sub(xv, FrMath.mul(eq(seg(r, 0, nl), new uint256[](nl)), x0v));
        if (layers == 1) {
            if (target != 0) reject("residual-chain", 0);
            return;
        }
        (uint256[] memory s, uint256 expected) = ZkMask.verify(ctx.ch, lbl(op, "/g"), lbl(op, "/r"), nl, 3, 3, target);
        if (_chainFinal(ctx, op, r, s) != expected) reject("residual-chain", 0);
    }

    /// @dev next(r_l, s) [s < L-1] Y(s, r_rest), Y claimed.
    function _chainFinal(TCtx memory ctx, TOp memory op, uint256[] memory r, uint256[] memory s)
        private
        view
        returns (uint256)
    {
        uint256 nl = s.length;
        uint256 yv = TContext.claim(ctx, op.t[2], cat(s, FrMath.suffix(r, nl)), lbl(op, "/y"));
        return FrMath.mul(FrMath.mul(nextEval(seg(r, 0, nl), s), ind(op.p[0] - 1, s)), yv);
    }

    /// @notice `mle.next_eval(a, b)`: MLE of [int(a) = int(b) + 1], O(n).
    function nextEval(uint256[] memory a, uint256[] memory b) internal pure returns (uint256 acc) {
        uint256 n = a.length;
        uint256[] memory hi = new uint256[](n + 1);
        hi[0] = 1;
        for (uint256 i = 0; i < n; ++i) {
            hi[i + 1] = FrMath.mul(hi[i], FrMath.eqEval(a, i, b, i, 1));
        }
        uint256 low = 1;
        for (uint256 i = n; i > 0; --i) {
            uint256 ai = a[i - 1];
            uint256 bi = b[i - 1];
            acc = FrMath.add(acc, FrMath.mul(FrMath.mul(FrMath.mul(hi[i - 1], ai), FrMath.sub(1, bi)), low));
            low = FrMath.mul(FrMath.mul(low, bi), FrMath.sub(1, ai));
        }
    }
}
