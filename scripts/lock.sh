#!/usr/bin/env bash
# Re-resolve constraints.txt, the exact stack that ./scripts/test.sh, ./scripts/demo.sh and CI install
# (setup.py holds ranges; this file holds the one combination checked together).
# Usage: ./scripts/lock.sh              keep the versions already locked where the ranges still allow them
#        ./scripts/lock.sh --upgrade    move every package to the newest version the ranges allow
# Then run ./scripts/test.sh (and CI) and commit setup.py and constraints.txt together.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Not through _venv.sh: it installs with the old constraints.txt, which may contradict new ranges.
[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
[ -x .venv/bin/uv ] || .venv/bin/python -m pip install --quiet "uv>=0.13,<0.14"
PY_VERSION="$(.venv/bin/python -c 'import platform; print(platform.python_version())')"
.venv/bin/uv pip compile setup.py --extra test --extra docs --extra jax \
  --python-version "$PY_VERSION" --output-file constraints.txt --quiet \
  --custom-compile-command "./scripts/lock.sh" "$@"
echo "==> constraints.txt resolved for Python $PY_VERSION; now run ./scripts/test.sh"
