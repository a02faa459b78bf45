"""The layers, their harness and their callbacks on Keras's JAX backend, from the TensorFlow run.

Keras chooses its backend when first imported, so everything on JAX runs in
ONE subprocess (`KERAS_BACKEND=jax python -m tests.layers.jax_backend_checks`),
started once per session (pytest-xdist workers share it through a lock); each
of its checks is one test here:

- the shared harness (`keras_rt.testing.run_layer_test`: call, config,
  seeds, `.keras` round trip, `jax.jit`, and for two of them `model.export`
  through `jax2tf` and `tf.saved_model.load`) for `Sampling` (normal,
  antithetic, QMC, mean), `MultivariateNormalTriLSampling`,
  `GumbelSoftmaxSampling`, `GaussianKL` (diagonal with free bits, full) and
  `CategoricalKL`;
- the noise drawn by JAX (statistics, antithetic pairs, Sobol nets; QMC over
  a symbolic batch as `model.export` traces it);
- `KLWarmup` and `GumbelTemperatureAnnealing` driving the JAX train step;
- the parts that need TensorFlow (`DistributionSampling`,
  `GradientVarianceMonitor`) refusing JAX with a message naming both;
- `.keras` files across backends, both ways: a model saved here (TensorFlow)
  loads on JAX, and one saved on JAX loads here, with the same weights
  (exactly), the same inference outputs and the same KL loss terms (to
  1e-5: the two backends' kernels may round differently). The samplers are in
  their deterministic inference modes (mean, mode): sampled outputs are not
  compared across backends, because the same seed draws different noise on
  TensorFlow and JAX (different random number generators); each backend's
  own harness checks that reloaded models draw identical noise.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_rt.layers import Sampling
from tests.layers.jax_backend_checks import (
    CHECK_NAMES,
    assert_same_values,
    cross_backend_inputs,
    cross_backend_values,
    save_cross_backend_files,
)

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # one JAX subprocess of about a minute, shared by every test here


def _session_dir(tmp_path_factory) -> Path:
    """A folder of this pytest session that every xdist worker shares."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _run_jax_checks(workdir: Path) -> None:
    """Saves the TensorFlow side's files into `workdir`, then runs the JAX subprocess there."""
    workdir.mkdir(exist_ok=True)
    save_cross_backend_files(str(workdir))
    # CPU only; XLA's backend optimizations off: the checks compile ~100 small programs, and
    # unoptimized machine code compiles several times faster (the outputs they compare are
    # computed in one process, or to 1e-5 across backends).
    xla_flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_backend_optimization_level=0".strip()
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "XLA_FLAGS": xla_flags}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    result = subprocess.run(
        [sys.executable, "-m", "tests.layers.jax_backend_checks", str(workdir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    (workdir / "output.txt").write_text(
        f"exit code {result.returncode}\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    )


@pytest.fixture(scope="module")
def jax_run(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """`(workdir, report)` of the JAX checks, run once per session (under a lock, so once for
    all pytest-xdist workers too: the first to get here runs them, the others read its report)."""
    if importlib.util.find_spec("jax") is None:
        pytest.fail(
            "jax is not installed, and the JAX-backend tests need it (CPU is enough): "
            "install the test extra, `pip install -e .[test]`."
        )
    import fcntl

    shared = _session_dir(tmp_path_factory)
    workdir = shared / "jax_backend"
    report_file = workdir / "report.json"
    with open(shared / "jax_backend.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (workdir / "output.txt").exists():
            _run_jax_checks(workdir)
    assert report_file.exists(), (
        "the JAX subprocess wrote no report: " + (workdir / "output.txt").read_text()
    )
    return workdir, json.loads(report_file.read_text())


@pytest.mark.parametrize("check", CHECK_NAMES)
def test_on_jax(jax_run, check):
    _, report = jax_run
    assert report.get(check) == "ok", report.get(check, f"{check} did not run")


def test_saved_on_jax_loads_on_tensorflow(jax_run):
    workdir, report = jax_run
    assert report.get("cross-backend") == "ok", "the JAX side did not save its model"
    assert keras.backend.backend() == "tensorflow"
    reloaded = keras.models.load_model(workdir / "jax_model.keras", safe_mode=True)
    expected = np.load(workdir / "jax_outputs.npz")
    assert_same_values(cross_backend_values(reloaded, cross_backend_inputs()), expected)


def test_qmc_noise_names_the_backends_it_runs_on(monkeypatch):
    """On a backend without QMC support (PyTorch, say), the sampler refuses at construction."""
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    with pytest.raises(RuntimeError) as error:
        Sampling(seed=0, noise="qmc")
    message = str(error.value)
    for piece in ("`noise='qmc'`", "TensorFlow or the JAX backends", "runs on 'torch'", "'normal'"):
        assert piece in message, message
    Sampling(seed=0, noise="antithetic")  # the other noises run anywhere
