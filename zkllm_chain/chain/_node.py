"""Locating the pinned Node tools (installed by ``scripts/install_node_tools.sh``)."""
from __future__ import annotations

import json
import os
from pathlib import Path

#: Versions pinned in the repository's package.json (a test keeps them in step).
SOLC_VERSION = "0.8.30"
ANVIL_VERSION = "1.7.1"

INSTALL_HINT = "run scripts/install_node_tools.sh"

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def node_modules_candidates() -> list[Path]:
    """Directories that may hold the node_modules of this project, most specific first."""
    out: list[Path] = []
    env = os.environ.get("ZKLLM_NODE_MODULES")
    if env:
        out.append(Path(env))
    for start in (_PACKAGE_ROOT, Path.cwd().resolve()):
        for d in (start, *start.parents):
            nm = d / "node_modules"
            if nm not in out:
                out.append(nm)
    return out


def find_package(name: str, version: str | None = None) -> Path | None:
    """Directory of the npm package ``name`` (at ``version`` when given), or None."""
    for nm in node_modules_candidates():
        pkg = nm / name
        meta = pkg / "package.json"
        if not meta.is_file():
            continue
        if version is not None:
            try:
                if json.loads(meta.read_text()).get("version") != version:
                    continue
            except (OSError, ValueError):
                continue
        return pkg
    return None


def repo_root() -> Path:
    """The checkout this package lives in (where contracts/ and package.json are)."""
    return _PACKAGE_ROOT
