"""Bad input gives a clear error that names the problem."""

import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from keras_rt import estimators as est

tfd = tfp.distributions
normal = lambda m: tfd.Normal(m, 1.0)  # noqa: E731
square = lambda x: tf.square(x)  # noqa: E731


def test_pathwise_refuses_a_non_reparameterized_distribution():
    with pytest.raises(ValueError, match=r"Bernoulli.*NOT_REPARAMETERIZED.*score_function"):
        est.pathwise(
            lambda x: x,
            lambda l: tfd.Bernoulli(logits=l, dtype=tf.float32),
            [tf.constant(0.3)],
            8,
            seed=0,
        )


@pytest.mark.parametrize(
    "estimator", [est.pathwise, est.score_function, est.pathwise_qmc, est.pathwise_antithetic]
)
def test_f_must_return_one_scalar_per_sample(estimator):
    with pytest.raises(ValueError, match=r"one scalar per sample, shape \[8\].*\[8, 3\]"):
        estimator(lambda x: tf.tile(x[:, None], [1, 3]), normal, [tf.constant(1.0)], 8, seed=0)


def test_rloo_needs_two_samples():
    with pytest.raises(
        ValueError,
        match=r"`num_samples` must be an integer >= 2 with baseline='rloo'.*num_samples=1",
    ):
        est.score_function(square, normal, [tf.constant(1.0)], 1, seed=0, baseline="rloo")
    with pytest.raises(ValueError, match="RLOO"):
        est.leave_one_out_baseline(tf.constant([1.0]))


@pytest.mark.parametrize("estimator", [est.pathwise, est.score_function])
def test_nan_parameters_are_named(estimator):
    scale = tf.Variable(float("nan"), name="scale")
    with pytest.raises(ValueError, match=r"params\[1\] \(scale\) contains NaN"):
        estimator(square, lambda m, s: tfd.Normal(m, s), [tf.constant(0.0), scale], 8, seed=0)


def test_nan_parameters_inside_tf_function_fail_at_run_time():
    @tf.function
    def run(p):
        return est.pathwise(square, normal, [p], 8, seed=0)

    with pytest.raises(tf.errors.InvalidArgumentError, match=r"params\[0\].* contains NaN"):
        run(tf.constant(float("nan")))


def test_other_bad_options():
    p = [tf.constant(1.0)]
    with pytest.raises(ValueError, match="`noise` must be one of"):
        est.pathwise(square, normal, p, 8, noise="sobol")
    with pytest.raises(ValueError, match="`baseline` must be"):
        est.score_function(square, normal, p, 8, baseline="mean")
    with pytest.raises(ValueError, match="`num_samples` must be an integer >= 1"):
        est.pathwise(square, normal, p, 0)
    with pytest.raises(ValueError, match="must return a tfp.distributions.Distribution"):
        est.pathwise(square, lambda m: m, p, 8)
    with pytest.raises(ValueError, match="`temperature` must be a number > 0"):
        est.straight_through_gumbel_softmax(
            square, lambda l: tfd.Bernoulli(logits=l), p, 8, temperature=0.0
        )
    with pytest.raises(ValueError, match="supports tfd.OneHotCategorical and tfd.Bernoulli"):
        est.straight_through_gumbel_softmax(square, normal, p, 8)
    with pytest.raises(ValueError, match="floating-point"):
        est.pathwise(square, normal, [tf.constant(1)], 8)


def test_dist_fn_that_does_not_broadcast_over_samples_is_explained():
    # A scalar scale next to a vector loc: tiled, the batch shapes do not line up.
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError)):
        est.pathwise(
            lambda x: tf.reduce_sum(x, -1),
            lambda m, s: tfd.Normal(m, s),
            [tf.zeros([3]), tf.constant(1.0)],
            8,
            seed=0,
        )


def test_qmc_needs_a_quantile():
    with pytest.raises(ValueError, match="scalar events"):
        est.pathwise_qmc(
            lambda x: tf.reduce_sum(x, -1),
            lambda m: tfd.MultivariateNormalDiag(m, tf.ones_like(m)),
            [tf.zeros([2])],
            8,
            seed=0,
        )
