"""Active latent units (Burda et al., 2016): dimensions the posterior actually uses."""

from __future__ import annotations

import numpy as np


def active_units(model, x, *, threshold: float = 0.01, batch_size: int = 512) -> int:
    """Counts latent units u with Cov_x(E_q[u | x]) > `threshold`.

    A unit whose posterior mean does not move with the input carries no
    information (posterior collapse). For categorical latents a variable is
    active when the summed variance of its class probabilities exceeds the
    threshold.

    Args:
        model: a zoo model (`posterior(x).mean()` is used).
        x: model inputs (an array, or a dict for conditional models).
        threshold: variance threshold (0.01 as in Burda et al.).
        batch_size: examples per posterior call.

    Returns:
        The number of active units (or categorical variables).

    Example:

    >>> from keras_rt.zoo import MLPVAE
    >>> model = MLPVAE(input_shape=(8,), latent_dim=2, hidden_units=(8,), seed=0)
    >>> x = np.random.default_rng(0).uniform(size=(64, 8)).astype("float32")
    >>> active_units(model, x)  # of latent_dim=2
    2
    """
    first = x["x"] if isinstance(x, dict) else x
    n = len(first)
    means = []
    for start in range(0, n, batch_size):
        if isinstance(x, dict):
            chunk = {k: v[start : start + batch_size] for k, v in x.items()}
        else:
            chunk = x[start : start + batch_size]
        means.append(np.asarray(model.posterior(chunk).mean()))
    variance = np.concatenate(means).var(axis=0)
    if variance.ndim > 1:  # categorical: (variables, classes)
        variance = variance.reshape(variance.shape[0], -1).sum(axis=-1)
    return int(np.sum(variance > threshold))
