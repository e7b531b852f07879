"""Helpers of the on-chain verifier tests: proof surgery, the two verdicts, small setups.

A verdict is ``("accept", value)`` or ``("reject", name, detail)``: for Python the name is
the exception class and the detail its ``check`` (VerificationError) or message; for the
contract the name is the decoded custom error and the detail its arguments.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache

import torch

from prover import api, keys
from prover.errors import (MalformedError, MalformedStatementError, SetupError, UnsafeParameterError,
                           VerificationError)
from prover.field import R
from prover.model.commitment import ModelCommitment
from prover.pcs.curve import G1Point, g1_to_bytes, scalar
from prover.quant import QuantSpec
from prover.rng import seeded
from zkllm_chain.chain import verifier as chain_verifier
from zkllm_chain.chain.errors import TransactionRevertedError

HEADER = 46
G1_LEN = 128
FR_LEN = 32

#: A small quantization (8-bit lookup tables, 4-bit digits): fast proofs and 10-pair openings.
SMALL_QUANT = QuantSpec(act_frac_bits=8, weight_frac_bits=8, lookup_in_frac_bits=4, lookup_in_bits=8,
                        digit_bits=4, weight_bits=16)

#: Python's VerificationError.check -> the contract error that names the same check.
CHECK_TO_ERROR = {
    "statement": {"ModelDigestMismatch"},
    "circuit": {"CircuitMismatch"},
    "lookup": {"LookupFinalCheckFailed"},
    "linear": {"LinearFinalCheckFailed"},
    "opening": {"PairingFailed"},
    "public-tensor": {"PublicTensorCheckFailed"},
}


def same_outcome(py, ch) -> bool:
    """Whether a Python verdict and a contract verdict are the same outcome: both accept, or
    both reject with corresponding errors -- the same check (``CHECK_TO_ERROR``), the same
    non-canonical statement word (``MalformedStatementError(where, i)`` and
    ``NotCanonical(where, i)``), a malformed proof (``MalformedProofError`` and
    ``MalformedProof`` / ``NotCanonical("proof", _)``), a malformed commitment
    (``MalformedError`` and ``MalformedCommitment``), an unsafe setting
    (``UnsafeParameterError(c)`` and ``UnsafeParameter(c)``)."""
    if py[0] != ch[0]:
        return False
    if py[0] == "accept":
        return True
    name = ch[1]
    if py[1] == "VerificationError":
        return name in CHECK_TO_ERROR.get(py[2], ())
    if py[1] == "MalformedStatementError":
        where, index = py[2]
        return name == "NotCanonical" and tuple(ch[2]) == (where.encode().ljust(32, b"\0"), index)
    if py[1] == "UnsafeParameterError":
        return name == "UnsafeParameter" and ch[2][0].rstrip(b"\0") == py[2].encode()
    if py[1] == "MalformedProofError":
        return name == "MalformedProof" or (name == "NotCanonical" and ch[2][0].rstrip(b"\0") == b"proof")
    if py[1] in ("MalformedError", "ValueError"):
        return name == "MalformedCommitment"
    return False


@lru_cache(maxsize=1)
def compiled_contracts():
    """Every contract compiled from the current sources (once per process)."""
    from zkllm_chain.chain.artifacts import CONTRACTS_DIR
    from zkllm_chain.chain.solc import compile_contracts
    return compile_contracts(CONTRACTS_DIR).contracts


def compiled_verifier():
    """The ZkllmVerifier compiled from the current sources."""
    return compiled_contracts()[chain_verifier.VERIFIER_CONTRACT]


# --------------------------------------------------------------------------- proof surgery

def counts(proof: bytes) -> tuple[int, int]:
    return struct.unpack(">II", proof[38:46])


def g1_offset(proof: bytes, i: int) -> int:
    return HEADER + G1_LEN * i


def fr_offset(proof: bytes, j: int) -> int:
    n_g1, _ = counts(proof)
    return HEADER + G1_LEN * n_g1 + FR_LEN * j


def get_fr(proof: bytes, j: int) -> int:
    o = fr_offset(proof, j)
    return int.from_bytes(proof[o:o + FR_LEN], "big")


def set_fr(proof: bytes, j: int, value: int) -> bytes:
    o = fr_offset(proof, j)
    return proof[:o] + int(value).to_bytes(FR_LEN, "big") + proof[o + FR_LEN:]


def set_g1(proof: bytes, i: int, encoding: bytes) -> bytes:
    assert len(encoding) == G1_LEN
    o = g1_offset(proof, i)
    return proof[:o] + encoding + proof[o + G1_LEN:]


def set_counts(proof: bytes, n_g1: int, n_fr: int) -> bytes:
    return proof[:38] + struct.pack(">II", n_g1, n_fr) + proof[46:]


def other_point(i: int = 7) -> bytes:
    """A valid G1 point that no honest proof contains."""
    return g1_to_bytes(G1Point() * scalar(1_000_003 + i))


def off_curve_point() -> bytes:
    """A canonical encoding of (1, 1), which is not on y^2 = x^3 + 4."""
    return bytes(16) + (1).to_bytes(48, "big") + bytes(16) + (1).to_bytes(48, "big")


def non_subgroup_point() -> bytes:
    """A point on y^2 = x^3 + 4 outside the prime-order subgroup (the smallest such x)."""
    from prover.pcs.curve import P

    x = 1
    while True:
        a = (x ** 3 + 4) % P
        y = pow(a, (P + 1) // 4, P)  # p = 3 mod 4
        if y * y % P == a:
            return bytes(16) + x.to_bytes(48, "big") + bytes(16) + y.to_bytes(48, "big")
        x += 1


def coordinate_p_point() -> bytes:
    """x = p: a coordinate that is not canonical (the encoding of 0 + p)."""
    from prover.pcs.curve import P

    return bytes(16) + P.to_bytes(48, "big") + bytes(16) + (2).to_bytes(48, "big")


def padded_point() -> bytes:
    """A valid point whose x has a non-zero padding byte."""
    enc = bytearray(other_point(3))
    enc[0] = 1
    return bytes(enc)


#: Encodings both verifiers must reject as malformed wherever a G1 point is parsed.
INVALID_POINTS = {"off curve": off_curve_point(), "outside G1": non_subgroup_point(),
                  "x = p": coordinate_p_point(), "padding": padded_point()}


def commitment_count(enc: bytes) -> int:
    """The number of G1 points at the end of a model commitment (MLP or transformer)."""
    if enc[:4] == b"ZKLT":  # header, then the listed description hashes, then the points
        hl = int.from_bytes(enc[6:10], "big")
        o = 12 + hl + 32 * int.from_bytes(enc[10 + hl:12 + hl], "big")
        return int.from_bytes(enc[o:o + 2], "big")
    alen = int.from_bytes(enc[6:8], "big")
    return int.from_bytes(enc[8 + alen:10 + alen], "big")


def set_commitment_point(enc: bytes, j: int, point: bytes) -> bytes:
    o = len(enc) - G1_LEN * (commitment_count(enc) - j)
    return enc[:o] + point + enc[o + G1_LEN:]


def items_by_label(layout) -> dict[tuple[str, str], list[int]]:
    out: dict[tuple[str, str], list[int]] = {}
    for label, kind, index in layout:
        out.setdefault((label, kind), []).append(index)
    return out


# --------------------------------------------------------------------------- verdicts

@dataclass(frozen=True)
class Case:
    """One verification input: the five `verify` arguments (Python gets the same ones)."""
    name: str
    model_digest: bytes
    commitment: bytes
    input: list[int]
    output: list[int]
    proof: bytes

    @property
    def calldata(self):
        return (self.model_digest, self.commitment, self.input, self.output, self.proof)

    def replace(self, name: str, **kw) -> "Case":
        d = dict(model_digest=self.model_digest, commitment=self.commitment, input=self.input,
                 output=self.output, proof=self.proof)
        d.update(kw)
        return Case(name, **d)


def case_from(statement, commitment: ModelCommitment, proof_bytes: bytes, name: str = "valid") -> Case:
    digest, enc, inp, out, proof = chain_verifier.proof_calldata(statement, commitment, proof_bytes)
    return Case(name, digest, enc, inp, out, proof)


def python_verdict(vk, case: Case):
    """`prover.api.verify` on the case (the commitment bytes are decoded first, as a
    verifier holding only bytes would; the statement words are read back into the integers
    they encode, ``api.statement_ints``)."""
    try:
        commitment = ModelCommitment.decode(case.commitment)
        st = api.Statement(case.model_digest, api.statement_ints(case.input), api.statement_ints(case.output))
        api.verify(vk, commitment, st, case.proof)
    except VerificationError as e:
        return ("reject", "VerificationError", e.check, str(e))
    except MalformedStatementError as e:
        return ("reject", "MalformedStatementError", (e.where, e.index), str(e))
    except UnsafeParameterError as e:
        return ("reject", "UnsafeParameterError", e.condition, str(e))
    except (MalformedError, SetupError) as e:
        return ("reject", type(e).__name__, None, str(e))
    except (ValueError, ZeroDivisionError) as e:  # compile_mlp / QuantSpec rejections
        return ("reject", type(e).__name__, None, str(e))
    return ("accept", None, None, "")


def chain_verdict(chain, deployment, case: Case, gas: int = chain_verifier.VERIFY_GAS):
    try:
        h = chain_verifier.verify_call(chain, deployment, case.calldata, gas=gas)
    except TransactionRevertedError as e:
        return ("reject", e.error_name, e.error_args)
    return ("accept", h, ())


# --------------------------------------------------------------------------- setups

@dataclass
class Setup:
    pk: object
    vk: object
    committed: object
    result: object  # api.ProveResult
    weight_proof: bytes = b""  # api.prove_weights

    @property
    def case(self) -> Case:
        return case_from(self.result.statement, self.committed.commitment, self.result.proof.to_bytes())


def build_setup(pk, module: torch.nn.Module, x: torch.Tensor, quant: QuantSpec | None = None, seed: int = 0) -> Setup:
    committed = api.commit_model(pk, module, quant=quant, rng=seeded(100 + seed))
    result = api.prove(pk, committed, x, rng=seeded(200 + seed))
    return Setup(pk, pk.verifying_key(), committed, result, api.prove_weights(pk, committed, rng=seeded(300 + seed)))


def deploy_verifier(chain, vk, weights: str | None = None):
    """A ZkllmVerifier (and, without ``weights``, its WeightRangeVerifier) from the current sources."""
    from zkllm_chain.chain.weights import WEIGHTS_CONTRACT
    return chain_verifier.deploy_verifier(chain, vk, weights=weights, compiled=compiled_verifier(),
                                          compiled_weights=compiled_contracts()[WEIGHTS_CONTRACT],
                                          compiled_opener=compiled_contracts()["BatchOpener"])


def certify(chain, deployment, setup: Setup) -> None:
    """Certify the setup's model with the weight range verifier ``deployment`` requires."""
    from zkllm_chain.chain.weights import certify_for
    certify_for(chain, deployment.address, setup.committed.commitment.encode(), setup.weight_proof)


def small_key(num_vars: int = 10):
    return keys.setup(num_vars, quant=SMALL_QUANT, rng=seeded(11))


def random_input(n: int, seed: int, rows: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(rows, n, dtype=torch.float64, generator=g) * 2 - 1).reshape(-1)


def small_mlp_proofs(seed: int, model_seed: int) -> dict:
    """A real proof of a small MLP (16-32-8, GELU), bound on request to a chosen attester.

    Seeds ``seed`` .. ``seed + 3`` draw the setup, the commitment, the proof and the weight
    proof; ``proof_for(address)`` gives (and caches) the proof only ``address`` may attest.
    """
    from prover.attester import parse
    from prover.model.mlp import build_mlp
    from prover.rng import seeded
    from zkllm_chain.chain.verifier import field_words
    pk = keys.setup(12, rng=seeded(seed))
    cm = api.commit_model(pk, build_mlp(16, 32, 8, "gelu", seed=model_seed), rng=seeded(seed + 1))
    x = torch.linspace(-1, 1, 16, dtype=torch.float64)
    res = api.prove(pk, cm, x, rng=seeded(seed + 2))
    proofs: dict[str, bytes] = {}

    def proof_for(address: str) -> bytes:
        if address not in proofs:
            proofs[address] = api.prove(pk, cm, x, rng=seeded(seed + 2), attester=parse(address)).proof.to_bytes()
        return proofs[address]

    return {"vk": pk.verifying_key(), "commitment": cm.commitment.encode(), "proof_for": proof_for,
            "weight_proof": api.prove_weights(pk, cm, rng=seeded(seed + 3)),
            "input": field_words(res.statement.input), "output": field_words(res.statement.output),
            "digest": cm.commitment.digest()}
