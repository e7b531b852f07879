"""The execute layer: what the CLI and the demo do, as library functions.

Each function takes explicit objects (a connected ``Chain``, keys, files already
loaded) and returns plain results; the CLI only parses arguments, calls these and
prints. The contracts: ``WeightRangeVerifier`` (certifies models whose weight range
proof verifies), ``ZkllmVerifier`` (checks proofs of certified models, holds the
verifying key), ``ModelRegistry``, ``InferenceAttestations`` (verifies on-chain, then
records) and ``ExampleConsumer`` (a dApp gated on an attestation).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .chain.verifier import field_words  # signed quantized ints -> uint256 words (x mod r)

VERIFIER = "ZkllmVerifier"


@dataclass
class Contracts:
    chain: object
    verifier: str
    registry: object       # chain.registry.ModelRegistry
    attestations: object   # chain.attestations.InferenceAttestations
    consumer: object | None = None
    gas: dict[str, int] = field(default_factory=dict)   # deployment gas by contract
    sizes: dict[str, int] = field(default_factory=dict)  # deployed bytecode size by contract
    records: dict[str, Path] = field(default_factory=dict)
    transformer: object | None = None  # chain.transformer_verifier.TransformerVerifierDeployment


def deploy_all(chain, vk, *, signer=None, directory=None, consumer_reward_wei: int = 0, log=lambda m: None,
               force: bool = False) -> Contracts:
    """Deploy the verifier (with ``vk``), the registry, the attestations and the example
    consumer. Existing records under ``directory`` are replaced only with ``force`` (checked
    before anything is sent; the old ones are kept under ``history/``)."""
    from .chain import deploy_stack, load_signer
    from .chain.attestations import ExampleConsumer, InferenceAttestations
    from .chain.deployments import write_deployment
    from .chain.registry import ModelRegistry
    from .chain.verifier import deploy_verifier

    from .chain.weights import WEIGHTS_CONTRACT, deploy_weight_verifier

    from .chain.deployments import check_writable
    check_writable(chain, (WEIGHTS_CONTRACT, VERIFIER, "ModelRegistry", "InferenceAttestations", "ExampleConsumer"),
                   directory, force=force)
    signer = signer or load_signer(chain)
    wr = deploy_weight_verifier(chain, vk, signer=signer)
    ver = deploy_verifier(chain, vk, weights=wr.address, signer=signer)
    stack = deploy_stack(chain, signer=signer, consumer_reward_wei=consumer_reward_wei, directory=directory,
                         force=force)
    c = Contracts(chain, ver.address,
                  ModelRegistry(chain, stack["ModelRegistry"].address, signer),
                  InferenceAttestations(chain, stack["InferenceAttestations"].address, signer),
                  ExampleConsumer(chain, stack["ExampleConsumer"].address, signer))
    c.records = dict(stack.records)
    for name, d in ((WEIGHTS_CONTRACT, wr), (VERIFIER, ver)):
        rec = write_deployment(chain, d, directory, deployer=signer.address, force=force)
        if rec is not None:
            c.records[name] = rec
    for name, d in [(WEIGHTS_CONTRACT, wr), (VERIFIER, ver), *stack.deployments.items()]:
        c.gas[name] = d.tx.gas_used
        c.sizes[name] = len(chain.w3.eth.get_code(d.address))
        log(f"deployed {name} at {d.address} ({d.tx.gas_used:,} gas, {c.sizes[name]:,} bytes)")
    return c


def statement_words(statement) -> tuple[list[int], list[int]]:
    """The (input, output) words of a statement as the verifiers take them: an MLP's input and
    output, or a transformer's prompt tokens and [next token]."""
    if hasattr(statement, "tokens"):
        return field_words(statement.tokens), field_words([statement.next_token])
    return field_words(statement.input), field_words(statement.output)


def deploy_transformer(chain, vk, commitment, rows, *, signer=None, weights_proof: bytes | None = None,
                       log=lambda m: None):
    """Deploy the transformer verifier for ``vk``, register the circuit descriptions of
    ``commitment``'s model for the prompt lengths ``rows`` and, given its ``weights_proof``,
    certify the model; returns the deployment."""
    from .chain.transformer_verifier import add_circuits, deploy_transformer_verifier
    from .chain.weights import certify
    dep = deploy_transformer_verifier(chain, vk, signer=signer)
    add_circuits(chain, dep, commitment, rows, signer=signer)
    if weights_proof is not None:
        certify(chain, dep.weights, commitment.encode(), weights_proof, signer=signer)
    log(f"deployed TransformerVerifier at {dep.address} ({dep.verifier.gas_used:,} gas), "
        f"circuits for {len(list(rows))} prompt lengths")
    return dep


TRANSFORMER_CONTRACTS = ("TransformerVerifier", "TransformerModules", "TransformerCircuits",
                         "TransformerWeightVerifier", "BatchOpener")


def deploy_transformer_contracts(chain, vk, *, signer=None, directory=None, log=lambda m: None, force: bool = False):
    """Deploy the transformer verifier, its modules, its batch opener, its circuit registry
    and its weight certifier for ``vk`` and write their deployment records; circuits come
    with the model."""
    from .chain.deployments import check_writable, write_deployment
    from .chain.transformer_verifier import deploy_transformer_verifier
    check_writable(chain, TRANSFORMER_CONTRACTS, directory, force=force)
    dep = deploy_transformer_verifier(chain, vk, signer=signer)
    for d in (dep.verifier, dep.modules, dep.circuits, dep.weights, dep.opener):
        write_deployment(chain, d, directory, deployer=signer.address if signer else None, force=force)
        log(f"deployed {d.name} at {d.address} ({d.tx.gas_used:,} gas)")
    return dep


def register_transformer_circuits(c: Contracts, commitment, rows, *, signer=None) -> str:
    """Register the circuit descriptions of ``commitment`` for the prompt lengths ``rows`` with
    the transformer verifier of ``c``; returns the verifier's address."""
    from prover.errors import ZkllmError

    from .chain.transformer_verifier import add_circuits
    if c.transformer is None:
        raise ZkllmError("no transformer verifier is deployed here (`zkllm deploy --vk` with a transformer key)")
    add_circuits(c.chain, c.transformer, commitment, rows, signer=signer)
    return c.transformer.address


def register_model(c: Contracts, commitment, vk, *, uri: str = "", signer=None, verifier: str | None = None,
                   weights_proof: bytes | None = None) -> int:
    """Register a model commitment (MLP or transformer); returns its model id. ``verifier``
    defaults to the deployed MLP verifier; pass the transformer verifier's address for a
    transformer commitment.

    The model's ``weights_proof`` (its weight range proof: ``prover.api.prove_weights`` or
    ``prover.transformer.prove.prove_weights``) is certified first with the weight range
    verifier that ``verifier`` requires (``weightRange()``), unless that model is certified
    already; the verifiers refuse statements about uncertified models. A transformer's weight
    range circuit must be registered first (``register_transformer_circuits``)."""
    import json
    from dataclasses import asdict

    from prover.errors import ZkllmError
    from prover.transcript import keccak256

    from .chain.verifier import weight_verifier_of
    from .chain.weights import WEIGHTS_CONTRACT, certify, is_certified, weight_verifier_at
    from .chain.transformer_verifier import TRANSFORMER_WEIGHTS
    wr = weight_verifier_of(c.chain, verifier or c.verifier)
    if not is_certified(c.chain, wr, commitment.digest()):
        if weights_proof is None:
            raise ZkllmError("the model's weights are not certified on-chain and no weight range proof was given")
        name = TRANSFORMER_WEIGHTS if hasattr(commitment, "cfg") else WEIGHTS_CONTRACT
        certify(c.chain, weight_verifier_at(c.chain, wr, name), commitment.encode(), weights_proof, signer=signer)
    if hasattr(commitment, "cfg"):  # transformer: its header holds the config and quantization
        quant_digest = keccak256(json.dumps(asdict(commitment.tq), sort_keys=True).encode())
        circuit_digest = keccak256(commitment._header())
    else:
        from prover.model.arch import encode_arch
        quant_digest = keccak256(commitment.quant.to_json().encode())
        circuit_digest = keccak256(encode_arch(commitment.arch, commitment.quant))
    reg = c.registry.register(commitment.digest(), circuit_digest, quant_digest, vk.digest(), verifier or c.verifier,
                              1, uri, signer=signer)
    return reg.model_id


@dataclass
class AttestOutcome:
    uid: bytes
    created: bool          # False: already attested (then no transaction was sent)
    gas_used: int
    tx_hash: str | None
    calldata_bytes: int


def attest(c: Contracts, model_id: int, commitment, statement, proof_bytes: bytes, *, signer=None,
           gas: int = 15_000_000) -> AttestOutcome:
    """Send the proof to ``InferenceAttestations.attest``: the chain verifies it, then records it.
    An inference that is already attested is not sent again (a view call first): the outcome
    names the existing uid with ``created`` false and no transaction. A statement bound to
    another attester than the signer is refused before anything is sent (``ZkllmError``)."""
    from prover.attester import to_hex
    from prover.errors import ZkllmError
    words_in, words_out = statement_words(statement)
    uid = _confirmed_attestation(c, model_id, words_in, words_out)
    if uid is not None:
        return AttestOutcome(uid, False, 0, None, 0)
    from .chain import load_signer
    sender = (signer or c.attestations.signer or load_signer(c.chain)).address
    if to_hex(statement.attester).lower() != str(sender).lower():
        raise ZkllmError(f"the proof is bound to attester {to_hex(statement.attester)}, but the signer is {sender}: "
                         f"prove again with --attester {sender} (another account's proof is false for this one)")
    r = c.attestations.attest(model_id, commitment.encode(), words_in, words_out, proof_bytes, signer=signer,
                              gas=gas)
    tx = c.chain.w3.eth.get_transaction(r.tx.tx_hash)
    return AttestOutcome(r.uid, r.created, r.tx.gas_used, r.tx.tx_hash, len(bytes(tx["input"])))


def _confirmed_attestation(c: Contracts, model_id: int, words_in, words_out, timeout: float = 300.0):
    """The uid of (model, input, output) once its attestation is ``chain.confirmations`` blocks
    deep, or None when it is not attested (also when a reorg removed it while we waited: then
    the caller sends it, and the outbox resumes the earlier transaction if there is one)."""
    import time

    from .chain.errors import ChainError
    deadline = time.monotonic() + timeout
    while c.attestations.is_attested(model_id, words_in, words_out):
        uid = c.attestations.attestation_uid(model_id, words_in, words_out)
        block = c.attestations.get_attestation(uid).block_number
        if c.chain.is_embedded or int(c.chain.w3.eth.block_number) - block + 1 >= max(1, c.chain.confirmations):
            return uid
        if time.monotonic() > deadline:
            raise ChainError(f"the attestation {'0x' + uid.hex()} (block {block}) did not reach "
                             f"{c.chain.confirmations} confirmations within {timeout:g}s; re-run to check again")
        time.sleep(c.chain.poll_interval)
    return None


#: Default gas limits of an attestation: both under the EIP-7825 per-transaction cap
#: (16,777,216), which nodes enforce since Fusaka (an MLP verifies in ~1.5M gas, a tiny
#: transformer in ~5M).
ATTEST_GAS = 15_000_000
TRANSFORMER_ATTEST_GAS = 16_000_000


def check(c: Contracts, model_id: int, statement) -> dict:
    """What a dApp asks: is (model, input, output) attested, and by whom? Also the facts about
    the registry entry a dApp must pin: its owner, its verifier and its status (an unknown id
    raises ``UnknownModelError``)."""
    words_in, words_out = statement_words(statement)
    entry = c.registry.get_model(model_id)
    ok = c.attestations.is_attested(model_id, words_in, words_out)
    out = {"attested": ok, "model_id": model_id, "owner": entry.owner, "verifier": entry.verifier,
           "status": entry.status.name.lower(), "model_digest": "0x" + entry.model_digest.hex()}
    if ok:
        info = c.attestations.get_attestation(c.attestations.attestation_uid(model_id, words_in, words_out))
        out.update({"uid": "0x" + info.uid.hex(), "attester": info.attester, "block": info.block_number,
                    "time": info.time})
    return out


def check_commitment(entry: dict, path: Path) -> dict:
    """For ``zkllm check --commitment``: whether the commitment file is the registry entry's
    model (``entry`` from :func:`check`) and, for a transformer, whether every circuit
    description it lists (the ones its on-chain proofs run) is its own config's."""
    from prover import store
    from prover.errors import VerificationError
    from prover.transformer import files
    from prover.transformer.prove import check_listed_circuits
    transformer = files.is_transformer_model(path)
    cm = files.load_commitment(path) if transformer else store.load_commitment(path)
    out = {"commitment_matches": "0x" + cm.digest().hex() == entry["model_digest"]}
    if transformer:
        try:
            check_listed_circuits(cm)
            out["circuits_valid"] = True
        except VerificationError as e:
            out["circuits_valid"], out["circuits_error"] = False, str(e)
    return out


def load_contracts(chain, directory, signer=None) -> Contracts:
    """Contracts of ``chain`` from the deployment records under ``directory``."""
    from .chain.attestations import ExampleConsumer, InferenceAttestations
    from .chain.deployments import checked_address, read_deployment
    from .chain.errors import ArtifactError
    from .chain.registry import ModelRegistry
    addr = {n: checked_address(chain, read_deployment(chain.chain_id, n, directory))
            for n in (VERIFIER, "ModelRegistry", "InferenceAttestations")}
    try:
        consumer = ExampleConsumer(chain, checked_address(chain, read_deployment(chain.chain_id, "ExampleConsumer",
                                                                                 directory)), signer)
    except ArtifactError:  # the consumer is optional
        consumer = None
    return Contracts(chain, addr[VERIFIER], ModelRegistry(chain, addr["ModelRegistry"], signer),
                     InferenceAttestations(chain, addr["InferenceAttestations"], signer), consumer,
                     transformer=_load_transformer(chain, directory))


def _load_transformer(chain, directory):
    """The transformer verifier's deployment from its records, or None (it is optional)."""
    from .chain.artifacts import load_artifact
    from .chain.contracts import Deployment
    from .chain.deployments import checked_address, read_deployment
    from .chain.errors import ArtifactError
    from .chain.transformer_verifier import TransformerVerifierDeployment
    try:
        recs = {n: read_deployment(chain.chain_id, n, directory) for n in TRANSFORMER_CONTRACTS}
    except ArtifactError:
        return None
    deps = [Deployment(n, checked_address(chain, recs[n]), chain.chain_id, None, load_artifact(n))
            for n in TRANSFORMER_CONTRACTS]
    return TransformerVerifierDeployment(*deps)
