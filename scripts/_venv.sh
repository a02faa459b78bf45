# Sourced by demo.sh and test.sh: make .venv (if missing) and install keras-rt into it.
# Usage: VENV_EXTRAS=test source scripts/_venv.sh   (VENV_EXTRAS empty: the base install)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON_BIN="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $("$PYTHON_BIN" --version 2>&1)"
  "$PYTHON_BIN" -m venv .venv
fi
VENV_PY="$ROOT/.venv/bin/python"
extras="${VENV_EXTRAS:-}"
spec="."
[ -n "$extras" ] && spec=".[${extras}]"
# The exact versions come from constraints.txt (the stack checked together; setup.py has ranges).
# Reinstall only when setup.py or constraints.txt changed since the last install (keeps reruns fast).
stamp=".venv/.keras-rt-installed-${extras:-base}"
if [ ! -f "$stamp" ] || [ setup.py -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  echo "==> installing keras-rt ($spec) into .venv with constraints.txt (first time: a few minutes)"
  # uv (its version from constraints.txt) installs the rest: parallel downloads and a shared cache
  # make a fresh .venv several times faster than pip. --compile-bytecode: the .pyc files are written
  # now, in parallel, as pip does; without them, where PYTHONDONTWRITEBYTECODE is set, every process
  # would compile TensorFlow's sources again (importing it: 30 s of CPU instead of 10).
  "$VENV_PY" -m pip install --quiet --constraint constraints.txt uv
  VIRTUAL_ENV="$ROOT/.venv" "$ROOT/.venv/bin/uv" pip install --quiet --compile-bytecode \
    --constraint constraints.txt -e "$spec"
  touch "$stamp"
fi
# TensorFlow's log level is left to the commands (keras_rt.cli.common.quiet_tensorflow: CUDA probing
# hidden on machines without a GPU) and to the tests (tests/conftest.py).
