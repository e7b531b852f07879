"""Committed compiled-contract artifacts (``zkllm_chain/artifacts/<Contract>.json``).

Deployment reads these files and needs no compiler. They are produced from
``contracts/*.sol`` by::

    python -m zkllm_chain.chain.artifacts --regen    # rewrite the artifacts
    python -m zkllm_chain.chain.artifacts --check    # exit 1 if they are stale

Each file holds the ABI, creation and runtime bytecode, the immutable references, the
compiler version and settings, the keccak256 of every source file it was built from, and
a ``_generated`` header naming the generator and the sources.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from eth_utils import keccak

from ._node import repo_root
from .errors import ArtifactError, ChainError

__all__ = [
    "ARTIFACTS_DIR",
    "CONTRACTS_DIR",
    "Artifact",
    "load_artifact",
    "available_artifacts",
    "artifact_document",
    "dumps_artifact",
    "write_artifacts",
    "check_artifacts",
    "regenerate",
]

ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "artifacts"
CONTRACTS_DIR = repo_root() / "contracts"
GENERATOR = "zkllm_chain.chain.artifacts"
REGEN_COMMAND = "python -m zkllm_chain.chain.artifacts --regen"
FORMAT = "zkllm-chain-artifact/1"


@dataclass(frozen=True)
class Artifact:
    """One compiled contract as committed."""

    name: str
    source: str
    abi: list
    bytecode: str
    deployed_bytecode: str
    immutable_references: dict
    compiler_version: str
    settings: dict
    sources: dict  # source unit -> keccak256 hex
    path: Path | None = None

    @property
    def deployable(self) -> bool:
        return len(self.bytecode) > 2

    @property
    def deployed_size(self) -> int:
        return (len(self.deployed_bytecode) - 2) // 2

    @property
    def bytecode_hash(self) -> str:
        """keccak256 of the creation bytecode (what deployment records cite)."""
        return "0x" + keccak(hexstr=self.bytecode).hex()

    @property
    def deployed_bytecode_hash(self) -> str:
        return "0x" + keccak(hexstr=self.deployed_bytecode).hex()


def artifact_document(contract, compiler_version: str, settings: dict, sources_label: str = "contracts") -> dict:
    """The JSON document written for a :class:`~zkllm_chain.chain.solc.CompiledContract`."""
    hashes = contract.source_hashes
    return {
        "_generated": {
            "by": GENERATOR,
            "command": REGEN_COMMAND,
            "from": [f"{sources_label}/{unit}" for unit in hashes] or [f"{sources_label}/{contract.source_unit}"],
            "note": "generated file: edit the Solidity sources and regenerate instead",
        },
        "format": FORMAT,
        "contractName": contract.name,
        "sourceName": contract.source_unit,
        "abi": contract.abi,
        "bytecode": contract.bytecode,
        "deployedBytecode": contract.deployed_bytecode,
        "deployedSize": contract.deployed_size,
        "immutableReferences": contract.immutable_references,
        "compiler": {"name": "solc", "version": compiler_version, "settings": settings},
        "sources": {unit: {"keccak256": h} for unit, h in hashes.items()},
    }


def dumps_artifact(doc: dict) -> str:
    """The canonical text of an artifact document (sorted keys, two-space indent)."""
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _parse(path: Path, doc: dict) -> Artifact:
    try:
        return Artifact(
            name=doc["contractName"],
            source=doc["sourceName"],
            abi=doc["abi"],
            bytecode=doc["bytecode"],
            deployed_bytecode=doc["deployedBytecode"],
            immutable_references=doc.get("immutableReferences", {}),
            compiler_version=doc["compiler"]["version"],
            settings=doc["compiler"]["settings"],
            sources={k: v["keccak256"] for k, v in doc.get("sources", {}).items()},
            path=path,
        )
    except (KeyError, TypeError) as exc:
        raise ArtifactError(f"artifact {path} lacks field {exc}; {REGEN_COMMAND}") from None


def available_artifacts(directory: Path | None = None) -> list[str]:
    d = Path(directory) if directory else ARTIFACTS_DIR
    return sorted(p.stem for p in d.glob("*.json"))


@lru_cache(maxsize=None)
def _load_cached(path: Path, mtime_ns: int) -> Artifact:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"cannot read artifact {path}: {exc}") from None
    return _parse(path, doc)


def load_artifact(name: str, directory: Path | str | None = None) -> Artifact:
    """The committed artifact of contract ``name`` (no compiler involved)."""
    d = Path(directory) if directory else ARTIFACTS_DIR
    path = d / f"{name}.json"
    if not path.is_file():
        have = ", ".join(available_artifacts(d)) or "none"
        raise ArtifactError(f"no artifact for contract {name!r} in {d} (available: {have}); {REGEN_COMMAND}")
    return _load_cached(path, path.stat().st_mtime_ns)


def load_all(directory: Path | str | None = None) -> list[Artifact]:
    d = Path(directory) if directory else ARTIFACTS_DIR
    return [load_artifact(n, d) for n in available_artifacts(d)]


def _generated_files(directory: Path) -> Iterable[Path]:
    for p in directory.glob("*.json"):
        try:
            if json.loads(p.read_text(encoding="utf-8")).get("_generated", {}).get("by") == GENERATOR:
                yield p
        except (OSError, ValueError, AttributeError):
            continue


def _expected(sources_dir: Path, solc=None) -> dict[str, str]:
    from .solc import compile_contracts

    result = compile_contracts(sources_dir, solc=solc)
    # Libraries of internal functions are compiled into their users: their ABI holds at most
    # errors (which reappear in the ABI of every contract that can raise them) and there is
    # nothing to deploy or call, so they get no artifact.
    return {
        name: dumps_artifact(artifact_document(c, result.compiler_version, result.settings, _label(sources_dir)))
        for name, c in result.contracts.items() if _has_surface(c)
    }


def _has_surface(c) -> bool:
    abi = c["abi"] if isinstance(c, dict) else getattr(c, "abi", None)
    return any(entry.get("type") != "error" for entry in abi or [])


def _label(sources_dir: Path) -> str:
    try:
        return Path(sources_dir).resolve().relative_to(repo_root()).as_posix()
    except ValueError:
        return Path(sources_dir).name


def write_artifacts(sources_dir: Path | str | None = None, directory: Path | str | None = None, *, solc=None) -> list[Path]:
    """Compiles ``sources_dir`` and rewrites ``directory``; stale generated files go."""
    src = Path(sources_dir) if sources_dir else CONTRACTS_DIR
    out = Path(directory) if directory else ARTIFACTS_DIR
    expected = _expected(src, solc)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in sorted(expected.items()):
        path = out / f"{name}.json"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    for stale in _generated_files(out):
        if stale.stem not in expected:
            stale.unlink()
    return written


def check_artifacts(sources_dir: Path | str | None = None, directory: Path | str | None = None, *, solc=None) -> list[str]:
    """Recompiles and compares with the committed artifacts; returns the differences."""
    src = Path(sources_dir) if sources_dir else CONTRACTS_DIR
    out = Path(directory) if directory else ARTIFACTS_DIR
    expected = _expected(src, solc)
    problems = []
    for name, text in sorted(expected.items()):
        path = out / f"{name}.json"
        if not path.is_file():
            problems.append(f"{name}: artifact missing")
            continue
        have = json.loads(path.read_text(encoding="utf-8"))
        want = json.loads(text)
        differing = [k for k in sorted(want) if have.get(k) != want.get(k)]
        if differing:
            problems.append(f"{name}: {', '.join(differing)} differ from a fresh compilation")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{name}: file formatting differs from a fresh compilation")
    for stale in _generated_files(out):
        if stale.stem not in expected:
            problems.append(f"{stale.stem}: artifact has no contract in {src}")
    return problems


def regenerate() -> list[Path]:
    return write_artifacts()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zkllm_chain.chain.artifacts", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--regen", action="store_true", help="recompile the contracts and rewrite the artifacts")
    mode.add_argument("--check", action="store_true", help="exit 1 if the artifacts differ from a fresh compilation")
    parser.add_argument("--sources", type=Path, default=CONTRACTS_DIR, help="Solidity sources (default: contracts/)")
    parser.add_argument("--out", type=Path, default=ARTIFACTS_DIR, help="artifacts directory")
    parser.add_argument("--solc", default=None, help="compiler to use (default: ZKLLM_SOLC, solc on PATH, npm solc)")
    args = parser.parse_args(argv)
    try:
        if args.regen:
            for p in write_artifacts(args.sources, args.out, solc=args.solc):
                art = load_artifact(p.stem, args.out)
                print(f"{p}  deployed size {art.deployed_size} bytes")
            return 0
        problems = check_artifacts(args.sources, args.out, solc=args.solc)
    except ChainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        print(f"artifacts are stale; run: {REGEN_COMMAND}", file=sys.stderr)
        return 1
    print("artifacts match a fresh compilation")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
