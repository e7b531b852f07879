"""The on-chain proof verifier (``contracts/verifier/ZkllmVerifier.sol``) from Python.

The contract accepts exactly the proofs ``prover.api.verify`` accepts. This module
builds its constructor arguments from a :class:`prover.keys.VerifyingKey`, encodes a
statement, model commitment and proof as ``verify`` calldata, deploys a compiled verifier
and runs verifications as calls or as real transactions (to measure gas).

>>> args = verifier_constructor_args(vk)              # (srs vk bytes, table names, table points)
>>> dep = deploy_verifier(chain, vk)                    # from the committed artifact
>>> dep = deploy_verifier(chain, vk, compiled=compile_verifier())   # or from fresh sources
>>> h = verify_call(chain, dep, proof_calldata(statement, commitment, proof_bytes))
>>> tx = verify_transaction(chain, dep, proof_calldata(statement, commitment, proof_bytes))
>>> tx.gas_used, tx.calldata_bytes
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from .backend import Chain
from .errors import ChainError, TransactionRevertedError

__all__ = [
    "VERIFIER_CONTRACT",
    "R",
    "VerifyTx",
    "verifier_constructor_args",
    "field_words",
    "proof_calldata",
    "statement_hash",
    "compile_verifier",
    "deploy_verifier",
    "weight_verifier_of",
    "verify_call",
    "verify_args",
    "verify_transaction",
    "key_store",
]

VERIFIER_CONTRACT = "ZkllmVerifier"
OPENER_CONTRACT = "BatchOpener"
#: The BLS12-381 scalar field modulus (``prover.field.R``).
R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
#: Gas limit of a verification (a pairing-heavy call); explicit because estimating gas on
#: the embedded chain re-executes the pairings many times.
VERIFY_GAS = 6_000_000
DEPLOY_GAS = 12_000_000


@dataclass(frozen=True)
class VerifyTx:
    """A mined verification transaction."""

    tx_hash: str
    gas_used: int
    calldata_bytes: int
    statement_hash: bytes


def verifier_constructor_args(vk) -> tuple[bytes, list[str], bytes]:
    """``(VerifierKey.to_bytes(), table names ascending, their 128-byte G1 encodings)``.

    The contract recomputes ``vk.digest()`` from exactly these encodings and negates the
    G2 points it needs itself, so nothing here is trusted beyond the key it came from.
    """
    from prover.pcs.curve import g1_to_bytes

    names = sorted(vk.tables)
    return vk.srs_vk.to_bytes(), names, b"".join(g1_to_bytes(vk.tables[n]) for n in names)


def field_words(values: Sequence[int]) -> list[int]:
    """The statement's signed integers as field elements (x mod r), as the contract takes them."""
    return [int(v) % R for v in values]


def proof_calldata(statement, commitment, proof_bytes: bytes) -> tuple[bytes, bytes, list[int], list[int], bytes]:
    """The arguments of ``verify``: (modelDigest, modelCommitment, input, output, proof)."""
    return (bytes(statement.model_digest), commitment.encode(), field_words(statement.input),
            field_words(statement.output), bytes(proof_bytes))


def verify_args(calldata: Sequence[Any], attester=None) -> list:
    """``verify``'s six arguments from the five of :func:`proof_calldata` /
    ``transformer_calldata`` and the attester the proof is bound to (bytes, hex or None for
    the zero address: ``prover.attester``); six given are returned as they are."""
    from prover.attester import parse

    if len(calldata) == 6:
        return list(calldata)
    d, enc, inp, out, proof = calldata
    return [d, enc, inp, out, to_checksum_address(parse(attester)), proof]


def statement_hash(model_digest: bytes, input_words: Sequence[int], output_words: Sequence[int]) -> bytes:
    """What ``verify`` returns: keccak256(abi.encode(digest, keccak256(input), keccak256(output)))."""
    pack = lambda ws: keccak(b"".join(int(w).to_bytes(32, "big") for w in ws))  # noqa: E731
    return keccak(abi_encode(["bytes32", "bytes32", "bytes32"],
                             [bytes(model_digest), pack(input_words), pack(output_words)]))


def compile_verifier(solc=None):
    """Compiles ``contracts/`` and returns the ``ZkllmVerifier`` CompiledContract."""
    from .artifacts import CONTRACTS_DIR
    from .solc import compile_contracts

    return compile_contracts(CONTRACTS_DIR, solc=solc).contracts[VERIFIER_CONTRACT]


def _revert(exc: BaseException, abi: list, function: str) -> TransactionRevertedError | None:
    from .contracts import revert_error

    return revert_error(exc, function=function, extra_abis=[abi])


def call_decoded(deployment, fn, function: str, gas: int) -> bytes:
    """``fn`` (a bound function of ``deployment``'s contract returning one word) as an
    eth_call: its bytes, or a :class:`TransactionRevertedError` whose custom error is decoded
    with the deployment's ABI."""
    try:
        return bytes(fn.call({"gas": int(gas)}))
    except Exception as exc:
        err = _revert(exc, deployment.artifact.abi, function)
        if err is not None:
            raise err from None
        raise


def _named(err: TransactionRevertedError, abi: list) -> TransactionRevertedError:
    """``err`` with its data decoded by the verifier's ABI when the artifacts' ABIs did not."""
    from .contracts import decode_revert

    if err.error_name is None and err.data:
        dec = decode_revert(err.data, [abi])
        if dec is not None:
            return TransactionRevertedError(dec[0], dec[1], data=err.data, function=err.function,
                                            tx_hash=err.tx_hash, arg_names=dec[2])
    return err


def _as_artifact(compiled):
    """An :class:`~zkllm_chain.chain.artifacts.Artifact` for a fresh ``CompiledContract``."""
    from .artifacts import Artifact

    if isinstance(compiled, Artifact):
        return compiled
    meta = getattr(compiled, "metadata", {}) or {}
    return Artifact(
        name=compiled.name, source=compiled.source_unit, abi=list(compiled.abi), bytecode=compiled.bytecode,
        deployed_bytecode=compiled.deployed_bytecode, immutable_references=compiled.immutable_references,
        compiler_version=meta.get("compiler", {}).get("version", ""), settings=meta.get("settings", {}),
        sources=compiled.source_hashes)


def deploy_verifier(chain: Chain, vk, *, weights: str | None = None, opener: str | None = None, compiled=None,
                    compiled_weights=None, compiled_opener=None, signer=None, gas: int | None = DEPLOY_GAS):
    """Deploys ``ZkllmVerifier`` for verifying key ``vk``; returns a
    :class:`~zkllm_chain.chain.contracts.Deployment` (usable with ``write_deployment``).

    The verifier refuses statements about models that the ``WeightRangeVerifier`` at
    ``weights`` has not certified; without ``weights`` one is deployed first for the same key
    (``compiled_weights`` or its committed artifact; :func:`weight_verifier_of` finds it).
    ``compiled`` (a ``CompiledContract`` from :func:`compile_verifier`, or an artifact)
    defaults to the committed artifact. The constructor checks every key point with the
    EIP-2537 precompiles, so it reverts with ``PrecompileFailed`` on a chain without them.
    The batch opening runs in a ``BatchOpener`` (stateless; ``opener``, or one deployed
    first from ``compiled_opener`` or its artifact); the verifier's ``opener()`` names it.
    """
    from .accounts import load_signer
    from .artifacts import load_artifact

    signer = signer or load_signer(chain)
    if weights is None:
        from .weights import deploy_weight_verifier
        weights = deploy_weight_verifier(chain, vk, compiled=compiled_weights, signer=signer).address
    if opener is None:
        op = load_artifact(OPENER_CONTRACT) if compiled_opener is None else _as_artifact(compiled_opener)
        opener = deploy_artifact(chain, OPENER_CONTRACT, op, (), signer, gas).address
    art = load_artifact(VERIFIER_CONTRACT) if compiled is None else _as_artifact(compiled)
    return deploy_artifact(chain, VERIFIER_CONTRACT, art,
                           (*verifier_constructor_args(vk), to_checksum_address(weights), to_checksum_address(opener)),
                           signer, gas)


def weight_verifier_of(chain: Chain, verifier_address: str) -> str:
    """The address of the ``WeightRangeVerifier`` an inference verifier requires (``weightRange()``)."""
    abi = [{"type": "function", "name": "weightRange", "stateMutability": "view", "inputs": [],
            "outputs": [{"name": "", "type": "address"}]}]
    c = chain.w3.eth.contract(address=to_checksum_address(verifier_address), abi=abi)
    return to_checksum_address(c.functions.weightRange().call())


def deploy_artifact(chain: Chain, name: str, art, args: Sequence, signer, gas: int | None):
    """Deploys artifact ``art`` (contract ``name``) with constructor ``args``; a revert is
    raised with its custom error decoded from the artifact's ABI."""
    from .contracts import Deployment, _send

    factory = chain.w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
    data = factory.constructor(*args).data_in_transaction
    try:
        res = _send(chain, {"to": None, "data": data, "value": 0}, signer, f"{name} constructor",
                    gas=gas, preflight=True, timeout=120.0)
    except TransactionRevertedError as err:
        raise _named(err, art.abi) from None
    if not res.contract_address:
        raise ChainError(f"deployment of {name} mined without a contract address [tx {res.tx_hash}]")
    return Deployment(name=name, address=to_checksum_address(res.contract_address), chain_id=chain.chain_id,
                      tx=res, artifact=art)


def key_store(chain: Chain, deployment) -> str:
    """Address of the data contract holding the verifier's key (see ``VerifierKeyData.sol``)."""
    return to_checksum_address(deployment.contract(chain).functions.keyStore().call())


def verify_call(chain: Chain, deployment, calldata: Sequence[Any], *, gas: int = VERIFY_GAS,
                attester=None) -> bytes:
    """``verify(...)`` as an eth_call for ``attester`` (:func:`verify_args`): the statement
    hash, or a decoded :class:`TransactionRevertedError` (``error_name`` names the failing check)."""
    fn = deployment.contract(chain).functions.verify(*verify_args(calldata, attester))
    return call_decoded(deployment, fn, "verify", gas)


def verify_transaction(chain: Chain, deployment, calldata: Sequence[Any], *,
                       signer=None, gas: int = VERIFY_GAS, attester=None) -> VerifyTx:
    """Sends ``verify(...)`` as a transaction (state is unchanged; the gas is real) and
    returns the receipt's gas. A revert raises :class:`TransactionRevertedError` naming the
    contract's error; on success ``statement_hash`` is the hash the call returned, i.e.
    :func:`statement_hash` of the calldata."""
    from .accounts import load_signer
    from .contracts import _send

    signer = signer or load_signer(chain)
    c = deployment.contract(chain)
    data = c.encode_abi("verify", args=verify_args(calldata, attester))
    try:
        res = _send(chain, {"to": deployment.address, "data": data, "value": 0}, signer, "verify",
                    gas=gas, preflight=False, timeout=120.0)
    except TransactionRevertedError as err:
        raise _named(err, deployment.artifact.abi) from None
    raw = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
    return VerifyTx(res.tx_hash, res.gas_used, len(raw), statement_hash(calldata[0], calldata[2], calldata[3]))
