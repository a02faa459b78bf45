import keras
import numpy as np
import pytest

from keras_rt.callbacks import (
    GumbelTemperatureAnnealing,
    KLWarmup,
    annealed_temperature,
    kl_weight_at,
)
from keras_rt.layers import GaussianKL, GumbelSoftmaxSampling, Sampling


def test_linear_and_cyclical_schedules():
    assert [kl_weight_at(s, schedule="linear", warmup_steps=4) for s in (0, 2, 4, 8)] == [
        0,
        0.5,
        1,
        1,
    ]
    values = [
        kl_weight_at(s, schedule="cyclical", warmup_steps=1, total_steps=8, num_cycles=2, ratio=0.5)
        for s in range(8)
    ]
    assert values == [0, 0.5, 1, 1, 0, 0.5, 1, 1]


def test_annealed_temperature():
    assert annealed_temperature(0, initial=1.0, rate=0.1, minimum=0.5) == 1.0
    assert annealed_temperature(100, initial=1.0, rate=0.1, minimum=0.5) == 0.5


def _vae_like():
    x = keras.Input((4,))
    z_mean, z_log_var = GaussianKL()([keras.layers.Dense(2)(x), keras.layers.Dense(2)(x)])
    z = Sampling(seed=0)([z_mean, z_log_var])
    y = GumbelSoftmaxSampling(seed=0)(keras.layers.Dense(3)(z))
    model = keras.Model(x, y)
    model.compile("adam", "mse")
    return model


def test_callbacks_update_layers_during_fit():
    model = _vae_like()
    data = np.ones((32, 4), "float32")
    history = model.fit(
        data,
        np.zeros((32, 3)),
        batch_size=8,
        epochs=2,
        verbose=0,
        callbacks=[
            KLWarmup("linear", warmup_epochs=2),
            GumbelTemperatureAnnealing(rate=0.1, minimum=0.3),
        ],
    )
    assert history.history["kl_weight"] == pytest.approx([0.375, 0.875])
    kl_layer = next(l for l in model.layers if isinstance(l, GaussianKL))
    assert float(kl_layer.kl_weight.numpy()) == pytest.approx(0.875)
    assert history.history["temperature"][-1] == pytest.approx(max(0.3, np.exp(-0.7)))


def test_bad_arguments_and_missing_layers():
    with pytest.raises(ValueError, match="schedule"):
        KLWarmup("exponential")
    with pytest.raises(ValueError, match="`minimum` must be a number > 0"):
        GumbelTemperatureAnnealing(minimum=0)
    x = keras.Input((2,))
    model = keras.Model(x, keras.layers.Dense(1)(x))
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="no KL layer"):
        model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0, callbacks=[KLWarmup()])
