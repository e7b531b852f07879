// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {InferenceAttestations} from "./InferenceAttestations.sol";
import {ModelRegistry} from "./ModelRegistry.sol";

/// @title ExampleConsumer
/// @notice Shows how a contract gates an action on a proven inference: a reward is paid,
///         once per attested (model, input, output), to the attester the attestation names.
/// @dev What a dApp must pin, and this example does: the model id it trusts (an entry of the
///      registry, owned by a known party) and the verifier contract that entry names. A
///      consumer that paid for any model id would pay for a model registered by anyone with a
///      verifier that accepts everything. The deployer pins the model once (`pinModel`);
///      until then every claim reverts. The reward goes to the attestation's attester, never
///      to whoever calls `claimReward`. The contract is funded by plain transfers; with a
///      reward of zero it only records the claim and emits the event.
contract ExampleConsumer {
    /// @notice (modelId, input, output) has no valid attestation (or its model is revoked).
    error NotAttested(uint256 modelId, bytes32 uid);
    /// @notice The reward for `uid` was already paid to `claimant`.
    error AlreadyClaimed(bytes32 uid, address claimant);
    /// @notice The contract holds `balance` wei, less than the `reward`.
    error InsufficientRewardBalance(uint256 balance, uint256 reward);
    /// @notice Sending the reward to `to` failed.
    error RewardTransferFailed(address to);
    /// @notice No model is pinned yet, or the pin was already set.
    error ModelNotPinned();
    error ModelAlreadyPinned(uint256 modelId);
    /// @notice Only the deployer pins the model.
    error NotOwner(address caller);
    /// @notice `modelId` is not the model this consumer trusts.
    error UntrustedModel(uint256 modelId, uint256 trustedModelId);
    /// @notice The registry entry names `verifier`, not the pinned one.
    error UntrustedVerifier(address verifier, address trustedVerifier);

    /// @notice The reward for attestation `uid` was paid to `attester` (claimed by `caller`).
    event RewardClaimed(
        bytes32 indexed uid, uint256 indexed modelId, address indexed attester, address caller, uint256 amount
    );
    /// @notice `from` added `amount` wei to the reward pool.
    event Funded(address indexed from, uint256 amount);
    /// @notice The consumer now trusts `modelId` verified by `verifier`.
    event ModelPinned(uint256 indexed modelId, address verifier);

    /// @notice Where attestations are looked up.
    InferenceAttestations public immutable attestations;
    /// @notice Wei paid per claim.
    uint256 public immutable reward;
    /// @notice Who may pin the model (the deployer).
    address public immutable owner;
    /// @notice The trusted model id (0: none yet) and the verifier its entry must name.
    uint256 public trustedModelId;
    address public trustedVerifier;

    /// @notice To whom the reward for each attestation uid was paid (zero: unclaimed).
    mapping(bytes32 uid => address attester) public claimedBy;

    constructor(InferenceAttestations attestations_, uint256 reward_) {
        attestations = attestations_;
        reward = reward_;
        owner = msg.sender;
    }

    receive() external payable {
        emit Funded(msg.sender, msg.value);
    }

    /// @notice Pins the model this consumer trusts, once: its registry id and the verifier
    ///         contract its entry names (check the entry's owner and the verifier's code hash
    ///         off-chain before pinning).
    function pinModel(uint256 modelId, address verifier) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        if (trustedModelId != 0) revert ModelAlreadyPinned(trustedModelId);
        ModelRegistry.Model memory m = ModelRegistry(attestations.registry()).getModel(modelId);
        if (m.verifier != verifier) revert UntrustedVerifier(m.verifier, verifier);
        trustedModelId = modelId;
        trustedVerifier = verifier;
        emit ModelPinned(modelId, verifier);
    }

    /// @notice Pays the reward for an attested inference of the trusted model to its attester.
    /// @return uid The attestation uid the reward was paid for.
    function claimReward(uint256 modelId, uint256[] calldata input, uint256[] calldata output)
        external
        returns (bytes32 uid)
    {
        uint256 trusted = trustedModelId;
        if (trusted == 0) revert ModelNotPinned();
        if (modelId != trusted) revert UntrustedModel(modelId, trusted);
        address verifier = ModelRegistry(attestations.registry()).getModel(modelId).verifier;
        if (verifier != trustedVerifier) revert UntrustedVerifier(verifier, trustedVerifier);
        uid = attestations.attestationUid(modelId, input, output);
        if (!attestations.isAttested(modelId, input, output)) revert NotAttested(modelId, uid);
        address previous = claimedBy[uid];
        if (previous != address(0)) revert AlreadyClaimed(uid, previous);
        uint256 amount = reward;
        if (address(this).balance < amount) revert InsufficientRewardBalance(address(this).balance, amount);

        address attester = attestations.getAttestation(uid).attester;
        claimedBy[uid] = attester;
        emit RewardClaimed(uid, modelId, attester, msg.sender, amount);
        if (amount != 0) {
            (bool ok,) = payable(attester).call{value: amount}("");
            if (!ok) revert RewardTransferFailed(attester);
        }
    }
}
