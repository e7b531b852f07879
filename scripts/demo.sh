#!/usr/bin/env bash
# Quick start 1: the whole job end to end (installs what it needs into .venv).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/ensure_env.sh"
exec "$ROOT/.venv/bin/zkllm" demo "$@"
