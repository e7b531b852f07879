"""Files on disk: parameter directories, committed models, proofs, statements.

A parameter directory holds ``srs.bin`` (the SRS, with its digest in the header)
and ``vk.json`` (the verifying key). A model directory holds ``model.pt`` (the
owner's private quantized weights and blinds), ``model.json`` (the public
commitment) and ``weights.proof`` (the public weight range proof, ``prover.weights``,
for MLPs and transformers alike). Every path is explicit; nothing is read from the
working directory.
"""
from __future__ import annotations

from pathlib import Path

from .errors import SetupError
from .keys import ProvingKey, VerifyingKey, commit_tables
from .model.commitment import CommittedModel, ModelCommitment
from .pcs import srs as srs_mod
from .quant import QuantSpec


def save_params(pk: ProvingKey, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    srs_mod.save(pk.srs, directory / "srs.bin")
    (directory / "vk.json").write_text(pk.verifying_key().to_json())


def load_params(directory: Path, quant: QuantSpec | None = None) -> ProvingKey:
    path = Path(directory) / "srs.bin"
    if not path.exists():
        raise SetupError(f"no SRS at {path}; run `zkllm setup --out {directory}` first")
    s = srs_mod.load(path)
    pk = ProvingKey(s, commit_tables(s, quant or QuantSpec()))
    vk_path = Path(directory) / "vk.json"
    if vk_path.exists() and load_vk(vk_path).digest() != pk.verifying_key().digest():
        raise SetupError(f"{vk_path} does not match {path}")
    return pk


def load_vk(path: Path) -> VerifyingKey:
    path = Path(path)
    if not path.exists():
        raise SetupError(f"no verifying key at {path}")
    return VerifyingKey.from_json(path.read_text())


def save_model(model: CommittedModel, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    model.save(directory / "model.pt")
    (directory / "model.json").write_text(model.commitment.to_json())


def load_model(directory: Path) -> CommittedModel:
    path = Path(directory) / "model.pt"
    if not path.exists():
        raise SetupError(f"no committed model at {path}; run `zkllm commit` first")
    return CommittedModel.load(path)


def load_commitment(path: Path) -> ModelCommitment:
    path = Path(path)
    if path.is_dir():
        path = path / "model.json"
    return ModelCommitment.from_json(path.read_text())


WEIGHTS_PROOF = "weights.proof"


def weights_proof_path(path: Path) -> Path:
    """The weight range proof beside a model.json (``path``: the file or its directory)."""
    path = Path(path)
    return (path if path.is_dir() else path.parent) / WEIGHTS_PROOF


def save_weights_proof(directory: Path, proof: bytes) -> Path:
    path = Path(directory) / WEIGHTS_PROOF
    path.write_bytes(proof)
    return path


def load_weights_proof(path: Path) -> bytes:
    """The proof bytes beside model.json; ``SetupError`` when there is none."""
    p = weights_proof_path(path)
    if not p.exists():
        raise SetupError(f"no weight range proof at {p}; `zkllm commit` writes it beside model.json")
    return p.read_bytes()
