// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC165} from "./standards/IERC165.sol";

/// @title ModelRegistry
/// @notice Registry of committed models whose inferences can be proven in zero knowledge.
///         Each entry binds a model digest (keccak256 of the model commitment) to the
///         digests of its circuit, quantization and verifying key and to the verifier
///         contract that checks its proofs. It follows the registry part of the draft
///         ERC-7992 (Verifiable ML Model Inference) in spirit -- a model id for a model
///         commitment plus digests of circuit and verifying key -- but does not implement
///         that draft's interfaces.
/// @dev ERC-165: answers IERC165 only. It does not claim ERC-7992's `IERCZKMLRegistry`
///      (id 0xd28519b1): that interface's `registerModel(ModelCommitment)`,
///      `updateModel`, `deprecateModel` and `getModel` (returning a struct with `modelHash`,
///      `circuitHash`, `vkHash`, a bytes4 `proofSystemId` and a URI, plus a deprecated flag)
///      are not functions of this contract: entries here also name their verifier contract and
///      quantization digest, never change their digests after registration (no `updateModel`;
///      a changed model is a new entry), and have three states rather than a flag. The
///      mapping of fields is in docs/dapp-developers.md; ERC-7992's verifier side is
///      `InferenceAttestations.verifyInference`.
/// @dev Anyone may register; the registering account owns the entry. Only the owner changes
///      an entry. A model digest is public, so it is not a handle: the same digest may be
///      registered by several accounts (each gets its own entry and id, none blocks another),
///      and a dApp pins the model id whose owner and verifier it trusts, never a digest. Status moves one way: Active -> Deprecated -> Revoked, or Active ->
///      Revoked. Revoked is final: a revoked entry can no longer be changed at all.
///      Model ids start at 1.
contract ModelRegistry is IERC165 {
    /// @notice Lifecycle of an entry.
    /// @dev Active: usable. Deprecated: superseded, proofs are still accepted.
    ///      Revoked: unsound or compromised; no new attestations, and consumers should
    ///      treat earlier ones as void.
    enum ModelStatus {
        Active,
        Deprecated,
        Revoked
    }

    /// @notice One registered model.
    struct Model {
        bytes32 modelDigest;
        bytes32 circuitDigest;
        bytes32 quantDigest;
        bytes32 vkDigest;
        address owner;
        uint64 registeredAt;
        uint32 verifierVersion;
        address verifier;
        ModelStatus status;
        uint64 updatedAt;
        string uri;
    }

    /// @notice `modelId` was never registered.
    error UnknownModel(uint256 modelId);
    /// @notice `registrant` registered no entry with `modelDigest`.
    error UnknownModelDigest(bytes32 modelDigest, address registrant);
    /// @notice `caller` is not the owner of `modelId`.
    error NotModelOwner(uint256 modelId, address caller);
    /// @notice The caller already registered `modelDigest`, as `modelId`.
    error AlreadyRegistered(bytes32 modelDigest, uint256 modelId);
    /// @notice The model digest must not be zero.
    error ZeroModelDigest();
    /// @notice `verifier` is not a deployed contract.
    error InvalidVerifier(address verifier);
    /// @notice `modelId` is revoked and can no longer change.
    error ModelIsRevoked(uint256 modelId);
    /// @notice The metadata URI is longer than `MAX_URI_BYTES` (keep the card off-chain, its
    ///         address here).
    error UriTooLong(uint256 length, uint256 maxLength);
    /// @notice Only the pending owner named by `transferOwnership` may accept `modelId`.
    error NotPendingOwner(uint256 modelId, address caller);
    /// @notice `modelId` cannot go from status `from` to status `to`.
    error InvalidStatusTransition(uint256 modelId, ModelStatus from, ModelStatus to);

    /// @notice A model was registered.
    event ModelRegistered(
        uint256 indexed modelId,
        bytes32 indexed modelDigest,
        address indexed owner,
        address verifier,
        uint32 verifierVersion,
        bytes32 circuitDigest,
        bytes32 quantDigest,
        bytes32 vkDigest,
        string uri
    );
    /// @notice The owner of `modelId` named `pendingOwner`, who must accept (two-step transfer).
    event ModelOwnershipTransferStarted(uint256 indexed modelId, address indexed owner, address indexed pendingOwner);
    /// @notice The owner of `modelId` changed.
    event ModelOwnershipTransferred(uint256 indexed modelId, address indexed previousOwner, address indexed newOwner);
    /// @notice The status of `modelId` changed.
    event ModelStatusChanged(uint256 indexed modelId, ModelStatus previousStatus, ModelStatus newStatus);
    /// @notice The metadata URI of `modelId` changed.
    event ModelUriChanged(uint256 indexed modelId, string uri);

    /// @notice Longest metadata URI an entry stores.
    uint256 public constant MAX_URI_BYTES = 512;

    mapping(uint256 modelId => Model) private _models;
    mapping(uint256 modelId => address) private _pendingOwner;
    mapping(bytes32 modelDigest => mapping(address registrant => uint256 modelId)) private _idOf;
    uint256 private _count;

    modifier onlyModelOwner(uint256 modelId) {
        Model storage m = _existing(modelId);
        if (m.owner != msg.sender) revert NotModelOwner(modelId, msg.sender);
        if (m.status == ModelStatus.Revoked) revert ModelIsRevoked(modelId);
        _;
    }

    /// @notice Registers a model; the caller becomes its owner.
    /// @param modelDigest keccak256 of the serialized model commitment; one entry per registrant.
    /// @param circuitDigest Digest of the circuit description (architecture, shapes).
    /// @param quantDigest Digest of the quantization parameters.
    /// @param vkDigest Digest of the verifying key / structured reference string used.
    /// @param verifier Contract implementing `IZkllmVerifier` for this model.
    /// @param verifierVersion Version of the verifier's proof format.
    /// @param uri Where the model card / commitment can be fetched.
    /// @return modelId The new entry's id (ids start at 1).
    function register(
        bytes32 modelDigest,
        bytes32 circuitDigest,
        bytes32 quantDigest,
        bytes32 vkDigest,
        address verifier,
        uint32 verifierVersion,
        string calldata uri
    ) external returns (uint256 modelId) {
        if (modelDigest == bytes32(0)) revert ZeroModelDigest();
        uint256 existing = _idOf[modelDigest][msg.sender];
        if (existing != 0) revert AlreadyRegistered(modelDigest, existing);
        if (verifier.code.length == 0) revert InvalidVerifier(verifier);
        _checkUri(uri);

        modelId = ++_count;
        _idOf[modelDigest][msg.sender] = modelId;
        Model storage m = _models[modelId];
        m.modelDigest = modelDigest;
        m.circuitDigest = circuitDigest;
        m.quantDigest = quantDigest;
        m.vkDigest = vkDigest;
        m.owner = msg.sender;
        m.registeredAt = uint64(block.timestamp);
        m.updatedAt = uint64(block.timestamp);
        m.verifier = verifier;
        m.verifierVersion = verifierVersion;
        m.status = ModelStatus.Active;
        m.uri = uri;

        emit ModelRegistered(
            modelId, modelDigest, msg.sender, verifier, verifierVersion, circuitDigest, quantDigest, vkDigest, uri
        );
    }

    /// @notice Names `newOwner` as the pending owner of `modelId` (replacing any earlier one);
    ///         nothing changes until `newOwner` calls `acceptOwnership`, so a typo cannot hand
    ///         an entry to an address nobody controls. The zero address cancels a pending transfer.
    function transferOwnership(uint256 modelId, address newOwner) external onlyModelOwner(modelId) {
        _pendingOwner[modelId] = newOwner;
        emit ModelOwnershipTransferStarted(modelId, msg.sender, newOwner);
    }

    /// @notice Completes a transfer: the caller, named by the owner, becomes the owner.
    function acceptOwnership(uint256 modelId) external {
        Model storage m = _existing(modelId);
        if (m.status == ModelStatus.Revoked) revert ModelIsRevoked(modelId);
        if (msg.sender != _pendingOwner[modelId] || msg.sender == address(0)) revert NotPendingOwner(modelId, msg.sender);
        delete _pendingOwner[modelId];
        address previous = m.owner;
        m.owner = msg.sender;
        m.updatedAt = uint64(block.timestamp);
        emit ModelOwnershipTransferred(modelId, previous, msg.sender);
    }

    /// @notice The pending owner of `modelId` (the zero address: none).
    function pendingOwnerOf(uint256 modelId) external view returns (address) {
        _existing(modelId);
        return _pendingOwner[modelId];
    }

    /// @notice Marks an Active model as Deprecated (proofs are still accepted).
    function deprecate(uint256 modelId) external onlyModelOwner(modelId) {
        _setStatus(modelId, ModelStatus.Deprecated);
    }

    /// @notice Revokes a model for good. Nothing about it can change afterwards.
    function revoke(uint256 modelId) external onlyModelOwner(modelId) {
        _setStatus(modelId, ModelStatus.Revoked);
    }

    /// @notice Replaces the metadata URI of `modelId`.
    function setUri(uint256 modelId, string calldata uri) external onlyModelOwner(modelId) {
        _checkUri(uri);
        Model storage m = _models[modelId];
        m.uri = uri;
        m.updatedAt = uint64(block.timestamp);
        emit ModelUriChanged(modelId, uri);
    }

    /// @notice The entry of `modelId`; reverts with `UnknownModel` if there is none.
    function getModel(uint256 modelId) external view returns (Model memory) {
        return _existing(modelId);
    }

    /// @notice What an attestation needs of `modelId`, without the URI (whose length would
    ///         otherwise cost every attestation): its digest, verifier and status.
    function attestationInfo(uint256 modelId)
        external
        view
        returns (bytes32 modelDigest, address verifier, ModelStatus status)
    {
        Model storage m = _existing(modelId);
        return (m.modelDigest, m.verifier, m.status);
    }

    /// @notice The id that `registrant` registered for `modelDigest` (its current owner may
    ///         differ after a transfer); reverts with `UnknownModelDigest` if none.
    function modelIdOf(bytes32 modelDigest, address registrant) external view returns (uint256 modelId) {
        modelId = _idOf[modelDigest][registrant];
        if (modelId == 0) revert UnknownModelDigest(modelDigest, registrant);
    }

    /// @notice Whether `modelId` is Active; reverts with `UnknownModel` if it does not exist.
    function isActive(uint256 modelId) external view returns (bool) {
        return _existing(modelId).status == ModelStatus.Active;
    }

    /// @notice Status of `modelId`; reverts with `UnknownModel` if it does not exist.
    function statusOf(uint256 modelId) external view returns (ModelStatus) {
        return _existing(modelId).status;
    }

    /// @notice ERC-165: true for IERC165 (0x01ffc9a7) only (see the contract's NatSpec).
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId;
    }

    /// @notice Number of registered models (the highest model id).
    function modelCount() external view returns (uint256) {
        return _count;
    }

    function _checkUri(string calldata uri) private pure {
        if (bytes(uri).length > MAX_URI_BYTES) revert UriTooLong(bytes(uri).length, MAX_URI_BYTES);
    }

    function _existing(uint256 modelId) private view returns (Model storage m) {
        m = _models[modelId];
        if (m.modelDigest == bytes32(0)) revert UnknownModel(modelId);
    }

    function _setStatus(uint256 modelId, ModelStatus to) private {
        Model storage m = _models[modelId];
        ModelStatus from = m.status;
        // Revoked entries never get here (onlyModelOwner), so only Active -> Deprecated
        // and {Active, Deprecated} -> Revoked remain to be allowed.
        if (from == to) revert InvalidStatusTransition(modelId, from, to);
        m.status = to;
        m.updatedAt = uint64(block.timestamp);
        emit ModelStatusChanged(modelId, from, to);
    }
}
