import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from keras_rt.layers import MultivariateNormalTriLSampling
from keras_rt.layers.mvn_sampling import latent_dim_for, num_scale_params
from keras_rt.testing import run_layer_test
from tests.stats import mean_tolerance

N = 40000


def test_layer_harness():
    data = [np.zeros((4, 3), "float32"), np.zeros((4, 6), "float32")]
    run_layer_test(MultivariateNormalTriLSampling, {"seed": 1}, data, (4, 3))
    run_layer_test(MultivariateNormalTriLSampling, {"seed": 1, "num_samples": 2}, data, (4, 2, 3))


def test_sample_mean_and_covariance_match_l_lt():
    d = 3
    params = np.random.RandomState(0).randn(1, num_scale_params(d)).astype("float32")
    layer = MultivariateNormalTriLSampling(seed=2)
    mean = np.array([[1.0, -2.0, 0.5]], "float32")
    z = keras.ops.convert_to_numpy(layer([mean.repeat(N, 0), params.repeat(N, 0)]))
    scale = keras.ops.convert_to_numpy(layer.scale_tril(params))[0]
    cov = scale @ scale.T
    assert np.all(np.diag(scale) > 0) and np.allclose(scale, np.tril(scale))
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(z.mean(0) - mean[0]) < mean_tolerance(sd, N))
    # the std of a sample covariance entry is sqrt((S_ij^2 + S_ii S_jj) / n)
    entry_sd = np.sqrt(cov**2 + np.outer(np.diag(cov), np.diag(cov)))
    assert np.all(np.abs(np.cov(z, rowvar=False) - cov) < mean_tolerance(entry_sd, N))


def test_scale_matches_tfp_and_gradients_flow():
    params = tf.Variable(np.random.RandomState(1).randn(5, 6).astype("float32"))
    mean = tf.Variable(np.zeros((5, 3), "float32"))
    layer = MultivariateNormalTriLSampling(seed=3)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer([mean, params]) ** 2)
    grads = tape.gradient(loss, [mean, params])
    assert all(g is not None and np.all(np.isfinite(g)) for g in grads)
    expected = tfp.bijectors.FillScaleTriL(diag_shift=1e-5).forward(params)
    np.testing.assert_allclose(layer.scale_tril(params), expected, rtol=1e-5)


def test_latent_dim_for():
    assert [latent_dim_for(p) for p in (1, 3, 6, 10, 7)] == [1, 2, 3, 4, None]


def test_wrong_number_of_scale_params():
    with pytest.raises(ValueError, match=r"d \* \(d \+ 1\) / 2.*d=3 needs 6"):
        MultivariateNormalTriLSampling()([np.zeros((2, 3), "float32"), np.zeros((2, 5), "float32")])


def test_integer_dtype_rejected():
    with pytest.raises(ValueError, match="floating-point"):
        MultivariateNormalTriLSampling()([np.zeros((2, 2), "int32"), np.zeros((2, 3), "int32")])


# -- noise="antithetic" | "qmc" -------------------------------------------------


@pytest.mark.parametrize("noise,num_samples", [("antithetic", None), ("qmc", 4)])
def test_layer_harness_noise(noise, num_samples):
    data = [np.zeros((4, 3), "float32"), np.zeros((4, 6), "float32")]
    expected = (4, 3) if num_samples is None else (4, num_samples, 3)
    kwargs = {"seed": 1, "noise": noise, "num_samples": num_samples}
    layer = run_layer_test(MultivariateNormalTriLSampling, kwargs, data, expected)
    assert layer.get_config()["noise"] == noise


@pytest.mark.parametrize("noise", ["antithetic", "qmc"])
def test_noise_keeps_mean_and_covariance_exact(noise):
    """Sample 0 of each example is an independent exact N(mean, L L^T) draw across the batch."""
    d, n = 3, N // 2
    params = np.random.RandomState(0).randn(1, num_scale_params(d)).astype("float32")
    layer = MultivariateNormalTriLSampling(seed=2, num_samples=2, noise=noise)
    mean = np.array([[1.0, -2.0, 0.5]], "float32")
    z = keras.ops.convert_to_numpy(layer([mean.repeat(n, 0), params.repeat(n, 0)]))[:, 0]
    scale = keras.ops.convert_to_numpy(layer.scale_tril(params))[0]
    cov = scale @ scale.T
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(z.mean(0) - mean[0]) < mean_tolerance(sd, n))
    entry_sd = np.sqrt(cov**2 + np.outer(np.diag(cov), np.diag(cov)))
    assert np.all(np.abs(np.cov(z, rowvar=False) - cov) < mean_tolerance(entry_sd, n))


def test_antithetic_pair_average_is_the_mean():
    params = np.random.RandomState(1).randn(5, 6).astype("float32")
    mean = np.random.RandomState(2).randn(5, 3).astype("float32")
    layer = MultivariateNormalTriLSampling(seed=0, num_samples=4, noise="antithetic")
    z = keras.ops.convert_to_numpy(layer([mean, params]))
    np.testing.assert_allclose(z.mean(axis=1), mean, atol=1e-5)


def test_bad_noise_arguments():
    with pytest.raises(
        ValueError, match=r"`noise` must be one of \['normal', 'antithetic', 'qmc'\]"
    ):
        MultivariateNormalTriLSampling(noise="halton")
    with pytest.raises(ValueError, match=r"`num_samples` must be even.*num_samples=5"):
        MultivariateNormalTriLSampling(noise="antithetic", num_samples=5)
    d = 21201  # one more than QMC supports; build checks shapes only
    with pytest.raises(ValueError, match=r"at most 21200 .*noise='qmc' with 21201"):
        MultivariateNormalTriLSampling(noise="qmc").build([(None, d), (None, num_scale_params(d))])
    config = MultivariateNormalTriLSampling(noise="qmc").get_config()
    del config["noise"]  # a config saved before the choice existed
    assert MultivariateNormalTriLSampling.from_config(config).noise == "normal"
