"""Measuring an estimator: mean, variance and signal-to-noise ratio.

An estimator with `N` samples returns one gradient estimate
`g_hat = mean_i g_i`. Its quality is the spread of `g_hat` over independent
repetitions: the variance `Var[g_hat]` (lower is better) and the
signal-to-noise ratio `SNR = |E[g_hat]| / sqrt(Var[g_hat])` (higher is
better). For independent samples `Var[g_hat] = Var[g_i] / N`, so
`N * Var[g_hat]` (the *per-sample variance*) is a constant of the estimator;
antithetic and quasi-Monte Carlo samples are not independent, which is why the
variance is measured here over repeated draws of the whole estimate rather
than from the spread of one draw's rows.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import tensorflow as tf
import tensorflow_probability as tfp

from keras_rt.api_export import keras_rt_export
from keras_rt.estimators import core
from keras_rt.ops.validation import check_int


@dataclasses.dataclass(frozen=True)
class GradientStats:
    """Summary of repeated gradient estimates of one parameter.

    Attributes:
        mean: mean of the estimates over repetitions, `param.shape`.
        variance: unbiased variance over repetitions of the `N`-sample
            estimate, `param.shape`.
        snr: `|mean| / sqrt(variance)`, elementwise (`inf` where the
            variance is 0).
        num_samples: `N`, samples per estimate.
        num_repeats: number of repetitions.

    Example:

    >>> import tensorflow_probability as tfp
    >>> tfd = tfp.distributions
    >>> from keras_rt.estimators import pathwise
    >>> [stats] = gradient_variance(pathwise, lambda x: x**2, lambda m: tfd.Normal(m, 1.0),
    ...                             [tf.constant(2.0)], 100, seed=0)
    >>> [round(float(v), 2) for v in (stats.mean, stats.variance, stats.snr)]
    [4.02, 0.04, 20.16]
    """

    mean: tf.Tensor
    variance: tf.Tensor
    snr: tf.Tensor
    num_samples: int
    num_repeats: int

    @property
    def per_sample_variance(self) -> tf.Tensor:
        """`N * variance`: the variance of one sample's term when samples are independent."""
        return self.variance * float(self.num_samples)

    @property
    def total_variance(self) -> tf.Tensor:
        """Sum of the variances over the parameter's elements (trace of the covariance)."""
        return tf.reduce_sum(self.variance)


@keras_rt_export()
def summarize_draws(draws: tf.Tensor, num_samples: int = 1) -> GradientStats:
    """Mean, variance and SNR of repeated estimates stacked on the first axis.

    Args:
        draws: `[R, *param.shape]`, one estimate per repetition (`R >= 2`).
        num_samples: samples behind each estimate (only recorded, and used
            by `per_sample_variance`). Defaults to `1`.

    Returns:
        A `GradientStats`.

    Example:

    >>> stats = summarize_draws(tf.random.normal([100, 3], seed=0))
    >>> stats.mean.shape, stats.num_repeats
    (TensorShape([3]), 100)
    """
    with tf.name_scope("summarize_draws"):
        draws = tf.convert_to_tensor(draws)
        repeats = draws.shape[0]
        if repeats is not None and repeats < 2:
            raise ValueError(
                f"need at least 2 repeated estimates to measure a variance; Received: {repeats}"
            )
        r = tf.cast(tf.shape(draws)[0], draws.dtype)
        mean = tf.reduce_mean(draws, axis=0)
        variance = tf.reduce_sum(tf.square(draws - mean), axis=0) / (r - 1.0)
        snr = tf.abs(mean) / tf.sqrt(variance)
        return GradientStats(
            mean=mean,
            variance=variance,
            snr=snr,
            num_samples=int(num_samples),
            num_repeats=int(repeats) if repeats is not None else -1,
        )


@keras_rt_export()
def gradient_variance(
    estimator: core.Estimator,
    f: core.ObjectiveFn,
    dist_fn: core.DistributionFn,
    params: Any,
    num_samples: int,
    *,
    num_repeats: int = 100,
    seed: core.Seed = None,
    **options: Any,
) -> list[GradientStats]:
    """Mean, variance and SNR of an estimator at a given sample count.

    Runs `estimator(f, dist_fn, params, num_samples, seed=s_r, **options)` for
    `num_repeats` independent seeds `s_r` (inside one compiled `tf.function`
    and one `tf.map_fn`), averages each run's per-sample gradients into one
    estimate, and summarizes the spread of those estimates.

    Args:
        estimator: any estimator of `keras_rt.estimators`.
        f, dist_fn, params, num_samples: as for the estimator.
        num_repeats: number of independent estimates `R` (>= 2).
            Defaults to `100`.
        seed: stateless seed the `R` seeds are split from. Defaults to `None`.
        **options: keyword options passed to the estimator (e.g.
            `baseline="rloo"`).

    Returns:
        One `GradientStats` per parameter.

    Example:

    >>> import tensorflow_probability as tfp
    >>> tfd = tfp.distributions
    >>> from keras_rt.estimators import score_function
    >>> [stats] = gradient_variance(
    ...     score_function, lambda x: x**2, lambda m: tfd.Normal(m, 1.0),
    ...     [tf.constant(2.0)], 100, num_repeats=200, seed=0)
    >>> round(float(stats.per_sample_variance))  # variance of one sample's gradient
    84
    """
    num_repeats = check_int("num_repeats", num_repeats, minimum=2, why=" to measure a variance")
    originals = params
    params = core.as_param_list(params)
    num_samples = core.check_num_samples(num_samples)
    core.check_params(originals, params)
    seeds = tfp.random.split_seed(core.sanitize_seed(seed), n=num_repeats)
    seeds = tf.stack(seeds) if isinstance(seeds, (list, tuple)) else seeds

    def one_estimate(s: tf.Tensor) -> list[tf.Tensor]:
        grads = estimator(f, dist_fn, params, num_samples, seed=s, **options)
        return [tf.reduce_mean(g, axis=0) for g in grads]

    @tf.function(autograph=False)
    def all_estimates(seeds: tf.Tensor) -> list[tf.Tensor]:
        signature = [tf.TensorSpec(p.shape, p.dtype) for p in params]
        return tf.map_fn(one_estimate, seeds, fn_output_signature=signature)

    with tf.name_scope("gradient_variance"):
        # A concrete function is traced once and called directly: no retracing
        # warnings when many studies each build their own.
        draws = all_estimates.get_concrete_function(seeds)(seeds)
        return [summarize_draws(d, num_samples) for d in draws]
