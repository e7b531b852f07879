// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IERC165
/// @notice Standard interface detection (ERC-165): a contract says which interfaces it
///         implements. An interface id is the XOR of the selectors of the interface's own
///         functions; the id of this interface is 0x01ffc9a7.
interface IERC165 {
    /// @notice Whether this contract implements `interfaceId`; false for 0xffffffff.
    /// @dev Costs less than 30,000 gas.
    function supportsInterface(bytes4 interfaceId) external view returns (bool);
}
