// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ZkMask} from "./ZkMask.sol";
import {FrMath} from "./FrMath.sol";
import {Channel} from "./Transcript.sol";
import {LookupInstance} from "./Circuit.sol";
import {VerifierCtx, Context} from "./Context.sol";
import {Sumcheck} from "./Sumcheck.sol";

/// @title Logup
/// @notice `prover/lookup/logup.py` (verifier side): `commit_inverses` (phase 2) and
///         `run_sumchecks` (phase 3). Labels are "lk<index>/<suffix>".
library Logup {
    /// @notice The final check of lookup `index`'s zero-sum sumcheck failed
    ///         (Python: VerificationError("lookup")).
    error LookupFinalCheckFailed(uint256 index);

    /// @dev Challenges of `run_sumchecks`; n = max(nw, bits), the sumcheck's variables.
    struct Challenges {
        uint256 lam;
        uint256[] rhoW;
        uint256 mu;
        uint256[] rhoT;
        uint256 nw;
        uint256 n;
        uint256 rb; // the shadow selector's challenge (`prover/zk/shadow.py`)
        uint256 s0; // the first shadow block: per column A, in (, out), then B, m
    }

    /// @notice The transcript label "lk<index>" + suffix (suffix starts with "/").
    function label(LookupInstance memory lk, bytes32 suffix) internal pure returns (bytes32) {
        return bytes32("lk0") | bytes32(lk.index << 232) | (suffix >> 24);
    }

    /// @notice Phase 2: draw beta (and gamma for a function table), receive the commitments
    ///         to A^c and B.
    function commitInverses(VerifierCtx memory ctx, LookupInstance memory lk) internal pure {
        lk.beta = Channel.challenge(ctx.ch, label(lk, "/beta"));
        lk.gamma = lk.pair ? Channel.challenge(ctx.ch, label(lk, "/gamma")) : 0;
        for (uint256 j = 0; j < lk.nCols; ++j) {
            ctx.c.commitment[lk.aIds[j]] = Channel.recvG1(ctx.ch, label(lk, "/A"));
        }
        ctx.c.commitment[lk.bId] = Channel.recvG1(ctx.ch, label(lk, "/B"));
    }

    /// @notice Phase 3: the zero-sum sumcheck (witness side minus table side), shadowed
    ///         (`prover/zk/shadow.py`: one more variable b first, every private operand's value
    ///         sent as f(z) + r_b S), and its final check (1 - r_b) lhs = expected; records the
    ///         claims (witness columns first, then B, m, T_out).
    function runSumchecks(VerifierCtx memory ctx, LookupInstance memory lk) internal pure {
        Challenges memory ch;
        for (uint256 j = 0; j < lk.nCols; ++j) {
            uint256 m = ctx.c.numVarsOf[lk.colIn[j]];
            if (m > ch.nw) ch.nw = m;
        }
        ch.n = ch.nw > lk.bits ? ch.nw : lk.bits;
        ch.lam = Channel.challenge(ctx.ch, label(lk, "/lambda"));
        ch.rhoW = Channel.challenges(ctx.ch, label(lk, "/rho_w"), ch.nw);
        ch.mu = Channel.challenge(ctx.ch, label(lk, "/mu"));
        ch.rhoT = Channel.challenges(ctx.ch, label(lk, "/rho_t"), lk.bits);
        ch.s0 = ZkMask.takeShadows(ctx.ch.mask, lk.nCols * (lk.pair ? 3 : 2) + 2);
        (uint256[] memory point, uint256 subExpected) =
            ZkMask.verify(ctx.ch, label(lk, "/g"), label(lk, "/r"), ch.n + 1, 3, 3, 0);
        ch.rb = point[0];
        point = FrMath.suffix(point, 1);
        uint256 expected;
        uint256 lc = 1;
        for (uint256 j = 0; j < lk.nCols; ++j) {
            lc = FrMath.mul(lc, ch.lam); // lams[c] = lam^(c + 1)
            expected = FrMath.add(expected, _column(ctx, lk, ch, point, j, lc));
        }
        expected = FrMath.sub(expected, _tableSide(ctx, lk, ch, point));
        if (FrMath.mul(FrMath.sub(1, ch.rb), expected) != subExpected) revert LookupFinalCheckFailed(lk.index);
    }

    /// @dev term_weight(1, n, m) * (a + lc eq (a (beta + key) - 1)) for column j.
    function _column(
        VerifierCtx memory ctx,
        LookupInstance memory lk,
        Challenges memory ch,
        uint256[] memory point,
        uint256 j,
        uint256 lc
    ) private pure returns (uint256) {
        uint256 m = ctx.c.numVarsOf[lk.colIn[j]];
        uint256[] memory p = FrMath.suffix(point, ch.n - m);
        uint256 eq = FrMath.eqEval(ch.rhoW, ch.nw - m, p, 0, m);
        (uint256 a, uint256 key) = _columnClaims(ctx, lk, p, j, ch);
        return FrMath.termWeight(_inner(a, lk.beta, key, 1, lc, eq), ch.n, m);
    }

    /// @dev The shadowed claims of column j at p: A^c, then the key (in + gamma out for a pair).
    function _columnClaims(VerifierCtx memory ctx, LookupInstance memory lk, uint256[] memory p, uint256 j,
                           Challenges memory ch) private pure returns (uint256 a, uint256 key) {
        bytes32 evalLabel = label(lk, "/eval");
        uint256 blk = ch.s0 + j * (lk.pair ? 3 : 2);
        a = Context.shadowed(ctx, lk.aIds[j], p, ch.rb, blk, evalLabel);
        key = Context.shadowed(ctx, lk.colIn[j], p, ch.rb, blk + 1, evalLabel);
        if (lk.pair) {
            key = FrMath.add(key, FrMath.mul(lk.gamma, Context.shadowed(ctx, lk.colOut[j], p, ch.rb, blk + 2, evalLabel)));
        }
    }

    /// @dev term_weight(1, n, bits) * (b + mu eq (b (beta + t) - m)) at the point's last bits
    ///      coordinates: the table side, which the caller subtracts.
    function _tableSide(VerifierCtx memory ctx, LookupInstance memory lk, Challenges memory ch, uint256[] memory point)
        private
        pure
        returns (uint256)
    {
        uint256[] memory p = FrMath.suffix(point, ch.n - lk.bits);
        uint256 blk = ch.s0 + lk.nCols * (lk.pair ? 3 : 2);
        uint256 b = Context.shadowed(ctx, lk.bId, p, ch.rb, blk, label(lk, "/eval"));
        uint256 mult = Context.shadowed(ctx, lk.multId, p, ch.rb, blk + 1, label(lk, "/eval"));
        uint256 eq = FrMath.eqEval(ch.rhoT, 0, p, 0, lk.bits);
        return FrMath.termWeight(_inner(b, lk.beta, _tableKey(ctx, lk, p), mult, ch.mu, eq), ch.n, lk.bits);
    }

    /// @dev The table's key at p: T_in(p) (+ gamma T_out(p), claimed, for a function table).
    function _tableKey(VerifierCtx memory ctx, LookupInstance memory lk, uint256[] memory p)
        private
        pure
        returns (uint256 tkey)
    {
        tkey = tableInMle(lk, p);
        if (lk.pair) {
            tkey = FrMath.add(tkey, FrMath.mul(lk.gamma, Context.claim(ctx, lk.tableOutId, p, label(lk, "/eval"))));
        }
    }

    /// @dev x + coeff eq (x (beta + key) - minus): the per-row term of both sides
    ///      (witness side: x = A, minus = 1; table side: x = B, minus = m).
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

    /// @notice `table.in_mle(point)`: the range MLE, shifted by lo = -2^(bits-1) for a
    ///         function table (`prover/lookup/tables.py`).
    function tableInMle(LookupInstance memory lk, uint256[] memory point) internal pure returns (uint256 v) {
        v = FrMath.rangeMle(point);
        if (lk.pair) v = FrMath.sub(v, FrMath.pow2(lk.bits - 1));
    }
}
