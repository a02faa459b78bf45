#!/usr/bin/env bash
# Install what the tests need into .venv and run the test suite.
# Usage: ./scripts/test.sh [pytest args]            e.g. ./scripts/test.sh tests/layers -x
#        ./scripts/test.sh --lowest [pytest args]   the layer, estimator, op and callback tests (or the
#            ones given) in .venv-lowest: the lowest versions setup.py's ranges allow (uv's lowest-direct
#            resolution; README "Install and compatibility"), made again whenever setup.py changes
#        ./scripts/test.sh --coverage [pytest args]  the tests with line coverage of keras_rt and the zoo
#            (keras_rt.zoo, folder models/) and its floor, 85%; CI does not measure it (see .ci/run)
VENV_EXTRAS=test,docs,jax source "$(dirname "$0")/_venv.sh"
if [ "${1:-}" = "--coverage" ]; then
  shift
  exec "$VENV_PY" -m pytest --cov=keras_rt --cov=keras_rt.zoo --cov-report=term:skip-covered \
    --cov-fail-under=85 "$@"
fi
if [ "${1:-}" != "--lowest" ]; then
  "$VENV_PY" -m pytest "$@"
  exit
fi
shift
LOWEST="$ROOT/.venv-lowest"
if [ ! -f "$LOWEST/.keras-rt-installed" ] || [ setup.py -nt "$LOWEST/.keras-rt-installed" ]; then
  echo "==> installing the lowest versions setup.py allows into .venv-lowest"
  rm -rf "$LOWEST"
  "$ROOT/.venv/bin/uv" venv --quiet --python "$PYTHON_BIN" "$LOWEST"
  VIRTUAL_ENV="$LOWEST" "$ROOT/.venv/bin/uv" pip install --quiet --resolution lowest-direct -e ".[test]"
  touch "$LOWEST/.keras-rt-installed"
fi
"$LOWEST/bin/python" - <<'PY'
from importlib.metadata import version
names = ["tensorflow", "keras", "tensorflow-probability", "keras-tuner", "numpy"]
print("==> lowest versions:", ", ".join(f"{n} {version(n)}" for n in names))
PY
# The JAX-backend checks (tests/layers/test_backends.py) run on the locked stack only: Keras's export
# through jax2tf needs a JAX and a TensorFlow from the same year.
[ $# -gt 0 ] || set -- tests/layers tests/estimators tests/ops tests/callbacks \
  --ignore=tests/layers/test_backends.py
"$LOWEST/bin/python" -m pytest "$@"
