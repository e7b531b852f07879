// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ZkMask} from "../ZkMask.sol";
import {FrMath} from "../FrMath.sol";
import {Channel} from "../Transcript.sol";
import {Sumcheck} from "../Sumcheck.sol";
import {TLookup} from "./TCircuit.sol";
import {TCtx, TContext} from "./TContext.sol";
import {TOps} from "./TOps.sol";

/// @title TLogup
/// @notice `prover/lookup/logup.py` (verifier side) over a circuit description:
///         `commit_inverses` (phase 2) and `run_sumchecks` (phase 3). Labels "lk<index>/...".
library TLogup {
    struct Ch {
        uint256 lam;
        uint256[] rhoW;
        uint256 mu;
        uint256[] rhoT;
        uint256 nw;
        uint256 n; // max(nw, bits): the sumcheck's variables
        uint256 rb; // the shadow selector's challenge (`prover/zk/shadow.py`)
        uint256 s0; // the first shadow block: per column A, in (, out), then B, m
    }

    /// @notice "lk<index>" followed by `suffix` (index < 100).
    function label(uint256 index, bytes32 suffix) internal pure returns (bytes32) {
        if (index < 10) return bytes32("lk0") | bytes32(index << 232) | (suffix >> 24);
        return bytes32("lk00") | bytes32((index / 10) << 232) | bytes32((index % 10) << 224) | (suffix >> 32);
    }

    function commitInverses(TCtx memory ctx, TLookup memory lk) internal pure {
        lk.beta = Channel.challenge(ctx.ch, label(lk.index, "/beta"));
        bool pair = lk.tableKind != 0;
        lk.gamma = pair ? Channel.challenge(ctx.ch, label(lk.index, "/gamma")) : 0;
        bytes32 la = label(lk.index, "/A");
        uint256[] memory commitment = ctx.c.commitment;
        for (uint256 j = 0; j < lk.aIds.length; ++j) {
            commitment[lk.aIds[j]] = Channel.recvG1(ctx.ch, la);
        }
        commitment[lk.bId] = Channel.recvG1(ctx.ch, label(lk.index, "/B"));
    }

    /// @notice The zero-sum sumcheck (witness side minus table side), shadowed
    ///         (`prover/zk/shadow.py`: one more variable b first, each private operand sent as
    ///         f(z) + r_b S), and its final check (1 - r_b) lhs = expected; records the claims
    ///         (witness columns first, then B, m, T_out).
    function runSumchecks(TCtx memory ctx, TLookup memory lk) internal pure {
        Ch memory ch;
        uint256[] memory nv = ctx.c.numVars;
        for (uint256 j = 0; j < lk.colIn.length; ++j) {
            uint256 m = nv[lk.colIn[j]];
            if (m > ch.nw) ch.nw = m;
        }
        ch.n = ch.nw > lk.bits ? ch.nw : lk.bits;
        ch.lam = Channel.challenge(ctx.ch, label(lk.index, "/lambda"));
        ch.rhoW = Channel.challenges(ctx.ch, label(lk.index, "/rho_w"), ch.nw);
        ch.mu = Channel.challenge(ctx.ch, label(lk.index, "/mu"));
        ch.rhoT = Channel.challenges(ctx.ch, label(lk.index, "/rho_t"), lk.bits);
        Cols memory cs;
        uint256 subExpected;
        ch.s0 = ZkMask.takeShadows(ctx.ch.mask, lk.colIn.length * (lk.tableKind != 0 ? 3 : 2) + 2);
        (cs.point, subExpected) =
            ZkMask.verify(ctx.ch, label(lk.index, "/g"), label(lk.index, "/r"), ch.n + 1, 3, 3, 0);
        ch.rb = cs.point[0];
        cs.point = FrMath.suffix(cs.point, 1);
        cs.pts = new uint256[][](ch.n + 1);
        cs.eqs = new uint256[](ch.n + 1);
        cs.wts = new uint256[](ch.n + 1);
        cs.el = label(lk.index, "/eval");
        uint256 expected;
        uint256 lc = 1;
        for (uint256 j = 0; j < lk.colIn.length; ++j) {
            lc = FrMath.mul(lc, ch.lam);
            expected = FrMath.add(expected, _column(ctx, lk, ch, cs, j, lc));
        }
        expected = FrMath.sub(expected, _tableSide(ctx, lk, ch, cs));
        if (FrMath.mul(FrMath.sub(1, ch.rb), expected) != subExpected) TOps.reject("lookup", lk.index);
    }

    /// @dev Per suffix length m: the point suffix, eq(rho_w suffix, it) and 2^-(n - m),
    ///      computed once for all columns of that length.
    struct Cols {
        uint256[] point;
        uint256[][] pts;
        uint256[] eqs;
        uint256[] wts;
        bytes32 el;
    }

    /// @dev term_weight(1, n, m) (a + lc eq (a (beta + key) - 1)) for column j.
    function _column(TCtx memory ctx, TLookup memory lk, Ch memory ch, Cols memory cs, uint256 j, uint256 lc)
        private
        pure
        returns (uint256)
    {
        uint256 m = ctx.c.numVars[lk.colIn[j]];
        if (cs.wts[m] == 0) {
            cs.pts[m] = FrMath.suffix(cs.point, ch.n - m);
            cs.eqs[m] = FrMath.eqEval(ch.rhoW, ch.nw - m, cs.pts[m], 0, m);
            cs.wts[m] = FrMath.inv2Pow(ch.n - m);
        }
        (uint256 a, uint256 key) = _columnClaims(ctx, lk, ch, cs.pts[m], j, cs.el);
        return FrMath.mul(cs.wts[m], _inner(a, lk.beta, key, 1, lc, cs.eqs[m]));
    }

    /// @dev The shadowed claims of column j at p: A^c, then the key (in + gamma out for a pair).
    function _columnClaims(TCtx memory ctx, TLookup memory lk, Ch memory ch, uint256[] memory p, uint256 j, bytes32 el)
        private
        pure
        returns (uint256 a, uint256 key)
    {
        uint256 blk = ch.s0 + j * (lk.tableKind != 0 ? 3 : 2);
        a = TContext.shadowed(ctx, lk.aIds[j], p, ch.rb, blk, el);
        key = TContext.shadowed(ctx, lk.colIn[j], p, ch.rb, blk + 1, el);
        if (lk.tableKind != 0) {
            key = FrMath.add(key, FrMath.mul(lk.gamma, TContext.shadowed(ctx, lk.colOut[j], p, ch.rb, blk + 2, el)));
        }
    }

    /// @dev term_weight(1, n, bits) (b + mu eq (b (beta + t) - m)) at the point's last bits
    ///      coordinates: the table side, which the caller subtracts.
    function _tableSide(TCtx memory ctx, TLookup memory lk, Ch memory ch, Cols memory cs)
        private
        pure
        returns (uint256)
    {
        uint256[] memory point = FrMath.suffix(cs.point, ch.n - lk.bits);
        uint256 blk = ch.s0 + lk.colIn.length * (lk.tableKind != 0 ? 3 : 2);
        uint256 b = TContext.shadowed(ctx, lk.bId, point, ch.rb, blk, cs.el);
        uint256 mult = TContext.shadowed(ctx, lk.mult, point, ch.rb, blk + 1, cs.el);
        uint256 tkey = FrMath.rangeMle(point);
        if (lk.tableKind == 1) tkey = FrMath.sub(tkey, FrMath.pow2(lk.bits - 1));
        if (lk.tableKind != 0) tkey = FrMath.add(tkey, FrMath.mul(lk.gamma, TContext.claimCommitted(ctx, lk.tableOut, point, cs.el)));
        uint256 eqv = FrMath.eqEval(ch.rhoT, 0, point, 0, lk.bits);
        return FrMath.termWeight(_inner(b, lk.beta, tkey, mult, ch.mu, eqv), ch.n, lk.bits);
    }

    /// @dev x + coeff eq (x (beta + key) - minus).
    function _inner(uint256 x, uint256 beta, uint256 key, uint256 minus, uint256 coeff, uint256 eqv)
        private
        pure
        returns (uint256 v)
    {
        assembly ("memory-safe") {
            let r := 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
            let t := addmod(mulmod(x, addmod(beta, key, r), r), sub(r, minus), r)
            v := addmod(x, mulmod(mulmod(coeff, eqv, r), t, r), r)
        }
    }
}
