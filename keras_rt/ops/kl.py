"""Closed-form KL divergences from posteriors to their fixed priors.

Gaussian posteriors against the standard normal `N(0, I)`; categorical
posteriors against the uniform distribution.

Convention used everywhere in keras-rt: the KL of one example is **summed over
latent dimensions**; losses and metrics then **average it over the batch**.
All arithmetic is done in float32, also under mixed precision.
"""

from __future__ import annotations

import math

from keras import ops


def diagonal_gaussian_kl(z_mean, z_log_var, *, per_dimension: bool = False):
    """KL(N(mean, diag(exp(log_var))) || N(0, I)) per example.

    KL = 0.5 * sum_j (exp(log_var_j) + mean_j**2 - 1 - log_var_j)

    Args:
        z_mean: tensor `(batch, ..., latent)`.
        z_log_var: tensor of the same shape.
        per_dimension: if True, return the per-dimension terms (no sum).

    Returns:
        float32 tensor `(batch, ...)` (or `(batch, ..., latent)` if `per_dimension`).

    Example:

    >>> kl = diagonal_gaussian_kl(np.zeros((2, 3)), np.zeros((2, 3)))  # q = p = N(0, I)
    >>> ops.convert_to_numpy(kl)
    array([0., 0.], dtype=float32)
    """
    mean = ops.cast(z_mean, "float32")
    log_var = ops.cast(z_log_var, "float32")
    terms = 0.5 * (ops.exp(log_var) + ops.square(mean) - 1.0 - log_var)
    return terms if per_dimension else ops.sum(terms, axis=-1)


def tril_gaussian_kl(mean, scale_tril):
    """KL(N(mean, L L^T) || N(0, I)) per example, for lower-triangular `L`.

    KL = 0.5 * (||L||_F^2 + ||mean||^2 - d) - sum_j log |L_jj|

    Args:
        mean: tensor `(batch, d)`.
        scale_tril: tensor `(batch, d, d)`, lower triangular with a positive diagonal.

    Returns:
        float32 tensor `(batch,)`.

    Example:

    >>> kl = tril_gaussian_kl(np.zeros((2, 3)), np.eye(3)[None].repeat(2, 0))  # q = p = N(0, I)
    >>> ops.convert_to_numpy(kl)
    array([0., 0.], dtype=float32)
    """
    mean = ops.cast(mean, "float32")
    scale_tril = ops.cast(scale_tril, "float32")
    d = ops.cast(ops.shape(mean)[-1], "float32")
    frobenius = ops.sum(ops.square(scale_tril), axis=(-2, -1))
    log_det = ops.sum(ops.log(ops.abs(ops.diagonal(scale_tril, axis1=-2, axis2=-1))), -1)
    return 0.5 * (frobenius + ops.sum(ops.square(mean), -1) - d) - log_det


def categorical_kl_to_uniform(logits):
    """KL(Categorical(logits) || Uniform(K)) per example, summed over all categorical variables.

    KL = sum_v sum_k q_vk (log q_vk + log K), with `q = softmax(logits)` on the last axis.

    Args:
        logits: `(batch, ..., K)`; every position of `...` is one categorical
            variable with `K` classes.

    Returns:
        float32 tensor `(batch,)`.

    Example:

    >>> kl = categorical_kl_to_uniform(np.zeros((2, 5, 10)))  # q uniform too
    >>> ops.convert_to_numpy(kl)
    array([0., 0.], dtype=float32)
    """
    logits = ops.cast(logits, "float32")
    num_classes = logits.shape[-1]
    log_q = ops.log_softmax(logits, axis=-1)
    terms = ops.exp(log_q) * (log_q + math.log(num_classes))
    return ops.sum(ops.reshape(terms, (ops.shape(terms)[0], -1)), axis=-1)


__all__ = ["categorical_kl_to_uniform", "diagonal_gaussian_kl", "tril_gaussian_kl"]
