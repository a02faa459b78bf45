"""Antithetic uniform noise: every draw `u` is paired with its mirror `1 - u`.

If `g` is monotone in `u`, then `g(u)` and `g(1 - u)` are negatively
correlated, so their average varies less than the average of two independent
draws, and it is still unbiased because `1 - u` is uniform too. Through an
inverse CDF this pairs `x = F^{-1}(u)` with `x' = F^{-1}(1 - u)`; for a normal
that is the familiar `mu + sigma * eps` with `mu - sigma * eps`. For a
gradient that is linear in the noise (the pathwise gradient of `x**2` under
`N(theta, 1)` is `2 (theta + eps)`) the pair average is exact: zero variance.

Reference:
    Hammersley, Morton, "A new Monte Carlo technique: antithetic variates",
    1956.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from keras_rt.api_export import keras_rt_export
from keras_rt.estimators.core import Seed, check_num_samples, sanitize_seed
from keras_rt.estimators.qmc import _clip_open_unit, _static_shape


@keras_rt_export()
def antithetic_uniform(
    num_samples: int,
    shape: Sequence[int] = (),
    *,
    seed: Seed = None,
    dtype: tf.DType = tf.float32,
) -> tf.Tensor:
    """Uniform noise in antithetic pairs: `[u_1..u_M, 1-u_1..1-u_M]`.

    Sample `i` and sample `i + ceil(N/2)` form a pair. With an odd
    `num_samples` the last draw has no partner (the estimate stays unbiased;
    prefer even counts). Every row is marginally uniform; rows are *not*
    independent, so measure the variance of an average over repeated draws
    (`keras_rt.estimators.gradient_variance`), not as `Var[row] / N`.

    Args:
        num_samples: number of points `N` (>= 1).
        shape: shape of one point. Defaults to `()`.
        seed: stateless seed (int, shape-[2] tensor, or `None`).
        dtype: floating dtype of the result. Defaults to `tf.float32`.

    Returns:
        A tensor of shape `[num_samples, *shape]` with values in `(0, 1)`.

    Example:

    >>> u = antithetic_uniform(4, seed=0)
    >>> u.shape
    TensorShape([4])
    >>> bool(np.allclose(u[2:], 1.0 - u[:2]))  # u[2] == 1 - u[0], u[3] == 1 - u[1]
    True
    """
    with tf.name_scope("antithetic_uniform"):
        num_samples = check_num_samples(num_samples)
        shape = _static_shape(shape)
        half = (num_samples + 1) // 2
        u = tf.random.stateless_uniform([half] + shape, seed=sanitize_seed(seed), dtype=tf.float64)
        u = tf.concat([u, 1.0 - u], axis=0)[:num_samples]
        return _clip_open_unit(u, dtype)
