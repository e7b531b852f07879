// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {FrMath} from "./FrMath.sol";
import {Transcript, Channel} from "./Transcript.sol";
import {Arch, ModelCommitment} from "./ModelCommitment.sol";
import {Circuit, LookupInstance, MlpCircuit, KIND_MODEL, KIND_ADVICE, KIND_PROOF} from "./Circuit.sol";
import {VerifierCtx, Context} from "./Context.sol";
import {Logup} from "./Logup.sol";
import {BatchOpening} from "./BatchOpening.sol";
import {VerifierKeyData} from "./VerifierKeyData.sol";
import {KeyedVerifier} from "./KeyedVerifier.sol";

/// @title WeightRangeVerifier
/// @notice Certifies model commitments whose weight range proof (`prover/weights.py`) verifies:
///         every committed weight is an integer of its quantized width, |w| < 2^(bits-1)
///         (weights `weight_bits`, biases `weight_bits + act_frac_bits`). The inference
///         verifiers refuse statements about a model digest this contract has not certified.
///
///         `check` accepts exactly the proofs `prover.api.verify_weights` accepts, with the same
///         transcript bytes and checks in the same order: the domain tag, vk digest, model
///         digest and circuit digest keccak256("zkllm-weight-range/v1" || the model's
///         one-row inference-circuit digest); the digit commitments ("witness"), the range
///         lookup's multiplicities, its inverses and sumchecks (`Logup`); per model tensor,
///         last first, a fresh point r: w(r) + 2^(bits-1) = sum_k 2^(b k) u_k(r)
///         (`WeightOutOfRange`, Python: VerificationError("weights")); the batch opening.
///
///         Supported: MLP commitments (`ModelCommitment.sol`). Transformer commitments are
///         refused with `MalformedCommitment(0)` (their header is JSON).
contract WeightRangeVerifier is KeyedVerifier {
    bytes32 public constant PROOF_SYSTEM_ID = "zkllm-weight-range-logup-pst/v1";
    /// @dev `prover.weights.TAG`, zero-padded to 32 bytes as absorbed.
    bytes32 internal constant TAG = "zkllm-weight-range/v1";

    /// @notice A model tensor's weight identity failed at the fresh point (Python:
    ///         VerificationError("weights")). `tensor` is its index in commitment order.
    error WeightOutOfRange(uint256 tensor);
    /// @notice A width is not a positive multiple of digit_bits (at most 128) (Python: MalformedError).
    error WidthNotSupported(uint256 tensor, uint256 bits, uint256 digitBits);
    /// @notice This contract certifies weights; it verifies no inference.
    error NotAnInferenceVerifier();

    event Certified(bytes32 indexed modelDigest);

    /// @notice Model digests whose weight range proof verified here.
    mapping(bytes32 => bool) public certified;

    /// @dev One model tensor's bound: its tensor id, its digit tensors, its width.
    struct Bound {
        uint256 w;
        uint256[] digits;
        uint256 bits;
    }

    constructor(bytes memory srsVerifierKey, string[] memory tableNames, bytes memory tableCommitments)
        KeyedVerifier(srsVerifierKey, tableNames, tableCommitments)
    {}

    function proofSystemId() external pure returns (bytes32) {
        return PROOF_SYSTEM_ID;
    }

    function verify(bytes32, bytes calldata, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        pure
        returns (bytes32)
    {
        revert NotAnInferenceVerifier();
    }

    /// @notice Verifies `proof` for `modelCommitment` and records its digest as certified
    ///         (idempotent). Reverts exactly where `check` does.
    function certify(bytes calldata modelCommitment, bytes calldata proof) external returns (bytes32 modelDigest) {
        modelDigest = check(modelCommitment, proof);
        if (!certified[modelDigest]) {
            certified[modelDigest] = true;
            emit Certified(modelDigest);
        }
    }

    /// @notice `prover.api.verify_weights`: returns the model digest of a valid proof, reverts otherwise.
    function check(bytes calldata modelCommitment, bytes calldata proof) public view returns (bytes32 modelDigest) {
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
        Transcript.absorbWord(ctx.ch, "weights/domain", TAG);
        Transcript.absorbWord(ctx.ch, "statement/vk", vkDigest);
        Transcript.absorbWord(ctx.ch, "statement/model", modelDigest);
        Transcript.absorbWord(ctx.ch, "statement/circuit", ctx.c.digest);
        _run(ctx, roots, vk);
        Channel.assertConsumed(ctx.ch);
    }

    // ------------------------------------------------------------------ circuit

    /// @notice `prover.api.weight_circuit` / `weights.compile_weights`: tensor ids are the model
    ///         tensors (w, b per linear layer), their digits, then the lookup's m, A_c, B.
    function _compile(Arch memory a) private pure returns (Circuit memory c, Bound[] memory roots) {
        uint256 nLin = (a.nLayers + 1) / 2;
        uint256 db = a.digitBits;
        roots = new Bound[](2 * nLin);
        uint256 total;
        uint256 width = a.dIn;
        for (uint256 i = 0; i < 2 * nLin; ++i) {
            Bound memory b = roots[i];
            b.w = i;
            b.bits = a.weightBits + (i % 2 == 1 ? a.actFracBits : 0);
            if (b.bits == 0 || b.bits > 128 || b.bits % db != 0) revert WidthNotSupported(i, b.bits, db);
            total += b.bits / db;
        }
        uint256 nTensors = 2 * nLin + 2 * total + 2;
        c.kind = new uint256[](nTensors);
        c.numVarsOf = new uint256[](nTensors);
        c.commitment = new uint256[](nTensors);
        c.producer = new uint256[](nTensors);
        c.witness = new uint256[](total);
        for (uint256 l = 0; l < nLin; ++l) {
            uint256 lo = FrMath.log2Ceil(a.layerArg[2 * l]);
            _set(c, 2 * l, KIND_MODEL, lo + FrMath.log2Ceil(width));
            _set(c, 2 * l + 1, KIND_MODEL, lo);
            width = a.layerArg[2 * l];
        }
        uint256 t = 2 * nLin;
        for (uint256 i = 0; i < roots.length; ++i) {
            Bound memory b = roots[i];
            b.digits = new uint256[](b.bits / db);
            for (uint256 k = 0; k < b.digits.length; ++k) {
                _set(c, t, KIND_ADVICE, c.numVarsOf[b.w]);
                b.digits[k] = t;
                c.witness[t - 2 * nLin] = t;
                ++t;
            }
            c.maxClaims += 1 + b.digits.length;
        }
        c.lookups = new LookupInstance[](1);
        LookupInstance memory lk = c.lookups[0];
        lk.bits = db;
        lk.nCols = total;
        lk.colIn = c.witness;
        lk.multId = t;
        _set(c, t++, KIND_ADVICE, db);
        lk.aIds = new uint256[](total);
        for (uint256 j = 0; j < total; ++j) {
            lk.aIds[j] = t;
            _set(c, t++, KIND_PROOF, c.numVarsOf[c.witness[j]]);
        }
        lk.bId = t;
        _set(c, t, KIND_PROOF, db);
        c.maxClaims += 2 * (total + 1);
        c.digest = keccak256(abi.encodePacked("zkllm-weight-range/v1", MlpCircuit.digest(a, 1)));
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
        for (uint256 i = 0; i < c.witness.length; ++i) {
            c.commitment[c.witness[i]] = Channel.recvG1(ctx.ch, "witness");
        }
        LookupInstance memory lk = c.lookups[0];
        c.commitment[lk.multId] = Channel.recvG1(ctx.ch, "lookup/m");
        Logup.commitInverses(ctx, lk);
        Logup.runSumchecks(ctx, lk);
        for (uint256 i = roots.length; i > 0; --i) {
            _root(ctx, roots[i - 1]);
        }
        BatchOpening.openClaims(ctx, vk);
    }

    /// @notice `WeightBound.root`: w(r) + 2^(bits-1) = sum_k 2^(b k) u_k(r) at a fresh point.
    function _root(VerifierCtx memory ctx, Bound memory b) private pure {
        uint256[] memory r = Channel.challenges(ctx.ch, "weights/r", ctx.c.numVarsOf[b.w]);
        uint256 wv = Context.claim(ctx, b.w, r, "weights/w");
        uint256 db = ctx.c.lookups[0].bits;
        uint256 acc;
        for (uint256 k = 0; k < b.digits.length; ++k) {
            uint256 u = Context.claim(ctx, b.digits[k], r, "weights/digit");
            acc = FrMath.add(acc, FrMath.mul(FrMath.pow2(k * db), u));
        }
        if (FrMath.add(wv, FrMath.pow2(b.bits - 1)) != acc) revert WeightOutOfRange(b.w);
    }
}
