"""Pure functions that map network outputs to Gaussian posterior parameters.

Shared by the samplers (`Sampling`, `MultivariateNormalTriLSampling`), the KL
layer (`GaussianKL`) and the zoo models, so that one parameterization is
written once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from keras import ops


def clamp_log_var(z_log_var, log_var_range: tuple[float, float] | None = (-20.0, 20.0)):
    """Clamps the finite values of `z_log_var` to `log_var_range`; NaN and inf pass through.

    Clamping before `exp` keeps float16/bfloat16 and extreme encoder outputs
    from overflowing, while a diverging model (NaN/inf) stays visible.

    Args:
        z_log_var: tensor of log-variances.
        log_var_range: `(low, high)`, or `None` for no clamp. Defaults to
            `(-20.0, 20.0)`.

    Returns:
        A tensor of the same shape and dtype.

    Example:

    >>> ops.convert_to_numpy(clamp_log_var(np.array([-50.0, 0.0, 50.0]))).tolist()
    [-20.0, 0.0, 20.0]
    """
    if log_var_range is None:
        return z_log_var
    low, high = log_var_range
    clipped = ops.clip(z_log_var, low, high)
    return ops.where(ops.isfinite(z_log_var), clipped, z_log_var)


def num_scale_params(latent_dim: int) -> int:
    """Number of free entries of a `d x d` lower-triangular matrix: `d (d + 1) / 2`.

    Args:
        latent_dim: `d`.

    Returns:
        `d (d + 1) / 2`.

    Example:

    >>> num_scale_params(3)
    6
    """
    return latent_dim * (latent_dim + 1) // 2


def latent_dim_for(num_params: int) -> int | None:
    """Inverse of `num_scale_params`, or None when `num_params` is not triangular.

    Args:
        num_params: number of free entries.

    Returns:
        `d` with `d (d + 1) / 2 == num_params`, or `None`.

    Example:

    >>> latent_dim_for(6), latent_dim_for(7)
    (3, None)
    """
    d = int((math.isqrt(8 * num_params + 1) - 1) // 2)
    return d if num_scale_params(d) == num_params else None


def check_scale_params_shape(mean_shape: Sequence[Any], params_shape: Sequence[Any]) -> None:
    """Raises `ValueError` unless `params_shape[-1] == d (d + 1) / 2` for `d = mean_shape[-1]`.

    Args:
        mean_shape: shape of the mean, `(..., d)`.
        params_shape: shape of the unconstrained scale parameters.

    Example:

    >>> check_scale_params_shape((None, 3), (None, 6))
    """
    d, p = mean_shape[-1], params_shape[-1]
    if d is None or p is None or num_scale_params(int(d)) != int(p):
        raise ValueError(
            "`scale_params` must have d * (d + 1) / 2 entries for a mean of size d "
            f"(d={d} needs {None if d is None else num_scale_params(int(d))}). "
            f"Received: mean.shape={tuple(mean_shape)}, "
            f"scale_params.shape={tuple(params_shape)}"
        )


def fill_triangular(params):
    """Fills the lower triangle of `d x d` matrices with `(..., d (d + 1) / 2)` entries.

    The same layout as TFP's `tfp.math.fill_triangular` (and the
    `tfb.FillTriangular` bijector): for `d = 3`, entries `[a, b, c, e, f, g]`
    give `[[e, 0, 0], [g, f, 0], [c, b, a]]`. Written in `keras.ops` (a
    concatenation, a reshape and `tril`: copies, no arithmetic), so it runs on
    every backend with TFP's exact values.

    Args:
        params: tensor `(..., d (d + 1) / 2)` with a statically known last axis.

    Returns:
        Lower-triangular tensor `(..., d, d)`.

    Example:

    >>> ops.convert_to_numpy(fill_triangular(np.arange(1.0, 7.0))).tolist()
    [[4.0, 0.0, 0.0], [6.0, 5.0, 0.0], [3.0, 2.0, 1.0]]
    """
    params = ops.convert_to_tensor(params)
    num_params = params.shape[-1]
    d = None if num_params is None else latent_dim_for(int(num_params))
    if d is None:
        raise ValueError(
            "`fill_triangular` needs a last axis of d * (d + 1) / 2 entries, known statically. "
            f"Received: params.shape={tuple(params.shape)}"
        )
    # TFP's layout: the tail params[d:] then all of params reversed, row by row.
    flat = ops.concatenate([params[..., d:], ops.flip(params, axis=-1)], axis=-1)
    batch_shape = tuple(ops.shape(params)[:-1])
    return ops.tril(ops.reshape(flat, batch_shape + (d, d)))


def fill_scale_tril(scale_params, diag_shift: float = 1e-5):
    """Maps unconstrained parameters `(..., d(d+1)/2)` to a Cholesky factor `L` `(..., d, d)`.

    The same map as `tfb.FillScaleTriL(diag_bijector=tfb.Softplus(),
    diag_shift=diag_shift)`: the entries fill the lower triangle
    (`fill_triangular`) and the diagonal goes through a softplus plus
    `diag_shift`, so `L` has a positive diagonal. Written in `keras.ops`, so
    it runs on every backend, with the values of TFP's bijectors on
    TensorFlow, and so that its gradient also compiles under XLA
    (FillScaleTriL's does not).

    Args:
        scale_params: tensor `(..., d (d + 1) / 2)`.
        diag_shift: small constant `>= 0` added to the diagonal. Defaults
            to `1e-5`.

    Returns:
        Lower-triangular tensor `(..., d, d)`.

    Example:

    >>> fill_scale_tril(np.zeros((1, 3), "float32")).shape
    TensorShape([1, 2, 2])
    """
    lower = fill_triangular(scale_params)
    raw_diagonal = ops.diagonal(lower, axis1=-2, axis2=-1)
    diagonal = ops.softplus(raw_diagonal) + diag_shift
    # `lower + diag(new - old)` rather than setting the diagonal, whose
    # gradient XLA cannot compile with an unknown batch size; `where` puts
    # exact zeros off the diagonal, also next to a NaN.
    d = lower.shape[-1]
    off_diagonal_zeros = ops.zeros_like(lower)
    on_diagonal = ops.expand_dims(diagonal - raw_diagonal, -1) + off_diagonal_zeros
    return lower + ops.where(ops.eye(d, dtype="bool"), on_diagonal, off_diagonal_zeros)


__all__ = [
    "check_scale_params_shape",
    "clamp_log_var",
    "fill_scale_tril",
    "fill_triangular",
    "latent_dim_for",
    "num_scale_params",
]
