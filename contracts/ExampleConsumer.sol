// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {InferenceAttestations} from "./InferenceAttestations.sol";

/// @title ExampleConsumer
/// @notice Shows how a contract gates an action on a proven inference: a reward is paid,
///         once per attested (model, input, output), to whoever claims it first.
/// @dev The contract is funded by plain transfers. With a reward of zero it only records
///      the claim and emits the event.
contract ExampleConsumer {
    /// @notice (modelId, input, output) has no valid attestation (or its model is revoked).
    error NotAttested(uint256 modelId, bytes32 uid);
    /// @notice The reward for `uid` was already claimed by `claimant`.
    error AlreadyClaimed(bytes32 uid, address claimant);
    /// @notice The contract holds `balance` wei, less than the `reward`.
    error InsufficientRewardBalance(uint256 balance, uint256 reward);
    /// @notice Sending the reward to `to` failed.
    error RewardTransferFailed(address to);

    /// @notice `claimant` claimed the reward for attestation `uid`.
    event RewardClaimed(bytes32 indexed uid, uint256 indexed modelId, address indexed claimant, uint256 amount);
    /// @notice `from` added `amount` wei to the reward pool.
    event Funded(address indexed from, uint256 amount);

    /// @notice Where attestations are looked up.
    InferenceAttestations public immutable attestations;
    /// @notice Wei paid per claim.
    uint256 public immutable reward;

    /// @notice Who claimed each attestation uid (zero: unclaimed).
    mapping(bytes32 uid => address claimant) public claimedBy;

    constructor(InferenceAttestations attestations_, uint256 reward_) {
        attestations = attestations_;
        reward = reward_;
    }

    receive() external payable {
        emit Funded(msg.sender, msg.value);
    }

    /// @notice Claims the reward for an attested inference.
    /// @return uid The attestation uid the claim was made for.
    function claimReward(uint256 modelId, uint256[] calldata input, uint256[] calldata output)
        external
        returns (bytes32 uid)
    {
        uid = attestations.attestationUid(modelId, input, output);
        if (!attestations.isAttested(modelId, input, output)) revert NotAttested(modelId, uid);
        address previous = claimedBy[uid];
        if (previous != address(0)) revert AlreadyClaimed(uid, previous);
        uint256 amount = reward;
        if (address(this).balance < amount) revert InsufficientRewardBalance(address(this).balance, amount);

        claimedBy[uid] = msg.sender;
        emit RewardClaimed(uid, modelId, msg.sender, amount);
        if (amount != 0) {
            (bool ok,) = payable(msg.sender).call{value: amount}("");
            if (!ok) revert RewardTransferFailed(msg.sender);
        }
    }
}
