// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IZkllmVerifier} from "./IZkllmVerifier.sol";
import {ModelRegistry} from "./ModelRegistry.sol";
import {VerifierCall} from "./lib/VerifierCall.sol";
import {IERC165} from "./standards/IERC165.sol";
import {IERCZKMLVerifier} from "./standards/IERCZKMLVerifier.sol";

/// @title InferenceAttestations
/// @notice Records, after checking a zero-knowledge proof, that a registered model produced
///         `output` from `input`. Records follow the shape of Ethereum Attestation Service
///         attestations: a uid, the subject (model), the attester and when.
/// @dev Rules:
///      - the model must exist in the registry and must not be Revoked. Deprecated models can
///        still be attested: deprecation only says "superseded"; revocation says "do not trust".
///      - keccak256(modelCommitment) must equal the registered model digest.
///      - the registered verifier's `verify` must accept (and return a non-zero statement
///        hash); when it reverts, its revert data is passed up unchanged.
///      - uid = keccak256(abi.encode(chainId, address(this), modelId, inputHash, outputHash)) with
///        inputHash = keccak256(abi.encodePacked(input)) (the concatenated 32-byte words),
///        and likewise for outputHash.
///      - attesting the same (model, input, output) again returns the existing uid; nothing
///        is stored or emitted a second time and the proof is not checked again.
///
///      ERC-7992 (draft), verifier side (`IERCZKMLVerifier`, ERC-165 id 0x5df65472):
///      `verifyInference(modelId, inputCommitment, output, proof)` is `attest` with the
///      arguments packed as that interface wants them:
///      - inputCommitment = the attestation's inputHash = keccak256(abi.encodePacked(input words));
///      - output = abi.encodePacked(output words): the 32-byte big-endian words end to end
///        (a length that is not a multiple of 32 reverts `OutputMismatch`);
///      - proof = abi.encode(bytes modelCommitment, uint256[] input, bytes zkProof), where
///        zkProof is the proof `attest` takes (bound to msg.sender as the attester).
///      It reverts on any failure and emits `InferenceVerified(modelId, inputCommitment, output,
///      msg.sender)` on success. Unlike `attest` it checks the proof on every call (success
///      must mean that this proof is valid), and records the attestation the first time.
///      The registry (`registry()`) is this project's `ModelRegistry`, which does not claim
///      ERC-7992's `IERCZKMLRegistry` (see there). The optional storage extension
///      (`verifyAndStoreInference` / `getInference`) is not implemented: its id,
///      keccak256(abi.encodePacked(modelId, inputCommitment, output)), names neither the chain
///      nor this contract and is not the attestation uid, so it would need a second index;
///      `attestationUid` / `getAttestation` give the same record.
contract InferenceAttestations is IERC165, IERCZKMLVerifier {
    /// @notice One attested inference.
    struct Attestation {
        bytes32 uid;
        uint256 modelId;
        bytes32 inputHash;
        bytes32 outputHash;
        bytes32 statementHash;
        address attester;
        uint64 blockNumber;
        uint64 time;
        uint256[] output;
    }

    /// @notice `modelId` is revoked in the registry; it cannot be attested.
    error ModelRevoked(uint256 modelId);
    /// @notice keccak256(modelCommitment) differs from the registered model digest.
    error CommitmentMismatch(uint256 modelId, bytes32 expected, bytes32 actual);
    /// @notice The verifier accepted but returned a zero statement hash.
    error EmptyStatement(uint256 modelId);
    /// @notice No attestation has `uid`.
    error UnknownAttestation(bytes32 uid);

    /// @notice A new inference was attested.
    event InferenceAttested(
        bytes32 indexed uid, uint256 indexed modelId, bytes32 inputHash, bytes32 outputHash, address indexed attester
    );

    /// @notice The ERC-7992 proof system id of every model verified here:
    ///         bytes4(keccak256("zkllm-sumcheck-logup-pst-bls12381-v1")) -- sumcheck and LogUp
    ///         arguments with PST (multilinear KZG) openings on BLS12-381, the family of
    ///         `ZkllmVerifier` and `TransformerVerifier`. The exact format version is the
    ///         model's verifier's own `IZkllmVerifier.proofSystemId()`.
    bytes4 public constant PROOF_SYSTEM_ID = bytes4(keccak256("zkllm-sumcheck-logup-pst-bls12381-v1"));

    ModelRegistry private immutable _registry;

    mapping(bytes32 uid => Attestation) private _attestations;
    uint256 private _count;

    constructor(ModelRegistry registry_) {
        _registry = registry_;
    }

    /// @notice The registry whose models are attested (a `ModelRegistry`).
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @notice ERC-165: IERC165 (0x01ffc9a7) and ERC-7992's IERCZKMLVerifier (0x5df65472).
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == type(IERCZKMLVerifier).interfaceId;
    }

    /// @notice ERC-7992: `PROOF_SYSTEM_ID` for every registered model; reverts with
    ///         `ModelRegistry.UnknownModel` for ids that were never registered.
    function proofSystemOf(uint256 modelId) external view returns (bytes4) {
        _registry.attestationInfo(modelId);
        return PROOF_SYSTEM_ID;
    }

    /// @notice Checks `proof` with the model's verifier and records the inference.
    /// @param modelId Registry id of the model.
    /// @param modelCommitment Serialized model commitment; must hash to the model digest.
    /// @param input Input of the inference.
    /// @param output Output of the inference.
    /// @param proof Proof for the model's verifier.
    /// @return uid Identifier of the (new or existing) attestation.
    function attest(
        uint256 modelId,
        bytes calldata modelCommitment,
        uint256[] calldata input,
        uint256[] calldata output,
        bytes calldata proof
    ) external returns (bytes32 uid) {
        return _attest(modelId, modelCommitment, input, output, proof, false);
    }

    /// @notice ERC-7992 `verifyInference`: checks the proof exactly as `attest` does (with
    ///         msg.sender as the attester) and records the attestation if it is new; reverts
    ///         on any failure. See the contract's NatSpec for the encoding of the arguments.
    /// @dev Refusals: a `proof` that is not abi.encode(bytes, uint256[], bytes) -> `InvalidProof`;
    ///      keccak256 of its input words != `inputCommitment` -> `InputCommitmentMismatch`;
    ///      `output` not whole words -> `OutputMismatch`; its model commitment not hashing to
    ///      the registered digest -> `ModelMismatch`; a revoked model (the ERC's "deprecated":
    ///      do not trust; this registry's Deprecated means superseded but sound, and verifies)
    ///      -> `VerificationRefused_ModelDeprecated`; an unknown model ->
    ///      `ModelRegistry.UnknownModel`; a false proof -> the verifier's own error, passed up
    ///      unchanged (`ProofRejected(check)`, `MalformedProof(offset)`, ...).
    function verifyInference(uint256 modelId, bytes32 inputCommitment, bytes calldata output, bytes calldata proof)
        external
    {
        (bytes calldata modelCommitment, uint256[] calldata input, bytes calldata zkProof) = _unpackProof(proof);
        if (_hashWords(input) != inputCommitment) revert InputCommitmentMismatch();
        if (output.length % 32 != 0) revert OutputMismatch();
        uint256[] calldata words;
        assembly ("memory-safe") {
            words.offset := output.offset
            words.length := shr(5, output.length)
        }
        _attest(modelId, modelCommitment, input, words, zkProof, true);
        emit InferenceVerified(modelId, inputCommitment, output, msg.sender);
    }

    /// @dev The attest path. `alwaysVerify` false (`attest`): an inference already recorded
    ///      returns its uid at once; true (`verifyInference`): the proof is checked anyway.
    ///      Refusals before the verifier name the ERC-7992 errors when `alwaysVerify`.
    function _attest(
        uint256 modelId,
        bytes calldata modelCommitment,
        uint256[] calldata input,
        uint256[] calldata output,
        bytes calldata proof,
        bool alwaysVerify
    ) private returns (bytes32 uid) {
        address verifier;
        bytes32 statementHash;
        bool recorded;
        {
            (statementHash, verifier) = _attestableModel(modelId, modelCommitment, alwaysVerify);
            uid = _uid(modelId, _hashWords(input), _hashWords(output));
            recorded = _attestations[uid].attester != address(0);
            if (recorded && !alwaysVerify) return uid;
        }
        statementHash = _verify(verifier, statementHash, modelCommitment, input, output, proof);
        if (statementHash == bytes32(0)) revert EmptyStatement(modelId);
        if (!recorded) _record(uid, modelId, _hashWords(input), output, statementHash);
    }

    /// @dev Splits `proof` = abi.encode(bytes modelCommitment, uint256[] input, bytes zkProof)
    ///      into calldata slices, without copying; every offset and length is bounds-checked
    ///      against `proof` (a failure reverts `InvalidProof`).
    function _unpackProof(bytes calldata proof)
        private
        pure
        returns (bytes calldata modelCommitment, uint256[] calldata input, bytes calldata zkProof)
    {
        if (proof.length < 96) revert InvalidProof();
        (uint256 start, uint256 len) = _tail(proof, 0, 1);
        modelCommitment = proof[start:start + len];
        (start, len) = _tail(proof, 32, 32);
        assembly ("memory-safe") {
            input.offset := add(proof.offset, start)
            input.length := len
        }
        (start, len) = _tail(proof, 64, 1);
        zkProof = proof[start:start + len];
    }

    /// @dev The dynamic value whose offset is the word at `head` of `data`: where its
    ///      elements start and how many there are (`unit` bytes each), all inside `data`.
    function _tail(bytes calldata data, uint256 head, uint256 unit) private pure returns (uint256 start, uint256 len) {
        uint256 at = uint256(bytes32(data[head:head + 32]));
        if (at > data.length - 32) revert InvalidProof();
        len = uint256(bytes32(data[at:at + 32]));
        start = at + 32;
        if (len > (data.length - start) / unit) revert InvalidProof();
    }

    /// @dev Stores a verified attestation of `msg.sender`.
    function _record(bytes32 uid, uint256 modelId, bytes32 inputHash, uint256[] calldata output, bytes32 statementHash)
        private
    {
        Attestation storage a = _attestations[uid];
        bytes32 outputHash = _hashWords(output);
        a.uid = uid;
        a.modelId = modelId;
        a.inputHash = inputHash;
        a.outputHash = outputHash;
        a.statementHash = statementHash;
        a.attester = msg.sender;
        a.blockNumber = uint64(block.number);
        a.time = uint64(block.timestamp);
        a.output = output;
        ++_count;
        emit InferenceAttested(uid, modelId, inputHash, outputHash, msg.sender);
    }

    /// @notice Whether (modelId, input, output) is attested and the model is not revoked.
    /// @dev Returns false for unknown models rather than reverting.
    function isAttested(uint256 modelId, uint256[] calldata input, uint256[] calldata output)
        external
        view
        returns (bool)
    {
        bytes32 uid = _uid(modelId, _hashWords(input), _hashWords(output));
        if (_attestations[uid].attester == address(0)) return false;
        return _registry.statusOf(modelId) != ModelRegistry.ModelStatus.Revoked;
    }

    /// @notice The attestation `uid`, whatever the model's status is now.
    function getAttestation(bytes32 uid) external view returns (Attestation memory) {
        Attestation storage a = _attestations[uid];
        if (a.attester == address(0)) revert UnknownAttestation(uid);
        return a;
    }

    /// @notice The uid that (modelId, input, output) has or would have.
    function attestationUid(uint256 modelId, uint256[] calldata input, uint256[] calldata output)
        external
        view
        returns (bytes32)
    {
        return _uid(modelId, _hashWords(input), _hashWords(output));
    }

    /// @notice Number of distinct attestations recorded.
    function attestationCount() external view returns (uint256) {
        return _count;
    }

    /// @dev The registry entry of `modelId` if it may be attested with `modelCommitment`;
    ///      `erc` names the refusals with the ERC-7992 errors.
    function _attestableModel(uint256 modelId, bytes calldata modelCommitment, bool erc)
        private
        view
        returns (bytes32 modelDigest, address verifier)
    {
        // attestationInfo reverts with ModelRegistry.UnknownModel for unknown ids; it does not
        // read the URI, so its length costs attestations nothing.
        ModelRegistry.ModelStatus status;
        (modelDigest, verifier, status) = _registry.attestationInfo(modelId);
        if (status == ModelRegistry.ModelStatus.Revoked) {
            if (erc) revert VerificationRefused_ModelDeprecated(modelId);
            revert ModelRevoked(modelId);
        }
        bytes32 commitmentHash = keccak256(modelCommitment);
        if (commitmentHash != modelDigest) {
            if (erc) revert ModelMismatch();
            revert CommitmentMismatch(modelId, modelDigest, commitmentHash);
        }
    }

    /// @dev The verifier checks this call's statement with `msg.sender` as the attester: a
    ///      proof binds the one account that may post it (`IZkllmVerifier.verify`), so a copy of
    ///      this transaction sent by anyone else is a false proof. A revert is passed up unchanged.
    function _verify(
        address verifier,
        bytes32 modelDigest,
        bytes calldata modelCommitment,
        uint256[] calldata input,
        uint256[] calldata output,
        bytes calldata proof
    ) private view returns (bytes32 statementHash) {
        statementHash = VerifierCall.statementHash(
            verifier,
            abi.encodeCall(IZkllmVerifier.verify, (modelDigest, modelCommitment, input, output, msg.sender, proof))
        );
    }

    /// @dev Like an EAS uid, it names the chain and this contract, so that two deployments (or
    ///      two chains) never share an attestation id.
    function _uid(uint256 modelId, bytes32 inputHash, bytes32 outputHash) private view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), modelId, inputHash, outputHash));
    }

    /// @dev keccak256 of the words of `values` laid end to end (= keccak256(abi.encodePacked(values))).
    function _hashWords(uint256[] calldata values) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let len := mul(values.length, 0x20)
            calldatacopy(ptr, values.offset, len)
            h := keccak256(ptr, len)
        }
    }
}
