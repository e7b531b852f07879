#!/usr/bin/env bash
# Quick start 2: the test suite (installs what it needs into .venv).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/ensure_env.sh"
"$ROOT/scripts/install_node_tools.sh"   # solc (solcjs) and anvil from npm, for the chain tests
cd "$ROOT"
exec .venv/bin/python -m pytest -q "$@"
