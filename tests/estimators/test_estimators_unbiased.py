"""Every estimator is unbiased on closed-form cases (tolerance from the sample count)."""

import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from keras_rt import estimators as est
from tests.stats import Z

tfd = tfp.distributions
N = 4096
F64 = tf.float64


def _c(*values):
    return [tf.constant(v, F64) for v in values]


# name -> (f, dist_fn, params, true gradients, estimators that apply)
MU, SIGMA, ALPHA, BETA, LOGIT = 0.7, 1.3, 2.5, 1.5, 0.4
COEF = np.array([1.0, -2.0, 3.0])
CAT_LOGITS = np.array([0.2, -0.5, 1.0])


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _cat_grad():
    p = _softmax(CAT_LOGITS)
    return p * (COEF - p @ COEF)


CASES = {
    # E[x^2] = mu^2 + sigma^2 under N(mu, sigma): grads (2 mu, 2 sigma).
    "normal_mean_scale": (
        lambda x: tf.square(x),
        lambda m, s: tfd.Normal(m, s),
        lambda: _c(MU, SIGMA),
        [2 * MU, 2 * SIGMA],
    ),
    # E[x] = alpha / beta under Gamma(alpha, rate beta), implicitly reparameterized.
    "gamma_implicit": (
        lambda x: x,
        lambda a, b: tfd.Gamma(a, b),
        lambda: _c(ALPHA, BETA),
        [1 / BETA, -ALPHA / BETA**2],
    ),
    # E[3 x + 1] = 3 sigmoid(l) + 1 under Bernoulli(logits l).
    "bernoulli": (
        lambda x: 3.0 * x + 1.0,
        lambda l: tfd.Bernoulli(logits=l, dtype=F64),
        lambda: _c(LOGIT),
        [3 * (1 / (1 + math.exp(-LOGIT))) * (1 / (1 + math.exp(LOGIT)))],
    ),
    # E[c . y] = c . softmax(logits) under OneHotCategorical.
    "categorical": (
        lambda y: tf.reduce_sum(y * tf.constant(COEF, F64), axis=-1),
        lambda l: tfd.OneHotCategorical(logits=l, dtype=F64),
        lambda: [tf.constant(CAT_LOGITS, F64)],
        [_cat_grad()],
    ),
}

CONTINUOUS = ["normal_mean_scale", "gamma_implicit"]
ALL = list(CASES)

ESTIMATORS = {
    "pathwise": (est.pathwise, {}, CONTINUOUS),
    "pathwise_antithetic": (est.pathwise_antithetic, {}, ["normal_mean_scale"]),
    "pathwise_qmc": (est.pathwise_qmc, {}, ["normal_mean_scale"]),
    "score_function": (est.score_function, {}, ALL),
    "score_function_constant": (est.score_function, {"baseline": 1.5}, ALL),
    "score_function_rloo": (est.score_function, {"baseline": "rloo"}, ALL),
    "score_function_optimal": (est.score_function, {"baseline": "optimal"}, ALL),
    "score_function_moving_average": (
        est.score_function,
        {"baseline": "moving_average"},
        ["normal_mean_scale", "bernoulli"],
    ),
}

PAIRS = [(e, c) for e, (_, _, cases) in ESTIMATORS.items() for c in cases]


@pytest.mark.parametrize("estimator_name,case", PAIRS)
def test_unbiased_on_closed_form_case(estimator_name, case):
    estimator, options, _ = ESTIMATORS[estimator_name]
    f, dist_fn, make_params, truth = CASES[case]
    params = make_params()
    options = dict(options)
    if options.get("baseline") == "moving_average":
        baseline = est.MovingAverageBaseline(decay=0.5, dtype="float64")
        est.score_function(f, dist_fn, params, 64, seed=1, baseline=baseline)  # warm it up
        options["baseline"] = baseline
    grads = estimator(f, dist_fn, params, N, seed=[3, 4], **options)
    for g, p, t in zip(grads, params, truth):
        assert g.shape == [N] + p.shape.as_list()
        g = g.numpy()
        mean = g.mean(axis=0)
        # Antithetic / QMC rows are dependent; sqrt(2) covers the worst case of
        # positively correlated pairs, QMC is far inside it.
        tol = Z * math.sqrt(2.0) * g.std(axis=0) / math.sqrt(N) + 1e-9
        np.testing.assert_array_less(np.abs(mean - t), tol)


def test_average_gradient_is_the_mean_of_the_per_sample_gradients():
    f, dist_fn, make_params, _ = CASES["normal_mean_scale"]
    params = make_params()
    per_sample = est.pathwise(f, dist_fn, params, 64, seed=5)
    averaged = est.average_gradient(est.pathwise, f, dist_fn, params, 64, seed=5)
    for g, a in zip(per_sample, averaged):
        np.testing.assert_allclose(tf.reduce_mean(g, 0).numpy(), a.numpy())


def test_same_seed_same_result_different_seed_different_result():
    f, dist_fn, make_params, _ = CASES["normal_mean_scale"]
    params = make_params()
    a = est.score_function(f, dist_fn, params, 16, seed=7)[0].numpy()
    b = est.score_function(f, dist_fn, params, 16, seed=7)[0].numpy()
    c = est.score_function(f, dist_fn, params, 16, seed=8)[0].numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_matches_tfp_monte_carlo_expectation_on_the_same_samples():
    """Per-sample gradients average to the gradient of TFP's surrogate objective."""
    mu, sigma = _c(MU, SIGMA)
    seed = [11, 12]
    f = lambda x: tf.square(x)  # noqa: E731

    # Score function: samples drawn from the same seed, no reparameterization.
    x = tf.stop_gradient(tfd.Normal(mu, sigma).sample(256, seed=seed))
    with tf.GradientTape() as tape:
        tape.watch([mu, sigma])
        value = tfp.monte_carlo.expectation(
            f, x, log_prob=tfd.Normal(mu, sigma).log_prob, use_reparameterization=False
        )
    expected = tape.gradient(value, [mu, sigma])
    got = est.average_gradient(
        est.score_function, f, lambda m, s: tfd.Normal(m, s), [mu, sigma], 256, seed=seed
    )
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-10)

    # Pathwise: identical to differentiating the plain sample mean.
    with tf.GradientTape() as tape:
        tape.watch([mu, sigma])
        xs = tfd.Normal(tf.broadcast_to(mu, [256]), tf.broadcast_to(sigma, [256])).sample(seed=seed)
        value = tfp.monte_carlo.expectation(f, xs, use_reparameterization=True)
    expected = tape.gradient(value, [mu, sigma])
    got = est.average_gradient(
        est.pathwise, f, lambda m, s: tfd.Normal(m, s), [mu, sigma], 256, seed=seed
    )
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-10)


def test_estimators_run_inside_tf_function():
    f, dist_fn, make_params, _ = CASES["normal_mean_scale"]
    params = make_params()

    @tf.function
    def grads(seed):
        return [
            est.average_gradient(e, f, dist_fn, params, 128, seed=seed)[0]
            for e in (est.pathwise, est.pathwise_qmc, est.pathwise_antithetic, est.score_function)
        ]

    out = grads(tf.constant([1, 2]))
    for g in out:
        assert abs(float(g) - 2 * MU) < 1.0


def test_local_signals_are_unbiased_and_lower_variance():
    """Per-member learning signals for a sum of independent terms."""
    locs = tf.constant([0.5, -1.0, 2.0], F64)
    dist_fn = lambda m: tfd.Normal(m, tf.ones_like(m))  # noqa: E731
    f_total = lambda x: tf.reduce_sum(tf.square(x), -1)  # noqa: E731
    f_local = lambda x: tf.square(x)  # noqa: E731
    [g_local] = est.score_function(
        f_local, dist_fn, [locs], N, seed=2, local_signals=True, baseline="rloo"
    )
    [g_total] = est.score_function(f_total, dist_fn, [locs], N, seed=2, baseline="rloo")
    g_local = g_local.numpy()
    tol = Z * g_local.std(0) / math.sqrt(N)
    np.testing.assert_array_less(np.abs(g_local.mean(0) - 2 * locs.numpy()), tol)
    assert np.all(g_local.var(0) < g_total.numpy().var(0))
