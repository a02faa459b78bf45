"""Full-covariance Gaussian reparameterized sampling: z = mean + L @ eps."""

from __future__ import annotations

from keras import ops

from keras_rt.api_export import keras_rt_export
from keras_rt.layers.base_sampler import BaseSampler
from keras_rt.ops.gaussian import (
    check_scale_params_shape,
    fill_scale_tril,
    latent_dim_for,
    num_scale_params,
)
from keras_rt.ops.noise import NOISE_TYPES as GAUSSIAN_NOISE_TYPES
from keras_rt.ops.validation import check_number

# `num_scale_params` and `latent_dim_for` live in `keras_rt.ops.gaussian`;
# they stay importable from here.
__all__ = ["MultivariateNormalTriLSampling", "latent_dim_for", "num_scale_params"]


@keras_rt_export()
class MultivariateNormalTriLSampling(BaseSampler):
    """Draws `z ~ N(mean, L L^T)` as `z = mean + L @ eps`, `eps ~ N(0, I)`.

    The `d (d + 1) / 2` unconstrained `scale_params` are mapped to the
    lower-triangular Cholesky factor `L` as TFP's `FillScaleTriL` bijector
    does (`keras_rt.ops.fill_scale_tril`, written in `keras.ops`, so the
    layer runs on the TensorFlow and the JAX backends): the entries fill the
    lower triangle and the diagonal goes through a softplus (plus
    `diag_shift`) so that `L` is a valid scale with a positive diagonal. Gradients flow to `mean` and `scale_params`. This is the
    full-covariance form `mu + Sigma^{1/2} eps` of the reparameterization
    trick; the matching closed-form KL to `N(0, I)` is
    `keras_rt.ops.tril_gaussian_kl` (or `GaussianKL(covariance="full")`).

    Args:
        seed: integer seed for the layer's noise; `None` picks a random one.
        num_samples: `None` (default) for one sample `(batch, d)`, or an
            integer `k >= 1` for `(batch, k, d)`.
        inference: `"sample"` (default) or `"mean"` when not training.
        diag_shift: small positive constant added to the diagonal of `L`.
        noise: the joint law of the noise `eps`, each draw exactly
            `N(0, I)`: `"normal"` (default) for independent draws;
            `"antithetic"` for pairs `eps, -eps` along the sample axis when
            `num_samples` is set (then it must be even: sample `j` pairs with
            sample `j + num_samples / 2`), else along the batch (example `i`
            with example `i + ceil(batch / 2)`; with an odd batch, example
            `ceil(batch / 2) - 1` is an unpaired ordinary draw); `"qmc"` for
            randomized quasi-Monte Carlo: the `num_samples` samples of each
            example (or, without `num_samples`, the batch) are one scrambled
            Sobol point set over the latent dimensions, freshly randomized on
            every call, pushed through the normal inverse CDF. QMC supports
            up to 21200 latent dimensions per draw (`d`); more raise a
            `ValueError` when the layer is built.
        **kwargs: base layer keyword arguments.

    Call arguments:
        inputs: list `[mean, scale_params]`: `(batch, d)` and `(batch, d(d+1)/2)`.
        training: Python boolean; only used when `inference="mean"`.

    Output shape:
        `(batch, d)`, or `(batch, num_samples, d)`.

    Example:

    >>> h = keras.Input((16,))
    >>> mean = keras.layers.Dense(3)(h)
    >>> scale_params = keras.layers.Dense(6)(h)   # 3 * 4 / 2
    >>> z = MultivariateNormalTriLSampling(seed=1)([mean, scale_params])
    >>> z.shape
    (None, 3)
    >>> layer = MultivariateNormalTriLSampling(seed=1, num_samples=8, noise="qmc")
    >>> layer([np.zeros((2, 3), "float32"), np.zeros((2, 6), "float32")]).shape
    TensorShape([2, 8, 3])
    """

    INFERENCE_MODES = ("sample", "mean")
    NOISE_TYPES = GAUSSIAN_NOISE_TYPES
    INPUT_NAMES = ("mean", "scale_params")
    INPUT_SHAPES = "of shapes (batch, d) and (batch, d (d + 1) / 2)"

    def __init__(
        self,
        seed: int | None = None,
        num_samples: int | None = None,
        inference: str = "sample",
        diag_shift: float = 1e-5,
        noise: str = "normal",
        **kwargs,
    ):
        super().__init__(
            seed=seed, num_samples=num_samples, inference=inference, noise=noise, **kwargs
        )
        self.diag_shift = check_number("diag_shift", diag_shift, minimum=0)

    def build(self, input_shape):
        if (
            not isinstance(input_shape, (list, tuple))
            or len(input_shape) != 2
            or not all(isinstance(s, (list, tuple)) for s in input_shape)
        ):
            raise ValueError(
                "`MultivariateNormalTriLSampling` must be called on a list "
                f"[mean, scale_params]. Received: input_shape={input_shape!r}"
            )
        check_scale_params_shape(*input_shape)
        self.check_noise_shape(self.event_shape(input_shape))
        self.built = True

    def scale_tril(self, scale_params):
        """Maps unconstrained parameters `(..., d(d+1)/2)` to `L` of shape `(..., d, d)`.

        `keras_rt.ops.fill_scale_tril` with this layer's `diag_shift`: the
        same map as `tfb.FillScaleTriL(diag_bijector=tfb.Softplus(),
        diag_shift=diag_shift)`, in a form whose gradient compiles under XLA.
        """
        return fill_scale_tril(scale_params, self.diag_shift)

    def parameters(self, inputs):
        mean, scale_params = inputs
        return mean, scale_params

    def draw(self, params):
        mean, scale_params = params
        scale = self.expand_for_samples(self.scale_tril(scale_params))
        eps = self.standard_normal(self.sample_shape(ops.shape(mean)))
        scaled = ops.squeeze(ops.matmul(scale, ops.expand_dims(eps, -1)), -1)  # L @ eps
        return self.expand_for_samples(mean) + scaled

    def infer(self, params):
        # inference="mean"
        return self.repeat_for_samples(params[0])

    def event_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config.update(
            {"num_samples": self.num_samples, "noise": self.noise, "diag_shift": self.diag_shift}
        )
        return config
