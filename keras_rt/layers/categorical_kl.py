"""Closed-form KL(q || Uniform) for categorical latents, added to the model's loss."""

from __future__ import annotations

from keras_rt.api_export import keras_rt_export
from keras_rt.layers.base_kl import BaseKL
from keras_rt.ops.kl import categorical_kl_to_uniform


@keras_rt_export()
class CategoricalKL(BaseKL):
    """Adds `weight * KL(q(z|x) || Uniform)` for categorical latents; passes logits through.

    The counterpart of `GaussianKL` for `GumbelSoftmaxSampling` latents: same
    convention (summed over latent variables, averaged over the batch, nats,
    float32), a `kl_weight` variable for `KLWarmup`, and an unweighted `kl`
    metric (not on the JAX backend: see `BaseKL`).

    Args:
        weight: initial multiplier of the KL term.
        metric_name: name of the tracked unweighted-KL metric, or `None`.
        **kwargs: base layer keyword arguments.

    Call arguments:
        inputs: logits `(batch, ..., K)`.

    Output shape:
        The input, unchanged.

    Example:

    >>> from keras_rt.layers import GumbelSoftmaxSampling
    >>> logits = keras.Input((20, 10))
    >>> logits = CategoricalKL()(logits)
    >>> y = GumbelSoftmaxSampling(temperature=1.0)(logits)
    >>> y.shape
    (None, 20, 10)
    """

    INPUT_NAMES = ("logits",)
    INPUT_SHAPES = "of shape (batch, ..., K), K >= 2"

    def __init__(self, weight: float = 1.0, metric_name: str | None = "kl", **kwargs):
        super().__init__(weight=weight, metric_name=metric_name, **kwargs)

    def build(self, input_shape):
        if len(input_shape) < 2 or (input_shape[-1] is not None and int(input_shape[-1]) < 2):
            raise ValueError(
                "`CategoricalKL` needs logits (batch, ..., K) with K >= 2. "
                f"Received: logits.shape={tuple(input_shape)}"
            )
        self.built = True

    def kl_per_example(self, inputs):
        """The unweighted KL of each example (float32, summed over categorical variables)."""
        return categorical_kl_to_uniform(inputs)
