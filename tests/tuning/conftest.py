"""Tiny searches: digits, a few dozen examples, one epoch, a small MLP."""

import pytest

from keras_rt.tuning import TuneConfig

QUICK = {
    "model": "mlp_vae",
    "dataset": "digits",
    "epochs": 1,
    "batch_size": 32,
    "max_examples": 64,
    "verbose": 0,
    "model_config": {"hidden_units": [16]},
    # No whole-step XLA, whatever this machine's plan says: it compiles each trial for seconds,
    # and these tests are about the search (tests/tuning/test_plan.py checks "auto").
    "jit_compile": "off",
}

# The same settings as command-line flags (plus --config for model_config).
QUICK_FLAGS = ["--epochs", "1", "--batch-size", "32", "--max-examples", "64", "--verbose", "0"]
QUICK_FLAGS += ["--jit-compile", "off"]


def pytest_configure(config):
    # KerasTuner 1.4.8 calls threading.currentThread().getName() on every oracle call.
    config.addinivalue_line("filterwarnings", "ignore:currentThread:DeprecationWarning")
    config.addinivalue_line("filterwarnings", "ignore:getName:DeprecationWarning")


@pytest.fixture
def quick_config(tmp_path):
    """`quick_config(**overrides)` -> a validated `TuneConfig` writing under `tmp_path`."""

    def make(**overrides):
        values = {**QUICK, "output_dir": str(tmp_path / "search"), **overrides}
        return TuneConfig.from_dict(values).validate()

    return make
