import keras
import numpy as np
import pytest
import tensorflow_probability as tfp

from keras_rt.layers import GaussianKL, MultivariateNormalTriLSampling, Sampling
from keras_rt.ops import diagonal_gaussian_kl, tril_gaussian_kl
from keras_rt.testing import run_layer_test

tfd = tfp.distributions
RNG = np.random.RandomState(0)
MEAN = RNG.randn(6, 4).astype("float32")
LOG_VAR = RNG.randn(6, 4).astype("float32")


def test_matches_tfp_kl_divergence():
    q = tfd.MultivariateNormalDiag(MEAN, np.exp(0.5 * LOG_VAR))
    p = tfd.MultivariateNormalDiag(np.zeros(4, "float32"), np.ones(4, "float32"))
    np.testing.assert_allclose(
        diagonal_gaussian_kl(MEAN, LOG_VAR), tfd.kl_divergence(q, p), rtol=1e-5
    )


def test_full_covariance_matches_tfp():
    params = RNG.randn(6, 10).astype("float32")
    scale = MultivariateNormalTriLSampling().scale_tril(params)
    q = tfd.MultivariateNormalTriL(MEAN, scale)
    p = tfd.MultivariateNormalDiag(np.zeros(4, "float32"), np.ones(4, "float32"))
    np.testing.assert_allclose(tril_gaussian_kl(MEAN, scale), tfd.kl_divergence(q, p), rtol=1e-4)
    layer = GaussianKL(covariance="full")
    layer([MEAN, params])
    np.testing.assert_allclose(float(layer.losses[0]), np.mean(tfd.kl_divergence(q, p)), rtol=1e-4)


def test_loss_is_weighted_batch_mean_and_inputs_pass_through():
    layer = GaussianKL(weight=0.5)
    outputs = layer([MEAN, LOG_VAR])
    np.testing.assert_array_equal(outputs[0], MEAN)
    expected = 0.5 * np.mean(diagonal_gaussian_kl(MEAN, LOG_VAR))
    np.testing.assert_allclose(float(layer.losses[0]), expected, rtol=1e-6)
    layer.kl_weight.assign(0.0)
    layer([MEAN, LOG_VAR])
    assert float(layer.losses[0]) == 0.0


def test_free_bits_floor_each_dimension():
    mean = np.zeros((5, 3), "float32")
    log_var = np.zeros((5, 3), "float32")
    layer = GaussianKL(free_bits=0.25)
    layer([mean, log_var])
    assert float(layer.losses[0]) == pytest.approx(0.75)


def test_harness_and_kl_metric_in_fit():
    run_layer_test(GaussianKL, {}, [MEAN, LOG_VAR], [(6, 4), (6, 4)], stochastic=False)
    x = keras.Input((3,))
    z_mean, z_log_var = GaussianKL()([keras.layers.Dense(2)(x), keras.layers.Dense(2)(x)])
    model = keras.Model(x, Sampling(seed=0)([z_mean, z_log_var]))
    model.compile("adam", "mse")
    data = np.ones((16, 3), "float32")
    history = model.fit(
        data, np.zeros((16, 2)), validation_data=(data, np.zeros((16, 2))), verbose=0
    )
    assert {"kl", "val_kl", "loss"} <= set(history.history)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"weight": -1}, "weight"),
        ({"free_bits": -0.1}, "free_bits"),
        ({"covariance": "banded"}, "covariance"),
        ({"covariance": "full", "free_bits": 0.5}, "free_bits"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GaussianKL(**kwargs)


def test_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        GaussianKL()([np.zeros((2, 3), "float32"), np.zeros((2, 2), "float32")])


def test_nan_parameters_propagate():
    layer = GaussianKL()
    layer([np.array([[np.nan]], "float32"), np.zeros((1, 1), "float32")])
    assert np.isnan(float(layer.losses[0]))
