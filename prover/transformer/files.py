"""Files of the transformer flow: parameter directories, committed models, statements.

* parameter directory: ``srs.bin`` and ``vk.json`` as for the MLP, plus ``key.json``
  (the config, ``TQuant`` and prompt length the key serves), from which the committed
  tables (RoPE, SiLU/GELU, softmax exp digits) are recomputed and checked against vk.json;
* model directory: ``model.pt`` (the owner's private quantized weights and blinds) and
  ``model.json`` (the public commitment: the ``TransformerCommitment`` encoding);
* statement JSON: model digest, prompt token ids and the proven next token.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch

from .. import attester as attester_mod
from ..errors import MalformedError, SetupError
from ..keys import ProvingKey
from ..model.configs import TransformerConfig
from ..pcs import kzg, srs as srs_mod
from .compile import TQuant, key_table_values
from .prove import CommittedTransformer, TransformerCommitment, TStatement

KEY_FORMAT = "zkllm-transformer-key"
MODEL_FORMAT = "zkllm-transformer-commitment"
STATEMENT_FORMAT = "zkllm-transformer-statement"


def save_params(pk: ProvingKey, cfg: TransformerConfig, tq: TQuant, max_rows: int, directory: Path) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    srs_mod.save(pk.srs, directory / "srs.bin")
    (directory / "vk.json").write_text(pk.verifying_key().to_json())
    (directory / "key.json").write_text(json.dumps({"format": KEY_FORMAT, "cfg": asdict(cfg), "tq": asdict(tq),
                                                    "max_rows": max_rows}, indent=1))


def is_transformer_params(directory: Path) -> bool:
    return (Path(directory) / "key.json").exists()


def load_params(directory: Path) -> tuple[ProvingKey, TransformerConfig, TQuant, int]:
    directory = Path(directory)
    for f in ("srs.bin", "key.json"):
        if not (directory / f).exists():
            raise SetupError(f"no {f} in {directory}; run `zkllm setup --model NAME --out {directory}` first")
    try:
        d = json.loads((directory / "key.json").read_text())
        if d.get("format") != KEY_FORMAT:
            raise ValueError(f"format {d.get('format')!r}")
        cfg, tq, rows = TransformerConfig(**d["cfg"]), TQuant(**d["tq"]), int(d["max_rows"])
    except (ValueError, KeyError, TypeError) as e:
        raise MalformedError(f"{directory / 'key.json'}: {e}") from e
    s = srs_mod.load(directory / "srs.bin")
    tables = {name: (vals, kzg.commit(s, vals, 0)) for name, vals in key_table_values(tq, cfg, rows).items()}
    pk = ProvingKey(s, tables)
    vk_path = directory / "vk.json"
    if vk_path.exists():
        from ..keys import VerifyingKey
        if VerifyingKey.from_json(vk_path.read_text()).digest() != pk.verifying_key().digest():
            raise SetupError(f"{vk_path} does not match {directory / 'srs.bin'} and key.json")
    return pk, cfg, tq, rows


def save_model(model: CommittedTransformer, directory: Path) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    enc = model.commitment.encode()
    torch.save({"commitment": enc.hex(), "params": model.params,
                "blinds": {k: hex(v) for k, v in model.blinds.items()}}, directory / "model.pt")
    (directory / "model.json").write_text(json.dumps({"format": MODEL_FORMAT, "digest": "0x" + model.commitment.digest().hex(),
                                                      "encoding": enc.hex()}))


def is_transformer_model(path: Path) -> bool:
    path = Path(path)
    j = path / "model.json" if path.is_dir() else path
    try:
        return json.loads(j.read_text()).get("format") == MODEL_FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def load_model(directory: Path) -> CommittedTransformer:
    path = Path(directory) / "model.pt"
    if not path.exists():
        raise SetupError(f"no committed model at {path}; run `zkllm commit --model NAME` first")
    d = torch.load(path, weights_only=True)
    cm = TransformerCommitment.decode(bytes.fromhex(d["commitment"]))
    return CommittedTransformer(cm, d["params"], {k: int(v, 16) for k, v in d["blinds"].items()})


def load_commitment(path: Path) -> TransformerCommitment:
    path = Path(path)
    if path.is_dir():
        path = path / "model.json"
    try:
        d = json.loads(path.read_text())
        if d.get("format") != MODEL_FORMAT:
            raise ValueError(f"format {d.get('format')!r}")
        return TransformerCommitment.decode(bytes.fromhex(d["encoding"]))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise MalformedError(f"{path}: not a transformer commitment ({e})") from e


def statement_to_json(st: TStatement, text: dict | None = None) -> str:
    d = {"format": STATEMENT_FORMAT, "model_digest": "0x" + st.model_digest.hex(), "tokens": list(st.tokens),
         "next_token": st.next_token, "attester": attester_mod.to_hex(st.attester)}
    if text:
        d["text"] = text  # readable prompt and next token; not part of the statement
    return json.dumps(d)


def is_transformer_statement(text: str) -> bool:
    try:
        return json.loads(text).get("format") == STATEMENT_FORMAT
    except (ValueError, AttributeError):
        return False


def _json_int(v) -> int:
    """A JSON integer as it is (no rounding of 1.5, no reading of "7"): ``verify`` judges its range."""
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"{v!r} is not an integer")
    return v


def statement_from_json(text: str) -> TStatement:
    try:
        d = json.loads(text)
        if d.get("format") != STATEMENT_FORMAT:
            raise ValueError(f"format {d.get('format')!r}")
        digest = bytes.fromhex(d["model_digest"].removeprefix("0x"))
        if len(digest) != 32:
            raise ValueError("model digest must be 32 bytes")
        tokens = [_json_int(t) for t in d["tokens"]]
        return TStatement(digest, tokens, _json_int(d["next_token"]), attester_mod.parse(d.get("attester")))
    except (ValueError, KeyError, TypeError, AttributeError, MalformedError) as e:
        raise MalformedError(f"transformer statement: {e}") from e
