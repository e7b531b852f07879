// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {FrMath} from "./FrMath.sol";
import {VerifierChannel, MaskLog, Channel} from "./Transcript.sol";
import {ZkMask} from "./ZkMask.sol";
import {Sumcheck} from "./Sumcheck.sol";
import {Bls12381} from "./Bls12381.sol";
import {VerifierKeyData} from "./VerifierKeyData.sol";
import {VerifierCtx} from "./Context.sol";

/// @title BatchOpening
/// @notice `prover/pcs/batch.py` open_claims (verifier side) and `prover/pcs/kzg.py` verify.
///         1. alpha; sumcheck "open" of H = sum_k alpha^k v_k over n = max m_p variables,
///            giving s and the final claim `expected`;
///         2. Wt_p = 2^-(n-m_p) W_p(s[n-m_p:]) per polynomial (first-claim order), computed
///            here; C_Phi = sum_p Wt_p C_p must open to `expected` at s (no evaluation is sent);
///         3. receive the n quotients and pi_xi; one G1 MSM computes
///            L = sum_p Wt_p C_p - expected g + sum_i s_i pi_i, one pairing check tests
///            e(L, h) prod_i e(pi_i, -tau_g2[o+i]) e(pi_xi, -xi_g2) == 1: it carries the
///            sumcheck's final check.
/// @dev The key stores -tau_g2 and -xi_g2, so e(-P, Q) = e(P, -Q) removes every negation
///      from verification; the G1 sum of `batch.py` and the left side of `kzg.verify` are
///      folded into the one MSM.
library BatchOpening {
    /// @notice The pairing check of the batch opening failed
    ///         (Python: VerificationError("opening", "pairing check ...")).
    error PairingFailed();

    struct Opening {
        uint256 nSlots;
        uint256[] slotOf; // tensor id -> slot + 1 (0: no claim)
        uint256[] orderTid; // slot -> tensor id, in first-claim order
        uint256[] mvars; // slot -> num_vars
        uint256 n;
        uint256[] apow;
        uint256[] s;
        uint256[] coef; // slot -> Wt_p
        uint256 value; // the sumcheck's final claim: Phi(s)
        uint256[] quotients; // memory pointers of the received G1 points
        uint256 piXi;
        uint256 nExtra; // polynomials beyond the slots: the mask pool, R_1, R_2 (`ZkMask`)
        uint256[3] extraC;
        uint256[3] extraCoef;
    }

    /// @notice The claims to open: `n` claims (tensor word, point, value) and, per tensor id
    ///         (`nTensors` of them), the memory pointer of its G1 commitment. A tensor word is
    ///         tid | nb << 16 | prefix << 24 (prefix < 2^168: the opener input packs a point index
    ///         above bit 192): the claim is on tensor tid at bits(prefix, nb) || point
    ///         (nb = 0: at point), so claims on pooled tensors share the member's point array.
    ///         A weighted claim k (v_k = sum_l c_l f(z_l), `context.Claim.terms`) is entry k
    ///         with its tensor word, value v_k and the point of its FIRST term as its point (it
    ///         fixes m_p, and the plain-claim loop counts it once at that point), plus its terms,
    ///         in order and contiguous, among the `nTerms` term entries: termClaim[j] = k (or
    ///         k | (word + 1) << 64 for a term on another tensor, a combined claim),
    ///         termCoef[j] = c_l, termPoint[j] = z_l without the prefix (claim k's word
    ///         applies). The term loop adds c_l - 1 for the first term, c_l for the others, so
    ///         plain claims cost what they did. A plain claim set passes nTerms = 0.
    struct ClaimSet {
        uint256 n;
        uint256[] tid;
        uint256[][] point;
        uint256[] value;
        uint256 nTensors;
        uint256[] commitment;
        uint256 nTerms;
        uint256[] termClaim;
        uint256[] termCoef;
        uint256[][] termPoint;
    }

    function openClaims(VerifierCtx memory ctx, uint256 vk) internal view {
        open(ctx.ch, claimSet(ctx), vk);
    }

    /// @notice The claim set of an MLP-family claim store (its combined claims' term entries too).
    function claimSet(VerifierCtx memory ctx) internal pure returns (ClaimSet memory) {
        return ClaimSet(
            ctx.nClaims, ctx.claimTid, ctx.claimPoint, ctx.claimValue, ctx.c.kind.length, ctx.c.commitment,
            ctx.nTerms, ctx.termClaim, ctx.termCoef, ctx.termPoint
        );
    }

    /// @notice `open_claims` for any claim store (the MLP and the transformer verifiers). With
    ///         a mask pool (`ch.mask.vars != 0`, `prover/zk/mask.py`): the pool's weighted claims
    ///         follow the store's (claim indices cs.n + j), and the sumcheck is masked by
    ///         rho (eq(z_1, .) R_1 + eq(z_2, .) R_2), R_m random linear polynomials committed
    ///         first ("open/R"); the pool, R_1 and R_2 join Phi with their coefficients.
    function open(VerifierChannel memory ch, ClaimSet memory cs, uint256 vk) internal view {
        Opening memory o;
        _group(cs, o);
        MaskLog memory m = ch.mask;
        uint256 nc = cs.n + m.nSc;
        if (m.vars > o.n) o.n = m.vars;
        uint256[] memory z1;
        uint256[] memory z2;
        if (m.vars != 0) {
            o.extraC[1] = Channel.recvG1(ch, "open/R");
            o.extraC[2] = Channel.recvG1(ch, "open/R");
            z1 = Channel.challenges(ch, "open/z1", o.n);
            z2 = Channel.challenges(ch, "open/z2", o.n);
        }
        uint256 alpha = Channel.challenge(ch, "open/alpha");
        o.apow = FrMath.powers(alpha, nc);
        uint256 h = FrMath.dot(o.apow, cs.value, cs.n);
        for (uint256 j = 0; j < m.nSc; ++j) {
            h = addmod(h, mulmod(o.apow[cs.n + j], m.y[j], FrMath.R), FrMath.R);
        }
        uint256 rho;
        if (m.vars != 0) {
            uint256 total = Channel.recvFr(ch, "open/G");
            rho = Channel.challenge(ch, "open/rho");
            h = addmod(h, mulmod(rho, total, FrMath.R), FrMath.R);
        }
        (o.s, o.value) = Sumcheck.verify(ch, "open/g", "open/r", o.n, 2, h);
        _coefs(cs, o);
        if (m.vars != 0) {
            o.nExtra = 3;
            o.extraC[0] = m.commitment;
            o.extraCoef[0] = FrMath.termWeight(ZkMask.poolWeight(m, o.apow, cs.n, o.s, o.n - m.vars), o.n, m.vars);
            o.extraCoef[1] = mulmod(rho, FrMath.eqEval(z1, 0, o.s, 0, o.n), FrMath.R);
            o.extraCoef[2] = mulmod(rho, FrMath.eqEval(z2, 0, o.s, 0, o.n), FrMath.R);
        }
        o.quotients = new uint256[](o.n);
        for (uint256 i = 0; i < o.n; ++i) {
            o.quotients[i] = Channel.recvG1(ch, "open/quotient");
        }
        o.piXi = Channel.recvG1(ch, "open/hiding");
        if (!kzgVerify(cs, o, vk)) revert PairingFailed();
    }

    /// @dev `_group`: slots in first-claim order; m_p = length of the first claim's point;
    ///      n = max m_p.
    function _group(ClaimSet memory cs, Opening memory o) private pure {
        uint256 nc = cs.n;
        o.slotOf = new uint256[](cs.nTensors);
        o.orderTid = new uint256[](nc);
        o.mvars = new uint256[](nc);
        uint256[] memory tids = cs.tid;
        uint256[][] memory points = cs.point;
        uint256[] memory slotOf = o.slotOf;
        uint256[] memory order = o.orderTid;
        uint256[] memory mvars = o.mvars;
        uint256 nSlots;
        uint256 n;
        assembly ("memory-safe") {
            for { let k := 0 } lt(k, nc) { k := add(k, 1) } {
                let word := mload(add(add(tids, 32), shl(5, k)))
                let tid := and(word, 0xffff)
                let sp := add(add(slotOf, 32), shl(5, tid))
                if iszero(mload(sp)) {
                    mstore(add(add(order, 32), shl(5, nSlots)), tid)
                    let m := add(mload(mload(add(add(points, 32), shl(5, k)))), and(shr(16, word), 0xff))
                    mstore(add(add(mvars, 32), shl(5, nSlots)), m)
                    if gt(m, n) { n := m }
                    nSlots := add(nSlots, 1)
                    mstore(sp, nSlots)
                }
            }
        }
        o.nSlots = nSlots;
        o.n = n;
    }

    /// @dev o.coef[p] = term_weight(W_p, n, m_p) = 2^-(n-m_p) W_p for every slot p.
    function _coefs(ClaimSet memory cs, Opening memory o) private pure {
        uint256[] memory w = _weights(cs, o);
        uint256[] memory inv2 = FrMath.powers(FrMath.INV2, o.n + 1); // 2^-j
        uint256[] memory mvars = o.mvars;
        uint256 n = o.n;
        uint256 nSlots = o.nSlots;
        assembly ("memory-safe") {
            let r := 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
            for { let p := 0 } lt(p, nSlots) { p := add(p, 1) } {
                let at := add(32, shl(5, p))
                mstore(add(w, at), mulmod(mload(add(w, at)), mload(add(add(inv2, 32), shl(5, sub(n, mload(add(mvars, at)))))), r))
            }
        }
        o.coef = w;
    }

    /// @dev W_p = sum_{k: p_k = p} alpha^k eq(z_k, s[n-m_p:]) for every slot p (a weighted claim:
    ///      sum_l alpha^k c_l eq(z_l, s[n-m_p:]) over its terms). Claims made
    ///      together share their point array; its eq value is then computed once. A prefixed
    ///      claim's z_k = bits || x: eq(bits, .) is a product of s_i or 1 - s_i per bit. Per
    ///      coordinate i a table holds (1 - s_i, s_i, 2 s_i - 1): eq(x, s_i) = (1 - s_i) + x (2 s_i - 1).
    function _weights(ClaimSet memory cs, Opening memory o) private pure returns (uint256[] memory w) {
        w = new uint256[](o.nSlots);
        uint256 tab = _coordTable(o.s);
        // struct fields read in place (stack depth): cs.n @0, cs.tid @32, cs.point @64;
        // o.slotOf @32, o.apow @160
        assembly ("memory-safe") {
            // eq(z, s[n - m:]), m = len(z): the suffix of s ends where the table ends
            function eqSuffix(z, end) -> e {
                let r := 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
                let pa := add(z, 32)
                let pb := sub(end, mul(96, mload(z)))
                e := 1
                for {} lt(pb, end) {
                    pa := add(pa, 32)
                    pb := add(pb, 96)
                } {
                    e := mulmod(e, addmod(mload(pb), mulmod(mload(pa), mload(add(pb, 64)), r), r), r)
                }
            }
            // e * eq(bits(prefix, nb), s[n - m : n - m + nb]), m = nb + len(z), for word's prefix
            function prefixed(e, word, z, end) -> f {
                let r := 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
                f := e
                let nb := and(shr(16, word), 0xff)
                let pre := shr(24, word)
                let pb := sub(end, mul(96, add(mload(z), nb)))
                for { let i := sub(nb, 1) } lt(i, nb) { i := sub(i, 1) } {
                    f := mulmod(f, mload(add(pb, shl(5, and(shr(i, pre), 1)))), r)
                    pb := add(pb, 96)
                }
            }
            // w[slot of word] += v
            function addTo(wArr, slots, word, v) {
                let wp := add(add(wArr, 32), shl(5, sub(mload(add(add(slots, 32), shl(5, and(word, 0xffff)))), 1)))
                mstore(wp, addmod(mload(wp), v, 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001))
            }
            let tEnd := add(tab, mul(96, mload(mload(add(o, 192)))))
            let last := 0
            let e := 0
            for { let k := 0 } lt(k, mload(cs)) { k := add(k, 1) } {
                let at := add(32, shl(5, k))
                let z := mload(add(mload(add(cs, 64)), at))
                if iszero(eq(z, last)) {
                    e := eqSuffix(z, tEnd)
                    last := z
                }
                let word := mload(add(mload(add(cs, 32)), at))
                addTo(w, mload(add(o, 32)), word, mulmod(mload(add(mload(add(o, 160)), at)), prefixed(e, word, z, tEnd),
                    0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001))
            }
            // weighted claims: the loop above counted claim k as a plain claim at its first term's
            // point; term j adds alpha^k (c_j - [j is claim k's first term]) eq(bits || z_j, s[n - m:])
            // (cs.nTerms @192, cs.termClaim @224, cs.termCoef @256, cs.termPoint @288)
            let prev := not(0)
            for { let j := 0 } lt(j, mload(add(cs, 192))) { j := add(j, 1) } {
                let at := add(32, shl(5, j))
                let raw := mload(add(mload(add(cs, 224)), at))
                let z := mload(add(mload(add(cs, 288)), at))
                if iszero(eq(z, last)) { // terms made together share their point: eq once (e, last
                    e := eqSuffix(z, tEnd) // carry on from the claim loop: eq depends on z only)
                    last := z
                }
                let k := and(raw, 0xffffffffffffffff)
                let c := mload(add(mload(add(cs, 256)), at))
                if iszero(eq(k, prev)) {
                    c := addmod(c, 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000,
                        0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001)
                }
                prev := k
                k := add(32, shl(5, k))
                c := mulmod(mload(add(mload(add(o, 160)), k)), c,
                    0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001)
                let word := mload(add(mload(add(cs, 32)), k))
                if shr(64, raw) { word := sub(shr(64, raw), 1) } // a term on another tensor
                addTo(w, mload(add(o, 32)), word, mulmod(c, prefixed(e, word, z, tEnd),
                    0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001))
            }
        }
    }

    /// @dev (1 - s_i, s_i, 2 s_i - 1) for each coordinate of s, 96 bytes each, newly allocated.
    function _coordTable(uint256[] memory s) private pure returns (uint256 tab) {
        assembly ("memory-safe") {
            let r := 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
            tab := mload(0x40)
            let n := mload(s)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let si := mload(add(s, shl(5, add(i, 1))))
                let p := add(tab, mul(96, i))
                mstore(p, addmod(1, sub(r, si), r))
                mstore(add(p, 32), si)
                mstore(add(p, 64), addmod(add(si, si), sub(r, 1), r))
            }
            mstore(0x40, add(tab, mul(96, n)))
        }
    }

    /// @notice `kzg.verify(vk, C_Phi, s, value, proof)` with C_Phi = sum_p Wt_p C_p folded in.
    function kzgVerify(ClaimSet memory cs, Opening memory o, uint256 vk) internal view returns (bool) {
        if (o.n > VerifierKeyData.numVars(vk)) return false;
        // one buffer serves the MSM input, then the pairing input
        uint256 buf;
        uint256 size = (o.n + 2) * Bls12381.PAIR_ITEM;
        uint256 msmSize = (o.nSlots + o.nExtra + 1 + o.n) * Bls12381.G1_MSM_ITEM;
        if (msmSize > size) size = msmSize;
        assembly ("memory-safe") {
            buf := mload(0x40)
            mstore(0x40, add(buf, size))
        }
        uint256 k = _msmInput(buf, cs, o, vk);
        uint256 lhs = Bls12381.g1Msm(buf, k);
        _pairInput(buf, o, lhs, vk);
        return Bls12381.pairingCheck(buf, o.n + 2);
    }

    /// @dev (C_p, Wt_p) for every slot, (g1, -value), (pi_i, s_i): k items of 160 bytes.
    function _msmInput(uint256 buf, ClaimSet memory cs, Opening memory o, uint256 vk)
        private
        pure
        returns (uint256 k)
    {
        uint256[] memory commitment = cs.commitment;
        uint256[] memory order = o.orderTid;
        uint256[] memory coef = o.coef;
        uint256 nSlots = o.nSlots;
        uint256 negValue = o.value == 0 ? 0 : FrMath.R - o.value;
        uint256 g1 = VerifierKeyData.g1(vk);
        assembly ("memory-safe") {
            let ptr := buf
            for { let p := 0 } lt(p, nSlots) { p := add(p, 1) } {
                let at := add(32, shl(5, p))
                mcopy(ptr, mload(add(commitment, add(32, shl(5, mload(add(order, at)))))), 128)
                mstore(add(ptr, 128), mload(add(coef, at)))
                ptr := add(ptr, 160)
            }
            mcopy(ptr, g1, 128)
            mstore(add(ptr, 128), negValue)
        }
        for (uint256 e = 0; e < o.nExtra; ++e) {
            uint256 at = buf + (nSlots + 1 + e) * 160;
            uint256 c = o.extraC[e];
            uint256 coefE = o.extraCoef[e];
            assembly ("memory-safe") {
                mcopy(at, c, 128)
                mstore(add(at, 128), coefE)
            }
        }
        nSlots += o.nExtra; // the quotients follow the extra entries
        uint256[] memory quotients = o.quotients;
        uint256[] memory s = o.s;
        uint256 n = o.n;
        assembly ("memory-safe") {
            let ptr := add(buf, mul(add(nSlots, 1), 160))
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let at := add(32, shl(5, i))
                mcopy(ptr, mload(add(quotients, at)), 128)
                mstore(add(ptr, 128), mload(add(s, at)))
                ptr := add(ptr, 160)
            }
        }
        k = nSlots + 1 + n;
    }

    /// @dev (L, g2), (pi_i, -tau_g2[o+i]), (pi_xi, -xi_g2): n + 2 items of 384 bytes.
    function _pairInput(uint256 buf, Opening memory o, uint256 lhs, uint256 vk) private pure {
        uint256[] memory quotients = o.quotients;
        uint256 n = o.n;
        uint256 g2 = VerifierKeyData.g2(vk);
        uint256 tau = VerifierKeyData.negTauG2(vk, VerifierKeyData.numVars(vk) - n);
        uint256 xi = VerifierKeyData.negXiG2(vk);
        uint256 piXi = o.piXi;
        assembly ("memory-safe") {
            mcopy(buf, lhs, 128)
            mcopy(add(buf, 128), g2, 256)
            let ptr := add(buf, 384)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                mcopy(ptr, mload(add(quotients, add(32, shl(5, i)))), 128)
                mcopy(add(ptr, 128), add(tau, shl(8, i)), 256)
                ptr := add(ptr, 384)
            }
            mcopy(ptr, piXi, 128)
            mcopy(add(ptr, 128), xi, 256)
        }
    }
}
