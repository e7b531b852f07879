"""Artifacts, the compiler lookup, and contract sizes."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from zkllm_chain.chain import _node
from zkllm_chain.chain import artifacts as A
from zkllm_chain.chain import solc as S
from zkllm_chain.chain.errors import ArtifactError, CompilerNotFoundError

ROOT = Path(__file__).resolve().parents[2]
EIP170_LIMIT = 24_576
DEPLOYABLE = ("ModelRegistry", "InferenceAttestations", "ExampleConsumer")


def test_artifacts_match_a_fresh_compilation():
    assert A.check_artifacts() == []


def test_every_contract_has_an_artifact():
    names = set(A.available_artifacts())
    assert {"IZkllmVerifier", *DEPLOYABLE} <= names
    sources = {p.stem for p in A.CONTRACTS_DIR.glob("*.sol")}
    assert sources <= names


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_deployed_size_under_eip170_limit(name):
    art = A.load_artifact(name)
    assert art.deployable
    assert 0 < art.deployed_size < EIP170_LIMIT


def test_artifact_header_and_settings():
    doc = json.loads((A.ARTIFACTS_DIR / "InferenceAttestations.json").read_text())
    gen = doc["_generated"]
    assert gen["by"] == "zkllm_chain.chain.artifacts"
    assert gen["command"] == "python -m zkllm_chain.chain.artifacts --regen"
    assert "contracts/InferenceAttestations.sol" in gen["from"]
    assert "contracts/ModelRegistry.sol" in gen["from"]
    comp = doc["compiler"]
    assert comp["version"].startswith(S.SOLC_VERSION + "+commit.")
    assert comp["settings"]["evmVersion"] == "prague"
    assert comp["settings"]["optimizer"] == {"enabled": True, "runs": 200}
    for unit, h in doc["sources"].items():
        from eth_utils import keccak

        text = (A.CONTRACTS_DIR / unit).read_bytes()
        assert h["keccak256"] == "0x" + keccak(text).hex()


def test_missing_artifact_is_a_typed_error():
    with pytest.raises(ArtifactError, match="NoSuchContract"):
        A.load_artifact("NoSuchContract")


def test_pinned_versions_match_package_json():
    pkg = json.loads((ROOT / "package.json").read_text())
    assert pkg["devDependencies"]["solc"] == _node.SOLC_VERSION == S.SOLC_VERSION
    assert pkg["devDependencies"]["@foundry-rs/anvil"] == _node.ANVIL_VERSION
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/solc"]["version"] == _node.SOLC_VERSION


def test_check_reports_stale_artifacts(tmp_path):
    out = tmp_path / "artifacts"
    A.write_artifacts(directory=out)
    assert A.check_artifacts(directory=out) == []
    doc = json.loads((out / "ModelRegistry.json").read_text())
    doc["bytecode"] = doc["bytecode"][:-2] + "00"
    (out / "ModelRegistry.json").write_text(A.dumps_artifact(doc))
    (out / "Orphan.json").write_text(A.dumps_artifact({"_generated": {"by": A.GENERATOR}}))
    problems = A.check_artifacts(directory=out)
    assert any(p.startswith("ModelRegistry: bytecode") for p in problems)
    assert any(p.startswith("Orphan:") for p in problems)
    A.write_artifacts(directory=out)  # regeneration removes the orphan and fixes the rest
    assert not (out / "Orphan.json").exists()
    assert A.check_artifacts(directory=out) == []


# --------------------------------------------------------------------------- compiler lookup


def test_solcjs_wrapper_is_solc_compatible():
    solc = S.find_solc()
    out = subprocess.run([str(solc.path), "--version"], capture_output=True, text=True, check=True).stdout
    assert f"Version: {S.SOLC_VERSION}+commit." in out
    # a large output (> 64 KiB, the pipe buffer) comes back whole and as pure JSON
    sources = S.read_sources(A.CONTRACTS_DIR)
    std = S._standard_input(sources, {**S.DEFAULT_SETTINGS, "outputSelection": None})
    std["settings"]["outputSelection"] = {"*": {"*": ["*"], "": ["ast"]}}
    proc = subprocess.run([str(solc.path), "--standard-json"], input=json.dumps(std), capture_output=True,
                          text=True, check=True)
    assert len(proc.stdout) > 1 << 17
    doc = json.loads(proc.stdout)
    assert "ModelRegistry" in doc["contracts"]["ModelRegistry.sol"]


def test_explicit_compiler_path_must_work(tmp_path, monkeypatch):
    monkeypatch.setenv("ZKLLM_SOLC", str(tmp_path / "nope"))
    with pytest.raises(CompilerNotFoundError, match="ZKLLM_SOLC"):
        S.find_solc()
    fake = tmp_path / "solc"
    fake.write_text("#!/bin/sh\necho 'Version: 0.8.99+commit.deadbeef.Linux.g++'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("ZKLLM_SOLC", str(fake))
    found = S.find_solc()
    assert (found.kind, found.version, found.long_version) == ("env", "0.8.99", "0.8.99+commit.deadbeef")
    monkeypatch.delenv("ZKLLM_SOLC")
    assert S.find_solc(fake).kind == "explicit"


def test_no_compiler_is_a_typed_error_with_the_fix(monkeypatch):
    monkeypatch.delenv("ZKLLM_SOLC", raising=False)
    monkeypatch.setattr(S, "_FOUND", {})
    monkeypatch.setattr(S, "find_package", lambda *a, **k: None)
    monkeypatch.setattr(S.shutil, "which", lambda name: None)
    with pytest.raises(CompilerNotFoundError) as info:
        S.find_solc()
    msg = str(info.value)
    assert "scripts/install_node_tools.sh" in msg and "\n" not in msg


def test_native_solc_of_another_version_is_ignored(tmp_path, monkeypatch):
    fake = tmp_path / "solc"
    fake.write_text("#!/bin/sh\necho 'Version: 0.7.6+commit.7338295f.Linux.g++'\n")
    fake.chmod(0o755)
    monkeypatch.delenv("ZKLLM_SOLC", raising=False)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert S.find_solc().kind == "solcjs"


def test_compilation_error_is_typed(tmp_path):
    from zkllm_chain.chain.errors import CompilationError

    (tmp_path / "Bad.sol").write_text("pragma solidity ^0.8.28; contract Bad { function f() { } }")
    with pytest.raises(CompilationError, match="Bad.sol"):
        S.compile_contracts(tmp_path)


def test_command_line(tmp_path, capsys):
    assert A.main(["--check"]) == 0
    assert "match" in capsys.readouterr().out
    out = tmp_path / "a"
    assert A.main(["--regen", "--out", str(out)]) == 0
    assert sorted(p.stem for p in out.glob("*.json")) == A.available_artifacts()
    (out / "ExampleConsumer.json").unlink()
    assert A.main(["--check", "--out", str(out)]) == 1
    assert "ExampleConsumer: artifact missing" in capsys.readouterr().err
