"""Closed-form KL(q || N(0, I)) added to a model's loss, with a weight and free bits."""

from __future__ import annotations

import keras
from keras import ops

from keras_rt.api_export import keras_rt_export
from keras_rt.layers.mvn_sampling import MultivariateNormalTriLSampling
from keras_rt.ops.kl import diagonal_gaussian_kl, tril_gaussian_kl
from keras_rt.ops.validation import check_float_dtype, check_same_shape

COVARIANCES = ("diagonal", "full")


@keras_rt_export()
class GaussianKL(keras.layers.Layer):
    """Adds `weight * KL(q(z|x) || N(0, I))` to the model's losses; passes inputs through.

    Place it on the posterior parameters, before the sampler:

        z_mean, z_log_var = GaussianKL()([z_mean, z_log_var])
        z = Sampling()([z_mean, z_log_var])

    One convention everywhere in keras-rt: the KL of an example is **summed
    over latent dimensions** and the loss **averages it over the batch**, in
    nats per example, computed in float32 (also under mixed precision).

    The layer also tracks the unweighted KL as a metric (default name
    `"kl"`), so `fit`, `evaluate` and validation report it next to the loss.

    Free bits (Kingma et al., 2016): with `free_bits = lambda > 0`, each
    latent dimension's batch-averaged KL is floored at `lambda` nats before
    summing, so the optimizer gains nothing by pushing a dimension below it
    (diagonal covariance only).

    Args:
        weight: initial multiplier of the KL term (beta in a beta-VAE). It
            lives in a non-trainable variable `layer.kl_weight` that
            `keras_rt.callbacks.KLWarmup` anneals.
        free_bits: nats per latent dimension, `>= 0` (0 turns it off).
        covariance: `"diagonal"` (inputs `[z_mean, z_log_var]`) or `"full"`
            (inputs `[mean, scale_params]` as for
            `MultivariateNormalTriLSampling`, with `diag_shift`).
        diag_shift: the `diag_shift` of the matching full-covariance sampler.
        metric_name: name of the tracked unweighted-KL metric, or `None`.
        **kwargs: base layer keyword arguments.

    Call arguments:
        inputs: list `[z_mean, z_log_var]` (or `[mean, scale_params]`).

    Output shape:
        The inputs, unchanged.

    Example:

    >>> z_mean, z_log_var = GaussianKL(weight=0.5)([z_mean, z_log_var])
    """

    def __init__(
        self,
        weight: float = 1.0,
        free_bits: float = 0.0,
        covariance: str = "diagonal",
        diag_shift: float = 1e-5,
        metric_name: str | None = "kl",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not (isinstance(weight, (int, float)) and weight >= 0):
            raise ValueError(f"`weight` must be a number >= 0. Received: weight={weight!r}")
        if not (isinstance(free_bits, (int, float)) and free_bits >= 0):
            raise ValueError(
                f"`free_bits` must be a number >= 0. Received: free_bits={free_bits!r}"
            )
        if covariance not in COVARIANCES:
            raise ValueError(
                f"`covariance` must be one of {COVARIANCES}. Received: covariance={covariance!r}"
            )
        if covariance == "full" and free_bits:
            raise ValueError(
                "`free_bits` is defined per latent dimension and needs covariance='diagonal'. "
                f"Received: free_bits={free_bits!r}, covariance={covariance!r}"
            )
        self.weight = float(weight)
        self.free_bits = float(free_bits)
        self.covariance = covariance
        self.diag_shift = float(diag_shift)
        self.metric_name = metric_name
        self.kl_weight = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(self.weight),
            trainable=False,
            name="kl_weight",
            dtype="float32",
        )
        self.kl_tracker = keras.metrics.Mean(name=metric_name) if metric_name else None
        if covariance == "full":
            self._tril = MultivariateNormalTriLSampling(diag_shift=diag_shift, dtype="float32")

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError(
                "`GaussianKL` must be called on a list of two tensors. "
                f"Received: input_shape={input_shape!r}"
            )
        if self.covariance == "diagonal":
            check_same_shape(["z_mean", "z_log_var"], input_shape)
        else:
            self._tril.build(input_shape)
        self.built = True

    def kl_per_example(self, inputs):
        """The unweighted KL of each example (float32, summed over latent dimensions)."""
        first, second = inputs
        check_float_dtype("z_mean", first)
        check_float_dtype("z_log_var" if self.covariance == "diagonal" else "scale_params", second)
        if self.covariance == "diagonal":
            return diagonal_gaussian_kl(first, second)
        scale = self._tril.scale_tril(ops.cast(second, "float32"))
        return tril_gaussian_kl(first, scale)

    def call(self, inputs):
        kl = self.kl_per_example(inputs)
        if self.free_bits > 0:
            per_dim = diagonal_gaussian_kl(inputs[0], inputs[1], per_dimension=True)
            batch_axes = tuple(range(len(per_dim.shape) - 1))
            penalty = ops.sum(ops.maximum(ops.mean(per_dim, axis=batch_axes), self.free_bits))
        else:
            penalty = ops.mean(kl)
        self.add_loss(self.kl_weight * penalty)
        if self.kl_tracker is not None:
            self.kl_tracker.update_state(kl)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "weight": self.weight,
                "free_bits": self.free_bits,
                "covariance": self.covariance,
                "diag_shift": self.diag_shift,
                "metric_name": self.metric_name,
            }
        )
        return config
