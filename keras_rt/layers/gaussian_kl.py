"""Closed-form KL(q || N(0, I)) added to a model's loss, with a weight and free bits."""

from __future__ import annotations

import math

from keras import ops

from keras_rt.api_export import keras_rt_export
from keras_rt.layers.base_kl import BaseKL
from keras_rt.ops.gaussian import check_scale_params_shape, fill_scale_tril
from keras_rt.ops.kl import diagonal_gaussian_kl, tril_gaussian_kl
from keras_rt.ops.validation import (
    check_choice,
    check_layer_inputs,
    check_number,
    check_same_shape,
)

COVARIANCES = ("diagonal", "full")
COVARIANCE_INPUTS = ("mean", "scale_params")  # covariance="full"
ESTIMATORS = ("analytic", "stl")
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


@keras_rt_export()
class GaussianKL(BaseKL):
    """Adds `weight * KL(q(z|x) || N(0, I))` to the model's losses; passes inputs through.

    Place it on the posterior parameters, before the sampler:

        z_mean, z_log_var = GaussianKL()([z_mean, z_log_var])
        z = Sampling()([z_mean, z_log_var])

    One convention everywhere in keras-rt: the KL of an example is **summed
    over latent dimensions** and the loss **averages it over the batch**, in
    nats per example, computed in float32 (also under mixed precision).

    The layer also tracks the unweighted KL as a metric (default name
    `"kl"`), so `fit`, `evaluate` and validation report it next to the loss
    (not on the JAX backend, where Keras cannot update a layer's metric
    inside `fit`: see `BaseKL`).

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
        estimator: how the loss term estimates the KL. `"analytic"` (default):
            the closed form. `"stl"` ("sticking the landing", Roeder et al.,
            2017): the one-sample Monte Carlo estimate
            `log q(z) - log p(z)` at the sampled `z`, with the posterior's
            parameters stopped inside `log q`, which drops the score term
            (zero in expectation) from the gradient; then place the layer
            after the sampler and call it on `[z_mean, z_log_var, z]`. The
            tracked metric stays the closed-form KL.
        **kwargs: base layer keyword arguments.

    Call arguments:
        inputs: list `[z_mean, z_log_var]` (or `[mean, scale_params]`), and
            the sample `z` as a third entry with `estimator="stl"`.

    Output shape:
        The inputs, unchanged.

    Example:

    >>> kl = GaussianKL(weight=0.5)
    >>> z_mean, z_log_var = kl([np.ones((2, 3), "float32"), np.zeros((2, 3), "float32")])
    >>> z_mean.shape  # the inputs pass through unchanged
    TensorShape([2, 3])
    >>> float(kl.losses[0])  # 0.5 * KL(N(1, 1) || N(0, 1)) summed over 3 dimensions
    0.75
    """

    def __init__(
        self,
        weight: float = 1.0,
        free_bits: float = 0.0,
        covariance: str = "diagonal",
        diag_shift: float = 1e-5,
        metric_name: str | None = "kl",
        estimator: str = "analytic",
        **kwargs,
    ):
        check_choice("covariance", covariance, COVARIANCES)
        self.estimator = check_choice("estimator", estimator, ESTIMATORS)
        free_bits = check_number("free_bits", free_bits, minimum=0)
        if covariance == "full" and free_bits:
            raise ValueError(
                "`free_bits` is defined per latent dimension and needs covariance='diagonal'. "
                f"Received: free_bits={free_bits!r}, covariance={covariance!r}"
            )
        super().__init__(weight=weight, metric_name=metric_name, free_bits=free_bits, **kwargs)
        self.covariance = covariance
        self.diag_shift = check_number("diag_shift", diag_shift, minimum=0)

    def input_names(self) -> tuple[str, ...]:
        """The tensors `call` takes, in order: they depend on `covariance` and `estimator`."""
        names = ("z_mean", "z_log_var") if self.covariance == "diagonal" else COVARIANCE_INPUTS
        return names + ("z",) if self.estimator == "stl" else names

    def check_inputs(self, inputs) -> None:
        if self.covariance == "diagonal":
            shapes = "of the same shape"
        elif self.estimator == "stl":
            shapes = "of shapes (batch, d), (batch, d (d + 1) / 2) and (batch, d)"
        else:
            shapes = "of shapes (batch, d) and (batch, d (d + 1) / 2)"
        if self.estimator == "stl":
            shapes += " (with estimator='stl', z is the sample drawn from them)"
        check_layer_inputs(self, inputs, self.input_names(), shapes=shapes)

    def build(self, input_shape):
        names = self.input_names()
        if (
            not isinstance(input_shape, (list, tuple))
            or len(input_shape) != len(names)
            or not all(isinstance(s, (list, tuple)) for s in input_shape)
        ):
            raise ValueError(
                f"`GaussianKL(estimator={self.estimator!r})` must be called on a list of "
                f"{len(names)} tensors, [{', '.join(names)}]. Received: input_shape={input_shape!r}"
            )
        input_shape = input_shape[:2]
        if self.covariance == "diagonal":
            check_same_shape(["z_mean", "z_log_var"], input_shape, layer=self)
        else:
            check_scale_params_shape(*input_shape)
        self.built = True

    def kl_per_example(self, inputs):
        """The unweighted KL of each example (float32, summed over latent dimensions)."""
        first, second = inputs[0], inputs[1]
        if self.covariance == "diagonal":
            return diagonal_gaussian_kl(first, second)
        scale = fill_scale_tril(ops.cast(second, "float32"), self.diag_shift)
        return tril_gaussian_kl(first, scale)

    def kl_per_dimension(self, inputs):
        """The unweighted KL of each example and latent dimension (diagonal covariance)."""
        if self.estimator == "stl":
            return self.sampled_kl_terms(inputs)
        return diagonal_gaussian_kl(inputs[0], inputs[1], per_dimension=True)

    def sampled_kl_terms(self, inputs):
        """`log q(z) - log p(z)` at the sample, posterior parameters stopped inside `log q`.

        Per latent dimension for a diagonal covariance; per example for a full one.
        """
        first, second, z = (ops.cast(t, "float32") for t in inputs)
        first, second = ops.stop_gradient(first), ops.stop_gradient(second)
        log_p = -0.5 * ops.square(z) - HALF_LOG_2PI
        if self.covariance == "diagonal":
            log_q = -0.5 * (ops.square(z - first) * ops.exp(-second) + second) - HALF_LOG_2PI
            return log_q - log_p
        scale = fill_scale_tril(second, self.diag_shift)
        # L^-1 (z - mean) by a triangular solve; log|det L| from the diagonal.
        white = ops.squeeze(
            ops.solve_triangular(scale, ops.expand_dims(z - first, -1), lower=True), -1
        )
        log_det = ops.sum(ops.log(ops.diagonal(scale, axis1=-2, axis2=-1)), -1)
        log_q = ops.sum(-0.5 * ops.square(white) - HALF_LOG_2PI, -1) - log_det
        return log_q - ops.sum(log_p, -1)

    def kl_penalty(self, inputs, kl):
        if self.estimator != "stl" or self.free_bits > 0:
            return super().kl_penalty(inputs, kl)
        terms = self.sampled_kl_terms(inputs)
        return ops.mean(terms if self.covariance == "full" else ops.sum(terms, -1))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "free_bits": self.free_bits,
                "covariance": self.covariance,
                "diag_shift": self.diag_shift,
                "estimator": self.estimator,
            }
        )
        return config
