#!/usr/bin/env bash
# The package as users install it: build the sdist and the wheel (from the sdist, as `pip install`
# from PyPI would), install the wheel into a fresh virtual environment with the locked stack
# (constraints.txt), and run tests/packaging/installed_smoke.py there from an empty folder, so that
# no source tree is on the path. CI runs it (.ci/run).
# Usage: ./scripts/wheel_smoke.sh [WORK_DIR]     (default: a temporary folder, removed afterwards)
VENV_EXTRAS=test,docs,jax source "$(dirname "$0")/_venv.sh"
UV="$ROOT/.venv/bin/uv"
if [ $# -gt 0 ]; then WORK="$1"; mkdir -p "$WORK"; else WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT; fi
echo "==> building the sdist and the wheel into $WORK/dist"
"$UV" build --quiet --out-dir "$WORK/dist" "$ROOT"
sdist=$(ls "$WORK"/dist/keras_rt-*.tar.gz) && wheel=$(ls "$WORK"/dist/keras_rt-*.whl)
version=$(basename "$wheel" | cut -d- -f2)
members="$(tar -tzf "$sdist")"
for member in README.md setup.py models/conv_vae/__init__.py keras_rt/py.typed; do
  grep -qx "keras_rt-$version/$member" <<< "$members" || { echo "the sdist lacks $member"; exit 1; }
done
echo "==> installing $(basename "$wheel") into a fresh venv ($WORK/venv) with constraints.txt"
"$UV" venv --quiet --python "$PYTHON_BIN" "$WORK/venv"
VIRTUAL_ENV="$WORK/venv" "$UV" pip install --quiet --constraint "$ROOT/constraints.txt" "$wheel"
mkdir -p "$WORK/smoke"
cd "$WORK/smoke"
PATH="$WORK/venv/bin:$PATH" TF_CPP_MIN_LOG_LEVEL=2 \
  "$WORK/venv/bin/python" "$ROOT/tests/packaging/installed_smoke.py" "$version" "$WORK/smoke"
echo "==> wheel smoke passed: keras-rt $version installed from its wheel works"
