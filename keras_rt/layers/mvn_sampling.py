"""Full-covariance Gaussian reparameterized sampling: z = mean + L @ eps."""

from __future__ import annotations

import math

import keras
import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

from keras_rt.api_export import keras_rt_export
from keras_rt.layers.sampling import _check_inference, _check_num_samples, add_sample_axis
from keras_rt.ops.validation import check_float_dtype

tfb = tfp.bijectors


def num_scale_params(latent_dim: int) -> int:
    """Number of free entries of a `d x d` lower-triangular matrix: `d (d + 1) / 2`."""
    return latent_dim * (latent_dim + 1) // 2


def latent_dim_for(num_params: int) -> int | None:
    """Inverse of `num_scale_params`, or None when `num_params` is not triangular."""
    d = int((math.isqrt(8 * num_params + 1) - 1) // 2)
    return d if num_scale_params(d) == num_params else None


@keras_rt_export()
class MultivariateNormalTriLSampling(keras.layers.Layer):
    """Draws `z ~ N(mean, L L^T)` as `z = mean + L @ eps`, `eps ~ N(0, I)`.

    The `d (d + 1) / 2` unconstrained `scale_params` are mapped to the
    lower-triangular Cholesky factor `L` with TFP's `FillScaleTriL` bijector:
    the entries fill the lower triangle and the diagonal goes through a
    softplus (plus `diag_shift`) so that `L` is a valid scale with a positive
    diagonal. Gradients flow to `mean` and `scale_params`. This is the
    full-covariance form `mu + Sigma^{1/2} eps` of the reparameterization
    trick; the matching closed-form KL to `N(0, I)` is
    `keras_rt.ops.tril_gaussian_kl` (or `GaussianKL(covariance="full")`).

    Args:
        seed: integer seed for the layer's noise; `None` picks a random one.
        num_samples: `None` (default) for one sample `(batch, d)`, or an
            integer `k >= 1` for `(batch, k, d)`.
        inference: `"sample"` (default) or `"mean"` when not training.
        diag_shift: small positive constant added to the diagonal of `L`.
        **kwargs: base layer keyword arguments.

    Call arguments:
        inputs: list `[mean, scale_params]`: `(batch, d)` and `(batch, d(d+1)/2)`.
        training: Python boolean; only used when `inference="mean"`.

    Output shape:
        `(batch, d)`, or `(batch, num_samples, d)`.

    Example:

    >>> mean = keras.layers.Dense(3)(h)
    >>> scale_params = keras.layers.Dense(6)(h)   # 3 * 4 / 2
    >>> z = MultivariateNormalTriLSampling(seed=1)([mean, scale_params])
    """

    def __init__(
        self,
        seed: int | None = None,
        num_samples: int | None = None,
        inference: str = "sample",
        diag_shift: float = 1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        _check_num_samples(num_samples)
        _check_inference(inference)
        if not diag_shift >= 0:
            raise ValueError(f"`diag_shift` must be >= 0. Received: diag_shift={diag_shift!r}")
        self.seed = seed
        self.num_samples = num_samples
        self.inference = inference
        self.diag_shift = float(diag_shift)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError(
                "`MultivariateNormalTriLSampling` must be called on a list "
                f"[mean, scale_params]. Received: input_shape={input_shape!r}"
            )
        mean_shape, params_shape = input_shape
        d, p = mean_shape[-1], params_shape[-1]
        if d is None or p is None or num_scale_params(int(d)) != int(p):
            raise ValueError(
                "`scale_params` must have d * (d + 1) / 2 entries for a mean of size d "
                f"(d={d} needs {None if d is None else num_scale_params(int(d))}). "
                f"Received: mean.shape={tuple(mean_shape)}, "
                f"scale_params.shape={tuple(params_shape)}"
            )
        self.built = True

    def scale_tril(self, scale_params):
        """Maps unconstrained parameters `(..., d(d+1)/2)` to `L` of shape `(..., d, d)`.

        The same map as `tfb.FillScaleTriL(diag_bijector=tfb.Softplus(),
        diag_shift=diag_shift)`, written with `tfb.FillTriangular` and
        `tfb.Softplus` on the diagonal so that its gradient also compiles
        under XLA (FillScaleTriL's does not).
        """
        lower = tfb.FillTriangular().forward(scale_params)
        raw_diagonal = tf.linalg.diag_part(lower)
        diagonal = tfb.Softplus().forward(raw_diagonal) + self.diag_shift
        # `lower + diag(new - old)` rather than `set_diag`, whose gradient XLA
        # cannot compile with an unknown batch size.
        return lower + tf.linalg.diag(diagonal - raw_diagonal)

    def call(self, inputs, training=None):
        mean, scale_params = inputs
        check_float_dtype("mean", mean)
        check_float_dtype("scale_params", scale_params)
        if self.inference == "mean" and not training:
            return mean if self.num_samples is None else add_sample_axis(mean, self.num_samples)
        scale = self.scale_tril(scale_params)
        if self.num_samples is not None:
            mean = ops.expand_dims(mean, 1)
            scale = ops.expand_dims(scale, 1)
            shape = list(ops.shape(mean))
            shape[1] = self.num_samples
        else:
            shape = ops.shape(mean)
        eps = keras.random.normal(shape, dtype=self.compute_dtype, seed=self.seed_generator)
        return mean + tf.linalg.matvec(scale, eps)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape[0])
        if self.num_samples is None:
            return shape
        return (shape[0], self.num_samples) + shape[1:]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "seed": self.seed,
                "num_samples": self.num_samples,
                "inference": self.inference,
                "diag_shift": self.diag_shift,
            }
        )
        return config
