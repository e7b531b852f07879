// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {FrMath} from "./FrMath.sol";
import {Transcript, Channel} from "./Transcript.sol";
import {BatchOpening} from "./BatchOpening.sol";
import {VerifierKeyData} from "./VerifierKeyData.sol";
import {KeyedVerifier} from "./KeyedVerifier.sol";
import {TCircuit, TDescription, TOp} from "./transformer/TCircuit.sol";
import {TCtx, TContext} from "./transformer/TContext.sol";
import {TOps} from "./transformer/TOps.sol";
import {TLogup} from "./transformer/TLogup.sol";
import {TModel} from "./transformer/TModel.sol";

/// @title TransformerWeightVerifier
/// @notice Certifies transformer commitments whose weight range proof verifies
///         (`prover.transformer.prove.verify_weights`): every committed model tensor holds
///         integers of its quantized width, |w| < 2^(bits-1) (`param_bits`: `weight_bits`,
///         GPT-2's linear biases `weight_bits + act_frac`). A `TransformerVerifier` refuses
///         statements about a model digest its `weightRange` has not certified.
///
///         Like the inference verifier it interprets a registered circuit description
///         (`prover.circuit_desc.weight_description`) from the same `TransformerCircuits`
///         registry, selected by the circuit digest in the proof's header: keccak256(
///         "zkllm-weight-range/v1" || the model's one-token inference-circuit digest). The
///         description must carry the commitment's header hash and prompt length 0, and bound
///         every model tensor, tensor i by root i (`NotAWeightCircuit` otherwise).
///
///         `check` accepts exactly the proofs Python accepts, with the same transcript bytes and
///         checks in the same order (`prover/weights.py`): the domain tag, vk digest, model
///         digest and circuit digest; the digit commitments, the range lookups' multiplicities,
///         inverses and sumchecks; per model tensor, last first, a fresh point r:
///         w(r) + 2^(bits-1) = sum_k 2^(b k) u_k(r) (`WeightOutOfRange`, Python:
///         VerificationError("weights")); the batch opening.
contract TransformerWeightVerifier is KeyedVerifier {
    bytes32 public constant PROOF_SYSTEM_ID = "zkllm-weight-range-logup-pst/v1";
    /// @dev `prover.weights.TAG`, zero-padded to 32 bytes as absorbed.
    bytes32 internal constant TAG = "zkllm-weight-range/v1";

    /// @notice The registry of circuit descriptions (`TransformerCircuits`) this contract reads.
    address public immutable circuits;

    /// @notice A model tensor's weight identity failed at the fresh point (Python:
    ///         VerificationError("weights")). `tensor` is its index in commitment order.
    error WeightOutOfRange(uint256 tensor);
    /// @notice The registered description selected by the proof is not the weight range
    ///         circuit of a model: root `root` is not the bound of model tensor `root`, or a
    ///         model tensor has no bound.
    error NotAWeightCircuit(bytes32 circuitDigest, uint256 root);
    /// @notice This contract certifies weights; it verifies no inference.
    error NotAnInferenceVerifier();

    event Certified(bytes32 indexed modelDigest);

    /// @notice Model digests whose weight range proof verified here.
    mapping(bytes32 => bool) public certified;

    /// @param circuits_ the `TransformerCircuits` registry its `TransformerVerifier` reads.
    constructor(bytes memory srsVerifierKey, string[] memory tableNames, bytes memory tableCommitments, address circuits_)
        KeyedVerifier(srsVerifierKey, tableNames, tableCommitments)
    {
        circuits = circuits_;
    }

    function proofSystemId() external pure returns (bytes32) {
        return PROOF_SYSTEM_ID;
    }

    function verify(bytes32, bytes calldata, uint256[] calldata, uint256[] calldata, address, bytes calldata)
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

    /// @notice `prove.verify_weights`: returns the model digest of a valid proof, reverts otherwise.
    function check(bytes calldata modelCommitment, bytes calldata proof) public view returns (bytes32 modelDigest) {
        TCtx memory ctx;
        bytes32 proofCircuit = parseProof(ctx.ch, proof);
        modelDigest = keccak256(modelCommitment);
        (TCircuit memory c, uint256 pointsOff, uint256 count) = TModel.parsedFor(circuits, modelCommitment, 0);
        if (!g1Valid(pointsOff, count)) revert MalformedCommitment(modelCommitment.length - 128 * count);
        ctx.c = c;
        if (c.digest != proofCircuit) revert CircuitMismatch(c.digest, proofCircuit);
        if (count != c.nModel) revert MalformedCommitment(modelCommitment.length);
        if (c.maxNumVars > keyNumVars) revert CircuitTooLarge(c.maxNumVars, keyNumVars);
        _checkShape(c);
        uint256 vk = VerifierKeyData.load(keyStore, keyBlobSize);
        TModel.attachCommitments(c, pointsOff, vk);
        Transcript.absorbWord(ctx.ch, "weights/domain", TAG);
        Transcript.absorbWord(ctx.ch, "statement/vk", vkDigest);
        Transcript.absorbWord(ctx.ch, "statement/model", modelDigest);
        Transcript.absorbWord(ctx.ch, "statement/circuit", c.digest);
        _run(ctx, vk);
        Channel.assertConsumed(ctx.ch);
    }

    /// @dev Root i is the bound of model tensor i (`compile_weights` lists the model tensors
    ///      first, in commitment order) and every model tensor has one.
    function _checkShape(TCircuit memory c) private pure {
        uint256 n = c.roots.length;
        if (n != c.nModel) revert NotAWeightCircuit(c.digest, n);
        for (uint256 i = 0; i < n; ++i) {
            TOp memory op = c.ops[c.roots[i]];
            if (op.kind != TDescription.OP_WEIGHT_BOUND || op.t[0] != i || c.kind[i] != TDescription.KIND_MODEL) {
                revert NotAWeightCircuit(c.digest, i);
            }
        }
    }

    /// @notice `circuit.run` over the weight circuit: phases 1-5.
    function _run(TCtx memory ctx, uint256 vk) private view {
        TCircuit memory c = ctx.c;
        for (uint256 i = 0; i < c.witness.length; ++i) {
            c.commitment[c.witness[i]] = Channel.recvG1(ctx.ch, "witness");
        }
        for (uint256 l = 0; l < c.lookups.length; ++l) {
            c.commitment[c.lookups[l].mult] = Channel.recvG1(ctx.ch, "lookup/m");
        }
        for (uint256 l = 0; l < c.lookups.length; ++l) {
            TLogup.commitInverses(ctx, c.lookups[l]);
        }
        for (uint256 l = 0; l < c.lookups.length; ++l) {
            TLogup.runSumchecks(ctx, c.lookups[l]);
        }
        for (uint256 i = c.roots.length; i > 0; --i) {
            _root(ctx, c.ops[c.roots[i - 1]]);
        }
        BatchOpening.ClaimSet memory cs =
            BatchOpening.ClaimSet(ctx.nClaims, ctx.claimTid, ctx.claimPoint, ctx.claimValue, c.kind.length, c.commitment);
        BatchOpening.open(ctx.ch, cs, vk);
    }

    /// @notice `WeightBound.root`: w(r) + 2^(bits-1) = sum_k 2^(b k) u_k(r) at a fresh point;
    ///         t = w, digits; p = bits, digit bits.
    function _root(TCtx memory ctx, TOp memory op) private pure {
        uint256 w = op.t[0];
        uint256[] memory r = Channel.challenges(ctx.ch, "weights/r", ctx.c.numVars[w]);
        uint256 wv = TContext.claimCommitted(ctx, w, r, "weights/w");
        uint256 acc = TOps.committedDigitSum(ctx, TOps.seg(op.t, 1, op.t.length - 1), op.p[1], r, "weights/digit");
        if (FrMath.add(wv, FrMath.pow2(op.p[0] - 1)) != acc) revert WeightOutOfRange(w);
    }
}
