"""Randomized quasi-Monte Carlo noise: scrambled, shifted Sobol points.

Plain Monte Carlo averages `f` over independent uniform points, so its error
shrinks like `1/sqrt(N)`. A Sobol sequence fills the unit cube far more evenly
(its first `2^m` points put exactly one point in each of `2^m` equal slices of
every coordinate), so for smooth integrands the error of the average shrinks
almost like `1/N`. Deterministic points would give a biased estimate with no
error bar; *randomizing* them keeps every point marginally uniform on the unit
cube, so the average stays **unbiased**, while the even spread survives. Here
the randomization is the one of `scipy.stats.qmc.Sobol(scramble=True)`: a
random linear matrix scramble (Matousek's LMS) followed by a random digital
shift, plus a uniform jitter inside the last of the 32 bits so the points are
exactly, not just approximately, uniform. Pushing the points through an inverse
CDF (`tf.math.ndtri` for the standard normal, or a distribution's `quantile`)
gives randomized QMC noise for any distribution with a quantile function.

Everything here is TensorFlow ops (`tf.math.sobol_sample` for the points), so
the noise can be drawn inside a `tf.function` with a stateless seed.

References:
    - Owen, "Scrambling Sobol' and Niederreiter-Xing points", 1998.
    - Matousek, "On the L2-discrepancy for anchored boxes", 1998 (LMS).
    - Buchholz, Wenzel, Mandt, "Quasi-Monte Carlo Variational Inference",
      ICML 2018.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from keras_rt.api_export import keras_rt_export
from keras_rt.estimators.core import Seed, check_num_samples, sanitize_seed

_BITS = 32
_MAX_DIM = 21200  # tf.math.sobol_sample: "dim must be at most 21200"


def _static_shape(shape: Sequence[int] | tf.TensorShape) -> list[int]:
    shape = tf.TensorShape(shape)
    if not shape.is_fully_defined():
        raise ValueError(f"shape must be fully known; Received: shape={shape}")
    return shape.as_list()


@keras_rt_export()
def randomized_sobol_uniform(
    num_samples: int,
    shape: Sequence[int] = (),
    *,
    seed: Seed = None,
    joint_ndims: int | None = None,
    dtype: tf.DType = tf.float32,
) -> tf.Tensor:
    """Scrambled, shifted Sobol points: unbiased quasi-random uniforms.

    Draws `num_samples` points `u_i` in `(0, 1)^shape`. Each point is exactly
    uniform (so `mean_i g(u_i)` is an unbiased estimate of `E[g(U)]`), but the
    points are spread far more evenly than independent draws, so for smooth
    `g` the variance of the average falls much faster than `Var[g] / N`.
    Powers of two for `num_samples` keep the Sobol net balanced; other counts
    work and stay unbiased, with somewhat less gain.

    Args:
        num_samples: number of points `N` (>= 1).
        shape: shape of one point. Defaults to `()` (scalar points).
        seed: stateless seed (int, shape-[2] tensor, or `None` for a fresh one).
        joint_ndims: how many trailing axes of `shape` one Sobol sequence spans;
            the leading axes get independent randomizations of their own
            sequence. Defaults to `None`: all axes jointly (one
            `prod(shape)`-dimensional sequence). Use `joint_ndims=1` for, e.g.,
            a batch of independent examples each with a low-dimensional latent:
            low-dimensional QMC keeps most of its advantage.
        dtype: floating dtype of the result. Defaults to `tf.float32` (points
            are clipped to `(0, 1)` exclusive in that precision).

    Returns:
        A tensor of shape `[num_samples, *shape]` with values in `(0, 1)`.

    Example:

    >>> u = randomized_sobol_uniform(1024, [2], seed=7)
    >>> eps = tf.math.ndtri(u)  # randomized-QMC standard normal noise
    >>> eps.shape
    TensorShape([1024, 2])
    >>> np.abs(np.mean(eps.numpy(), axis=0)) < 0.01  # far closer to 0 than i.i.d. draws
    array([ True,  True])
    """
    with tf.name_scope("randomized_sobol_uniform"):
        num_samples = check_num_samples(num_samples)
        shape = _static_shape(shape)
        if joint_ndims is None:
            joint_ndims = len(shape)
        if not 0 <= joint_ndims <= len(shape):
            raise ValueError(
                f"joint_ndims must be between 0 and len(shape)={len(shape)}; "
                f"Received: joint_ndims={joint_ndims}"
            )
        groups = int(math.prod(shape[: len(shape) - joint_ndims]))
        dim = int(math.prod(shape[len(shape) - joint_ndims :]))
        if dim > _MAX_DIM:
            raise ValueError(
                f"a Sobol sequence spans at most {_MAX_DIM} dimensions; "
                f"Received: {dim}. Pass a smaller joint_ndims."
            )
        seed = sanitize_seed(seed)
        matrix_seed, shift_seed, jitter_seed = tfp.random.split_seed(seed, n=3)

        # The unrandomized sequence, starting from its first point 0 (which
        # tf.math.sobol_sample skips), as 32-bit integers: [N, 1, D].
        points = tf.math.sobol_sample(dim, num_samples - 1, dtype=tf.float64)
        points = tf.concat([tf.zeros([1, dim], tf.float64), points], axis=0)
        ints = tf.cast(tf.round(points * 2.0**_BITS), tf.int64)[:, tf.newaxis, :]

        # Linear matrix scramble: output bit j (0 = most significant) is the
        # XOR over input bits k <= j of M[j, k] * bit_k, with M lower
        # triangular, unit diagonal, random below. Column k of M is stored
        # as one integer per (group, dim): [32, G, D].
        random_bits = tf.random.stateless_uniform(
            [_BITS, groups, dim],
            seed=matrix_seed,
            minval=0,
            maxval=2**_BITS,
            dtype=tf.int64,
        )
        scrambled = tf.zeros([num_samples, groups, dim], tf.int64)
        for k in range(_BITS):
            position = _BITS - 1 - k
            column = tf.bitwise.bitwise_or(
                tf.constant(1 << position, tf.int64),
                tf.bitwise.bitwise_and(random_bits[k], (1 << position) - 1),
            )
            bit = tf.bitwise.bitwise_and(tf.bitwise.right_shift(ints, position), 1)
            scrambled = tf.bitwise.bitwise_xor(scrambled, bit * column)

        # Random digital shift, then a uniform jitter within the last bit.
        shift = tf.random.stateless_uniform(
            [groups, dim], seed=shift_seed, minval=0, maxval=2**_BITS, dtype=tf.int64
        )
        scrambled = tf.bitwise.bitwise_xor(scrambled, shift)
        jitter = tf.random.stateless_uniform(
            [num_samples, groups, dim], seed=jitter_seed, dtype=tf.float64
        )
        u = (tf.cast(scrambled, tf.float64) + jitter) / 2.0**_BITS
        u = tf.reshape(u, [num_samples] + shape)
        return _clip_open_unit(u, dtype)


def _clip_open_unit(u: tf.Tensor, dtype: tf.DType) -> tf.Tensor:
    """Casts float64 uniforms to `dtype`, kept strictly inside (0, 1)."""
    dtype = tf.as_dtype(dtype)
    tiny = tf.constant(2.0**-60, tf.float64)
    top = 1.0 - float(np.finfo(dtype.as_numpy_dtype).eps) / 2.0
    u = tf.clip_by_value(u, tiny, tf.constant(top, tf.float64))
    return tf.cast(u, dtype)


@keras_rt_export()
def randomized_sobol_normal(
    num_samples: int,
    shape: Sequence[int] = (),
    *,
    seed: Seed = None,
    joint_ndims: int | None = None,
    dtype: tf.DType = tf.float32,
) -> tf.Tensor:
    """Randomized-QMC standard normal noise: `ndtri` of scrambled Sobol points.

    `eps_i = Phi^{-1}(u_i)` with `u_i` from `randomized_sobol_uniform`; each
    `eps_i` is exactly `N(0, I)`, the set of them is spread evenly. Feed it to
    a reparameterization `x = mu + sigma * eps` to get the QMC pathwise
    estimator.

    Args:
        num_samples, shape, seed, joint_ndims: as for
            `randomized_sobol_uniform`.
        dtype: floating dtype of the result. Defaults to `tf.float32`.

    Returns:
        A tensor of shape `[num_samples, *shape]`.

    Example:

    >>> eps = randomized_sobol_normal(256, [32, 2], seed=1, joint_ndims=1)
    >>> eps.shape
    TensorShape([256, 32, 2])
    """
    with tf.name_scope("randomized_sobol_normal"):
        u = randomized_sobol_uniform(
            num_samples, shape, seed=seed, joint_ndims=joint_ndims, dtype=tf.float64
        )
        return tf.cast(tf.math.ndtri(u), dtype)
