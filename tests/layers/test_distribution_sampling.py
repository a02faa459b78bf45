import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from keras_rt.layers import DistributionSampling
from keras_rt.layers.distribution_sampling import FAMILIES, NOT_REPARAMETERIZABLE
from keras_rt.testing import run_layer_test
from tests.stats import mean_tolerance

tfd = tfp.distributions
N = 20000


def _raw_params(family, n, width=2):
    rng = np.random.RandomState(0)
    count = len(FAMILIES[family].params)
    return [
        np.repeat(rng.uniform(0.2, 1.5, (1, width)).astype("float32"), n, 0) for _ in range(count)
    ]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_sample_mean_matches_distribution(family):
    params = _raw_params(family, N)
    layer = DistributionSampling(family, seed=1)
    z = keras.ops.convert_to_numpy(layer(params))
    dist = layer.distribution([p[:1] for p in params])
    assert dist.reparameterization_type == tfd.FULLY_REPARAMETERIZED
    mean, std = dist.mean().numpy()[0], dist.stddev().numpy()[0]
    assert np.all(np.abs(z.mean(0) - mean) < mean_tolerance(std, N))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_gradients_flow_to_every_parameter(family):
    params = [tf.Variable(p) for p in _raw_params(family, 16)]
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(DistributionSampling(family, seed=2)(params) ** 2)
    grads = tape.gradient(loss, params)
    assert all(g is not None and np.all(np.isfinite(g)) and np.any(g != 0) for g in grads)


def test_implicit_gamma_gradient_matches_closed_form():
    """d/d rate E[z] = -concentration / rate^2 for z ~ Gamma(concentration, rate)."""
    conc_raw = tf.Variable(np.full((N, 1), 1.0, "float32"))
    rate_raw = tf.Variable(np.full((N, 1), 0.5, "float32"))
    with tf.GradientTape() as tape:
        z = DistributionSampling("gamma", seed=3)([conc_raw, rate_raw])
        total = tf.reduce_sum(z)
    g_rate_raw = tape.gradient(total, rate_raw).numpy()
    conc, rate = tf.math.softplus(1.0).numpy(), tf.math.softplus(0.5).numpy()
    d_rate_d_raw = tf.math.sigmoid(0.5).numpy()
    expected = -conc / rate**2 * d_rate_d_raw
    per_sample_sd = np.std(g_rate_raw)
    assert abs(g_rate_raw.mean() - expected) < mean_tolerance(per_sample_sd, N)


def test_layer_harness_and_num_samples():
    params = [np.zeros((4, 2), "float32")] * 2
    run_layer_test(DistributionSampling, {"family": "normal", "seed": 1}, params, (4, 2))
    run_layer_test(
        DistributionSampling, {"family": "gamma", "seed": 1, "num_samples": 3}, params, (4, 3, 2)
    )
    run_layer_test(
        DistributionSampling,
        {"family": "dirichlet", "seed": 1},
        np.zeros((4, 3), "float32"),
        (4, 3),
    )


@pytest.mark.parametrize("family", NOT_REPARAMETERIZABLE)
def test_discrete_families_point_to_alternatives(family):
    with pytest.raises(ValueError, match=f"(?s){family}.*GumbelSoftmaxSampling.*score-function"):
        DistributionSampling(family)


def test_unknown_family_lists_valid_ones():
    with pytest.raises(ValueError, match="Unknown distribution family.*'beta'"):
        DistributionSampling("cauchyish")


def test_wrong_number_of_parameters():
    with pytest.raises(
        ValueError, match=r"family='gamma'.* expects a list of 2 .*\[concentration, rate\]"
    ):
        DistributionSampling("gamma")(np.zeros((2, 3), "float32"))
