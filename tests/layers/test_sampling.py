import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_rt.layers import Sampling
from keras_rt.testing import run_layer_test
from tests.stats import mean_tolerance, std_tolerance

N = 20000


def test_layer_harness_default():
    data = [np.zeros((4, 3), "float32"), np.zeros((4, 3), "float32")]
    run_layer_test(Sampling, {"seed": 1}, data, (4, 3))


def test_layer_harness_num_samples():
    data = [np.zeros((4, 3), "float32"), np.zeros((4, 3), "float32")]
    run_layer_test(Sampling, {"seed": 1, "num_samples": 5}, data, (4, 5, 3))


def test_layer_harness_mean_at_inference():
    data = [np.ones((4, 3), "float32"), np.zeros((4, 3), "float32")]
    layer = run_layer_test(
        Sampling, {"seed": 1, "inference": "mean"}, data, (4, 3), stochastic=False
    )
    np.testing.assert_array_equal(layer(data, training=False), data[0])
    assert not np.allclose(layer(data, training=True), data[0])


def test_single_tensor_input_splits_halves_in_sequential_model():
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4), Sampling(seed=3)])
    assert model(np.ones((2, 5), "float32")).shape == (2, 2)


def test_subclassed_model():
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__()
            self.mean = keras.layers.Dense(2)
            self.log_var = keras.layers.Dense(2)
            self.sampling = Sampling(seed=4)

        def call(self, x):
            return self.sampling([self.mean(x), self.log_var(x)])

    out = Tiny()(np.ones((3, 4), "float32"))
    assert out.shape == (3, 2)


@pytest.mark.parametrize("mu,sigma", [(1.5, 2.0), (-0.5, 0.1)])
def test_sample_mean_and_std(mu, sigma):
    z_mean = np.full((N, 1), mu, "float32")
    z_log_var = np.full((N, 1), 2 * np.log(sigma), "float32")
    z = keras.ops.convert_to_numpy(Sampling(seed=11)([z_mean, z_log_var]))
    assert abs(z.mean() - mu) < mean_tolerance(sigma, N)
    assert abs(z.std() - sigma) < std_tolerance(sigma, N)


def test_num_samples_are_independent_draws():
    z = Sampling(seed=5, num_samples=4)([np.zeros((N // 4, 2), "float32")] * 2)
    z = keras.ops.convert_to_numpy(z).reshape(-1, 4 * 2)
    corr = np.corrcoef(z, rowvar=False)
    off_diagonal = corr[~np.eye(8, dtype=bool)]
    assert np.abs(off_diagonal).max() < mean_tolerance(1.0, N // 4)


def test_pathwise_gradients_match_closed_form():
    """d/dmu E[z^2] = 2 mu and d/dsigma E[z^2] = 2 sigma (z = mu + sigma eps)."""
    mu0, sigma0 = 0.7, 1.3
    mu = tf.Variable(np.full((N, 1), mu0, "float32"))
    sigma = tf.Variable(np.full((N, 1), sigma0, "float32"))
    with tf.GradientTape() as tape:
        z = Sampling(seed=2)([mu, 2.0 * tf.math.log(sigma)])
        objective = tf.reduce_sum(z**2)  # per-sample gradients land in each row
    grad_mu, grad_sigma = tape.gradient(objective, [mu, sigma])
    # per-sample d/dmu = 2z (std 2 sigma); d/dsigma = 2 z eps (std ~ 2 sqrt(mu^2 + 2 sigma^2))
    assert abs(float(tf.reduce_mean(grad_mu)) - 2 * mu0) < mean_tolerance(2 * sigma0, N)
    sd = 2 * np.sqrt(mu0**2 + 2 * sigma0**2)
    assert abs(float(tf.reduce_mean(grad_sigma)) - 2 * sigma0) < mean_tolerance(sd, N)


def test_same_seed_same_samples_and_fresh_noise_in_fit():
    x = keras.Input((3,))
    z = Sampling(seed=9)([keras.layers.Dense(2)(x), keras.layers.Dense(2)(x)])
    model = keras.Model(x, z)
    data = np.ones((8, 3), "float32")

    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(keras.ops.convert_to_numpy(self.model(data)))

    model.compile("sgd", "mse")
    model.fit(data, np.zeros((8, 2)), batch_size=4, epochs=1, verbose=0, callbacks=[Record()])
    assert len(seen) == 2 and not np.allclose(seen[0], seen[1])
    assert not np.allclose(model.predict(data, verbose=0), model.predict(data, verbose=0))


def test_log_var_clamp_keeps_float16_finite():
    layer = Sampling(seed=0, dtype="float16")
    z = layer([np.zeros((4, 2), "float16"), np.full((4, 2), 1e4, "float16")])
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(z)))


def test_nan_and_inf_are_not_turned_into_numbers():
    z = Sampling(seed=0)(
        [np.zeros((1, 3), "float32"), np.array([[np.nan, np.inf, 0.0]], "float32")]
    )
    z = keras.ops.convert_to_numpy(z)
    assert np.isnan(z[0, 0]) and not np.isfinite(z[0, 1]) and np.isfinite(z[0, 2])


def test_mixed_bfloat16(mixed_bfloat16):
    x = keras.Input((3,))
    h = keras.layers.Dense(4)(x)
    z = Sampling(seed=1)([keras.layers.Dense(2)(h), keras.layers.Dense(2)(h)])
    out = keras.Model(x, z)(np.ones((2, 3), "float32"))
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"


def test_jit_compile_fresh_noise():
    layer = Sampling(seed=3)
    f = tf.function(lambda m, v: layer([m, v]), jit_compile=True)
    a, b = f(tf.zeros((2, 2)), tf.zeros((2, 2))), f(tf.zeros((2, 2)), tf.zeros((2, 2)))
    assert not np.allclose(a, b)


@pytest.mark.parametrize(
    "inputs,match",
    [
        ([np.zeros((2, 3), "float32"), np.zeros((2, 4), "float32")], "same shape"),
        ([np.zeros((2, 3), "int32"), np.zeros((2, 3), "int32")], "floating-point"),
        ([np.zeros((2, 3), "float32")] * 3, "list"),
        (np.zeros((2, 3), "float32"), "even"),
    ],
)
def test_bad_inputs(inputs, match):
    with pytest.raises(ValueError, match=match):
        Sampling()(inputs)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"num_samples": 0}, "num_samples"),
        ({"num_samples": 2.5}, "num_samples"),
        ({"inference": "median"}, "inference"),
        ({"log_var_range": (3, 1)}, "log_var_range"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Sampling(**kwargs)
