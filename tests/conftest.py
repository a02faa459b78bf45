"""Shared pytest set-up: TensorFlow backend, quiet logs, fixed global seeds."""

import gc
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402


def pytest_configure(config):
    """Measures this machine once, before any test runs (`keras_rt.performance.probe`).

    Runs in the only process, or in the controller of an xdist run before its
    workers start, so that the many `train` runs of the suite (in-process
    and in subprocesses) read the cached result instead of each measuring the
    machine again, and none prints the one-time notice.
    """
    if hasattr(config, "workerinput"):
        return
    from keras_rt.performance import load_or_probe

    load_or_probe(notify=None)


def pytest_collection_finish(session):
    """Moves what is alive after collection (TensorFlow, Keras, the test items) out of the
    garbage collector's sight (`gc.freeze`).

    Those objects live until the process ends, yet every full collection walked them all
    again: over a million after TensorFlow's import, half a second per collection, and
    KerasTuner and `keras.backend.clear_session()` collect on every model they build (a
    quarter of the tuning tests' CPU time). Objects made later are collected as before.
    """
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _seed_and_policy():
    """Each test starts from the same global seed and the float32 policy."""
    keras.utils.set_random_seed(0)
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.fixture
def mixed_bfloat16():
    """Runs a test under the `mixed_bfloat16` policy."""
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_global_policy("float32")
