// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ZkMask} from "./ZkMask.sol";
import {IZkllmVerifier} from "../IZkllmVerifier.sol";
import {FrMath} from "./FrMath.sol";
import {VerifierChannel, Transcript, Channel} from "./Transcript.sol";
import {Bls12381} from "./Bls12381.sol";
import {Arch, ModelCommitment} from "./ModelCommitment.sol";
import {Circuit, LookupInstance, MlpCircuit} from "./Circuit.sol";
import {VerifierCtx} from "./Context.sol";
import {Rescale} from "./Ops.sol";
import {Logup} from "./Logup.sol";
import {BatchOpening} from "./BatchOpening.sol";
import {OpenerCall} from "./BatchOpener.sol";
import {VerifierKeyData} from "./VerifierKeyData.sol";
import {KeyedVerifier} from "./KeyedVerifier.sol";
import {IERC165} from "../standards/IERC165.sol";

/// @title ZkllmVerifier
/// @notice On-chain verifier of zkllm MLP inference proofs. It accepts exactly the proofs
///         `prover.api.verify` accepts: same proof format, same transcript bytes, the same
///         checks in the same order (`prover/circuit.py` run: witness commitments, lookup
///         inverses, lookup sumchecks, rescale roots through the linear layers, batch opening).
///
///         Verifying key. The constructor takes the exact `VerifierKey.to_bytes()` of the
///         SRS (num_vars | g1 | g2 | tau_g2[..] | xi_g2) and the function-table commitments
///         (names in ascending order, 128-byte G1 points). From these encodings it computes
///         the digest of `prover.keys.VerifyingKey.digest()`:
///           keccak256("zkllm-vk/v1" || keccak256(srs vk bytes) ||
///                     for each table by name: keccak256(name) || G1).
///         It checks every key point with the EIP-2537 MSM precompiles, negates tau_g2 and
///         xi_g2 itself (y -> p - y per F_p coordinate), and stores what verification needs
///         as the code of a data contract it creates (see `VerifierKeyData`).
///
///         Statement. `input`/`output` are the statement's activations v (quantized at
///         2^act_frac_bits, |v| < 2^(io_bits-1), io_bits = 64 - weight_frac_bits: see
///         `QuantSpec.io_bits`, which also argues why this bound on the public output keeps the
///         last rescale from wrapping mod r) as words v mod r; any other word reverts with
///         `NotCanonical("input" | "output", index)`, as `api.verify` raises
///         `MalformedStatementError`. rows = input.length / d_in. On success the result is
///         keccak256(abi.encode(modelDigest, keccak256(abi.encodePacked(input)),
///                               keccak256(abi.encodePacked(output)))).
///
///         Point validity. As Python, every G1 point is checked where it is parsed: the
///         proof's (`MalformedProof`, `KeyedVerifier.g1Valid`) and the model commitment's
///         (`MalformedCommitment`), by one G1 MSM precompile call each.
///
///         Weights. A statement is only about a model whose committed weights are proven in
///         range: after the model commitment and the statement words are parsed, `verify` reverts with
///         `WeightsNotCertified` unless the `WeightRangeVerifier` at `weightRange` has
///         certified the model digest (`prover.api.verify_weights`, run by the model owner
///         once, at registration).
///
///         ERC-165: answers IERC165 (0x01ffc9a7) and `IZkllmVerifier` (the XOR of the
///         selectors of `verify` and `proofSystemId`).
contract ZkllmVerifier is KeyedVerifier, IERC165 {
    bytes32 public constant PROOF_SYSTEM_ID = "zkllm-mlp-logup-pst-kzg/v3";

    /// @notice The input is empty or not a multiple of the model's input width.
    error InputLength(uint256 length, uint256 dIn);
    /// @notice The output does not have rows x d_out values.
    error OutputLength(uint256 length, uint256 expected);

    /// @notice The `WeightRangeVerifier` whose certification of a model digest `verify` requires.
    address public immutable weightRange;
    /// @notice The `BatchOpener` that runs the batch opening (a contract of its own: code size).
    address public immutable opener;

    constructor(
        bytes memory srsVerifierKey,
        string[] memory tableNames,
        bytes memory tableCommitments,
        address weightRange_,
        address opener_
    ) KeyedVerifier(srsVerifierKey, tableNames, tableCommitments) {
        weightRange = weightRange_;
        opener = opener_;
    }

    function proofSystemId() external pure returns (bytes32) {
        return PROOF_SYSTEM_ID;
    }

    /// @notice ERC-165: true for IERC165 and IZkllmVerifier.
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == type(IZkllmVerifier).interfaceId;
    }

    /// @inheritdoc IZkllmVerifier
    function verify(
        bytes32 modelDigest,
        bytes calldata modelCommitment,
        uint256[] calldata input,
        uint256[] calldata output,
        address attester,
        bytes calldata proof
    ) external view returns (bytes32) {
        VerifierCtx memory ctx;
        Arch memory arch = _prepare(ctx, modelDigest, modelCommitment, input.length, output.length, proof);
        _public(ctx, arch, input, output);
        requireCertified(weightRange, modelDigest);
        uint256 vk = VerifierKeyData.load(keyStore, keyBlobSize);
        _attachCommitments(ctx.c, arch, vk);
        _absorbStatement(ctx, modelDigest, attester, input.length, output.length);
        _run(ctx, vk);
        Channel.assertConsumed(ctx.ch);
        return keccak256(abi.encode(modelDigest, keccak256(abi.encodePacked(input)), keccak256(abi.encodePacked(output))));
    }

    // ------------------------------------------------------------------ verify steps

    /// @notice The checks of `api.verify` before the transcript, in its order: the proof
    ///         bytes, the model digest, the input length (`circuit_for`), the output length,
    ///         the circuit digest and the key size.
    function _prepare(
        VerifierCtx memory ctx,
        bytes32 modelDigest,
        bytes calldata modelCommitment,
        uint256 inputLen,
        uint256 outputLen,
        bytes calldata proof
    ) private view returns (Arch memory arch) {
        bytes32 proofCircuit = parseProof(ctx.ch, proof);
        bytes32 h = keccak256(modelCommitment);
        if (h != modelDigest) revert ModelDigestMismatch(modelDigest, h);
        arch = ModelCommitment.decode(modelCommitment);
        if (!g1Valid(arch.pointsOffset, arch.count)) revert MalformedCommitment(arch.pointsOffset - _offset(modelCommitment));
        ctx.c = _circuitFor(arch, inputLen, outputLen, proofCircuit);
    }

    function _offset(bytes calldata b) private pure returns (uint256 off) {
        assembly ("memory-safe") {
            off := b.offset
        }
    }

    /// @notice The statement's input and output words (`api.statement_words`): each encodes a
    ///         signed integer v with |v| < 2^(io_bits-1), io_bits = 64 - weight_frac_bits.
    function _public(VerifierCtx memory ctx, Arch memory arch, uint256[] calldata input, uint256[] calldata output)
        private
        pure
    {
        uint256 inOff;
        uint256 outOff;
        assembly ("memory-safe") {
            inOff := input.offset
            outOff := output.offset
        }
        uint256 bits = 64 - arch.weightFracBits;
        ctx.inputOffset = _bounded(inOff, input.length, bits, "input");
        ctx.outputOffset = _bounded(outOff, output.length, bits, "output");
    }

    /// @notice Reverts with `NotCanonical(where, i)` at the first of the `n` words at calldata
    ///         offset `off` that is not v mod r for an integer |v| < 2^(bits-1), i.e. not in
    ///         [0, 2^(bits-1)) or (r - 2^(bits-1), r); returns `off`. A word w is in one of them
    ///         iff w < r and (w + 2^(bits-1) - 1) mod r < 2^bits - 1.
    function _bounded(uint256 off, uint256 n, uint256 bits, bytes32 where) private pure returns (uint256) {
        uint256 bad = n;
        assembly ("memory-safe") {
            let r := 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
            let lim1 := sub(shl(sub(bits, 1), 1), 1)
            let width := sub(shl(bits, 1), 1)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let w := calldataload(add(off, shl(5, i)))
                if iszero(and(lt(w, r), lt(addmod(w, lim1, r), width))) {
                    bad := i
                    break
                }
            }
        }
        if (bad != n) revert NotCanonical(where, bad);
        return off;
    }

    /// @notice `api.circuit_for` and the checks of `api.verify` before the transcript.
    function _circuitFor(Arch memory arch, uint256 inputLen, uint256 outputLen, bytes32 proofCircuit)
        private
        view
        returns (Circuit memory c)
    {
        if (inputLen == 0 || inputLen % arch.dIn != 0) revert InputLength(inputLen, arch.dIn);
        uint256 rows = inputLen / arch.dIn;
        if (rows >= 1 << 32) revert InputLength(inputLen, arch.dIn);
        c = MlpCircuit.compileMlp(arch, rows);
        if (outputLen != rows * c.dOut) revert OutputLength(outputLen, rows * c.dOut);
        if (proofCircuit != c.digest) revert CircuitMismatch(c.digest, proofCircuit);
        if (c.numVars > keyNumVars) revert CircuitTooLarge(c.numVars, keyNumVars);
    }

    /// @notice The function-table commitments from the key, the model commitments from
    ///         `modelCommitment` (in `model_tensors` order).
    function _attachCommitments(Circuit memory c, Arch memory arch, uint256 vk) private pure {
        for (uint256 l = 0; l + 1 < c.lookups.length; ++l) {
            LookupInstance memory lk = c.lookups[l];
            bytes memory name = tableName(lk.act, arch);
            uint256 ptr = VerifierKeyData.table(vk, keccak256(name));
            if (ptr == 0) revert MissingTable(string(name));
            c.commitment[lk.tableOutId] = ptr;
        }
        uint256 src = arch.pointsOffset;
        uint256 ptr2;
        uint256 count = c.modelTensors.length;
        assembly ("memory-safe") {
            ptr2 := mload(0x40)
            mstore(0x40, add(ptr2, mul(count, 128)))
            calldatacopy(ptr2, src, mul(count, 128))
        }
        for (uint256 i = 0; i < count; ++i) {
            c.commitment[c.modelTensors[i]] = ptr2 + 128 * i;
        }
    }

    /// @notice `FunctionTable.name`: "<fn>_<bits>_<in_frac>_<out_frac>".
    function tableName(uint256 act, Arch memory arch) internal pure returns (bytes memory) {
        string memory fn = act == 1 ? "gelu" : act == 2 ? "relu" : "silu";
        return abi.encodePacked(
            fn, "_", _dec(arch.lookupInBits), "_", _dec(arch.lookupInFracBits), "_", _dec(arch.actFracBits)
        );
    }

    function _dec(uint256 v) private pure returns (bytes memory s) {
        if (v >= 100) return abi.encodePacked(bytes1(uint8(48 + v / 100)), bytes1(uint8(48 + (v / 10) % 10)), bytes1(uint8(48 + v % 10)));
        if (v >= 10) return abi.encodePacked(bytes1(uint8(48 + v / 10)), bytes1(uint8(48 + v % 10)));
        return abi.encodePacked(bytes1(uint8(48 + v)));
    }

    /// @notice `circuit.absorb_statement`.
    function _absorbStatement(VerifierCtx memory ctx, bytes32 modelDigest, address attester, uint256 inputLen,
                              uint256 outputLen)
        private
        view
    {
        Transcript.absorbWord(ctx.ch, "statement/vk", vkDigest);
        Transcript.absorbWord(ctx.ch, "statement/model", modelDigest);
        Transcript.absorbWord(ctx.ch, "statement/circuit", ctx.c.digest);
        Transcript.absorbWord(ctx.ch, "statement/attester", bytes32(uint256(uint160(attester))));
        Transcript.absorbCalldata(ctx.ch, "statement/input", ctx.inputOffset, 32 * inputLen);
        Transcript.absorbCalldata(ctx.ch, "statement/output", ctx.outputOffset, 32 * outputLen);
    }

    /// @notice `circuit.run`: phases 1-5 of the schedule.
    function _run(VerifierCtx memory ctx, uint256 vk) private view {
        Circuit memory c = ctx.c;
        ctx.claimTid = new uint256[](c.maxClaims);
        ctx.claimPoint = new uint256[][](c.maxClaims);
        ctx.claimValue = new uint256[](c.maxClaims);
        uint256 nTerms;
        for (uint256 i = 0; i < c.roots.length; ++i) {
            nTerms += c.roots[i].digitIds.length + 1;
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
        for (uint256 i = c.roots.length; i > 0; --i) {
            Rescale.root(ctx, c.roots[i - 1]);
        }
        vk; // the opener loads the key itself
        OpenerCall.open(opener, ctx.ch, BatchOpening.claimSet(ctx), keyStore, keyBlobSize);
    }

}
