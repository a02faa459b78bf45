"""Standard-normal noise for the reparameterized samplers: i.i.d., antithetic or randomized QMC.

Every noise here has exact `N(0, 1)` marginals, so `z = mu + sigma * eps` stays
an unbiased reparameterized sample; only the *joint* law of the draws changes:

- `"normal"`: independent draws (plain Monte Carlo).
- `"antithetic"`: draws in pairs `eps, -eps` along one axis
  (`antithetic_normal`). An average over a pair cancels every odd part of the
  integrand, e.g. the whole pathwise gradient of a quadratic.
- `"qmc"`: randomized quasi-Monte Carlo (`sobol_normal`): along one axis, the
  draws are the points of a Sobol sequence, randomized by a random linear
  matrix scramble and a random digital shift (as
  `scipy.stats.qmc.Sobol(scramble=True)`) plus a uniform jitter inside the
  last bit, then pushed through the normal inverse CDF. Each point is exactly
  `N(0, I)`; together they cover the space far more evenly than independent
  draws, so the average of a smooth function varies less.

Everything is `keras.ops` integer and float ops with static loop bounds (the
Sobol direction numbers are computed once per dimension, in NumPy, at trace
time), so the noise compiles under XLA (`jit_compile=True`, or `jax.jit`)
and is drawn afresh on every call of a traced function or an exported
SavedModel. It runs on the TensorFlow and the JAX backends: `"normal"` and
`"antithetic"` are `keras.random` and `keras.ops` only; `"qmc"` takes its
random integer bits, its jitter and `ndtri` from the backend (TensorFlow's
stateless random ops and `tf.math.ndtri`, or `jax.random` and
`jax.scipy.special.ndtri`) and raises a `RuntimeError` naming both on any
other backend. A size before the point axis (the batch) may be unknown
until run time on TensorFlow (a graph's dynamic shape) and symbolic on JAX
(while `model.export` traces for any batch size). The same seed gives
different noise on the two backends (their random number generators
differ), with the same law.
`keras_rt.estimators` holds the estimator-side counterparts
(`randomized_sobol_normal`, `antithetic_uniform`), which take a fixed number
of samples rather than a tensor's (possibly unknown) batch size.

References:
    - Hammersley, Morton, "A new Monte Carlo technique: antithetic variates",
      1956.
    - Owen, "Scrambling Sobol' and Niederreiter-Xing points", 1998.
    - Matousek, "On the L2-discrepancy for anchored boxes", 1998 (LMS).
    - Buchholz, Wenzel, Mandt, "Quasi-Monte Carlo Variational Inference",
      ICML 2018.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from keras_rt.ops.random_draws import ALGORITHM, random_int32, random_normal

NOISE_TYPES = ("normal", "antithetic", "qmc")
"""The valid `noise` settings of the Gaussian samplers."""

MAX_SOBOL_DIM = 21200
"""The most dimensions one Sobol point may have (the limit of `tf.math.sobol_sample`)."""

MAX_SOBOL_POINTS = 2**29
"""The most points of one Sobol set before the sequence repeats (29 direction numbers)."""

_BITS = 31  # bits of a point's integer digits: non-negative int32 values
_LOG2_POINTS = 29


def _is_tensorflow() -> bool:
    return keras.backend.backend() == "tensorflow"


def _size(dim: Any) -> Any:
    """A Python int where `dim` is statically known, else the dimension as it is.

    Unknown: a scalar tensor (TensorFlow, in a graph with an unknown batch
    size) or a symbolic dimension (JAX, while `model.export` traces the
    model for any batch size).
    """
    if isinstance(dim, (int, np.integer)):
        return int(dim)
    if _is_tensorflow():
        static = tf.get_static_value(dim)
        return dim if static is None else int(static)
    try:
        return operator.index(dim)
    except TypeError:  # a symbolic dimension
        return dim


def _product(dims: Sequence[Any]) -> Any:
    static = [_size(d) for d in dims]
    if all(isinstance(d, int) for d in static) or not _is_tensorflow():
        return math.prod(static)  # symbolic JAX dimensions multiply too
    return tf.reduce_prod(tf.stack([tf.cast(d, tf.int32) for d in static]))


def _shape(dims: Sequence[Any]) -> Any:
    """`dims` as a shape: a tuple, or a shape tensor when TensorFlow knows some only at run time."""
    dims = [_size(d) for d in dims]
    if all(isinstance(d, int) for d in dims) or not _is_tensorflow():
        return tuple(dims)
    return tf.stack([tf.cast(d, tf.int32) for d in dims])


QMC_BACKENDS = ("tensorflow", "jax")
"""The Keras backends on which `noise='qmc'` runs (see `check_qmc_backend`)."""


def check_qmc_backend() -> str:
    """Returns the Keras backend's name, or raises `RuntimeError` unless `noise='qmc'` runs on it.

    QMC noise draws its random integer bits and takes `ndtri` from the
    backend itself (`QMC_BACKENDS`: TensorFlow and JAX); `"normal"` and
    `"antithetic"` noise run on every backend.

    Returns:
        `keras.backend.backend()`.

    Example:

    >>> check_qmc_backend()
    'tensorflow'
    """
    from keras_rt.ops.validation import check_backend

    return check_backend(
        "`noise='qmc'` (randomized Sobol points)",
        QMC_BACKENDS,
        why="its random integer bits and `ndtri` come from the backend",
        instead="use noise='normal' or noise='antithetic', which run on every backend",
    )


def _bitwise_ops() -> Any:
    """The backend's own int32 bitwise functions (`tf.bitwise`, `jax.numpy`).

    QMC noise applies ~120 of them per draw. `keras.ops`'s versions compute
    the same, but their dtype handling per call made tracing a TensorFlow
    graph with QMC noise ~60% slower (measured), so the backend's are called
    directly: `bitwise_and`, `bitwise_or`, `bitwise_xor` and `right_shift`.
    """
    if _is_tensorflow():
        return tf.bitwise
    import jax.numpy as jnp

    return jnp


def _as_jax_key(seed: Any) -> Any:
    """A stateless `[2]` seed tensor as a raw `jax.random` key (uint32)."""
    return keras.ops.cast(seed, "uint32")


def _check_axis(shape: Sequence[Any], axis: int) -> int:
    if not 0 <= axis < len(shape):
        raise ValueError(
            f"`axis` must index a dimension of `shape`, 0 <= axis < {len(shape)}. "
            f"Received: axis={axis}, shape={tuple(shape)}"
        )
    return axis


def sobol_dim(shape: Sequence[Any], axis: int = 0) -> int | None:
    """The dimension of one Sobol point for noise of `shape`: the product of the axes after `axis`.

    Args:
        shape: the noise shape.
        axis: the axis that indexes the points.

    Returns:
        The number of dimensions, or `None` when one of them is unknown.

    Example:

    >>> sobol_dim((None, 8, 4, 2), axis=1)
    8
    """
    dims = [_size(d) for d in tuple(shape)[axis + 1 :]]
    if not all(isinstance(d, int) for d in dims):
        return None
    return math.prod(dims)


def check_sobol_dim(dim: int | None, *, what: str = "") -> None:
    """Raises `ValueError` when `dim` exceeds `MAX_SOBOL_DIM` (21200).

    Args:
        dim: the dimension of one Sobol point (`None` passes).
        what: optional text naming where `dim` comes from, for the message.

    Example:

    >>> check_sobol_dim(30000)
    Traceback (most recent call last):
    ...
    ValueError: `noise='qmc'` draws Sobol points of at most 21200 latent dimensions. Received: noise='qmc' with 30000 latent dimensions. Valid choices: ['normal', 'antithetic', 'qmc'] ('normal' and 'antithetic' have no size limit).
    """
    if dim is not None and dim > MAX_SOBOL_DIM:
        raise ValueError(
            f"`noise='qmc'` draws Sobol points of at most {MAX_SOBOL_DIM} latent dimensions. "
            f"Received: noise='qmc' with {dim} latent dimensions{what}. "
            f"Valid choices: {list(NOISE_TYPES)} ('normal' and 'antithetic' have no size limit)."
        )


@functools.cache
def sobol_direction_numbers(dim: int) -> np.ndarray:
    """The first 29 Sobol direction numbers of each of `dim` dimensions, as 31-bit integers.

    Row `b` holds `V_b`: the point of index `2^b` of the (unscrambled,
    natural-order) Sobol sequence times `2^31`. Point `i` is the XOR of the
    `V_b` over the set bits `b` of `i`, so the first `2^m` points form a
    `(t, m, dim)`-net for every `m <= 29`. The numbers are those of
    `tf.math.sobol_sample` (Joe and Kuo's), read once per `dim` in eager mode,
    even when called while a function is being traced.

    Args:
        dim: the number of dimensions, `1 <= dim <= 21200`.

    Returns:
        A read-only `int32` array of shape `(29, dim)`.

    Example:

    >>> sobol_direction_numbers(2)[:3].tolist()  # V_b = 2^(30 - b) in dimension 0
    [[1073741824, 1073741824], [536870912, 1610612736], [268435456, 1342177280]]
    """
    if not 1 <= dim <= MAX_SOBOL_DIM:
        raise ValueError(f"`dim` must be between 1 and {MAX_SOBOL_DIM}. Received: dim={dim}")
    rows = []
    with tf.init_scope():
        for b in range(_LOG2_POINTS):
            # tf.math.sobol_sample walks the sequence in Gray-code order and
            # skips the zero point: its row 2^(b+1) - 2 is the point of Gray
            # index 2^(b+1) - 1, whose Gray code is 2^b, i.e. V_b.
            point = tf.math.sobol_sample(dim, 1, skip=2 ** (b + 1) - 2, dtype=tf.float64)
            rows.append(np.round(point.numpy()[0] * 2.0**32).astype(np.int64))
    numbers = (np.stack(rows) >> (32 - _BITS)).astype(np.int32)
    numbers.setflags(write=False)
    return numbers


def _stateless_seeds(seed: Any, count: int) -> list[Any]:
    """`count` stateless seeds drawn once from `seed` (a SeedGenerator, an int or None)."""
    seeds = random_int32((count, 2), minval=0, maxval=2**31 - 1, seed=seed)
    return [seeds[i] for i in range(count)]


def _random_bits(shape: Sequence[Any], seed: Any) -> Any:
    """Uniform `_BITS`-bit non-negative int32 integers from a stateless seed."""
    if _is_tensorflow():
        full = tf.random.stateless_uniform(
            shape, seed=seed, minval=None, maxval=None, dtype=tf.int32, alg=ALGORITHM
        )
    else:
        import jax

        bits = jax.random.bits(_as_jax_key(seed), tuple(shape), dtype="uint32")
        full = keras.ops.cast(bits >> (32 - _BITS), "int32")
    return _bitwise_ops().bitwise_and(full, 2**_BITS - 1)


def _uniform(shape: Sequence[Any], seed: Any) -> Any:
    """Float32 uniforms on `[0, 1)` from a stateless seed."""
    if _is_tensorflow():
        return tf.random.stateless_uniform(shape, seed=seed, alg=ALGORITHM)
    import jax

    return jax.random.uniform(_as_jax_key(seed), tuple(shape), dtype="float32")


def _ndtri(u: Any) -> Any:
    """The standard normal quantile function (float32, accurate in the tails)."""
    if _is_tensorflow():
        return tf.math.ndtri(u)
    import jax

    return jax.scipy.special.ndtri(u)


def _iota(size: Any) -> Any:
    """`[0, 1, ..., size - 1]` as int32, for a symbolic JAX `size` too."""
    import jax

    return jax.lax.iota("int32", size)


def _digits_to_normal(digits: Any, jitter: Any) -> Any:
    """`ndtri((digits + jitter) / 2^31)` in float32, accurate in both tails.

    The upper half is computed as `-ndtri(1 - u)` with `1 - u` formed from the
    complementary digits, so no point rounds to 1 and the tails are symmetric;
    a point of exactly 0 (probability ~2^-55) is moved to the smallest normal
    float.
    """
    ops = keras.ops
    upper = digits >= 2 ** (_BITS - 1)
    low_digits = ops.where(upper, (2**_BITS - 1) - digits, digits)
    low_jitter = ops.where(upper, 1.0 - jitter, jitter)
    u = (ops.cast(low_digits, "float32") + low_jitter) * (2.0**-_BITS)
    u = ops.maximum(u, np.finfo(np.float32).tiny)
    z = _ndtri(u)
    return ops.where(upper, -z, z)


def sobol_normal(
    shape: Sequence[Any],
    seed: Any = None,
    *,
    axis: int = 0,
    dtype: str = "float32",
) -> Any:
    """Randomized-QMC standard normal noise: scrambled Sobol points through `ndtri`.

    Axis `axis` of `shape` indexes the points; the axes after it are the
    point's dimensions (`d = prod(shape[axis + 1:])`, at most
    `MAX_SOBOL_DIM = 21200`, known statically); the axes before it index
    independent point sets. Each set of `n = shape[axis]` points is the first
    `n` points of a `d`-dimensional Sobol sequence (Joe-Kuo direction
    numbers), scrambled with its own random lower-triangular binary matrix,
    XOR-ed with its own random digital shift and jittered uniformly within the
    last of 31 bits: each point is then exactly uniform on `(0, 1)^d`, and
    `ndtri` makes it exactly `N(0, I)`. The randomization is drawn from
    `seed`, afresh on every call when `seed` is a `keras.random.SeedGenerator`.

    Powers of two for `n` keep the Sobol net balanced; other sizes work and
    stay exact, with somewhat less gain. A set has at most
    `MAX_SOBOL_POINTS = 2^29` distinct points: beyond that, points repeat up
    to the jitter (still exactly `N(0, I)` each). On TensorFlow, `n` may be
    unknown until run time (e.g. the batch size); under XLA, and always on
    JAX, it is static.

    Runs on the TensorFlow and the JAX backends (see the module docstring).

    Args:
        shape: the noise shape; entries may be scalar tensors at and before
            `axis` (TensorFlow).
        seed: a `keras.random.SeedGenerator`, an integer or `None`, as for
            `keras.random.normal`.
        axis: the axis that indexes the points. Defaults to 0.
        dtype: the floating dtype of the result. Defaults to `"float32"`
            (the noise is computed in float32 and cast).

    Returns:
        A tensor of `shape`.

    Raises:
        RuntimeError: on a Keras backend other than TensorFlow and JAX.

    Example:

    >>> eps = sobol_normal((1024, 2), seed=keras.random.SeedGenerator(7))
    >>> eps.shape
    TensorShape([1024, 2])
    >>> bool(np.all(np.abs(np.mean(eps, axis=0)) < 0.01))  # i.i.d.: ~0.03
    True
    >>> sobol_normal((4, 16, 3), seed=1, axis=1).shape  # 4 sets of 16 points
    TensorShape([4, 16, 3])
    """
    backend = check_qmc_backend()
    with keras.name_scope("sobol_normal"):
        shape = tuple(_size(d) for d in shape)
        axis = _check_axis(shape, axis)
        dim = sobol_dim(shape, axis)
        if dim is None:
            raise ValueError(
                "`sobol_normal` needs the point dimensions (the axes after `axis`) known "
                f"statically. Received: shape={shape}, axis={axis}"
            )
        check_sobol_dim(dim, what=f" (shape={shape}, axis={axis})")
        seeds = _stateless_seeds(seed, 3)
        if backend == "jax" and all(isinstance(d, int) for d in shape):
            # One XLA program rather than ~70 ops compiled one by one when
            # called eagerly; inlined when traced (`fit`, `jax.jit`).
            eps = _jitted_sobol_points()(shape, axis, dim, *seeds)
        else:
            eps = _sobol_points(shape, axis, dim, *seeds)
        return keras.ops.cast(eps, dtype)


def _sobol_points(
    shape: tuple, axis: int, dim: int, matrix_seed: Any, shift_seed: Any, jitter_seed: Any
) -> Any:
    """`sobol_normal`'s float32 points, from three stateless seeds (checked arguments)."""
    ops, bits = keras.ops, _bitwise_ops()
    groups = _product(shape[:axis])
    points = shape[axis]

    # Linear matrix scramble of the direction numbers (a scramble of the
    # points is the same linear map applied to them): output bit j (0 =
    # most significant) is the XOR over input bits k <= j of M[j, k]
    # bit_k, with M lower triangular, unit diagonal, random below.
    # Column k of M is one integer per (set, dimension).
    directions = ops.convert_to_tensor(sobol_direction_numbers(dim))[None]  # [1, B, d]
    random_bits = _random_bits([_BITS, groups, 1, dim], matrix_seed)
    scrambled = ops.zeros_like(directions)
    for k in range(_BITS):
        position = _BITS - 1 - k
        column = bits.bitwise_or(
            1 << position, bits.bitwise_and(random_bits[k], (1 << position) - 1)
        )
        bit = bits.bitwise_and(bits.right_shift(directions, position), 1)
        scrambled = bits.bitwise_xor(scrambled, bit * column)  # [G, B, d]

    # Point i of each set: the XOR of the scrambled V_b over the set bits of i.
    if isinstance(points, int):
        index = ops.arange(points, dtype="int32")
        num_bits = max(1, (points - 1).bit_length())
    elif _is_tensorflow():  # a batch size known only at run time
        index = tf.range(points, dtype=tf.int32)
        num_bits = _LOG2_POINTS
    else:  # a symbolic batch size (JAX)
        index = _iota(points)
        num_bits = _LOG2_POINTS
    index = index[None, :, None]  # [1, n, 1]
    digits = ops.zeros(_shape([groups, points, dim]), "int32")
    for b in range(min(num_bits, _LOG2_POINTS)):
        bit = bits.bitwise_and(bits.right_shift(index, b), 1)
        digits = bits.bitwise_xor(digits, bit * scrambled[:, b : b + 1, :])

    # Random digital shift, then a uniform jitter within the last bit.
    digits = bits.bitwise_xor(digits, _random_bits([groups, 1, dim], shift_seed))
    jitter_shape = tf.shape(digits) if _is_tensorflow() else ops.shape(digits)
    eps = _digits_to_normal(digits, _uniform(jitter_shape, jitter_seed))
    eps = ops.reshape(eps, _shape(shape))
    if _is_tensorflow() and all(isinstance(d, int) for d in shape):
        eps = tf.ensure_shape(eps, shape)
    return eps


@functools.cache
def _jitted_sobol_points() -> Callable[..., Any]:
    """`_sobol_points` under `jax.jit`, the shape, axis and dimension static (JAX only)."""
    import jax

    return jax.jit(_sobol_points, static_argnums=(0, 1, 2))


def antithetic_normal(
    shape: Sequence[Any],
    seed: Any = None,
    *,
    axis: int = 0,
    dtype: str = "float32",
) -> Any:
    """Standard normal noise in antithetic pairs `eps, -eps` along `axis`.

    With `n = shape[axis]` and `h = ceil(n / 2)`, entry `i` and entry `i + h`
    along `axis` are `eps` and `-eps` for `i < n - h`. Every entry is exactly
    `N(0, 1)`, and entries in different pairs are independent. With an odd
    `n`, entry `h - 1` has no partner (an ordinary independent draw): the
    noise stays exact, the variance reduction covers `n - 1` of the `n`
    draws.

    Args:
        shape: the noise shape; entries may be scalar tensors.
        seed: a `keras.random.SeedGenerator`, an integer or `None`, as for
            `keras.random.normal`.
        axis: the axis along which draws are paired. Defaults to 0.
        dtype: the floating dtype of the result. Defaults to `"float32"`.

    Returns:
        A tensor of `shape`.

    Example:

    >>> eps = antithetic_normal((4, 3), seed=0)
    >>> bool(np.allclose(eps[2:], -eps[:2]))  # rows 2, 3 mirror rows 0, 1
    True
    >>> eps = antithetic_normal((2, 6, 3), seed=0, axis=1)  # 3 pairs per example
    >>> bool(np.allclose(eps[:, 3:], -eps[:, :3]))
    True
    """
    with keras.name_scope("antithetic_normal"):
        shape = tuple(_size(d) for d in shape)
        axis = _check_axis(shape, axis)
        n = shape[axis]
        half = (n + 1) // 2
        eps = random_normal(shape[:axis] + (half,) + shape[axis + 1 :], dtype=dtype, seed=seed)
        eps = keras.ops.concatenate([eps, -eps], axis=axis)
        if isinstance(n, int) and n == 2 * half:
            return eps
        if not _is_tensorflow():  # JAX: n static, or symbolic while exported
            return eps[(slice(None),) * axis + (slice(0, n),)]
        size = [-1] * len(shape)
        size[axis] = n  # drops the last mirrored entry when n is odd
        return keras.ops.slice(eps, [0] * len(shape), _shape(size))


def _independent_normal(
    shape: Sequence[Any], seed: Any = None, *, axis: int = 0, dtype: str = "float32"
) -> Any:
    del axis  # independent draws have no point axis
    return random_normal(tuple(shape), dtype=dtype, seed=seed)


NOISE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "normal": _independent_normal,
    "antithetic": antithetic_normal,
    "qmc": sobol_normal,
}


def standard_normal_noise(
    noise: str,
    shape: Sequence[Any],
    seed: Any = None,
    *,
    axis: int = 0,
    dtype: str = "float32",
) -> Any:
    """Draws `N(0, I)` noise of `shape` with the joint law `noise` names.

    Args:
        noise: `"normal"` (independent draws), `"antithetic"` (pairs along
            `axis`, see `antithetic_normal`) or `"qmc"` (randomized Sobol
            point sets along `axis`, see `sobol_normal`).
        shape: the noise shape.
        seed: a `keras.random.SeedGenerator`, an integer or `None`.
        axis: the pair / point axis for `"antithetic"` and `"qmc"`.
            Defaults to 0.
        dtype: the floating dtype of the result. Defaults to `"float32"`.

    Returns:
        A tensor of `shape`.

    Example:

    >>> standard_normal_noise("qmc", (8, 2), seed=3).shape
    TensorShape([8, 2])
    >>> standard_normal_noise("sobol", (8, 2))
    Traceback (most recent call last):
    ...
    ValueError: `noise` must be one of ['normal', 'antithetic', 'qmc']. Received: noise='sobol'
    """
    from keras_rt.ops.validation import check_choice

    check_choice("noise", noise, NOISE_TYPES)
    return NOISE_FUNCTIONS[noise](shape, seed, axis=axis, dtype=dtype)
