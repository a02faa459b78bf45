"""Measured variances match the analytic ones; QMC and antithetic beat plain MC.

The toy study of `keras_rt.experiments.variance_study` is tested in `tests/experiments`.
"""

import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from keras_rt import estimators as est

tfd = tfp.distributions
REPS = 400
# ~5 standard errors of a sample variance ratio from REPS repetitions; the
# score function's terms are heavy-tailed (excess kurtosis), hence wider.
TOL = 5 * math.sqrt(2.0 / (REPS - 1))


def test_antithetic_beats_mc_for_a_monotone_nonlinear_gradient():
    # d/dmu E[exp(x)] under N(mu, 1): per-sample gradient exp(mu + eps), monotone in eps.
    args = (
        lambda x: tf.exp(x),
        lambda m: tfd.Normal(m, tf.constant(1.0, tf.float64)),
        [tf.constant(0.3, tf.float64)],
        64,
    )
    [mc] = est.gradient_variance(est.pathwise, *args, num_repeats=200, seed=4)
    [anti] = est.gradient_variance(est.pathwise_antithetic, *args, num_repeats=200, seed=4)
    [qmc] = est.gradient_variance(est.pathwise_qmc, *args, num_repeats=200, seed=4)
    assert float(anti.variance) < 0.7 * float(mc.variance)
    # exp is unbounded in eps, so QMC gains less than on the toy, but still clearly.
    assert float(qmc.variance) * 3 < float(mc.variance)


def test_optimal_baseline_is_the_best_constant():
    # Leave-one-out estimate of b* = theta^2 + 3 -> per-sample variance 38 (< 42).
    args = (
        lambda x: tf.square(x),
        lambda m: tfd.Normal(m, tf.constant(1.0, tf.float64)),
        [tf.constant(2.0, tf.float64)],
        512,
    )
    [s] = est.gradient_variance(
        est.score_function, *args, num_repeats=REPS, seed=9, baseline="optimal"
    )
    assert abs(float(s.per_sample_variance) / 38.0 - 1) < 2 * TOL


def test_gradient_variance_summary_fields():
    [s] = est.gradient_variance(
        est.pathwise,
        lambda x: tf.square(x),
        lambda m: tfd.Normal(m, 1.0),
        [tf.constant(2.0)],
        100,
        num_repeats=50,
        seed=0,
    )
    assert s.num_samples == 100 and s.num_repeats == 50
    np.testing.assert_allclose(float(s.snr), abs(float(s.mean)) / math.sqrt(float(s.variance)))
    np.testing.assert_allclose(float(s.per_sample_variance), 100 * float(s.variance))


def test_randomized_sobol_points_are_uniform_and_stratified():
    u = est.randomized_sobol_uniform(1024, [3], seed=5, dtype=tf.float64).numpy()
    assert u.shape == (1024, 3) and u.min() > 0 and u.max() < 1
    # A scrambled net keeps exactly one point per 1/1024 slice of each coordinate.
    for d in range(3):
        assert np.array_equal(np.sort(np.floor(u[:, d] * 1024)), np.arange(1024))
    # Over randomizations, each point is uniform: mean of the first point ~ 1/2.
    firsts = np.array(
        [est.randomized_sobol_uniform(4, seed=s, dtype=tf.float64).numpy()[0] for s in range(200)]
    )
    assert abs(firsts.mean() - 0.5) < 5 * math.sqrt(1 / 12 / 200)
    # Independent groups: joint_ndims=1 gives each leading index its own randomization.
    g = est.randomized_sobol_uniform(8, [2, 1], seed=1, joint_ndims=1).numpy()
    assert not np.allclose(g[:, 0], g[:, 1])
    eps = est.randomized_sobol_normal(4096, seed=2, dtype=tf.float64).numpy()
    assert abs(eps.mean()) < 0.01 and abs(eps.std() - 1) < 0.01


def test_antithetic_pairs():
    u = est.antithetic_uniform(6, [2], seed=3, dtype=tf.float64).numpy()
    np.testing.assert_allclose(u[:3] + u[3:], 1.0)


def test_moving_average_baseline_updates():
    b = est.MovingAverageBaseline(decay=0.5)
    est.score_function(
        lambda x: tf.ones_like(x) * 4.0,
        lambda m: tfd.Normal(m, 1.0),
        [tf.constant(0.0)],
        8,
        seed=0,
        baseline=b,
    )
    assert float(b.value) == pytest.approx(2.0)
    assert est.MovingAverageBaseline.from_config(b.get_config()).decay == 0.5


def test_straight_through_gumbel_is_biased_and_rloo_is_not():
    """Documented: ST Gumbel-softmax's mean is off the true gradient; RLOO's is not."""
    logits = tf.constant([0.5, -0.5, 1.0], tf.float64)
    c = tf.constant([1.0, 0.0, 4.0], tf.float64)
    f = lambda y: tf.square(tf.reduce_sum(y * c, -1))  # noqa: E731
    dist_fn = lambda l: tfd.OneHotCategorical(logits=l, dtype=tf.float64)  # noqa: E731
    p = tf.nn.softmax(logits).numpy()
    fc = c.numpy() ** 2
    truth = p * (fc - p @ fc)
    n = 20000
    [st] = est.straight_through_gumbel_softmax(f, dist_fn, [logits], n, seed=1, temperature=1.0)
    [rl] = est.score_function(f, dist_fn, [logits], n, seed=1, baseline="rloo")
    st, rl = st.numpy(), rl.numpy()
    st_err = np.abs(st.mean(0) - truth) / (st.std(0) / math.sqrt(n))
    rl_err = np.abs(rl.mean(0) - truth) / (rl.std(0) / math.sqrt(n))
    assert np.all(rl_err < 5)
    assert np.max(st_err) > 10
    # Forward values are exact one-hot samples.
    [g] = est.straight_through_gumbel_softmax(
        lambda y: tf.reduce_sum(y, -1), dist_fn, [logits], 16, seed=0
    )
    assert g.shape == [16, 3]
