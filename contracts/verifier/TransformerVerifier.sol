// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IZkllmVerifier} from "../IZkllmVerifier.sol";
import {VerifierChannel, Transcript, Channel} from "./Transcript.sol";
import {VerifierKeyData} from "./VerifierKeyData.sol";
import {KeyedVerifier} from "./KeyedVerifier.sol";
import {TCircuit, TDescription, TOp, TLookup} from "./transformer/TCircuit.sol";
import {TCtx, TContext} from "./transformer/TContext.sol";
import {TOps} from "./transformer/TOps.sol";
import {TransformerModules, TModuleCall} from "./transformer/TransformerModules.sol";
import {TransformerCircuits} from "./transformer/TransformerCircuits.sol";
import {TModel} from "./transformer/TModel.sol";
import {OpenerCall} from "./BatchOpener.sol";

/// @title TransformerVerifier
/// @notice On-chain verifier of zkllm decoder-only transformer proofs (`prover/transformer/
///         prove.py`): it accepts exactly the proofs `prover.transformer.prove.verify` accepts,
///         with the same transcript bytes and the same checks in the same order.
///
///         Circuits. The verifier does not compile: it interprets a circuit description
///         (`prover/circuit_desc.py`) stored in `TransformerCircuits` under its keccak256. No
///         privileged key chooses it: the model commitment lists, per prompt length T, the
///         keccak256 of its T-token circuit's description, so a proof runs exactly the
///         description the model owner committed to, and the Python verifier recomputes the
///         listed entry and rejects a commitment whose entry is not the description of its own
///         config (Python: VerificationError("circuit")). The description must also carry the
///         commitment's header hash, the prompt length and the proof's circuit digest.
///
///         Statement. `input` = the prompt tokens, `output` = [next token], each < r;
///         `modelCommitment` = `TransformerCommitment.encode()`. On success the result is
///         keccak256(abi.encode(modelDigest, keccak256(abi.encodePacked(input)),
///                               keccak256(abi.encodePacked(output)))).
///
///         Weights. The model must be certified by `weightRange` (a `TransformerWeightVerifier`
///         that checked its weight range proof); otherwise `WeightsNotCertified`.
///
///         Rejections of the protocol's checks revert with `ProofRejected(check)`, `check` the
///         name of Python's VerificationError (a tampered sumcheck round fails its caller's
///         final check), the opening with `PairingFailed`.
contract TransformerVerifier is KeyedVerifier {
    bytes32 public constant PROOF_SYSTEM_ID = "zkllm-transformer-logup-pst/v3";

    /// @notice The registry of circuit descriptions (`TransformerCircuits`) this verifier reads.
    address public immutable circuits;
    /// @notice The `TransformerModules` contract this verifier calls.
    address public immutable modules;
    /// @notice The `TransformerWeightVerifier` whose certification a model needs (`certified`).
    address public immutable weightRange;
    /// @notice The `BatchOpener` contract that runs the batch opening (phase 5).
    address public immutable opener;

    /// @notice The statement has not exactly one output word (the next token).
    error OutputLength(uint256 length, uint256 expected);

    /// @param modules_ a `TransformerModules` contract; @param circuits_ a `TransformerCircuits`
    ///        registry; @param weightRange_ the `TransformerWeightVerifier` reading the same
    ///        registry; @param opener_ a `BatchOpener` (all deployed first; their code is part
    ///        of what a user trusts).
    constructor(
        bytes memory srsVerifierKey,
        string[] memory tableNames,
        bytes memory tableCommitments,
        address modules_,
        address circuits_,
        address weightRange_,
        address opener_
    ) KeyedVerifier(srsVerifierKey, tableNames, tableCommitments) {
        modules = modules_;
        circuits = circuits_;
        weightRange = weightRange_;
        opener = opener_;
    }

    function proofSystemId() external pure returns (bytes32) {
        return PROOF_SYSTEM_ID;
    }

    // ------------------------------------------------------------------ verify

    /// @inheritdoc IZkllmVerifier
    function verify(
        bytes32 modelDigest,
        bytes calldata modelCommitment,
        uint256[] calldata input,
        uint256[] calldata output,
        address attester,
        bytes calldata proof
    ) external view returns (bytes32) {
        TCtx memory ctx;
        ctx.modules = modules;
        bytes32 proofCircuit = parseProof(ctx.ch, proof);
        _statement(ctx, input, output);
        uint256 pointsOff = _model(ctx, modelDigest, modelCommitment, proofCircuit);
        _absorbStatement(ctx, modelDigest, attester);
        uint256 vk = VerifierKeyData.load(keyStore, keyBlobSize);
        TModel.attachCommitments(ctx.c, pointsOff, vk);
        _run(ctx, vk);
        Channel.assertConsumed(ctx.ch);
        return keccak256(abi.encode(modelDigest, keccak256(abi.encodePacked(input)), keccak256(abi.encodePacked(output))));
    }

    /// @notice The checks of `prove.verify` before the transcript, after the proof bytes: the
    ///         model digest, the commitment's encoding, the circuit (the description the
    ///         commitment lists for this prompt length, registered, for the same header and
    ///         length, of the proof's circuit digest), the model's certification. Returns the
    ///         calldata offset of the commitment's points. Those points are not checked here:
    ///         a certified model's were (the weight verifier certifies exactly these bytes, their
    ///         keccak256, after `g1Valid` on every point), and an uncertified model is refused
    ///         (`WeightsNotCertified`). That check cost ~95K gas per verification (tiny-llama).
    function _model(
        TCtx memory ctx,
        bytes32 modelDigest,
        bytes calldata modelCommitment,
        bytes32 proofCircuit
    ) private view returns (uint256 pointsOff) {
        bytes32 h = keccak256(modelCommitment);
        if (h != modelDigest) revert ModelDigestMismatch(modelDigest, h);
        uint256 count;
        TCircuit memory c;
        (c, pointsOff, count) = TModel.parsedFor(circuits, modelCommitment, ctx.nTokens);
        ctx.c = c;
        if (c.digest != proofCircuit) revert CircuitMismatch(c.digest, proofCircuit);
        if (count != c.nModel) revert MalformedCommitment(modelCommitment.length);
        if (c.maxNumVars > keyNumVars) revert CircuitTooLarge(c.maxNumVars, keyNumVars);
        requireCertified(weightRange, modelDigest);
    }

    /// @notice The statement's words: the tokens and exactly one next token, each < r.
    function _statement(TCtx memory ctx, uint256[] calldata input, uint256[] calldata output) private pure {
        if (output.length != 1) revert OutputLength(output.length, 1);
        uint256 inOff;
        uint256 outOff;
        assembly ("memory-safe") {
            inOff := input.offset
            outOff := output.offset
        }
        ctx.tokensOffset = canonical(inOff, input.length, "input");
        ctx.nTokens = input.length;
        canonical(outOff, 1, "output");
        ctx.next = output[0];
    }

    /// @notice `prove.absorb_statement`.
    function _absorbStatement(TCtx memory ctx, bytes32 modelDigest, address attester) private view {
        Transcript.absorbWord(ctx.ch, "statement/vk", vkDigest);
        Transcript.absorbWord(ctx.ch, "statement/model", modelDigest);
        Transcript.absorbWord(ctx.ch, "statement/circuit", ctx.c.digest);
        Transcript.absorbWord(ctx.ch, "statement/attester", bytes32(uint256(uint160(attester))));
        Transcript.absorbCalldata(ctx.ch, "statement/tokens", ctx.tokensOffset, 32 * ctx.nTokens);
        Transcript.absorbWord(ctx.ch, "statement/next", bytes32(ctx.next));
    }

    /// @dev A lookup's sumchecks, then its memory is released (`TContext.release`).
    function _lookupStep(TCtx memory ctx, TLookup memory lk) private view {
        (uint256 fp, uint256 n0) = (TContext.mark(), ctx.nClaims);
        TModuleCall.lookup(ctx, lk);
        TContext.release(ctx, fp, n0);
    }

    /// @dev A root and every reduction it leads to, then its memory is released.
    function _rootStep(TCtx memory ctx, TOp memory op) private view {
        (uint256 fp, uint256 n0) = (TContext.mark(), ctx.nClaims);
        TOps.root(ctx, op);
        TContext.release(ctx, fp, n0);
    }

    /// @notice `circuit.run`: phases 1-5 of the schedule over the description.
    function _run(TCtx memory ctx, uint256 vk) private view {
        TCircuit memory c = ctx.c;
        TModel.receiveCommitments(ctx);
        for (uint256 l = 0; l < c.lookups.length; ++l) {
            _lookupStep(ctx, c.lookups[l]);
        }
        for (uint256 i = c.roots.length; i > 0; --i) {
            _rootStep(ctx, c.ops[c.roots[i - 1]]);
        }
        vk; // the opener loads the key itself
        OpenerCall.open(opener, ctx.ch, TModel.claimSet(ctx), keyStore, keyBlobSize);
    }
}
