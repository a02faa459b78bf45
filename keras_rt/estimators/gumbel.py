"""Straight-through Gumbel-softmax: a biased pathwise estimator for discrete latents.

A categorical sample has no useful derivative with respect to its
probabilities, so the pathwise estimator does not apply. The Gumbel-max trick
writes a sample as `one_hot(argmax(logits + G))` with i.i.d. Gumbel noise `G`;
replacing the `argmax` by a tempered softmax,
`y_soft = softmax((logits + G) / tau)`, gives a differentiable relaxation
(the Concrete / Gumbel-softmax distribution). The *straight-through* variant
feeds the exact one-hot sample forward and uses the relaxation's gradient
backward:

    y = one_hot(argmax(logits + G)) + y_soft - stop_gradient(y_soft).

The forward value is an exact sample, but the gradient is that of a different
function, so the estimator is **biased**: its mean is not
`grad E[f(y)]` in general (the bias shrinks as `tau -> 0` while the variance
grows). It is often low-variance and useful in practice; compare it with the
unbiased `score_function(..., baseline="rloo")` on your problem.

For `tfd.Bernoulli` the same idea uses logistic noise `L`:
`y_soft = sigmoid((logits + L) / tau)`, `y_hard = 1[logits + L > 0]`.

References:
    - Jang, Gu, Poole, "Categorical Reparameterization with Gumbel-Softmax",
      ICLR 2017.
    - Maddison, Mnih, Teh, "The Concrete Distribution", ICLR 2017.
    - Bengio, Leonard, Courville, "Estimating or Propagating Gradients Through
      Stochastic Neurons", 2013 (straight-through).
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tensorflow_probability as tfp

from keras_rt.api_export import keras_rt_export
from keras_rt.estimators import core
from keras_rt.ops.validation import check_number

tfd = tfp.distributions


def _relaxed_straight_through(
    dist: tfp.distributions.Distribution, seed: tf.Tensor, temperature: tf.Tensor
) -> tf.Tensor:
    """One straight-through relaxed sample per batch member of `dist`."""
    if isinstance(dist, tfd.OneHotCategorical):
        logits = dist.logits_parameter()
        u = tf.random.stateless_uniform(
            tf.shape(logits), seed=seed, minval=1e-20, maxval=1.0, dtype=logits.dtype
        )
        gumbel = -tf.math.log(-tf.math.log(u))
        scores = logits + gumbel
        soft = tf.nn.softmax(scores / tf.cast(temperature, logits.dtype), axis=-1)
        hard = tf.one_hot(tf.argmax(scores, axis=-1), tf.shape(logits)[-1], dtype=logits.dtype)
        return hard + soft - tf.stop_gradient(soft)
    if isinstance(dist, tfd.Bernoulli):
        logits = dist.logits_parameter()
        u = tf.random.stateless_uniform(
            tf.shape(logits), seed=seed, minval=1e-20, maxval=1.0, dtype=logits.dtype
        )
        logistic = tf.math.log(u) - tf.math.log1p(-u)
        scores = logits + logistic
        soft = tf.sigmoid(scores / tf.cast(temperature, logits.dtype))
        hard = tf.cast(scores > 0, logits.dtype)
        return hard + soft - tf.stop_gradient(soft)
    raise ValueError(
        "straight_through_gumbel_softmax supports tfd.OneHotCategorical and "
        f"tfd.Bernoulli; Received: {type(dist).__name__}. For tfd.Categorical, "
        "build tfd.OneHotCategorical(logits=...) instead; for any other "
        "distribution with log_prob use score_function."
    )


@keras_rt_export()
def straight_through_gumbel_softmax(
    f: core.ObjectiveFn,
    dist_fn: core.DistributionFn,
    params: Any,
    num_samples: int,
    *,
    seed: core.Seed = None,
    temperature: float = 1.0,
) -> list[tf.Tensor]:
    """Straight-through Gumbel-softmax per-sample gradient estimates (biased).

    For each sample, the forward pass evaluates `f` at an exact one-hot (or
    0/1) sample; the backward pass differentiates the Gumbel-softmax
    relaxation at temperature `tau`:

        g_i = d f(y_i) / d y_i  *  d softmax((logits + G_i) / tau) / d theta.

    **Biased**: `mean_i g_i` does not converge to `grad E[f(y)]` in general.
    Use `score_function(..., baseline="rloo")` for an unbiased estimate.

    Args:
        f: maps samples `[N, *batch_shape, K]` (one-hot, float) or
            `[N, *batch_shape]` (Bernoulli, float 0/1) to `[N]`; must be
            differentiable in its (relaxed) input.
        dist_fn: builds a `tfd.OneHotCategorical` or `tfd.Bernoulli` from the
            parameters (through `logits` or `probs`); must broadcast over a
            leading sample axis.
        params: a tensor or a list of tensors.
        num_samples: number of samples `N` (>= 1).
        seed: stateless seed. Defaults to `None`.
        temperature: `tau > 0` of the relaxation. Defaults to `1.0`.

    Returns:
        A list with one tensor of shape `[N, *param.shape]` per parameter.

    Raises:
        ValueError: for other distributions, `temperature <= 0`, NaN
            parameters, or `f` not returning shape `[N]`.

    Example:

    >>> c = tf.constant([1.0, 2.0, 5.0])
    >>> grads = straight_through_gumbel_softmax(
    ...     lambda y: tf.reduce_sum(y * c, -1),
    ...     lambda logits: tfd.OneHotCategorical(logits=logits, dtype=tf.float32),
    ...     [tf.zeros(3)], 1000, seed=0, temperature=0.5)
    >>> grads[0].shape  # one gradient per sample
    TensorShape([1000, 3])
    >>> np.round(tf.reduce_mean(grads[0], axis=0).numpy(), 2)  # raises the logit of the best, c=5
    array([-0.47, -0.19,  0.67], dtype=float32)
    """
    with tf.name_scope("straight_through_gumbel_softmax"):
        check_number("temperature", temperature, above=0)
        originals = params
        params = core.as_param_list(params)
        num_samples = core.check_num_samples(num_samples)
        core.check_params(originals, params)
        base = core.build_distribution(dist_fn, params)
        seed = core.sanitize_seed(seed)
        tiled = core.tile_params(params, num_samples)
        with tf.GradientTape() as tape:
            tape.watch(tiled)
            dist = core.per_sample_distribution(dist_fn, tiled, base, num_samples)
            y = _relaxed_straight_through(dist, seed, temperature)
            values = core.check_per_sample_values(f(y), num_samples)
            total = tf.reduce_sum(values)
        return core.gradients_or_zeros(tape, total, tiled)
