"""The on-chain weight range verifier (``contracts/verifier/WeightRangeVerifier.sol``) from Python.

The contract accepts exactly the weight range proofs ``prover.api.verify_weights`` accepts
and records each verified model digest as certified; the inference verifiers refuse a
statement about a model digest it has not certified (``WeightsNotCertified``). The
transformer's certifier (``TransformerWeightVerifier``, deployed with the transformer
verifier) has the same ``certify``/``check``/``certified`` interface, so these functions
take either deployment.

>>> dep = deploy_weight_verifier(chain, vk)                       # from the committed artifact
>>> digest = check_call(chain, dep, commitment.encode(), proof)     # a call: the digest or a revert
>>> tx = certify(chain, dep, commitment.encode(), proof)            # a transaction: records it
>>> is_certified(chain, dep.address, digest)
>>> certify_for(chain, verifier_address, commitment.encode(), proof)   # the one a verifier requires
"""
from __future__ import annotations

from dataclasses import dataclass

from eth_utils import to_checksum_address

from .backend import Chain
from .errors import TransactionRevertedError

__all__ = ["WEIGHTS_CONTRACT", "CERTIFY_GAS", "CertifyTx", "compile_weight_verifier", "deploy_weight_verifier",
           "weight_verifier_at", "check_call", "certify", "certify_for", "is_certified"]

WEIGHTS_CONTRACT = "WeightRangeVerifier"
#: Gas limit of a certification (one batch opening, like an inference verification).
CERTIFY_GAS = 8_000_000
_IS_CERTIFIED_ABI = [{"type": "function", "name": "certified", "stateMutability": "view",
                      "inputs": [{"name": "", "type": "bytes32"}], "outputs": [{"name": "", "type": "bool"}]}]


@dataclass(frozen=True)
class CertifyTx:
    tx_hash: str
    gas_used: int
    calldata_bytes: int
    model_digest: bytes


def compile_weight_verifier(solc=None):
    """Compiles ``contracts/`` and returns the ``WeightRangeVerifier`` CompiledContract."""
    from .artifacts import CONTRACTS_DIR
    from .solc import compile_contracts

    return compile_contracts(CONTRACTS_DIR, solc=solc).contracts[WEIGHTS_CONTRACT]


def deploy_weight_verifier(chain: Chain, vk, *, compiled=None, signer=None, gas: int | None = None):
    """Deploys ``WeightRangeVerifier`` for verifying key ``vk`` (the key the weight proofs were
    made under); returns a :class:`~zkllm_chain.chain.contracts.Deployment`."""
    from .accounts import load_signer
    from .artifacts import load_artifact
    from .verifier import DEPLOY_GAS, _as_artifact, deploy_artifact, verifier_constructor_args

    art = load_artifact(WEIGHTS_CONTRACT) if compiled is None else _as_artifact(compiled)
    return deploy_artifact(chain, WEIGHTS_CONTRACT, art, verifier_constructor_args(vk),
                           signer or load_signer(chain), gas or DEPLOY_GAS)


def check_call(chain: Chain, deployment, commitment: bytes, proof: bytes, *, gas: int = CERTIFY_GAS) -> bytes:
    """``check(commitment, proof)`` as an eth_call: the model digest, or a decoded
    :class:`TransactionRevertedError` naming the failing check."""
    from .verifier import call_decoded

    fn = deployment.contract(chain).functions.check(bytes(commitment), bytes(proof))
    return call_decoded(deployment, fn, "check", gas)


def certify(chain: Chain, deployment, commitment: bytes, proof: bytes, *, signer=None,
            gas: int = CERTIFY_GAS) -> CertifyTx:
    """Sends ``certify(commitment, proof)``: the contract verifies the weight range proof and
    records the model digest as certified (a no-op for one already certified)."""
    from eth_utils import keccak

    from .accounts import load_signer
    from .contracts import _send
    from .verifier import _named

    signer = signer or load_signer(chain)
    data = deployment.contract(chain).encode_abi("certify", args=[bytes(commitment), bytes(proof)])
    try:
        res = _send(chain, {"to": deployment.address, "data": data, "value": 0}, signer, "certify",
                    gas=gas, preflight=True, timeout=120.0)
    except TransactionRevertedError as err:
        raise _named(err, deployment.artifact.abi) from None
    raw = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
    return CertifyTx(res.tx_hash, res.gas_used, len(raw), keccak(bytes(commitment)))


def is_certified(chain: Chain, address: str, model_digest: bytes) -> bool:
    c = chain.w3.eth.contract(address=to_checksum_address(address), abi=_IS_CERTIFIED_ABI)
    return bool(c.functions.certified(bytes(model_digest)).call())


def weight_verifier_at(chain: Chain, address: str, name: str = WEIGHTS_CONTRACT):
    """A :class:`~zkllm_chain.chain.contracts.Deployment` handle of the weight range verifier
    ``name`` (``WeightRangeVerifier`` for MLPs, ``TransformerWeightVerifier`` for
    transformers) at ``address`` (committed artifact's ABI)."""
    from .artifacts import load_artifact
    from .contracts import Deployment

    return Deployment(name, to_checksum_address(address), chain.chain_id, None, load_artifact(name))


def certify_for(chain: Chain, verifier_address: str, commitment: bytes, proof: bytes, *, signer=None,
                gas: int = CERTIFY_GAS, name: str = WEIGHTS_CONTRACT) -> CertifyTx:
    """Certify a model with the weight range verifier that the inference verifier at
    ``verifier_address`` requires (``weightRange()``; ``name`` its contract)."""
    from .verifier import weight_verifier_of

    dep = weight_verifier_at(chain, weight_verifier_of(chain, verifier_address), name)
    return certify(chain, dep, commitment, proof, signer=signer, gas=gas)
