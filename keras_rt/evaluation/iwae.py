"""Importance-weighted log-likelihood bound (IWAE-k) of a trained zoo model.

log p(x) >= L_k = E[ log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x) ],  z_i ~ q(z|x)

L_1 is the ELBO; L_k increases with k towards log p(x) (Burda et al., 2016).
With k = 5000 it is the standard estimate of a VAE's test log-likelihood.
The k samples are drawn in chunks so memory stays bounded.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import tensorflow as tf

from keras_rt.ops.validation import check_int

# Chunk size: about this many decoded values in memory at once.
DECODED_VALUES_PER_CHUNK = 2**23


def importance_weighted_log_likelihood(
    model,
    x,
    *,
    num_samples: int = 5000,
    chunk_size: int | None = None,
    seed: int = 0,
):
    """Per-example IWAE-k bound on log p(x) for one batch, in nats.

    Args:
        model: a zoo model with `importance_log_weights(x, n, seed)` (every
            `GaussianVAE`).
        x: a batch of examples.
        num_samples: k, the number of importance samples (>= 1).
        chunk_size: samples per chunk (default: from the batch size so that
            about 8M decoded values are in memory).
        seed: seed of the importance samples.

    Returns:
        float32 tensor `(batch,)`.
    """
    num_samples = check_int("num_samples", num_samples)
    chunk_size = check_int("chunk_size", chunk_size, allow_none=True)
    x = tf.nest.map_structure(tf.convert_to_tensor, x)
    images = tf.nest.flatten(x)[0]
    batch = int(images.shape[0])
    values_per_sample = max(1, batch * int(np.prod(images.shape[1:])) * model.likelihood.channels)
    if chunk_size is None:
        chunk_size = max(1, min(num_samples, DECODED_VALUES_PER_CHUNK // values_per_sample))
    total = tf.fill([batch], -np.inf)
    for start in range(0, num_samples, chunk_size):
        n = min(chunk_size, num_samples - start)
        log_weights = model.importance_log_weights(x, n, tf.constant([seed, start], tf.int32))
        total = tf.experimental.numpy.logaddexp(total, tf.reduce_logsumexp(log_weights, axis=0))
    return total - math.log(num_samples)


def evaluate_iwae(
    model,
    batches: Iterable,
    *,
    num_samples: int = 5000,
    max_examples: int | None = None,
    seed: int = 0,
    progress: bool = False,
) -> dict:
    """Mean IWAE-k bound over a dataset.

    Args:
        model: a zoo model (see `importance_weighted_log_likelihood`).
        batches: an iterable of batches (a `tf.data.Dataset` of model
            inputs `x`, or of `(x, ...)` tuples whose first element is used).
        num_samples: k.
        max_examples: stop after this many examples (None: all).
        seed: seed of the importance samples.
        progress: show a Keras progress bar.

    Returns:
        `{"iwae_log_likelihood": mean bound (nats), "iwae_k": k, "examples": n,
        "iwae_std_error": standard error of the mean}`.
    """
    num_samples = check_int("num_samples", num_samples)
    max_examples = check_int("max_examples", max_examples, allow_none=True)
    chunks: list[np.ndarray] = []
    seen = 0
    bar = None
    if progress:
        import keras

        bar = keras.utils.Progbar(max_examples, unit_name="example")
    for i, batch in enumerate(batches):
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        if max_examples is not None:
            remaining = max_examples - seen
            x = tf.nest.map_structure(lambda t, n=remaining: t[:n], x)
        size = int(tf.nest.flatten(x)[0].shape[0])
        if size == 0:
            break
        bound = importance_weighted_log_likelihood(
            model, x, num_samples=num_samples, seed=seed * 100003 + i
        )
        chunks.append(bound.numpy())
        seen += size
        if bar is not None:
            bar.update(seen)
        if max_examples is not None and seen >= max_examples:
            break
    if not chunks:
        raise ValueError("`batches` yielded no examples to evaluate.")
    values = np.concatenate(chunks)
    if not np.all(np.isfinite(values)):
        raise FloatingPointError(
            f"IWAE bound is not finite for {int(np.sum(~np.isfinite(values)))} examples "
            "(the model produced NaN/inf)."
        )
    return {
        "iwae_log_likelihood": float(values.mean()),
        "iwae_k": num_samples,
        "examples": int(values.size),
        "iwae_std_error": float(values.std(ddof=1) / math.sqrt(values.size))
        if values.size > 1
        else 0.0,
    }


def paired_iwae_difference(
    model_a: Any,
    model_b: Any,
    x: Any,
    *,
    num_samples: int = 5000,
    batch_size: int = 50,
    seed: int = 0,
) -> dict:
    """IWAE-k negative log-likelihood of `model_a` minus `model_b` on the same examples.

    Both models are scored on identical examples, so the standard error of
    the per-example difference is far smaller than that of either mean: the
    honest way to say which model is better.

    Args:
        model_a: a zoo model.
        model_b: a zoo model taking the same inputs.
        x: a batch of examples (array, or a dict for conditional models).
        num_samples: k.
        batch_size: examples per call.
        seed: seed of the importance samples.

    Returns:
        `{"nll_a", "nll_b", "difference", "difference_std_error", "examples", "iwae_k"}`
        (nats per example; a negative difference means `model_a` is better).

    Example:

    Two (untrained) models scored with k=10 on 32 examples:

    >>> from keras_rt.zoo import MLPVAE
    >>> model_a = MLPVAE(input_shape=(8,), latent_dim=2, hidden_units=(8,), seed=0)
    >>> model_b = MLPVAE(input_shape=(8,), latent_dim=2, hidden_units=(8,), seed=1)
    >>> x = np.random.default_rng(0).uniform(size=(32, 8)).astype("float32")
    >>> result = paired_iwae_difference(model_a, model_b, x, num_samples=10, batch_size=16)
    >>> sorted(result)
    ['difference', 'difference_std_error', 'examples', 'iwae_k', 'nll_a', 'nll_b']
    >>> result["examples"], result["iwae_k"]
    (32, 10)
    """
    first = x["x"] if isinstance(x, dict) else x
    n = len(first)
    values: dict[str, list[np.ndarray]] = {"a": [], "b": []}
    for start in range(0, n, batch_size):
        chunk = tf.nest.map_structure(lambda t, s=start: t[s : s + batch_size], x)
        for key, model in (("a", model_a), ("b", model_b)):
            bound = importance_weighted_log_likelihood(
                model, chunk, num_samples=num_samples, seed=seed * 100003 + start
            )
            values[key].append(bound.numpy())
    a, b = np.concatenate(values["a"]), np.concatenate(values["b"])
    difference = -a - (-b)
    return {
        "nll_a": float(-a.mean()),
        "nll_b": float(-b.mean()),
        "difference": float(difference.mean()),
        "difference_std_error": float(difference.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0,
        "examples": int(n),
        "iwae_k": num_samples,
    }
