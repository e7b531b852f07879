// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice An Ethereum Attestation Service (EAS) attestation, as EAS hands it to a schema
///         resolver and returns it from `getAttestation` (same fields, same order, same ABI
///         tuple: (bytes32,bytes32,uint64,uint64,uint64,bytes32,address,address,bool,bytes)).
struct EasAttestation {
    bytes32 uid; // unique id, assigned by EAS
    bytes32 schema; // schema uid: keccak256(abi.encodePacked(schema string, resolver, revocable))
    uint64 time; // when it was attested
    uint64 expirationTime; // 0: never expires
    uint64 revocationTime; // 0: not revoked
    bytes32 refUID; // a related attestation, or zero
    address recipient;
    address attester; // the account that made the attestation
    bool revocable;
    bytes data; // the schema-encoded payload
}

/// @title IEasSchemaResolver
/// @notice The calls EAS makes to a schema resolver (EAS `ISchemaResolver`, declared here from
///         its interface shape so that this project builds without the EAS package). ERC-165
///         id: 0xd5e27b05, as for EAS's own declaration.
/// @dev EAS calls `attest` / `revoke` (or the multi forms) after storing the record; a return
///      of false makes EAS revert `InvalidAttestation` / `InvalidRevocation`, and a revert
///      here reverts the whole EAS call with this revert data.
interface IEasSchemaResolver {
    /// @notice Whether the resolver accepts ETH with attestations.
    function isPayable() external pure returns (bool);

    /// @notice Checks one new attestation; false (or a revert) refuses it.
    function attest(EasAttestation calldata attestation) external payable returns (bool);

    /// @notice Checks several new attestations; `values[i]` wei go with `attestations[i]`.
    function multiAttest(EasAttestation[] calldata attestations, uint256[] calldata values)
        external
        payable
        returns (bool);

    /// @notice Checks one revocation; false (or a revert) refuses it.
    function revoke(EasAttestation calldata attestation) external payable returns (bool);

    /// @notice Checks several revocations.
    function multiRevoke(EasAttestation[] calldata attestations, uint256[] calldata values)
        external
        payable
        returns (bool);
}

/// @title IEasReader
/// @notice The one EAS view a resolver needs to read attestations back.
interface IEasReader {
    /// @notice The attestation `uid` (all fields zero if there is none).
    function getAttestation(bytes32 uid) external view returns (EasAttestation memory);
}
