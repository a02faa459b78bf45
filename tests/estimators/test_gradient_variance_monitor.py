"""GradientVarianceMonitor logs gradient variance and SNR during fit."""

import keras
import numpy as np
import pytest

from keras_rt.callbacks.gradient_variance import GradientVarianceMonitor


def _model():
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.GaussianNoise(0.5, seed=1),  # makes the gradient stochastic
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_monitor_logs_to_history_and_tensorboard(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 4)).astype("float32"), rng.normal(size=(32, 1)).astype("float32")
    monitor = GradientVarianceMonitor(
        x[:16], y[:16], num_draws=4, every_n_epochs=2, log_dir=str(tmp_path / "tb")
    )
    history = _model().fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[monitor])
    assert len(history.history["grad_variance"]) == 2  # epochs 2 and 4
    assert all(v > 0 for v in history.history["grad_variance"])
    assert all(np.isfinite(v) and v > 0 for v in history.history["grad_snr"])
    assert [r["epoch"] for r in monitor.records] == [1, 3]
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))


def test_monitor_rejects_bad_settings():
    with pytest.raises(ValueError, match="`num_draws` must be an integer >= 2"):
        GradientVarianceMonitor(np.zeros((2, 4)), num_draws=1)
    with pytest.raises(ValueError, match="`every_n_epochs` must be an integer >= 1"):
        GradientVarianceMonitor(np.zeros((2, 4)), every_n_epochs=0)
