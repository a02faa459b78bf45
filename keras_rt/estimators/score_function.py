"""The score-function (REINFORCE, log-derivative) gradient estimator.

Moving the gradient inside the integral and using
`grad p = p grad log p` turns the gradient of an expectation into an
expectation,

    grad_theta E_{p_theta}[f(x)] = E_{p_theta}[ f(x) grad_theta log p_theta(x) ],

which can be averaged over samples of `p_theta`. It needs only `log_prob`, not a
differentiable sampler nor a differentiable `f`, so it works for discrete
distributions and black-box objectives. The price is variance: the per-sample
term multiplies the size of `f(x)` (not its change) by the noisy score. For
`x ~ N(theta, 1)`, `f = x^2` the per-sample variance is
`theta^4 + 14 theta^2 + 15` (87 at `theta = 2`, against 4 for the pathwise
estimator). A baseline `b` (see `keras_rt.estimators.baselines`) replaces
`f(x)` by `f(x) - b` and removes much of it.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import tensorflow as tf

from keras_rt.api_export import keras_rt_export
from keras_rt.estimators import core
from keras_rt.estimators.baselines import (
    MovingAverageBaseline,
    leave_one_out_baseline,
    optimal_constant_baseline,
)

Baseline: TypeAlias = None | float | tf.Tensor | str | MovingAverageBaseline
BASELINE_NAMES = ("rloo", "optimal")


def _validate_baseline(baseline: Baseline, num_samples: int) -> None:
    if isinstance(baseline, str):
        if baseline not in BASELINE_NAMES:
            raise ValueError(
                "`baseline` must be None, a number, a MovingAverageBaseline or one "
                f"of {list(BASELINE_NAMES)}. Received: baseline={baseline!r}"
            )
        core.check_num_samples(
            num_samples,
            2,
            f" with baseline={baseline!r} (each sample's baseline comes from the other samples)",
        )


@keras_rt_export()
def score_function(
    f: core.ObjectiveFn,
    dist_fn: core.DistributionFn,
    params: Any,
    num_samples: int,
    *,
    seed: core.Seed = None,
    baseline: Baseline = None,
    local_signals: bool = False,
) -> list[tf.Tensor]:
    """Score-function (REINFORCE) per-sample gradient estimates.

    With `x_i ~ p_theta` (sampled without gradient) and score
    `s_i = grad_theta log p_theta(x_i)`, the per-sample estimate is

        g_i = (f(x_i) - b_i) * s_i,

    unbiased for `grad_theta E[f(x)]` whenever `b_i` does not depend on `x_i`.

    Args:
        f: maps samples `[N, *batch_shape, *event_shape]` to one scalar per
            sample, shape `[N]`. Need not be differentiable; must not depend
            on `params`.
        dist_fn: builds the distribution: `dist_fn(*params)`; any TFP
            distribution with `log_prob`, discrete ones included. It must
            broadcast over a leading sample axis (see
            `keras_rt.estimators.core`).
        params: a tensor or a list of tensors.
        num_samples: number of samples `N` (>= 1; >= 2 for `"rloo"` and
            `"optimal"`).
        seed: stateless seed: an int, a shape-[2] int tensor, or `None`.
            Defaults to `None`.
        baseline: the control variate `b_i`. Defaults to `None` (no baseline).
            - a number or scalar tensor: a constant `b`.
            - a `MovingAverageBaseline`: its current value, which is then
              updated with this call's mean of `f`.
            - `"rloo"`: leave-one-out, `b_i = mean_{j != i} f(x_j)`.
            - `"optimal"`: the variance-minimizing constant per parameter
              coordinate, `E[f s^2] / E[s^2]`, estimated leave-one-out.
        local_signals: if `True`, `f` returns a learning signal per sample
            *and batch member*, shape `[N, *batch_shape]`: for member `b`, the
            sum of the objective's terms that can depend on `x_ib` (batch
            members must be independent). Member `b`'s score is then
            multiplied only by its own signal,
            `g_i = sum_b (f_ib - b_ib) grad log p(x_ib)`; the dropped terms do
            not depend on `x_ib`, so their products with its score have zero
            mean and the estimate stays unbiased, with far less variance (the
            "local learning signals" of Mnih and Gregor, 2014). For an
            objective that is a sum of per-member terms (a per-example loss
            over a batch) the signal is just the member's term. Baselines
            then apply per member (`"optimal"` is not available). Defaults to
            `False`.

    Returns:
        A list with one tensor of shape `[N, *param.shape]` per parameter.

    Raises:
        ValueError: on NaN parameters, `f` not returning shape `[N]`, an
            unknown baseline, or `N < 2` with `"rloo"` / `"optimal"`.

    Example:

    >>> import tensorflow_probability as tfp
    >>> tfd = tfp.distributions
    >>> grads = score_function(lambda x: x**2, lambda m: tfd.Normal(m, 1.0),
    ...                        [tf.constant(2.0)], 1000, seed=0, baseline="rloo")
    >>> grads[0].shape  # one gradient per sample
    TensorShape([1000])
    >>> round(float(tf.reduce_mean(grads[0])), 2)  # about 2 * theta = 4
    4.25
    """
    with tf.name_scope("score_function"):
        originals = params
        params = core.as_param_list(params)
        num_samples = core.check_num_samples(num_samples)
        _validate_baseline(baseline, num_samples)
        core.check_params(originals, params)
        base = core.build_distribution(dist_fn, params)
        seed = core.sanitize_seed(seed)

        x = tf.stop_gradient(base.sample(num_samples, seed=seed))
        tiled = core.tile_params(params, num_samples)
        if local_signals:
            return _local_signal_gradients(f, dist_fn, base, tiled, x, num_samples, baseline)
        values = tf.stop_gradient(core.check_per_sample_values(f(x), num_samples))

        with tf.GradientTape() as tape:
            tape.watch(tiled)
            dist = core.per_sample_distribution(dist_fn, tiled, base, num_samples)
            log_prob = core.sum_to_per_sample(dist.log_prob(x), num_samples)
            total = tf.reduce_sum(log_prob)
        scores = core.gradients_or_zeros(tape, total, tiled)

        if isinstance(baseline, str) and baseline == "optimal":
            values_like = [tf.cast(values, s.dtype) for s in scores]
            baselines = optimal_constant_baseline(values, scores, leave_one_out=True)
            return [
                (tf.reshape(v, [-1] + [1] * (s.shape.rank - 1)) - b) * s
                for v, b, s in zip(values_like, baselines, scores)
            ]

        if baseline is None:
            centered = values
        elif isinstance(baseline, str):  # "rloo"
            centered = values - leave_one_out_baseline(values)
        elif isinstance(baseline, MovingAverageBaseline):
            centered = values - baseline(values)
            baseline.update(values)
        else:
            centered = values - tf.cast(baseline, values.dtype)
        return [
            tf.reshape(tf.cast(centered, s.dtype), [-1] + [1] * (s.shape.rank - 1)) * s
            for s in scores
        ]


def _local_signal_gradients(f, dist_fn, base, tiled, x, num_samples, baseline):
    """`g_i = grad_theta_i sum_b (f_ib - b_ib) log p(x_ib)`: per-member signals."""
    if isinstance(baseline, str) and baseline == "optimal":
        raise ValueError(
            "baseline='optimal' is not available with local_signals=True; "
            "use 'rloo', a constant or a MovingAverageBaseline."
        )
    expected = tf.TensorShape([num_samples]).concatenate(base.batch_shape)
    values = tf.convert_to_tensor(f(x))
    if values.shape.rank is not None and not values.shape.is_compatible_with(expected):
        raise ValueError(
            "with local_signals=True, f must return one value per sample and "
            f"batch member, shape {expected.as_list()}; Received: shape "
            f"{values.shape.as_list()}"
        )
    values = tf.stop_gradient(values)
    if baseline is None:
        centered = values
    elif isinstance(baseline, str):  # "rloo", per batch member
        n = tf.cast(num_samples, values.dtype)
        centered = values - (tf.reduce_sum(values, axis=0) - values) / (n - 1.0)
    elif isinstance(baseline, MovingAverageBaseline):
        centered = values - baseline(values)
        baseline.update(values)
    else:
        centered = values - tf.cast(baseline, values.dtype)
    with tf.GradientTape() as tape:
        tape.watch(tiled)
        dist = core.per_sample_distribution(dist_fn, tiled, base, num_samples)
        log_prob = dist.log_prob(x)
        total = tf.reduce_sum(tf.cast(centered, log_prob.dtype) * log_prob)
    return core.gradients_or_zeros(tape, total, tiled)
