import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy.stats import norm

from keras_rt.layers import Sampling
from keras_rt.testing import run_layer_test
from tests.stats import Z, frequency_tolerance, mean_tolerance, std_tolerance

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


# -- noise="antithetic" | "qmc" -------------------------------------------------


@pytest.mark.parametrize("noise", ["antithetic", "qmc"])
@pytest.mark.parametrize("num_samples", [None, 4])
def test_layer_harness_noise(noise, num_samples):
    """Config, `.keras` and SavedModel round trips (fresh noise when served), XLA."""
    data = [np.zeros((4, 3), "float32"), np.zeros((4, 3), "float32")]
    expected = (4, 3) if num_samples is None else (4, num_samples, 3)
    kwargs = {"seed": 1, "noise": noise, "num_samples": num_samples}
    layer = run_layer_test(Sampling, kwargs, data, expected)
    assert layer.get_config()["noise"] == noise


@pytest.mark.parametrize("noise", ["qmc", "antithetic"])
def test_noise_over_the_batch_is_standard_normal(noise):
    """The acceptance check; the batch's draws are dependent, so N/2 for the std bound."""
    n = 4096
    z = Sampling(seed=1, noise=noise)([np.zeros((n, 3), "float32"), np.zeros((n, 3), "float32")])
    z = keras.ops.convert_to_numpy(z)
    assert abs(z.mean()) < mean_tolerance(1.0, z.size)
    assert abs(z.std() - 1.0) < std_tolerance(1.0, z.size // 2)


@pytest.mark.parametrize("noise", ["antithetic", "qmc"])
def test_noise_has_exact_gaussian_marginals(noise):
    """Sample j of each example is an independent exact N(mu, sigma^2) draw across the batch."""
    mu, sigma, batch = 1.5, 2.0, N // 2
    z_mean = np.full((batch, 2), mu, "float32")
    z_log_var = np.full((batch, 2), 2 * np.log(sigma), "float32")
    z = Sampling(seed=11, num_samples=4, noise=noise)([z_mean, z_log_var])
    z = keras.ops.convert_to_numpy(z)
    for j in range(4):
        x = z[:, j].reshape(-1)
        assert abs(x.mean() - mu) < mean_tolerance(sigma, x.size)
        assert abs(x.std() - sigma) < std_tolerance(sigma, x.size)
        for q in (-1.5, 0.0, 1.0):
            p = float(norm.cdf(q))
            assert abs(np.mean(x < mu + sigma * q) - p) < frequency_tolerance(p, x.size)


@pytest.mark.parametrize("noise", ["normal", "qmc"])
def test_qmc_lowers_the_variance_of_a_smooth_expectation(noise):
    """E[exp(a . z)], z ~ N(0, I_2), from k = 256 samples per example, over R examples.

    Plain Monte Carlo has the exact variance Var[exp(a . z)] / k. The sample
    variance of R estimates has a relative standard error sqrt(2 / (R - 1)):
    QMC's must stay below the Monte Carlo variance even at its upper bound,
    and plain noise must match it.
    """
    k, r, a = 256, 400, np.array([0.5, 0.5], "float32")
    zeros = np.zeros((r, 2), "float32")
    z = keras.ops.convert_to_numpy(Sampling(seed=3, num_samples=k, noise=noise)([zeros, zeros]))
    estimates = np.exp(z @ a).mean(axis=1)
    norm2 = float(a @ a)
    mc_variance = (np.exp(2 * norm2) - np.exp(norm2)) / k
    relative = Z * np.sqrt(2 / (r - 1))
    variance = estimates.var(ddof=1)
    upper = variance / (1 - relative)
    assert abs(estimates.mean() - np.exp(norm2 / 2)) < Z * np.sqrt(upper / r)  # unbiased
    if noise == "qmc":
        assert upper < mc_variance, (variance, mc_variance)
    else:
        assert variance / (1 + relative) < mc_variance < upper


def test_qmc_over_the_batch_is_one_sobol_point_set():
    """Without `num_samples`, the batch's 1024 draws put one point in each 1/1024 slice."""
    n = 1024
    zeros = np.zeros((n, 2), "float32")
    u = norm.cdf(keras.ops.convert_to_numpy(Sampling(seed=2, noise="qmc")([zeros, zeros])))
    for j in range(2):
        cells = np.sort(u[:, j]) * n - np.arange(n)  # in [0, 1] for a net (float32: +-1e-3)
        assert np.all(cells > -1e-3) and np.all(cells < 1 + 1e-3)


@pytest.mark.parametrize("num_samples,axis_size", [(None, 5), (None, 6), (4, 4)])
def test_antithetic_pairs(num_samples, axis_size):
    """Pairs along the sample axis, or along the batch (an odd batch leaves one unpaired)."""
    batch = axis_size if num_samples is None else 3
    mean = np.random.RandomState(0).randn(batch, 2).astype("float32")
    layer = Sampling(seed=0, noise="antithetic", num_samples=num_samples)
    z = keras.ops.convert_to_numpy(layer([mean, np.zeros_like(mean)]))
    half = (axis_size + 1) // 2
    if num_samples is None:
        np.testing.assert_allclose(
            z[half:] - mean[half:], mean[: axis_size - half] - z[: axis_size - half], atol=1e-6
        )
    else:
        # the pair average of a linear function is exact
        np.testing.assert_allclose(z.mean(axis=1), mean, atol=1e-6)


@pytest.mark.parametrize("noise", ["antithetic", "qmc"])
def test_noise_trains_in_a_jit_compiled_model(noise):
    """`fit` under XLA with an unknown (and odd) batch size: the noise along the batch."""
    num_samples = None
    x = keras.Input((3,))
    z = Sampling(seed=1, noise=noise, num_samples=num_samples)(
        [keras.layers.Dense(2)(x), keras.layers.Dense(2)(x)]
    )
    model = keras.Model(x, keras.layers.Dense(1)(keras.layers.Flatten()(z)))
    model.compile("adam", "mse", jit_compile=True)
    data = np.random.RandomState(0).randn(21, 3).astype("float32")  # last batch: 5, odd
    history = model.fit(data, np.ones((21, 1)), batch_size=8, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_configs_without_noise_load_as_normal():
    config = Sampling(seed=1, noise="qmc").get_config()
    del config["noise"]
    assert Sampling.from_config(config).noise == "normal"


def test_normal_noise_is_unchanged():
    """noise="normal" draws exactly what the layer drew before the choice existed."""
    data = [np.zeros((4, 3), "float32"), np.zeros((4, 3), "float32")]
    expected = keras.random.normal((4, 3), seed=keras.random.SeedGenerator(7))
    np.testing.assert_array_equal(Sampling(seed=7)(data), expected)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"noise": "sobol"}, r"`noise` must be one of \['normal', 'antithetic', 'qmc'\]"),
        ({"noise": "antithetic", "num_samples": 3}, r"`num_samples` must be even.*num_samples=3"),
        ({"noise": "qmc", "num_samples": 2**29 + 1}, r"noise='qmc'.*num_samples=536870913"),
    ],
)
def test_bad_noise_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Sampling(**kwargs)


def test_qmc_beyond_the_largest_latent_size():
    Sampling(noise="qmc").build([(None, 100, 212), (None, 100, 212)])  # 21200 dims: fine
    with pytest.raises(ValueError, match=r"at most 21200 .*noise='qmc' with 21201 .*'antithetic'"):
        Sampling(noise="qmc").build([(None, 21201), (None, 21201)])
    with pytest.raises(ValueError, match="noise='qmc' with 30000"):
        Sampling(noise="qmc").build((None, 60000))  # one tensor: halves of 30000
    Sampling(noise="antithetic").build([(None, 30000), (None, 30000)])
