"""Diagonal-Gaussian reparameterized sampling: z = mean + exp(0.5 * log_var) * eps."""

from __future__ import annotations

import keras
from keras import ops

from keras_rt.api_export import keras_rt_export
from keras_rt.ops.validation import check_float_dtype, check_same_shape

INFERENCE_MODES = ("sample", "mean")


def _check_num_samples(num_samples) -> None:
    if num_samples is not None and (
        isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1
    ):
        raise ValueError(
            "`num_samples` must be None (one sample, no sample axis) or an integer >= 1. "
            f"Received: num_samples={num_samples!r}"
        )


def _check_inference(inference) -> None:
    if inference not in INFERENCE_MODES:
        raise ValueError(
            f"`inference` must be one of {INFERENCE_MODES}. Received: inference={inference!r}"
        )


def _is_single_shape(input_shape) -> bool:
    return not input_shape or not isinstance(input_shape[0], (list, tuple))


def add_sample_axis(tensor, num_samples):
    """Inserts a sample axis at position 1 and repeats `tensor` along it."""
    return ops.repeat(ops.expand_dims(tensor, 1), num_samples, axis=1)


@keras_rt_export()
class Sampling(keras.layers.Layer):
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

    References:
        - [Kingma & Welling, 2014](https://arxiv.org/abs/1312.6114)
    """

    def __init__(
        self,
        seed: int | None = None,
        num_samples: int | None = None,
        inference: str = "sample",
        log_var_range: tuple[float, float] | None = (-20.0, 20.0),
        **kwargs,
    ):
        super().__init__(**kwargs)
        _check_num_samples(num_samples)
        _check_inference(inference)
        if log_var_range is not None:
            bounds = tuple(float(v) for v in log_var_range)
            if len(bounds) != 2 or not bounds[0] < bounds[1]:
                raise ValueError(
                    "`log_var_range` must be a pair (low, high) with low < high, or None. "
                    f"Received: log_var_range={bounds!r}"
                )
            log_var_range = (bounds[0], bounds[1])
        self.seed = seed
        self.num_samples = num_samples
        self.inference = inference
        self.log_var_range = log_var_range
        self.seed_generator = keras.random.SeedGenerator(seed)
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
            check_same_shape(["z_mean", "z_log_var"], input_shape)
        self.built = True

    def clamp_log_var(self, z_log_var):
        """Clamps finite values of `z_log_var` to `log_var_range`; NaN/inf pass through."""
        if self.log_var_range is None:
            return z_log_var
        low, high = self.log_var_range
        clipped = ops.clip(z_log_var, low, high)
        return ops.where(ops.isfinite(z_log_var), clipped, z_log_var)

    def call(self, inputs, training=None):
        if isinstance(inputs, (list, tuple)):
            z_mean, z_log_var = inputs
        else:
            z_mean, z_log_var = ops.split(inputs, 2, axis=-1)
        check_float_dtype("z_mean", z_mean)
        check_float_dtype("z_log_var", z_log_var)
        if self.inference == "mean" and not training:
            if self.num_samples is None:
                return z_mean
            return add_sample_axis(z_mean, self.num_samples)
        std = ops.exp(0.5 * self.clamp_log_var(z_log_var))
        if self.num_samples is not None:
            z_mean = ops.expand_dims(z_mean, 1)
            std = ops.expand_dims(std, 1)
            shape = list(ops.shape(z_mean))
            shape[1] = self.num_samples
        else:
            shape = ops.shape(z_mean)
        eps = keras.random.normal(shape, dtype=self.compute_dtype, seed=self.seed_generator)
        return z_mean + std * eps

    def compute_output_shape(self, input_shape):
        if _is_single_shape(input_shape):
            last = input_shape[-1]
            shape = tuple(input_shape[:-1]) + (None if last is None else int(last) // 2,)
        else:
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
                "log_var_range": self.log_var_range,
            }
        )
        return config
