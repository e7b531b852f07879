// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ZkMask} from "./ZkMask.sol";
import {FrMath} from "./FrMath.sol";
import {Channel} from "./Transcript.sol";
import {Arch, ModelCommitment} from "./ModelCommitment.sol";
import {Circuit, LookupInstance, MlpCircuit, KIND_MODEL, KIND_ADVICE, KIND_PROOF} from "./Circuit.sol";
import {VerifierCtx, Context} from "./Context.sol";
import {Logup} from "./Logup.sol";
import {BatchOpening} from "./BatchOpening.sol";
import {VerifierKeyData} from "./VerifierKeyData.sol";
import {WeightCertifier} from "./WeightCertifier.sol";

/// @title WeightRangeVerifier
/// @notice Certifies model commitments whose weight range proof (`prover/weights.py`) verifies:
///         every committed weight is an integer of its quantized width, |w| < 2^(bits-1)
///         (weights `weight_bits`, biases `weight_bits + act_frac_bits`). The inference
///         verifiers refuse statements about a model digest this contract has not certified.
///
///         `check` accepts exactly the proofs `prover.api.verify_weights` accepts, with the same
///         transcript bytes and checks in the same order: the domain tag, vk digest, model
///         digest and circuit digest keccak256("zkllm-weight-range/v1" || the model's
///         one-row inference-circuit digest); the digit commitments ("witness"), then per
///         digit width (widest first; a tensor's top digit has the bits left over) a range
///         lookup's multiplicities, inverses and sumchecks (`Logup`); per model tensor, last
///         first, a fresh point r: w(r) + 2^(bits-1) = sum_k 2^(b k) u_k(r), one combined
///         claim (nothing is sent: no weight evaluation is revealed); the batch opening, which
///         rejects a weight outside its range (`PairingFailed`).
///
///         Supported: MLP commitments (`ModelCommitment.sol`). Transformer commitments are
///         refused with `MalformedCommitment(0)` (their header is JSON).
contract WeightRangeVerifier is WeightCertifier {
    /// @notice A width outside [1, 128] (Python: MalformedError).
    error WidthNotSupported(uint256 tensor, uint256 bits, uint256 digitBits);

    /// @dev One model tensor's bound: its tensor id, its digit tensors, its width, the digit width.
    struct Bound {
        uint256 w;
        uint256[] digits;
        uint256 bits;
        uint256 digitBits;
    }

    constructor(bytes memory srsVerifierKey, string[] memory tableNames, bytes memory tableCommitments)
        WeightCertifier(srsVerifierKey, tableNames, tableCommitments)
    {}

    /// @notice `prover.api.verify_weights`: returns the model digest of a valid proof, reverts otherwise.
    function check(bytes calldata modelCommitment, bytes calldata proof)
        public
        view
        override
        returns (bytes32 modelDigest)
    {
        VerifierCtx memory ctx;
        bytes32 proofCircuit = parseProof(ctx.ch, proof);
        modelDigest = keccak256(modelCommitment);
        Arch memory a = ModelCommitment.decode(modelCommitment);
        Bound[] memory roots;
        (ctx.c, roots) = _compile(a);
        if (proofCircuit != ctx.c.digest) revert CircuitMismatch(ctx.c.digest, proofCircuit);
        if (ctx.c.numVars > keyNumVars) revert CircuitTooLarge(ctx.c.numVars, keyNumVars);
        uint256 vk = VerifierKeyData.load(keyStore, keyBlobSize);
        _attach(ctx.c, a);
        absorbStatement(ctx.ch, modelDigest, ctx.c.digest);
        _run(ctx, roots, vk);
        Channel.assertConsumed(ctx.ch);
    }

    // ------------------------------------------------------------------ circuit

    /// @notice `prover.api.weight_circuit` / `weights.compile_weights`: tensor ids are the model
    ///         tensors (w, b per linear layer), their digits, then per lookup m, A_c, B. Digits
    ///         are `digitBits` wide except each tensor's top one (the remaining bits); one range
    ///         lookup per distinct digit width, widest first.
    function _compile(Arch memory a) private pure returns (Circuit memory c, Bound[] memory roots) {
        uint256 nLin = (a.nLayers + 1) / 2;
        roots = new Bound[](2 * nLin);
        (uint256[] memory ws, uint256 nw, uint256 total) = _bounds(a, roots);
        uint256 nTensors = 2 * nLin + 2 * total + 2 * nw;
        c.kind = new uint256[](nTensors);
        c.numVarsOf = new uint256[](nTensors);
        c.commitment = new uint256[](nTensors);
        c.producer = new uint256[](nTensors);
        c.witness = new uint256[](total);
        uint256 width = a.dIn;
        for (uint256 l = 0; l < nLin; ++l) {
            uint256 lo = FrMath.log2Ceil(a.layerArg[2 * l]);
            _set(c, 2 * l, KIND_MODEL, lo + FrMath.log2Ceil(width));
            _set(c, 2 * l + 1, KIND_MODEL, lo);
            width = a.layerArg[2 * l];
        }
        uint256 t = _digitTensors(c, roots, 2 * nLin);
        c.lookups = new LookupInstance[](nw);
        for (uint256 l = 0; l < nw; ++l) {
            t = _lookup(c, roots, l, ws[l], t);
        }
        c.digest = keccak256(abi.encodePacked("zkllm-weight-range/v1", MlpCircuit.digest(a, 1)));
    }

    /// @dev Each model tensor's width and digit count (`param_bits`: biases at the accumulator
    ///      scale); the distinct digit widths, descending; the total number of digits.
    function _bounds(Arch memory a, Bound[] memory roots)
        private
        pure
        returns (uint256[] memory ws, uint256 nw, uint256 total)
    {
        uint256 db = a.digitBits;
        ws = new uint256[](roots.length + 1);
        for (uint256 i = 0; i < roots.length; ++i) {
            Bound memory b = roots[i];
            b.w = i;
            b.digitBits = db;
            b.bits = a.weightBits + (i % 2 == 1 ? a.actFracBits : 0);
            if (b.bits == 0 || b.bits > 128) revert WidthNotSupported(i, b.bits, db);
            uint256 n = (b.bits + db - 1) / db;
            b.digits = new uint256[](n);
            total += n;
            if (n > 1) nw = _insertWidth(ws, nw, db);
            nw = _insertWidth(ws, nw, b.bits - db * (n - 1));
        }
    }

    /// @dev The digit tensors from id `t` (phase-1 witnesses, in model-tensor order); returns the next id.
    function _digitTensors(Circuit memory c, Bound[] memory roots, uint256 t) private pure returns (uint256) {
        uint256 first = t;
        for (uint256 i = 0; i < roots.length; ++i) {
            Bound memory b = roots[i];
            for (uint256 k = 0; k < b.digits.length; ++k) {
                _set(c, t, KIND_ADVICE, c.numVarsOf[b.w]);
                b.digits[k] = t;
                c.witness[t - first] = t;
                ++t;
            }
            c.maxClaims += 1 + b.digits.length;
        }
        return t;
    }

    /// @dev Lookup `l` over the digits of width `w` (witness order); its m, A_c, B from tensor id `t`.
    function _lookup(Circuit memory c, Bound[] memory roots, uint256 l, uint256 w, uint256 t)
        private
        pure
        returns (uint256)
    {
        LookupInstance memory lk = c.lookups[l];
        lk.index = l;
        lk.bits = w;
        lk.colIn = new uint256[](c.witness.length);
        for (uint256 i = 0; i < roots.length; ++i) {
            Bound memory b = roots[i];
            for (uint256 k = 0; k < b.digits.length; ++k) {
                if (_digitWidth(b, k) == w) lk.colIn[lk.nCols++] = b.digits[k];
            }
        }
        uint256[] memory cols = lk.colIn;
        uint256 nCols = lk.nCols;
        assembly ("memory-safe") {
            mstore(cols, nCols) // shrink to the columns found
        }
        lk.multId = t;
        _set(c, t++, KIND_ADVICE, w);
        lk.aIds = new uint256[](nCols);
        for (uint256 j = 0; j < nCols; ++j) {
            lk.aIds[j] = t;
            _set(c, t++, KIND_PROOF, c.numVarsOf[cols[j]]);
        }
        lk.bId = t;
        _set(c, t++, KIND_PROOF, w);
        c.maxClaims += 2 * (nCols + 1);
        return t;
    }

    /// @dev `WeightBound.widths[k]`: digitBits, the top digit the remaining bits.
    function _digitWidth(Bound memory b, uint256 k) private pure returns (uint256) {
        return k + 1 < b.digits.length ? b.digitBits : b.bits - b.digitBits * k;
    }

    /// @dev Inserts `w` into the descending distinct list ws[0..n); returns the new length.
    function _insertWidth(uint256[] memory ws, uint256 n, uint256 w) private pure returns (uint256) {
        uint256 i;
        while (i < n && ws[i] > w) ++i;
        if (i < n && ws[i] == w) return n;
        for (uint256 j = n; j > i; --j) {
            ws[j] = ws[j - 1];
        }
        ws[i] = w;
        return n + 1;
    }

    function _set(Circuit memory c, uint256 id, uint256 kind, uint256 numVars) private pure {
        c.kind[id] = kind;
        c.numVarsOf[id] = numVars;
        if (numVars > c.numVars) c.numVars = numVars;
    }

    /// @notice The model commitments from calldata (model tensor i has tensor id i).
    function _attach(Circuit memory c, Arch memory a) private pure {
        uint256 src = a.pointsOffset;
        uint256 count = a.count;
        uint256 ptr;
        assembly ("memory-safe") {
            ptr := mload(0x40)
            mstore(0x40, add(ptr, mul(count, 128)))
            calldatacopy(ptr, src, mul(count, 128))
        }
        for (uint256 i = 0; i < count; ++i) {
            c.commitment[i] = ptr + 128 * i;
        }
    }

    // ------------------------------------------------------------------ schedule

    /// @notice `circuit.run` over the weight circuit.
    function _run(VerifierCtx memory ctx, Bound[] memory roots, uint256 vk) private view {
        Circuit memory c = ctx.c;
        ctx.claimTid = new uint256[](c.maxClaims);
        ctx.claimPoint = new uint256[][](c.maxClaims);
        ctx.claimValue = new uint256[](c.maxClaims);
        uint256 nTerms;
        for (uint256 i = 0; i < roots.length; ++i) {
            nTerms += roots[i].digits.length + 1;
        }
        ctx.termClaim = new uint256[](nTerms);
        ctx.termCoef = new uint256[](nTerms);
        ctx.termPoint = new uint256[][](nTerms);
        ZkMask.commitPool(ctx.ch); // the mask pool first (`prover/zk/mask.py`)
        for (uint256 i = 0; i < c.witness.length; ++i) {
            c.commitment[c.witness[i]] = Channel.recvG1(ctx.ch, "witness");
        }
        for (uint256 l = 0; l < c.lookups.length; ++l) {
            c.commitment[c.lookups[l].multId] = Channel.recvG1(ctx.ch, "lookup/m");
        }
        for (uint256 l = 0; l < c.lookups.length; ++l) {
            Logup.commitInverses(ctx, c.lookups[l]);
        }
        for (uint256 l = 0; l < c.lookups.length; ++l) {
            Logup.runSumchecks(ctx, c.lookups[l]);
        }
        for (uint256 i = roots.length; i > 0; --i) {
            _root(ctx, roots[i - 1]);
        }
        BatchOpening.openClaims(ctx, vk);
    }

    /// @notice `WeightBound.root`: at a fresh point r, w(r) + 2^(bits-1) = sum_k 2^(b k) u_k(r)
    ///         as one combined claim on w and its digits (value -2^(bits-1)); nothing is read.
    function _root(VerifierCtx memory ctx, Bound memory b) private pure {
        uint256[] memory r = Channel.challenges(ctx.ch, "weights/r", ctx.c.numVarsOf[b.w]);
        uint256 nd = b.digits.length;
        uint256[] memory tids = new uint256[](nd + 1);
        uint256[] memory coefs = new uint256[](nd + 1);
        tids[0] = b.w;
        coefs[0] = 1;
        for (uint256 k = 0; k < nd; ++k) {
            tids[k + 1] = b.digits[k];
            coefs[k + 1] = FrMath.sub(0, FrMath.pow2(k * b.digitBits));
        }
        Context.combined(ctx, tids, coefs, r, FrMath.sub(0, FrMath.pow2(b.bits - 1)));
    }
}
