// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {FrMath} from "./FrMath.sol";
import {Channel} from "./Transcript.sol";
import {VerifierKeyData} from "./VerifierKeyData.sol";
import {WeightCertifier} from "./WeightCertifier.sol";
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
///         w(r) + 2^(bits-1) = sum_k 2^(b k) u_k(r), one combined claim (nothing is sent);
///         the batch opening, which rejects a weight outside its range (`PairingFailed`).
contract TransformerWeightVerifier is WeightCertifier {
    /// @notice The registry of circuit descriptions (`TransformerCircuits`) this contract reads.
    address public immutable circuits;

    /// @notice The registered description selected by the proof is not the weight range
    ///         circuit of a model: root `root` is not the bound of model tensor `root`, or a
    ///         model tensor has no bound.
    error NotAWeightCircuit(bytes32 circuitDigest, uint256 root);

    /// @param circuits_ the `TransformerCircuits` registry its `TransformerVerifier` reads.
    constructor(bytes memory srsVerifierKey, string[] memory tableNames, bytes memory tableCommitments, address circuits_)
        WeightCertifier(srsVerifierKey, tableNames, tableCommitments)
    {
        circuits = circuits_;
    }

    /// @notice `prove.verify_weights`: returns the model digest of a valid proof, reverts otherwise.
    function check(bytes calldata modelCommitment, bytes calldata proof)
        public
        view
        override
        returns (bytes32 modelDigest)
    {
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
        absorbStatement(ctx.ch, modelDigest, c.digest);
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
        TModel.receiveCommitments(ctx);
        for (uint256 l = 0; l < c.lookups.length; ++l) {
            TLogup.runSumchecks(ctx, c.lookups[l]);
        }
        for (uint256 i = c.roots.length; i > 0; --i) {
            _root(ctx, c.ops[c.roots[i - 1]]);
        }
        TModel.openClaims(ctx, vk);
    }

    /// @notice `WeightBound.root`: at a fresh point r, w(r) + 2^(bits-1) = sum_k 2^(b k) u_k(r)
    ///         as one combined claim on w and its digits (value -2^(bits-1)); nothing is read.
    ///         t = w, digits; p = bits, digit bits.
    function _root(TCtx memory ctx, TOp memory op) private pure {
        uint256 w = op.t[0];
        uint256[] memory r = Channel.challenges(ctx.ch, "weights/r", ctx.c.numVars[w]);
        uint256 n = op.t.length;
        uint256[] memory coefs = new uint256[](n);
        coefs[0] = 1;
        for (uint256 k = 1; k < n; ++k) {
            coefs[k] = FrMath.sub(0, FrMath.pow2(op.p[1] * (k - 1)));
        }
        TContext.combined(ctx, op.t, coefs, r, FrMath.sub(0, FrMath.pow2(op.p[0] - 1)));
    }
}
