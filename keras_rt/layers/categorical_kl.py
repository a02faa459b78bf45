"""Closed-form KL(q || Uniform) for categorical latents, added to the model's loss."""

from __future__ import annotations

import math

import keras
from keras import ops

from keras_rt.api_export import keras_rt_export
from keras_rt.ops.validation import check_float_dtype


def categorical_kl_to_uniform(logits):
    """KL(Categorical(logits) || Uniform(K)) per example, summed over all categorical variables.

    KL = sum_v sum_k q_vk (log q_vk + log K), with `q = softmax(logits)` on the last axis.

    Args:
        logits: `(batch, ..., K)`.

    Returns:
        float32 tensor `(batch,)`.
    """
    logits = ops.cast(logits, "float32")
    num_classes = logits.shape[-1]
    log_q = ops.log_softmax(logits, axis=-1)
    terms = ops.exp(log_q) * (log_q + math.log(num_classes))
    return ops.sum(ops.reshape(terms, (ops.shape(terms)[0], -1)), axis=-1)


@keras_rt_export()
class CategoricalKL(keras.layers.Layer):
    """Adds `weight * KL(q(z|x) || Uniform)` for categorical latents; passes logits through.

    The counterpart of `GaussianKL` for `GumbelSoftmaxSampling` latents: same
    convention (summed over latent variables, averaged over the batch, nats,
    float32), a `kl_weight` variable for `KLWarmup`, and an unweighted `kl`
    metric.

    Args:
        weight: initial multiplier of the KL term.
        metric_name: name of the tracked unweighted-KL metric, or `None`.
        **kwargs: base layer keyword arguments.

    Call arguments:
        inputs: logits `(batch, ..., K)`.

    Output shape:
        The input, unchanged.

    Example:

    >>> logits = CategoricalKL()(logits)
    >>> y = GumbelSoftmaxSampling(temperature=1.0)(logits)
    """

    def __init__(self, weight: float = 1.0, metric_name: str | None = "kl", **kwargs):
        super().__init__(**kwargs)
        if not (isinstance(weight, (int, float)) and weight >= 0):
            raise ValueError(f"`weight` must be a number >= 0. Received: weight={weight!r}")
        self.weight = float(weight)
        self.metric_name = metric_name
        self.kl_weight = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(self.weight),
            trainable=False,
            name="kl_weight",
            dtype="float32",
        )
        self.kl_tracker = keras.metrics.Mean(name=metric_name) if metric_name else None

    def build(self, input_shape):
        if len(input_shape) < 2 or (input_shape[-1] is not None and int(input_shape[-1]) < 2):
            raise ValueError(
                "`CategoricalKL` needs logits (batch, ..., K) with K >= 2. "
                f"Received: logits.shape={tuple(input_shape)}"
            )
        self.built = True

    def call(self, inputs):
        check_float_dtype("logits", inputs)
        kl = categorical_kl_to_uniform(inputs)
        self.add_loss(self.kl_weight * ops.mean(kl))
        if self.kl_tracker is not None:
            self.kl_tracker.update_state(kl)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"weight": self.weight, "metric_name": self.metric_name})
        return config
