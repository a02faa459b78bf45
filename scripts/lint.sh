#!/usr/bin/env bash
# Lint, format check and type check (what CI runs besides the tests).
# Usage: ./scripts/lint.sh        (installs the test tools into .venv first, like test.sh)
VENV_EXTRAS=test,docs,jax source "$(dirname "$0")/_venv.sh"
echo "==> ruff check"
"$ROOT/.venv/bin/ruff" check .
echo "==> ruff format --check"
"$ROOT/.venv/bin/ruff" format --check .
echo "==> mypy (keras_rt and the zoo, keras_rt.zoo)"
"$ROOT/.venv/bin/mypy"
