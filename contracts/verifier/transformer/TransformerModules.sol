// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {TOp, TLookup} from "./TCircuit.sol";
import {TCtx, TContext} from "./TContext.sol";
import {TSoftmax} from "./TSoftmax.sol";
import {TLogup} from "./TLogup.sol";
import {TLeafOps} from "./TLeafOps.sol";
import {TOps} from "./TOps.sol";
import {FrMath} from "../FrMath.sol";
import {ZkMask} from "../ZkMask.sol";
import {MaskLog} from "../Transcript.sol";

/// @dev The op type code of a lookup's zero-sum sumcheck as a module step (`TModuleCall.lookup`).
uint256 constant LOOKUP = 0xff;

/// @title TransformerModules
/// @notice The steps of the transformer verifier whose claims are all on committed tensors
///         (the softmax root, a lookup's two sumchecks), run in a contract of their own so that
///         `TransformerVerifier` stays under the EIP-170 code size limit. A step is a pure
///         function of the transcript state, the slice of the proof's field elements it reads
///         and the op: it returns the new state and the claims for the caller to record, so the
///         transcript and the claim order are exactly those of running it inline.
contract TransformerModules {

    /// @notice One step: the Embedding, RoPE, Hadamard, PositionRows, BiasAdd and grouped-query
    ///         (KVExpand / VTExpand with a group that is not a power of two) reductions;
    ///         the Argmax and Softmax roots; a lookup's sumchecks. (Rescale and RangeBound
    ///         roots run in the verifier's frame, `TModuleCall.local`.)
    /// @notice Runs one step. `input` (32-byte words): transcript state, op type, label
    ///         length, label, [n, op tensor ids], [n, op ints], [n, num_vars of each op tensor],
    ///         [n, the claim's point] (empty for a root), the claim's value, [n, tokens], the
    ///         next token, then the raw field elements the step may read. Output (words): state,
    ///         bytes read, n, n x (tensor id, point index, value), the distinct points as
    ///         [length, coordinates], has-tail, tail tensor, tail value, [length, tail point].
    function run(bytes calldata input) external pure returns (bytes memory) {
        (TCtx memory ctx, TOp memory op, uint256[] memory point, uint256 value) = _decode(input);
        _dispatch(ctx, op, point, value);
        return _encode(ctx);
    }

    function _dispatch(TCtx memory ctx, TOp memory op, uint256[] memory point, uint256 value) private pure {
        uint256 k = op.kind;
        if (k == TOps.EMBEDDING) TLeafOps.embedding(ctx, op, point, value);
        else if (k == TOps.ROPE) TLeafOps.rope(ctx, op, point, value);
        else if (k == TOps.HADAMARD) TLeafOps.hadamard(ctx, op, point, value);
        else if (k == TOps.POSITION_ROWS) TLeafOps.positionRows(ctx, op, point, value);
        else if (k == TOps.ARGMAX) TLeafOps.argmax(ctx, op);
        else if (k == TOps.BIAS_ADD) TLeafOps.biasAdd(ctx, op, point, value);
        else if (k == TOps.SOFTMAX) TSoftmax.root(ctx, op);
        else if (k == LOOKUP) _lookup(ctx, op);
        else if (k == TOps.KV_EXPAND || k == TOps.VT_EXPAND) TLeafOps.groupExpand(ctx, op, point, value);
        else revert TOps.UnknownOp(k);
    }

    function _decode(bytes calldata input)
        private
        pure
        returns (TCtx memory ctx, TOp memory op, uint256[] memory point, uint256 value)
    {
        uint256 p;
        assembly ("memory-safe") {
            p := input.offset
        }
        ctx.ch.state = bytes32(_w(p));
        op.kind = _w(p + 32);
        op.labelLen = _w(p + 64);
        op.label = bytes32(_w(p + 96));
        (op.t, p) = _arr(p + 128);
        (op.p, p) = _arr(p);
        uint256[] memory tNumVars;
        (tNumVars, p) = _arr(p);
        (point, p) = _arr(p);
        value = _w(p);
        ctx.nTokens = _w(p + 32);
        ctx.tokensOffset = p + 64;
        p += 64 + 32 * ctx.nTokens;
        ctx.next = _w(p);
        p += 32;
        ctx.ch.frNext = p;
        ctx.ch.g1Next = p; // where the field elements start (no G1 point is read in a step)
        ctx.ch.frEnd = _offset(input) + input.length;
        ZkMask.reserve(ctx.ch.mask, (ctx.ch.frEnd - ctx.ch.frNext) / 32); // this step's masked sumchecks
        uint256 top;
        for (uint256 i = 0; i < op.t.length; ++i) {
            if (op.t[i] > top && op.t[i] != 0xffff) top = op.t[i];
        }
        uint256[] memory nv = new uint256[](top + 1);
        for (uint256 i = 0; i < op.t.length; ++i) {
            if (op.t[i] != 0xffff) nv[op.t[i]] = tNumVars[i];
        }
        ctx.c.numVars = nv;
    }

    function _offset(bytes calldata b) private pure returns (uint256 o) {
        assembly ("memory-safe") {
            o := b.offset
        }
    }

    function _w(uint256 p) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := calldataload(p)
        }
    }

    /// @dev A [length, words] array of calldata at p, copied; returns the offset after it.
    function _arr(uint256 p) private pure returns (uint256[] memory a, uint256 next) {
        uint256 n = _w(p);
        a = new uint256[](n);
        assembly ("memory-safe") {
            calldatacopy(add(a, 32), add(p, 32), shl(5, n))
        }
        next = p + 32 + 32 * n;
    }

    /// @dev A lookup passed as an op (`TModuleCall.lookup`).
    function _lookup(TCtx memory ctx, TOp memory op) private pure {
        TLookup memory lk;
        uint256 cols = (op.t.length - 3) / 3;
        lk.tableOut = op.t[0];
        lk.mult = op.t[1];
        lk.bId = op.t[2];
        lk.colIn = TOps.seg(op.t, 3, cols);
        lk.colOut = TOps.seg(op.t, 3 + cols, cols);
        lk.aIds = TOps.seg(op.t, 3 + 2 * cols, cols);
        lk.index = op.p[0];
        lk.tableKind = op.p[1];
        lk.bits = op.p[2];
        lk.beta = op.p[3];
        lk.gamma = op.p[4];
        TLogup.runSumchecks(ctx, lk);
    }

    function _encode(TCtx memory ctx) private pure returns (bytes memory out) {
        uint256 n = ctx.nClaims;
        uint256[] memory pidx = new uint256[](n);
        uint256[] memory ptrs = new uint256[](n); // memory addresses of the distinct points
        uint256 np;
        MaskLog memory ml = ctx.ch.mask;
        uint256 words = 10 + 3 * n + ctx.tailPoint.length + 2 * ml.nRounds + 2 * ml.nSc;
        for (uint256 k = 0; k < n; ++k) {
            uint256[] memory pt = ctx.claimPoint[k];
            uint256 addr;
            assembly ("memory-safe") {
                addr := pt
            }
            uint256 i = np;
            while (i > 0 && ptrs[i - 1] != addr) --i;
            if (i == 0) {
                ptrs[np] = addr;
                i = ++np;
                words += 1 + pt.length;
            }
            pidx[k] = i - 1;
        }
        out = new bytes(32 * words);
        uint256 o;
        assembly ("memory-safe") {
            o := add(out, 32)
        }
        o = _put(o, uint256(ctx.ch.state));
        o = _put(o, ctx.ch.frNext - ctx.ch.g1Next);
        o = _put(o, n);
        for (uint256 k = 0; k < n; ++k) {
            o = _put(o, ctx.claimTid[k]);
            o = _put(o, pidx[k]);
            o = _put(o, ctx.claimValue[k]);
        }
        o = _put(o, np);
        for (uint256 i = 0; i < np; ++i) {
            o = _putArr(o, ptrs[i]);
        }
        o = _put(o, ml.nRounds); // the step's mask log (`ZkMask`): rounds (r, degree), sumchecks (y, end)
        for (uint256 i = 0; i < ml.nRounds; ++i) {
            o = _put(o, ml.r[i]);
            o = _put(o, ml.deg[i]);
        }
        o = _put(o, ml.nSc);
        for (uint256 j = 0; j < ml.nSc; ++j) {
            o = _put(o, ml.y[j]);
            o = _put(o, ml.end[j]);
        }
        o = _put(o, ctx.hasTail ? 1 : 0);
        o = _put(o, ctx.tailTid);
        o = _put(o, ctx.tailValue);
        uint256[] memory tp = ctx.tailPoint;
        uint256 tpa;
        assembly ("memory-safe") {
            tpa := tp
        }
        _putArr(o, tpa);
    }

    function _put(uint256 o, uint256 v) private pure returns (uint256) {
        assembly ("memory-safe") {
            mstore(o, v)
        }
        return o + 32;
    }

    /// @dev Copies the memory array at `a` (length word and elements) to `o`.
    function _putArr(uint256 o, uint256 a) private pure returns (uint256 next) {
        assembly ("memory-safe") {
            let len := add(32, shl(5, mload(a)))
            mcopy(o, a, len)
            next := add(o, len)
        }
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

    /// @notice A lookup's zero-sum sumcheck (`logup.run_sumchecks`) as a module step: the lookup is
    ///         passed as an op with t = table-out, m, B, the in columns, the out columns, the A
    ///         columns and p = index, table kind, bits, beta, gamma.
    function lookup(TCtx memory ctx, TLookup memory lk) internal view {
        uint256 cols = lk.colIn.length;
        TOp memory op;
        op.kind = LOOKUP;
        op.t = new uint256[](3 + 3 * cols);
        op.t[0] = lk.tableOut;
        op.t[1] = lk.mult;
        op.t[2] = lk.bId;
        for (uint256 j = 0; j < cols; ++j) {
            op.t[3 + j] = lk.colIn[j];
            op.t[3 + cols + j] = lk.colOut[j];
            op.t[3 + 2 * cols + j] = lk.aIds[j];
        }
        op.p = new uint256[](5);
        op.p[0] = lk.index;
        op.p[1] = lk.tableKind;
        op.p[2] = lk.bits;
        op.p[3] = lk.beta;
        op.p[4] = lk.gamma;
        step(ctx, op, new uint256[](0), 0);
    }

    /// @notice A Rescale or RangeBound root run in the caller's own frame: the same checks,
    ///         claims, transcript and final reduction as its module step, without the call
    ///         (whose fixed cost, ~20K gas, was most of these small steps).
    function local(TCtx memory ctx, TOp memory op) internal view {
        uint256 from = op.kind == TOps.RANGE_BOUND ? 0 : 1;
        _committed(ctx, TOps.seg(op.t, from, op.t.length - from));
        if (op.kind == TOps.RESCALE) TLeafOps.rescale(ctx, op);
        else TLeafOps.rangeBound(ctx, op);
        if (ctx.hasTail) {
            ctx.hasTail = false;
            TContext.reduce(ctx, ctx.tailTid, ctx.tailPoint, ctx.tailValue);
        }
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
            need = 2 * FrMath.log2Ceil(op.p[1]) + 3; // + G, y of the masked sumcheck
        } else if (k == TOps.ROPE) {
            _committedAt(ctx, t, 1);
            _committedAt(ctx, t, 2);
            need = 3 * point.length + 6;
        } else if (k == TOps.HADAMARD) {
            _committedAt(ctx, t, 0);
            _committedAt(ctx, t, 1);
            need = 3 * point.length + 4;
        } else if (k == TOps.BIAS_ADD) {
            _committedAt(ctx, t, 1);
            need = 1;
        } else if (k == TOps.POSITION_ROWS) {
            uint256 nt = FrMath.log2Ceil(op.p[0]);
            if (op.p[0] != uint256(1) << nt) {
                _committedAt(ctx, t, 0);
                need = 3 * nt + 3;
            }
        } else if (k == TOps.SOFTMAX) {
            _committed(ctx, t);
            uint256 nr = FrMath.log2Ceil(op.p[0]);
            for (uint256 i = TSoftmax.AXES; i < op.p.length; ++i) {
                nr += FrMath.log2Ceil(op.p[i]);
            }
            uint256 kd = op.p[1];
            // two sumchecks (entries, rows), then the claims of each (TSoftmax._claims, _rows)
            need = 3 * (2 * nr + FrMath.log2Ceil(op.p[0])) + 8 + 2 * kd + (kd - 1) * (op.p[6] + op.p[7])
                + 2 * op.p[8] + 2 * op.p[9] + op.p[10] + op.p[11] + 4;
        } else if (k == LOOKUP) {
            _committed(ctx, t);
            uint256 cols = (t.length - 3) / 3;
            uint256 nw;
            for (uint256 j = 0; j < cols; ++j) {
                uint256 m = ctx.c.numVars[t[3 + j]];
                if (m > nw) nw = m;
            }
            uint256 per = op.p[1] != 0 ? 3 : 2;
            need = 3 * nw + cols * per + 3 * op.p[2] + per + 2;
        } else if (k == TOps.ARGMAX) {
            // logits, k, digits: every claim is committed (the logits get the final reduction),
            // one field element per claimed tensor
            _committedAt(ctx, t, 0);
            _committed(ctx, TOps.seg(t, 2, t.length - 2));
            need = t.length - 1;
        } else if (k == TOps.KV_EXPAND || k == TOps.VT_EXPAND) {
            // a group that is not a power of two: lg(kv_heads) rounds of degree 2, src's claim
            _committedAt(ctx, t, 0);
            need = 2 * FrMath.log2Ceil(op.p[0]) + 3;
        } else {
            revert TOps.UnknownOp(k);
        }
        _exec(ctx, op, point, value, need);
    }

    /// @dev Encodes the step's input (see `TransformerModules.run`), calls the module, applies
    ///      its output: the claims are recorded, their points used in place in the returned
    ///      words, then the final reduction runs. The input buffer is released afterwards.
    function _exec(TCtx memory ctx, TOp memory op, uint256[] memory point, uint256 value, uint256 need)
        private
        view
    {
        uint256 frsLen = 32 * need;
        if (ctx.ch.frNext + frsLen > ctx.ch.frEnd) frsLen = ctx.ch.frEnd - ctx.ch.frNext;
        uint256 nt = op.t.length;
        uint256 base;
        assembly ("memory-safe") {
            base := mload(0x40)
        }
        uint256 o = base + 4 + 64; // selector, ABI offset and length of `input`
        o = _put(o, uint256(ctx.ch.state));
        o = _put(o, op.kind);
        o = _put(o, op.labelLen);
        o = _put(o, uint256(op.label));
        o = _putArr(o, op.t);
        o = _putArr(o, op.p);
        o = _put(o, nt);
        for (uint256 i = 0; i < nt; ++i) {
            o = _put(o, op.t[i] < ctx.c.numVars.length ? ctx.c.numVars[op.t[i]] : 0);
        }
        o = _putArr(o, point);
        o = _put(o, value);
        o = _put(o, ctx.nTokens);
        uint256 tokOff = ctx.tokensOffset;
        uint256 tokLen = 32 * ctx.nTokens;
        uint256 frOff = ctx.ch.frNext;
        assembly ("memory-safe") {
            calldatacopy(o, tokOff, tokLen)
        }
        o = _put(o + tokLen, ctx.next);
        assembly ("memory-safe") {
            calldatacopy(o, frOff, frsLen)
        }
        o += frsLen;
        _call(ctx, base, o);
    }

    function _call(TCtx memory ctx, uint256 base, uint256 end) private view {
        address module = ctx.modules;
        bool ok;
        uint256 ret;
        assembly ("memory-safe") {
            let len := sub(end, add(base, 68))
            mstore(base, shl(224, 0x3a276523)) // run(bytes)
            mstore(add(base, 4), 32)
            mstore(add(base, 36), len)
            ok := staticcall(gas(), module, base, sub(end, base), 0, 0)
            // the input is garbage now: the output takes its place
            ret := base
            returndatacopy(ret, 0, returndatasize())
            mstore(0x40, add(ret, returndatasize()))
            if iszero(ok) { revert(ret, returndatasize()) }
        }
        _apply(ctx, ret + 64);
    }

    function _put(uint256 o, uint256 v) private pure returns (uint256) {
        assembly ("memory-safe") {
            mstore(o, v)
        }
        return o + 32;
    }

    function _committedAt(TCtx memory ctx, uint256[] memory t, uint256 i) private pure {
        uint256 kind = ctx.c.kind[t[i]];
        if (kind < KIND_MODEL || kind > KIND_PROOF) revert NotCommitted(t[i]);
    }

    function _committed(TCtx memory ctx, uint256[] memory tids) private pure {
        uint256[] memory kind = ctx.c.kind;
        for (uint256 i = 0; i < tids.length; ++i) {
            uint256 t = tids[i];
            if (t >= kind.length) continue; // NONE: an absent optional tensor
            if (kind[t] < KIND_MODEL || kind[t] > KIND_PROOF) revert NotCommitted(t);
        }
    }

    function _putArr(uint256 o, uint256[] memory a) private pure returns (uint256 next) {
        assembly ("memory-safe") {
            let len := add(32, shl(5, mload(a)))
            mcopy(o, a, len)
            next := add(o, len)
        }
    }

    function _rd(uint256 o) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(o)
        }
    }

    /// @dev Appends a step's mask log (words at `o`: nRounds, (r, degree) per round, nSc,
    ///      (y, end) per sumcheck) to the verifier's; returns the offset after it.
    ///      A shadow's block names a claim of the step: its index moves by `claimBase`, the
    ///      verifier's claim count before the step's claims.
    function _applyMasks(MaskLog memory dst, uint256 o, uint256 claimBase) private pure returns (uint256 next) {
        uint256 nr = _rd(o);
        uint256 ns = _rd(o + 32 + 64 * nr);
        uint256 base = dst.nRounds;
        uint256 sc = dst.nSc;
        if (base + nr > dst.r.length || sc + ns > dst.y.length) revert ZkMask.MaskPoolExhausted();
        uint256[] memory r = dst.r;
        uint256[] memory d = dst.deg;
        uint256[] memory y = dst.y;
        uint256[] memory e = dst.end;
        assembly ("memory-safe") {
            let rp := add(add(r, 32), shl(5, base))
            let dp := add(add(d, 32), shl(5, base))
            for { let i := 0 } lt(i, nr) { i := add(i, 1) } {
                let src := add(o, add(32, shl(6, i)))
                mstore(add(rp, shl(5, i)), mload(src))
                let dw := mload(add(src, 32))
                if and(iszero(and(dw, 0xff)), iszero(iszero(dw))) { dw := add(dw, shl(8, claimBase)) }
                mstore(add(dp, shl(5, i)), dw)
            }
            o := add(o, add(64, shl(6, nr)))
            let yp := add(add(y, 32), shl(5, sc))
            let ep := add(add(e, 32), shl(5, sc))
            for { let j := 0 } lt(j, ns) { j := add(j, 1) } {
                let src := add(o, shl(6, j))
                mstore(add(yp, shl(5, j)), mload(src))
                mstore(add(ep, shl(5, j)), add(base, mload(add(src, 32))))
            }
            next := add(o, shl(6, ns))
        }
        dst.nRounds = base + nr;
        dst.nSc = sc + ns;
    }

    /// @dev The module's output words at memory `o` (layout in `TransformerModules.run`).
    function _apply(TCtx memory ctx, uint256 o) private view {
        ctx.ch.state = bytes32(_rd(o));
        ctx.ch.frNext += _rd(o + 32);
        uint256 n = _rd(o + 64);
        uint256 claims = o + 96;
        o = claims + 96 * n;
        uint256 np = _rd(o);
        uint256[] memory pts = new uint256[](np);
        o += 32;
        for (uint256 i = 0; i < np; ++i) {
            pts[i] = o;
            o += 32 + 32 * _rd(o);
        }
        for (uint256 k = 0; k < n; ++k) {
            uint256 c = claims + 96 * k;
            uint256 at = pts[_rd(c + 32)];
            uint256[] memory pt;
            assembly ("memory-safe") {
                pt := at
            }
            TContext.record(ctx, _rd(c), pt, _rd(c + 64));
        }
        o = _applyMasks(ctx.ch.mask, o, ctx.nClaims - n);
        if (_rd(o) != 0) {
            uint256[] memory tp;
            assembly ("memory-safe") {
                tp := add(o, 96)
            }
            TContext.reduce(ctx, _rd(o + 32), tp, _rd(o + 64));
        }
    }
}
