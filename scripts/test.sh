#!/usr/bin/env bash
# Install what the tests need into .venv and run the test suite.
# Usage: ./scripts/test.sh [pytest args]      e.g. ./scripts/test.sh tests/layers -x
source "$(dirname "$0")/_venv.sh" test
"$VENV_PY" -m pytest "$@"
