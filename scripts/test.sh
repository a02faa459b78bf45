#!/usr/bin/env bash
# Install what the tests need into .venv and run the test suite.
# Usage: ./scripts/test.sh [pytest args]      e.g. ./scripts/test.sh tests/layers -x
VENV_EXTRAS=test,docs source "$(dirname "$0")/_venv.sh"
"$VENV_PY" -m pytest "$@"
