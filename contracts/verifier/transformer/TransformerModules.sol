// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {TOp, TLookup} from "./TCircuit.sol";
import {TCtx, TContext} from "./TContext.sol";
import {TSoftmax} from "./TSoftmax.sol";
import {TLogup} from "./TLogup.sol";
import {TLeafOps} from "./TLeafOps.sol";
import {TOps} from "./TOps.sol";

/// @notice What a module step returns: the transcript state after it, the bytes of the
///         field-element stream it read, and its claims in order (points deduplicated:
///         claim k is on tids[k] at pts[pidx[k]] with value values[k]).
struct StepClaims {
    bytes32 state;
    uint256 used;
    uint256[] tids;
    uint256[] pidx;
    uint256[][] pts;
    uint256[] values;
    bool hasTail;
    uint256 tailTid;
    uint256[] tailPoint;
    uint256 tailValue;
}

/// @notice The input of an op step: the op, num_vars of each of its tensors (aligned with
///         op.t), the claim being reduced (empty point for a root) and the statement words.
struct StepIn {
    bytes32 state;
    bytes frs;
    TOp op;
    uint256[] tNumVars;
    uint256[] point;
    uint256 value;
    uint256[] tokens;
    uint256 next;
}

/// @title TransformerModules
/// @notice The steps of the transformer verifier whose claims are all on committed tensors
///         (the softmax root, a lookup's two sumchecks), run in a contract of their own so that
///         `TransformerVerifier` stays under the EIP-170 code size limit. A step is a pure
///         function of the transcript state, the slice of the proof's field elements it reads
///         and the op: it returns the new state and the claims for the caller to record, so the
///         transcript and the claim order are exactly those of running it inline.
contract TransformerModules {
    function softmaxRoot(bytes32 state, bytes calldata frs, TOp calldata opc)
        external
        pure
        returns (StepClaims memory)
    {
        TCtx memory ctx = _ctx(state, frs);
        TOp memory op = opc;
        TSoftmax.root(ctx, op);
        return _out(ctx, frs);
    }

    /// @notice Embedding, RoPE, Hadamard, PositionRows reductions; RangeBound, Argmax roots.
    function opStep(StepIn calldata inp) external pure returns (StepClaims memory) {
        TCtx memory ctx = _opCtx(inp);
        _dispatch(ctx, inp.op, inp.point, inp.value);
        return _out(ctx, inp.frs);
    }

    function _dispatch(TCtx memory ctx, TOp memory op, uint256[] memory point, uint256 value) private pure {
        uint256 k = op.kind;
        if (k == TOps.EMBEDDING) TLeafOps.embedding(ctx, op, point, value);
        else if (k == TOps.ROPE) TLeafOps.rope(ctx, op, point, value);
        else if (k == TOps.HADAMARD) TLeafOps.hadamard(ctx, op, point, value);
        else if (k == TOps.POSITION_ROWS) TLeafOps.positionRows(ctx, op, point, value);
        else if (k == TOps.RANGE_BOUND) TLeafOps.rangeBound(ctx, op);
        else if (k == TOps.ARGMAX) TLeafOps.argmax(ctx, op);
        else revert TOps.UnknownOp(k);
    }

    function _opCtx(StepIn calldata inp) private pure returns (TCtx memory ctx) {
        ctx = _ctx(inp.state, inp.frs);
        uint256[] calldata t = inp.op.t;
        uint256 top;
        for (uint256 i = 0; i < t.length; ++i) {
            if (t[i] > top && t[i] != 0xffff) top = t[i];
        }
        uint256[] memory nv = new uint256[](top + 1);
        for (uint256 i = 0; i < t.length; ++i) {
            if (t[i] != 0xffff) nv[t[i]] = inp.tNumVars[i];
        }
        ctx.c.numVars = nv;
        uint256[] calldata tokens = inp.tokens;
        uint256 tokOff;
        assembly ("memory-safe") {
            tokOff := tokens.offset
        }
        ctx.tokensOffset = tokOff;
        ctx.nTokens = tokens.length;
        ctx.next = inp.next;
    }

    /// @param colVars num_vars of each witness column (`colIn`), in order.
    function lookupSumchecks(bytes32 state, bytes calldata frs, TLookup calldata lkc, uint256[] calldata colVars)
        external
        pure
        returns (StepClaims memory)
    {
        TCtx memory ctx = _ctx(state, frs);
        TLookup memory lk = lkc;
        uint256 top;
        for (uint256 j = 0; j < lk.colIn.length; ++j) {
            if (lk.colIn[j] > top) top = lk.colIn[j];
        }
        uint256[] memory nv = new uint256[](top + 1);
        for (uint256 j = 0; j < lk.colIn.length; ++j) {
            nv[lk.colIn[j]] = colVars[j];
        }
        ctx.c.numVars = nv;
        TLogup.runSumchecks(ctx, lk);
        return _out(ctx, frs);
    }

    function _ctx(bytes32 state, bytes calldata frs) private pure returns (TCtx memory ctx) {
        uint256 off;
        assembly ("memory-safe") {
            off := frs.offset
        }
        ctx.ch.state = state;
        ctx.ch.frNext = off;
        ctx.ch.frEnd = off + frs.length;
    }

    function _out(TCtx memory ctx, bytes calldata frs) private pure returns (StepClaims memory out) {
        uint256 off;
        assembly ("memory-safe") {
            off := frs.offset
        }
        uint256 n = ctx.nClaims;
        out.state = ctx.ch.state;
        out.used = ctx.ch.frNext - off;
        out.tids = new uint256[](n);
        out.pidx = new uint256[](n);
        out.values = new uint256[](n);
        uint256[][] memory pts = new uint256[][](n);
        uint256[] memory ptrs = new uint256[](n); // memory addresses of the distinct points
        uint256 np;
        for (uint256 k = 0; k < n; ++k) {
            out.tids[k] = ctx.claimTid[k];
            out.values[k] = ctx.claimValue[k];
            uint256[] memory pt = ctx.claimPoint[k];
            uint256 addr;
            assembly ("memory-safe") {
                addr := pt
            }
            uint256 i = np;
            while (i > 0 && ptrs[i - 1] != addr) --i;
            if (i == 0) {
                pts[np] = pt;
                ptrs[np] = addr;
                i = ++np;
            }
            out.pidx[k] = i - 1;
        }
        assembly ("memory-safe") {
            mstore(pts, np)
        }
        out.pts = pts;
        out.hasTail = ctx.hasTail;
        out.tailTid = ctx.tailTid;
        out.tailPoint = ctx.tailPoint;
        out.tailValue = ctx.tailValue;
    }
}

/// @title TModuleCall
/// @notice The verifier's side of a module step: checks the step's tensors are committed,
///         hands it exactly the field elements it reads, and applies what it returns.
library TModuleCall {
    uint256 private constant KIND_MODEL = 3;
    uint256 private constant KIND_PROOF = 6;

    /// @notice A step was asked to claim a tensor that is not committed (a description the
    ///         modules cannot run).
    error NotCommitted(uint256 tid);

    function softmax(TCtx memory ctx, TOp memory op) internal view {
        _committed(ctx, op.t);
        uint256 n = _lg(op.p[0]) + 2 * _lg(op.p[1]);
        uint256 k = op.p[2];
        uint256 need = 4 * n + 4 + 2 * k + (k - 1) * (op.p[7] + op.p[8]) + 2 * op.p[9];
        bytes calldata frs = _slice(ctx, need);
        _apply(ctx, _call(ctx.modules, abi.encodeCall(TransformerModules.softmaxRoot, (ctx.ch.state, frs, op))));
    }

    function lookup(TCtx memory ctx, TLookup memory lk) internal view {
        uint256 cols = lk.colIn.length;
        bool pair = lk.tableKind != 0;
        _committed(ctx, lk.colIn);
        _committed(ctx, lk.aIds);
        if (pair) _committed(ctx, lk.colOut);
        uint256[] memory colVars = new uint256[](cols);
        uint256 nw;
        for (uint256 j = 0; j < cols; ++j) {
            colVars[j] = ctx.c.numVars[lk.colIn[j]];
            if (colVars[j] > nw) nw = colVars[j];
        }
        uint256 per = pair ? 3 : 2;
        uint256 need = 4 * nw + cols * per + 4 * lk.bits + per;
        bytes calldata frs = _slice(ctx, need);
        _apply(ctx, _call(ctx.modules, abi.encodeCall(TransformerModules.lookupSumchecks, (ctx.ch.state, frs, lk, colVars))));
    }

    /// @notice An op step (`TransformerModules.opStep`): `point`/`value` the claim reduced
    ///         (empty for a root). Every tensor the op claims must be committed; its final
    ///         reduction (RoPE's input, Argmax's logits, PositionRows' table) may be any tensor.
    function step(TCtx memory ctx, TOp memory op, uint256[] memory point, uint256 value) internal view {
        uint256 k = op.kind;
        uint256[] memory t = op.t;
        uint256 need;
        if (k == TOps.EMBEDDING) {
            _committedAt(ctx, t, 1);
            need = 3 * _lg(op.p[1]) + 1;
        } else if (k == TOps.ROPE) {
            _committedAt(ctx, t, 1);
            _committedAt(ctx, t, 2);
            need = 4 * point.length + 4;
        } else if (k == TOps.HADAMARD) {
            _committedAt(ctx, t, 0);
            _committedAt(ctx, t, 1);
            need = 4 * point.length + 2;
        } else if (k == TOps.POSITION_ROWS) {
            uint256 nt = _lg(op.p[0]);
            if (op.p[0] != uint256(1) << nt) {
                _committedAt(ctx, t, 0);
                need = 4 * nt + 1;
            }
        } else {
            // RangeBound (q, digits) / Argmax (logits, k, digits): every claim is committed
            _committed(ctx, TOps.seg(t, k == TOps.ARGMAX ? 2 : 0, k == TOps.ARGMAX ? t.length - 2 : t.length));
            if (k == TOps.ARGMAX) _committedAt(ctx, t, 0);
            need = k == TOps.ARGMAX ? t.length - 1 : t.length;
        }
        uint256[] memory tNumVars = new uint256[](t.length);
        for (uint256 i = 0; i < t.length; ++i) {
            if (t[i] < ctx.c.numVars.length) tNumVars[i] = ctx.c.numVars[t[i]];
        }
        StepIn memory inp;
        inp.state = ctx.ch.state;
        inp.frs = _slice(ctx, need);
        inp.op = op;
        inp.tNumVars = tNumVars;
        inp.point = point;
        inp.value = value;
        inp.tokens = _tokens(ctx);
        inp.next = ctx.next;
        _apply(ctx, _call(ctx.modules, abi.encodeCall(TransformerModules.opStep, (inp))));
    }

    function _tokens(TCtx memory ctx) private pure returns (uint256[] memory tk) {
        uint256 n = ctx.nTokens;
        uint256 off = ctx.tokensOffset;
        tk = new uint256[](n);
        assembly ("memory-safe") {
            calldatacopy(add(tk, 32), off, shl(5, n))
        }
    }

    function _committedAt(TCtx memory ctx, uint256[] memory t, uint256 i) private pure {
        uint256 kind = ctx.c.kind[t[i]];
        if (kind < KIND_MODEL || kind > KIND_PROOF) revert NotCommitted(t[i]);
    }

    function _lg(uint256 n) private pure returns (uint256 k) {
        uint256 v = n - 1;
        while (v != 0) {
            ++k;
            v >>= 1;
        }
    }

    function _committed(TCtx memory ctx, uint256[] memory tids) private pure {
        uint256[] memory kind = ctx.c.kind;
        for (uint256 i = 0; i < tids.length; ++i) {
            uint256 t = tids[i];
            if (t >= kind.length) continue; // NONE: an absent optional tensor
            if (kind[t] < KIND_MODEL || kind[t] > KIND_PROOF) revert NotCommitted(t);
        }
    }

    /// @dev The next `need` bytes' worth of field elements (fewer if the proof has fewer: the
    ///      step then fails as running out of items).
    function _slice(TCtx memory ctx, uint256 need) private pure returns (bytes calldata frs) {
        uint256 off = ctx.ch.frNext;
        uint256 len = 32 * need;
        if (off + len > ctx.ch.frEnd) len = ctx.ch.frEnd - off;
        assembly ("memory-safe") {
            frs.offset := off
            frs.length := len
        }
    }

    function _call(address module, bytes memory data) private view returns (bytes memory ret) {
        bool ok;
        (ok, ret) = module.staticcall(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    function _apply(TCtx memory ctx, bytes memory ret) private view {
        StepClaims memory c = abi.decode(ret, (StepClaims));
        ctx.ch.state = c.state;
        ctx.ch.frNext += c.used;
        for (uint256 k = 0; k < c.tids.length; ++k) {
            TContext.record(ctx, c.tids[k], c.pts[c.pidx[k]], c.values[k]);
        }
        if (c.hasTail) TContext.reduce(ctx, c.tailTid, c.tailPoint, c.tailValue);
    }
}
