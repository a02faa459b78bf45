"""The shared signature of every gradient estimator, and what they all check.

Every estimator in `keras_rt.estimators` is a pure function

    estimator(f, dist_fn, params, num_samples, *, seed=None, **options)
        -> list of per-sample gradients, one `[num_samples, *param.shape]`
           tensor per parameter

that estimates the gradient of the expectation

    L(theta) = E_{x ~ p_theta}[f(x)]

with respect to each tensor in `params`, where `p_theta = dist_fn(*params)`
is a TensorFlow Probability distribution. The mean over the first axis of each
returned tensor is the estimate; the spread over that axis is what makes the
variance of an estimator measurable (see `keras_rt.estimators.variance`).

Per-sample gradients are computed without a per-sample backward pass: every
parameter is tiled along a new leading axis of size `num_samples`, so sample
`i` depends only on copy `i` of the parameters, and the gradient of the *sum*
over samples with respect to the tiled copies is exactly the stack of
per-sample gradients. This requires `dist_fn` to broadcast: called with every
parameter carrying an extra leading axis of size `num_samples`, it must build a
distribution whose batch shape gains that leading axis. Distributions built
elementwise from their arguments (`tfd.Normal(loc, scale)`, `tfd.Gamma(...)`,
`tfd.Bernoulli(logits=...)`, `tfd.OneHotCategorical(logits=...)`, and
`tfd.Independent` of them) do this whenever all parameters already have the
distribution's batch shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from keras_rt.api_export import keras_rt_export
from keras_rt.ops.validation import check_int

tfd = tfp.distributions

Seed: TypeAlias = int | Sequence[int] | tf.Tensor | None
ObjectiveFn: TypeAlias = Callable[[tf.Tensor], tf.Tensor]
DistributionFn: TypeAlias = Callable[..., tfp.distributions.Distribution]
Estimator: TypeAlias = Callable[..., list]


def as_param_list(params: Any) -> list[tf.Tensor]:
    """Converts `params` (one tensor or a sequence) to a list of float tensors."""
    if isinstance(params, (tf.Tensor, tf.Variable)) or not isinstance(params, (list, tuple)):
        params = [params]
    if not params:
        raise ValueError("`params` is empty: pass at least one parameter tensor.")
    out = []
    for i, p in enumerate(params):
        t = tf.convert_to_tensor(p)
        if not t.dtype.is_floating:
            raise ValueError(
                f"params[{i}] must be a floating-point tensor to be differentiated; "
                f"Received: dtype={t.dtype.name}"
            )
        out.append(t)
    return out


def _param_name(params: Sequence[Any], i: int) -> str:
    name = getattr(params[i], "name", None) if isinstance(params, (list, tuple)) else None
    if isinstance(name, str) and name:
        return f"params[{i}] ({name.split(':')[0]})"
    return f"params[{i}]"


def check_params(original: Any, params: Sequence[tf.Tensor]) -> None:
    """Raises a `ValueError` naming the first parameter that holds NaN.

    In eager mode the check is a Python `ValueError`; inside a `tf.function`
    it becomes a `tf.debugging.assert_all_finite` op that fails at run time
    with the same message.
    """
    originals = original if isinstance(original, (list, tuple)) else [original]
    for i, p in enumerate(params):
        name = _param_name(originals, i)
        if tf.executing_eagerly():
            if bool(tf.reduce_any(tf.math.is_nan(p))):
                raise ValueError(
                    f"{name} contains NaN; gradient estimators need finite "
                    f"parameters. Received: {name}={p.numpy()!r}"
                )
        else:
            tf.debugging.assert_all_finite(p, f"{name} contains NaN or Inf")


def check_num_samples(num_samples: int, minimum: int = 1, why: str = "") -> int:
    """Returns the static sample count as an `int`, or raises `ValueError` unless it is >= `minimum`.

    Args:
        num_samples: the sample count (a Python or NumPy integer).
        minimum: the smallest valid count. Defaults to `1`.
        why: text appended to the requirement in the message, e.g.
            `" with baseline='rloo'"`. Defaults to `""`.

    Returns:
        `int(num_samples)`.

    Example:

    >>> check_num_samples(8)
    8
    """
    return check_int("num_samples", num_samples, minimum=minimum, why=why)


def build_distribution(
    dist_fn: DistributionFn, params: Sequence[tf.Tensor]
) -> tfp.distributions.Distribution:
    """Calls `dist_fn(*params)` and checks that it returned a TFP distribution."""
    dist = dist_fn(*params)
    if not isinstance(dist, tfd.Distribution):
        raise ValueError(
            f"dist_fn must return a tfp.distributions.Distribution; Received: {type(dist).__name__}"
        )
    return dist


def tile_params(params: Sequence[tf.Tensor], num_samples: int) -> list[tf.Tensor]:
    """One copy of every parameter per sample: shapes `[num_samples, *p.shape]`."""
    tiled = []
    for p in params:
        if p.shape.is_fully_defined():
            shape = [num_samples] + p.shape.as_list()
        else:
            shape = tf.concat([[num_samples], tf.shape(p)], 0)
        tiled.append(tf.broadcast_to(p[tf.newaxis], shape))
    return tiled


def per_sample_distribution(
    dist_fn: DistributionFn,
    tiled: Sequence[tf.Tensor],
    base: tfp.distributions.Distribution,
    num_samples: int,
) -> tfp.distributions.Distribution:
    """Builds `dist_fn(*tiled)` and checks its batch shape is `[N, *base.batch_shape]`."""
    dist = build_distribution(dist_fn, tiled)
    expected = tf.TensorShape([num_samples]).concatenate(base.batch_shape)
    got = dist.batch_shape
    if got.rank is not None and expected.rank is not None and not got.is_compatible_with(expected):
        raise ValueError(
            "dist_fn must broadcast over a leading sample axis of the parameters: "
            f"with parameters tiled to a leading axis of {num_samples}, the "
            f"distribution's batch shape should be {expected}, but it is {got}. "
            "Give every parameter the distribution's full batch shape."
        )
    return dist


def check_per_sample_values(values: Any, num_samples: int, what: str = "f") -> tf.Tensor:
    """Checks that `values` holds one scalar per sample: shape `[num_samples]`."""
    values = tf.convert_to_tensor(values)
    shape = values.shape
    if shape.rank is not None and (
        shape.rank != 1 or (shape[0] is not None and shape[0] != num_samples)
    ):
        raise ValueError(
            f"{what} must return one scalar per sample, shape [{num_samples}]; "
            f"Received: shape {shape.as_list()}. Reduce over the non-sample "
            "axes inside f (e.g. tf.reduce_sum(..., axis=-1))."
        )
    if not values.dtype.is_floating:
        values = tf.cast(values, tf.float32)
    return values


def sum_to_per_sample(values: tf.Tensor, num_samples: int) -> tf.Tensor:
    """Sums every axis but the first: `[N, ...] -> [N]`."""
    return tf.reshape(tf.reduce_sum(tf.reshape(values, [num_samples, -1]), axis=-1), [num_samples])


def gradients_or_zeros(
    tape: tf.GradientTape, target: tf.Tensor, sources: Sequence[tf.Tensor]
) -> list[tf.Tensor]:
    """`tape.gradient` with `None` (parameter not used) replaced by zeros."""
    grads = tape.gradient(target, list(sources))
    return [tf.zeros_like(s) if g is None else g for g, s in zip(grads, sources)]


def sanitize_seed(seed: Seed) -> tf.Tensor:
    """A stateless seed (shape-[2] int32 tensor) from an int, a pair, or None.

    An int maps to a fixed pair, so the same int always gives the same draws
    (`tfp.random.sanitize_seed` would treat it as a stateful op seed). `None`
    draws a fresh random seed.
    """
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        seed = int(seed)
        seed = tf.constant([seed & 0x7FFFFFFF, (seed >> 31) & 0x7FFFFFFF], tf.int32)
    return tfp.random.sanitize_seed(seed)


@keras_rt_export()
def average_gradient(
    estimator: Estimator,
    f: ObjectiveFn,
    dist_fn: DistributionFn,
    params: Any,
    num_samples: int,
    **options: Any,
) -> list[tf.Tensor]:
    """The gradient estimate itself: the per-sample estimates averaged.

    Args:
        estimator: any estimator of `keras_rt.estimators` (`pathwise`,
            `score_function`, `pathwise_qmc`, ...).
        f, dist_fn, params, num_samples: as for the estimator.
        **options: keyword options of the estimator, including `seed`.

    Returns:
        A list with one tensor per parameter, of the parameter's shape.

    Example:

    >>> from keras_rt.estimators import pathwise
    >>> grads = average_gradient(
    ...     pathwise, lambda x: x**2, lambda m: tfd.Normal(m, 1.0),
    ...     [tf.constant(2.0)], 1000, seed=1)
    >>> round(float(grads[0]), 2)  # d/dtheta E[x^2] = 2 * theta = 4
    3.96
    """
    with tf.name_scope("average_gradient"):
        per_sample = estimator(f, dist_fn, params, num_samples, **options)
        return [tf.reduce_mean(g, axis=0) for g in per_sample]
