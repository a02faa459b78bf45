"""Diagonal-Gaussian reparameterized sampling: z = mean + exp(0.5 * log_var) * eps."""

from __future__ import annotations

from keras import ops

from keras_rt.api_export import keras_rt_export
from keras_rt.layers.base_sampler import BaseSampler
from keras_rt.ops import gaussian
from keras_rt.ops.noise import NOISE_TYPES as GAUSSIAN_NOISE_TYPES
from keras_rt.ops.validation import check_range, check_same_shape


def _is_single_shape(input_shape) -> bool:
    return not input_shape or not isinstance(input_shape[0], (list, tuple))


@keras_rt_export()
class Sampling(BaseSampler):
    """Draws `z ~ N(z_mean, diag(exp(z_log_var)))` with the reparameterization trick.

    `z = z_mean + exp(0.5 * z_log_var) * eps` with `eps ~ N(0, I)` drawn from
    the layer's own `keras.random.SeedGenerator`, so gradients flow to
    `z_mean` and `z_log_var` and every call draws fresh noise (also inside an
    exported SavedModel).

    `z_log_var` is clamped to `log_var_range` (default `(-20, 20)`, i.e. a
    standard deviation between 4.5e-5 and 2.2e4) before the exponential, so
    float16/bfloat16 and extreme encoder outputs cannot overflow. NaN and
    infinite values are *not* clamped: they propagate, so a diverging model
    is seen rather than hidden.

    Args:
        seed: integer seed for the layer's noise; `None` picks a random one.
        num_samples: `None` (default) draws one sample, shape
            `(batch, ..., latent)`; an integer `k >= 1` draws `k` samples,
            shape `(batch, k, ..., latent)` (importance-weighted models).
        inference: what the layer does when not training: `"sample"`
            (default) keeps drawing; `"mean"` returns `z_mean` (repeated
            along the sample axis when `num_samples` is set).
        log_var_range: `(low, high)` clamp for `z_log_var`, or `None`.
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
            up to 21200 latent dimensions per draw (`prod(shape[1:])` of
            `z_mean`); more raise a `ValueError` when the layer is built.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: list `[z_mean, z_log_var]` of floating tensors of one shape,
            or one tensor `(..., 2 * latent)` whose first and second halves
            are `z_mean` and `z_log_var` (handy in `Sequential` models).
        training: Python boolean; only used when `inference="mean"`.

    Input shape:
        Two tensors of shape `(batch, ..., latent)`.

    Output shape:
        `(batch, ..., latent)`, or `(batch, num_samples, ..., latent)`.

    Example:

    >>> x = keras.Input((784,))
    >>> h = keras.layers.Dense(256, activation="relu")(x)
    >>> z_mean, z_log_var = keras.layers.Dense(2)(h), keras.layers.Dense(2)(h)
    >>> z = Sampling(seed=42)([z_mean, z_log_var])
    >>> z.shape
    (None, 2)

    Antithetic pairs along the sample axis, and randomized-QMC noise:

    >>> zeros = np.zeros((2, 3), "float32")
    >>> z = Sampling(seed=0, num_samples=4, noise="antithetic")([zeros, zeros])
    >>> bool(np.allclose(z[:, 2:], -z[:, :2]))  # sample j + 2 mirrors sample j
    True
    >>> eps = Sampling(seed=0, noise="qmc")([np.zeros((1024, 2), "float32")] * 2)
    >>> bool(np.all(np.abs(np.mean(eps, axis=0)) < 0.01))  # i.i.d. noise: ~0.03
    True

    References:
        - [Kingma & Welling, 2014](https://arxiv.org/abs/1312.6114)
        - [Buchholz, Wenzel & Mandt, 2018](https://arxiv.org/abs/1807.01604)
          (quasi-Monte Carlo variational inference)
    """

    INFERENCE_MODES = ("sample", "mean")
    NOISE_TYPES = GAUSSIAN_NOISE_TYPES
    INPUT_NAMES = ("z_mean", "z_log_var")
    INPUT_SHAPES = "of the same shape"
    PACKED_INPUT = "one tensor (..., 2 * latent) whose last-axis halves are z_mean and z_log_var"

    def __init__(
        self,
        seed: int | None = None,
        num_samples: int | None = None,
        inference: str = "sample",
        log_var_range: tuple[float, float] | None = (-20.0, 20.0),
        noise: str = "normal",
        **kwargs,
    ):
        super().__init__(
            seed=seed, num_samples=num_samples, inference=inference, noise=noise, **kwargs
        )
        self.log_var_range = check_range("log_var_range", log_var_range, allow_none=True)
        self.supports_masking = False

    def build(self, input_shape):
        if _is_single_shape(input_shape):
            last = input_shape[-1]
            if last is not None and int(last) % 2:
                raise ValueError(
                    "A single input to `Sampling` is split into [z_mean, z_log_var] halves "
                    "and needs an even last dimension. "
                    f"Received: inputs.shape={tuple(input_shape)}"
                )
        elif len(input_shape) != 2:
            raise ValueError(
                "`Sampling` must be called on a list [z_mean, z_log_var] (or one tensor "
                f"holding both halves). Received: input_shape={input_shape!r}"
            )
        else:
            check_same_shape(["z_mean", "z_log_var"], input_shape, layer=self)
        self.check_noise_shape(self.event_shape(input_shape))
        self.built = True

    def clamp_log_var(self, z_log_var):
        """Clamps finite values of `z_log_var` to `log_var_range`; NaN/inf pass through."""
        return gaussian.clamp_log_var(z_log_var, self.log_var_range)

    def parameters(self, inputs):
        if isinstance(inputs, (list, tuple)):
            z_mean, z_log_var = inputs
        else:
            z_mean, z_log_var = ops.split(inputs, 2, axis=-1)
        return z_mean, z_log_var

    def draw(self, params):
        z_mean, z_log_var = params
        std = ops.exp(0.5 * self.clamp_log_var(z_log_var))
        eps = self.standard_normal(self.sample_shape(ops.shape(z_mean)))
        return self.expand_for_samples(z_mean) + self.expand_for_samples(std) * eps

    def infer(self, params):
        # inference="mean"
        return self.repeat_for_samples(params[0])

    def event_shape(self, input_shape):
        if _is_single_shape(input_shape):
            last = input_shape[-1]
            return tuple(input_shape[:-1]) + (None if last is None else int(last) // 2,)
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_samples": self.num_samples,
                "noise": self.noise,
                "log_var_range": self.log_var_range,
            }
        )
        return config
