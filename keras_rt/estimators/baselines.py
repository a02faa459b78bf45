"""Baselines (control variates) for the score-function estimator.

Because `E[grad log p_theta(x)] = 0`, subtracting any `b` that does not depend
on the sample `x_i` itself leaves the score-function estimate unbiased:

    E[(f(x) - b) grad log p(x)] = E[f(x) grad log p(x)].

A good `b` is close to `f(x)` on average, which shrinks the factor that
multiplies the (noisy) score. The choices here:

- a constant (e.g. a known `E[f]`);
- `MovingAverageBaseline`: an exponential moving average of past batches' mean
  of `f` (unbiased: it is fixed before the current samples are drawn);
- `leave_one_out_baseline` (RLOO): for sample `i`, the mean of `f` over the
  *other* samples, unbiased because it is independent of `x_i`;
- `optimal_constant_baseline`: the variance-minimizing constant
  `b* = E[f s^2] / E[s^2]` (per parameter coordinate, `s` the score),
  estimated leave-one-out from the other samples so it stays unbiased.

References:
    - Williams, "Simple statistical gradient-following algorithms", 1992.
    - Kool, van Hoof, Welling, "Buy 4 REINFORCE samples, get a baseline for
      free!", 2019 (RLOO).
    - Greensmith, Bartlett, Baxter, "Variance reduction techniques for
      gradient estimates in reinforcement learning", JMLR 2004.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tensorflow as tf

from keras_rt.api_export import keras_rt_export
from keras_rt.ops.validation import check_int, check_number


def _check_at_least_two(num_samples: int | None, what: str) -> None:
    if num_samples is not None:
        why = f" for {what} (each sample's baseline is computed from the other samples)"
        check_int("num_samples", num_samples, minimum=2, why=why)


@keras_rt_export()
def leave_one_out_baseline(values: tf.Tensor) -> tf.Tensor:
    """RLOO baseline: `b_i = (sum_j f_j - f_i) / (N - 1)`.

    Args:
        values: `f(x_j)` for the `N` samples, shape `[N]`.

    Returns:
        The baselines, shape `[N]`.

    Raises:
        ValueError: if `N < 2`.

    Example:

    >>> leave_one_out_baseline(tf.constant([1.0, 2.0, 3.0])).numpy()
    array([2.5, 2. , 1.5], dtype=float32)
    """
    with tf.name_scope("leave_one_out_baseline"):
        values = tf.convert_to_tensor(values)
        _check_at_least_two(values.shape[0], "the leave-one-out (RLOO) baseline")
        n = tf.cast(tf.shape(values)[0], values.dtype)
        return (tf.reduce_sum(values) - values) / (n - 1.0)


@keras_rt_export()
def optimal_constant_baseline(
    values: tf.Tensor,
    scores: Sequence[tf.Tensor],
    *,
    leave_one_out: bool = True,
) -> list[tf.Tensor]:
    """The variance-minimizing constant baseline, estimated from the samples.

    For each parameter coordinate `k`, the constant minimizing the variance of
    `(f - b) s_k` is `b*_k = E[f s_k^2] / E[s_k^2]`. It is estimated from the
    samples; with `leave_one_out=True` (default) sample `i` uses only the other
    samples, which keeps the estimator unbiased.

    Args:
        values: `f(x_j)`, shape `[N]`.
        scores: per-sample scores `grad log p(x_j)`, one `[N, *param.shape]`
            tensor per parameter.
        leave_one_out: exclude sample `i` from its own baseline. Defaults to
            `True`.

    Returns:
        One baseline tensor of shape `[N, *param.shape]` per parameter.

    Raises:
        ValueError: if `leave_one_out` and `N < 2`.

    Example:

    >>> x = tf.constant([1.0, 2.5, 3.0, 0.5])           # samples of N(theta=2, 1)
    >>> values, scores = x**2, [tf.reshape(x - 2.0, [4, 1])]
    >>> [b] = optimal_constant_baseline(values, scores)
    >>> b.shape
    TensorShape([4, 1])
    """
    with tf.name_scope("optimal_constant_baseline"):
        values = tf.convert_to_tensor(values)
        if leave_one_out:
            _check_at_least_two(values.shape[0], "the leave-one-out optimal baseline")
        baselines = []
        for s in scores:
            f = tf.reshape(values, [-1] + [1] * (s.shape.rank - 1))
            s2 = tf.square(s)
            num = f * s2
            if leave_one_out:
                num = tf.reduce_sum(num, axis=0) - num
                den = tf.reduce_sum(s2, axis=0) - s2
            else:
                num = tf.broadcast_to(tf.reduce_sum(num, axis=0), tf.shape(s))
                den = tf.broadcast_to(tf.reduce_sum(s2, axis=0), tf.shape(s))
            baselines.append(tf.math.divide_no_nan(num, den))
        return baselines


@keras_rt_export()
class MovingAverageBaseline(tf.Module):
    """An exponential moving average of `f`, used as a score-function baseline.

    Pass an instance as `score_function(..., baseline=MovingAverageBaseline())`:
    each call uses the current average as `b` (fixed before this call's
    samples, hence unbiased) and then updates it with the batch mean,
    `b <- decay * b + (1 - decay) * mean_i f(x_i)`.

    Args:
        decay: weight of the old average, in `[0, 1)`. Defaults to `0.9`.
        initial_value: the baseline before any update. Defaults to `0.0`.
        dtype: dtype of the stored average. Defaults to `"float32"`.
        name: module name. Defaults to `"moving_average_baseline"`.

    Example:

    >>> import tensorflow_probability as tfp
    >>> tfd = tfp.distributions
    >>> from keras_rt.estimators import score_function
    >>> baseline = MovingAverageBaseline(decay=0.9)
    >>> grads = score_function(lambda x: x**2, lambda m: tfd.Normal(m, 1.0),
    ...                        [tf.constant(2.0)], 100, seed=0, baseline=baseline)
    >>> round(float(baseline.value), 2)  # 0.9 * 0 + 0.1 * mean f(x); E[x**2] = 5
    0.47
    """

    def __init__(
        self,
        decay: float = 0.9,
        initial_value: float = 0.0,
        dtype: Any = "float32",
        name: str = "moving_average_baseline",
    ):
        super().__init__(name=name)
        self.decay = check_number("decay", decay, minimum=0, below=1)
        self.initial_value = check_number("initial_value", initial_value)
        self._dtype = tf.as_dtype(dtype)
        self.value = tf.Variable(
            self.initial_value, dtype=self._dtype, trainable=False, name="value"
        )

    def __call__(self, values: tf.Tensor) -> tf.Tensor:
        """The current baseline (before updating), broadcast to `values`' shape."""
        return tf.broadcast_to(tf.cast(self.value, values.dtype), tf.shape(values))

    def update(self, values: tf.Tensor) -> None:
        """Folds the mean of `values` into the average."""
        mean = tf.cast(tf.reduce_mean(values), self._dtype)
        self.value.assign(self.decay * self.value + (1.0 - self.decay) * mean)

    def get_config(self) -> dict:
        return {
            "decay": self.decay,
            "initial_value": self.initial_value,
            "dtype": self._dtype.name,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict) -> MovingAverageBaseline:
        return cls(**config)
