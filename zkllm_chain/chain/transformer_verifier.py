"""The on-chain transformer verifier (``contracts/verifier/TransformerVerifier.sol``) from Python.

Five contracts: ``TransformerModules`` (stateless steps the verifier calls),
``BatchOpener`` (the stateless batch opening the verifier calls last),
``TransformerCircuits`` (circuit descriptions stored under their keccak256 by anyone; a
model commitment lists the ones its proofs run, one per prompt length and one weight range
circuit), ``TransformerWeightVerifier``
(certifies models whose weight range proof verifies) and ``TransformerVerifier`` (the
verifying key, and ``verify`` of statements about certified models). The verifiers accept
exactly the proofs ``prover.transformer.prove.verify`` / ``verify_weights`` accept.

>>> dep = deploy_transformer_verifier(chain, vk)                 # from the committed artifacts
>>> add_circuits(chain, dep, commitment, rows=[16])              # descriptions for T = 16 (+ weights)
>>> certify(chain, dep.weights, commitment.encode(), weights_proof)   # chain.weights.certify
>>> verify_call(chain, dep.verifier, transformer_calldata(statement, commitment, proof_bytes))
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .backend import Chain
from .contracts import Deployment, transact
from .verifier import DEPLOY_GAS, R, _as_artifact, deploy_artifact, verifier_constructor_args

__all__ = [
    "TRANSFORMER_VERIFIER",
    "TRANSFORMER_WEIGHTS",
    "TransformerVerifierDeployment",
    "deploy_transformer_verifier",
    "add_circuits",
    "transformer_calldata",
    "TRANSFORMER_VERIFY_GAS",
]

TRANSFORMER_VERIFIER = "TransformerVerifier"
TRANSFORMER_WEIGHTS = "TransformerWeightVerifier"
#: Gas limit of a transformer verification transaction (tiny models need ~10-20M).
TRANSFORMER_VERIFY_GAS = 16_777_216  # the EIP-7825 per-transaction cap (contracts.TX_GAS_CAP)
CIRCUIT_GAS = 8_000_000


@dataclass(frozen=True)
class TransformerVerifierDeployment:
    verifier: Deployment
    modules: Deployment
    circuits: Deployment
    weights: Deployment  # TransformerWeightVerifier: the certifications the verifier requires
    opener: Deployment  # BatchOpener: the batch opening, run for the verifier (code size)

    @property
    def address(self) -> str:
        return self.verifier.address


def _deploy(chain: Chain, name: str, args: tuple, compiled: dict | None, signer, gas: int) -> Deployment:
    from .artifacts import load_artifact
    art = load_artifact(name) if compiled is None else _as_artifact(compiled[name])
    return deploy_artifact(chain, name, art, args, signer, gas)


def deploy_transformer_verifier(chain: Chain, vk, *, compiled: dict | None = None, signer=None
                                ) -> TransformerVerifierDeployment:
    """Deploys the modules, the batch opener, the circuit registry, the weight certifier and the
    verifier for verifying key ``vk``. ``compiled`` (name -> CompiledContract) defaults to the
    artifacts."""
    from .accounts import load_signer

    signer = signer or load_signer(chain)
    modules = _deploy(chain, "TransformerModules", (), compiled, signer, DEPLOY_GAS)
    opener = _deploy(chain, "BatchOpener", (), compiled, signer, DEPLOY_GAS)
    circuits = _deploy(chain, "TransformerCircuits", (), compiled, signer, DEPLOY_GAS)
    weights = _deploy(chain, TRANSFORMER_WEIGHTS, (*verifier_constructor_args(vk), circuits.address), compiled,
                      signer, DEPLOY_GAS)
    verifier = _deploy(chain, TRANSFORMER_VERIFIER,
                       (*verifier_constructor_args(vk), modules.address, circuits.address, weights.address,
                        opener.address),
                       compiled, signer, DEPLOY_GAS)
    return TransformerVerifierDeployment(verifier, modules, circuits, weights, opener)


def add_circuits(chain: Chain, dep: TransformerVerifierDeployment, commitment, rows: Iterable[int], *,
                 signer=None) -> list[bytes]:
    """Stores the descriptions ``commitment`` lists for each prompt length in ``rows`` and for
    its weight range circuit (skipping those stored already; anyone may store one, under its
    keccak256); returns the inference circuits' digests. Refuses a commitment that lists no
    circuit for a length, or another description than its config compiles to."""
    from prover.errors import ZkllmError
    from prover.transcript import keccak256
    from prover.transformer.compile import compile_model
    from prover.transformer.prove import check_listed_circuit, weight_circuit

    if not commitment.circuits:
        raise ZkllmError("the commitment lists no circuit descriptions (a chunked model): it cannot be verified "
                         "on-chain")
    c = dep.circuits.contract(chain)

    def add(t: int, circuit) -> None:
        desc = check_listed_circuit(commitment, t, circuit)
        if not c.functions.registered(keccak256(desc)).call():
            transact(chain, c.functions.addCircuit(desc), signer=signer, gas=CIRCUIT_GAS)

    add(0, weight_circuit(commitment))
    digests = []
    for t in rows:
        circuit = compile_model(commitment.cfg, int(t), commitment.tq)
        add(int(t), circuit)
        digests.append(circuit.digest())
    return digests


def transformer_calldata(statement, commitment, proof_bytes: bytes) -> tuple[bytes, bytes, list[int], list[int], bytes]:
    """The arguments of ``verify`` for a transformer statement (``prove.TStatement``):
    (modelDigest, modelCommitment, tokens, [next token], proof)."""
    return (bytes(statement.model_digest), commitment.encode(), [int(v) % R for v in statement.tokens],
            [int(statement.next_token) % R], bytes(proof_bytes))
