"""The on-chain transformer verifier (``contracts/verifier/TransformerVerifier.sol``) from Python.

Three contracts: ``TransformerModules`` (stateless steps the verifier calls),
``TransformerCircuits`` (the registered circuit descriptions, one per prompt length, written
by its owner) and ``TransformerVerifier`` (the verifying key, and ``verify``). The verifier
accepts exactly the proofs ``prover.transformer.prove.verify`` accepts.

>>> dep = deploy_transformer_verifier(chain, vk)                 # from the committed artifacts
>>> add_circuits(chain, dep, commitment, rows=[16])              # descriptions for T = 16
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
    "TransformerVerifierDeployment",
    "deploy_transformer_verifier",
    "add_circuits",
    "transformer_calldata",
    "TRANSFORMER_VERIFY_GAS",
]

TRANSFORMER_VERIFIER = "TransformerVerifier"
#: Gas limit of a transformer verification transaction (tiny models need ~10-20M).
TRANSFORMER_VERIFY_GAS = 16_777_216  # the EIP-7825 per-transaction cap (contracts.TX_GAS_CAP)
CIRCUIT_GAS = 8_000_000


@dataclass(frozen=True)
class TransformerVerifierDeployment:
    verifier: Deployment
    modules: Deployment
    circuits: Deployment

    @property
    def address(self) -> str:
        return self.verifier.address


def _deploy(chain: Chain, name: str, args: tuple, compiled: dict | None, signer, gas: int) -> Deployment:
    from .artifacts import load_artifact
    art = load_artifact(name) if compiled is None else _as_artifact(compiled[name])
    return deploy_artifact(chain, name, art, args, signer, gas)


def deploy_transformer_verifier(chain: Chain, vk, *, compiled: dict | None = None, signer=None
                                ) -> TransformerVerifierDeployment:
    """Deploys the modules, the circuit registry (owned by ``signer``) and the verifier for
    verifying key ``vk``. ``compiled`` (name -> CompiledContract) defaults to the artifacts."""
    from .accounts import load_signer

    signer = signer or load_signer(chain)
    modules = _deploy(chain, "TransformerModules", (), compiled, signer, DEPLOY_GAS)
    circuits = _deploy(chain, "TransformerCircuits", (signer.address,), compiled, signer, DEPLOY_GAS)
    verifier = _deploy(chain, TRANSFORMER_VERIFIER,
                       (*verifier_constructor_args(vk), modules.address, circuits.address), compiled, signer,
                       DEPLOY_GAS)
    return TransformerVerifierDeployment(verifier, modules, circuits)


def add_circuits(chain: Chain, dep: TransformerVerifierDeployment, commitment, rows: Iterable[int], *,
                 signer=None) -> list[bytes]:
    """Registers the circuit descriptions of ``commitment``'s model for each prompt length in
    ``rows`` (skipping those already registered); returns the circuit digests."""
    from prover.circuit_desc import transformer_description
    from prover.transformer.compile import compile_model

    c = dep.circuits.contract(chain)
    digests = []
    for t in rows:
        desc = transformer_description(commitment, int(t))
        digest = compile_model(commitment.cfg, int(t), commitment.tq).digest()
        if int.from_bytes(c.functions.descriptionHash(digest).call(), "big") == 0:
            transact(chain, c.functions.addCircuit(desc), signer=signer, gas=CIRCUIT_GAS)
        digests.append(digest)
    return digests


def transformer_calldata(statement, commitment, proof_bytes: bytes) -> tuple[bytes, bytes, list[int], list[int], bytes]:
    """The arguments of ``verify`` for a transformer statement (``prove.TStatement``):
    (modelDigest, modelCommitment, tokens, [next token], proof)."""
    return (bytes(statement.model_digest), commitment.encode(), [int(v) % R for v in statement.tokens],
            [int(statement.next_token) % R], bytes(proof_bytes))
