#!/usr/bin/env bash
# The main job, on a fresh machine: create .venv, install keras-rt, train the default zoo
# model (mlp_vae) on the bundled digits data (offline), export it, and show the results.
# Usage: ./scripts/demo.sh [--epochs N] [--output-dir DIR] [--export-dir DIR]
VENV_EXTRAS= source "$(dirname "$0")/_venv.sh"
"$VENV_PY" -m keras_rt.cli.demo "$@"
