"""Say what a person would want to know, and nothing else: collapse warnings, quiet start-up, true progress."""

import os
import subprocess
import sys

import keras
import pytest

from keras_rt.callbacks import StepProgbarLogger
from keras_rt.training.evaluate import posterior_collapse, summary_table

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize(
    "test,expected",
    [
        ({"kl": 0.02, "active_units": 0}, "no latent unit is active and the test KL is 0.020"),
        ({"kl": 3.0, "active_units": 0}, "no latent unit is active"),
        ({"kl": 0.05, "active_units": 2}, "the test KL is only 0.050 nats"),
        ({"kl": 0.099}, "the test KL is only 0.099 nats"),
        ({"kl": 0.1, "active_units": 1}, None),
        ({"kl": 25.0, "active_units": 16}, None),
    ],
)
def test_posterior_collapse_is_flagged_with_remedies(test, expected):
    warning = posterior_collapse({"test": test})
    if expected is None:
        assert warning is None
    else:
        assert warning.startswith("Posterior collapse: ") and expected in warning
        assert "--kl-warmup-epochs" in warning and "free_bits" in warning


def test_the_summary_shows_warnings():
    metrics = {"test": {"neg_elbo": 1.0, "kl": 0.0}, "warnings": ["Posterior collapse: x"]}
    assert summary_table(metrics).splitlines()[-1] == "warning: Posterior collapse: x"


def _run_cli(*args, debug=False):
    env = {
        k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_RT_DEBUG")
    }
    if debug:
        env["KERAS_RT_DEBUG"] = "1"
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )


@pytest.mark.skipif(
    any(name.startswith("nvidia") for name in os.listdir("/dev")), reason="a GPU machine"
)
def test_no_cuda_probing_noise_on_machines_without_a_gpu(tmp_path):
    # export.py imports TensorFlow before it finds that the run folder is missing
    done = _run_cli("scripts/export.py", "--run-dir", str(tmp_path / "missing"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"export.py: error: Run folder not found: {str(tmp_path / 'missing')!r}"
    ]
    debug = _run_cli("scripts/export.py", "--run-dir", str(tmp_path / "missing"), debug=True)
    assert "Traceback" in debug.stderr  # KERAS_RT_DEBUG=1 shows everything


@pytest.mark.parametrize(
    "logger_class,expected", [(keras.callbacks.ProgbarLogger, 16), (StepProgbarLogger, 11)]
)
def test_the_progress_bar_never_passes_the_last_step(capsys, logger_class, expected):
    # 11 batches with steps_per_execution=8: Keras reports the second call as step index 15.
    logger = logger_class()
    logger.set_params({"verbose": 1, "epochs": 1, "steps": 11})
    logger.on_train_begin()
    logger.on_epoch_begin(0)
    logger.on_train_batch_end(7)
    logger.on_train_batch_end(15)
    assert logger.seen == expected  # Keras's own bar shows "16/11" (the bug this fixes)
    logger.on_epoch_end(0)
    assert "16/11" not in capsys.readouterr().out or logger_class is keras.callbacks.ProgbarLogger
