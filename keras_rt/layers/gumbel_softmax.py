"""Relaxed one-hot (Gumbel-softmax / Concrete) sampling for categorical latents."""

from __future__ import annotations

import keras
from keras import ops

from keras_rt.api_export import keras_rt_export
from keras_rt.ops.validation import check_float_dtype


def check_temperature(temperature) -> float:
    """Returns `temperature` as a float, or raises `ValueError` unless it is > 0."""
    try:
        value = float(temperature)
    except (TypeError, ValueError):
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise ValueError(
            f"`temperature` must be a finite number > 0. Received: temperature={temperature!r}"
        )
    return value


@keras_rt_export()
class GumbelSoftmaxSampling(keras.layers.Layer):
    """Draws a relaxed one-hot sample from `Categorical(logits)`.

    `y = softmax((logits + g) / temperature)` with `g ~ Gumbel(0, 1)` from the
    layer's `SeedGenerator`. As `temperature -> 0` the samples approach
    one-hot vectors with class frequencies `softmax(logits)`; larger
    temperatures give smoother samples and lower-variance, more biased
    gradients. With `hard=True` the forward pass returns the one-hot
    `argmax` of `y` while gradients flow through the relaxed `y`
    (straight-through estimator; biased).

    The temperature lives in a non-trainable variable (`layer.temperature`)
    so a callback (`keras_rt.callbacks.GumbelTemperatureAnnealing`) can
    anneal it during `fit`; its current value is saved with the model.

    Args:
        temperature: initial temperature, a number > 0.
        hard: straight-through one-hot forward pass.
        seed: integer seed for the layer's noise; `None` picks a random one.
        inference: what the layer returns when not training: `"sample"`
            (default) keeps drawing relaxed samples; `"hard"` draws exact
            one-hot categorical samples (the discrete latent, for
            evaluation); `"mode"` returns the one-hot argmax of the logits.
        **kwargs: base layer keyword arguments.

    Call arguments:
        inputs: logits `(..., K)`.
        training: Python boolean; only used when `inference` is not `"sample"`.

    Output shape:
        Same as the input.

    Example:

    >>> logits = keras.layers.Dense(20 * 10)(h)
    >>> logits = keras.layers.Reshape((20, 10))(logits)
    >>> y = GumbelSoftmaxSampling(temperature=1.0, hard=True, seed=0)(logits)

    References:
        - [Jang et al., 2017](https://arxiv.org/abs/1611.01144)
        - [Maddison et al., 2017](https://arxiv.org/abs/1611.00712)
    """

    def __init__(
        self,
        temperature: float = 1.0,
        hard: bool = False,
        seed: int | None = None,
        inference: str = "sample",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.initial_temperature = check_temperature(temperature)
        if inference not in ("sample", "hard", "mode"):
            raise ValueError(
                f"`inference` must be 'sample', 'hard' or 'mode'. Received: inference={inference!r}"
            )
        self.hard = bool(hard)
        self.seed = seed
        self.inference = inference
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.temperature = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(self.initial_temperature),
            trainable=False,
            name="temperature",
            dtype="float32",
        )

    def build(self, input_shape):
        if input_shape[-1] is not None and int(input_shape[-1]) < 2:
            raise ValueError(
                "`GumbelSoftmaxSampling` needs logits with at least 2 classes on the last axis. "
                f"Received: logits.shape={tuple(input_shape)}"
            )
        self.built = True

    def call(self, inputs, training=None):
        check_float_dtype("logits", inputs)
        logits = ops.cast(inputs, "float32")
        num_classes = ops.shape(logits)[-1]
        if self.inference == "mode" and not training:
            hard = ops.one_hot(ops.argmax(logits, axis=-1), num_classes, dtype="float32")
            return ops.cast(hard, self.compute_dtype)
        # Gumbel(0, 1) noise by inverse CDF, drawn in float32 for accuracy.
        tiny = 1e-20
        uniform = keras.random.uniform(
            ops.shape(logits), minval=tiny, maxval=1.0, dtype="float32", seed=self.seed_generator
        )
        gumbel = -ops.log(-ops.log(uniform))
        if self.inference == "hard" and not training:
            # argmax(logits + Gumbel noise) is an exact categorical sample
            hard = ops.one_hot(ops.argmax(logits + gumbel, axis=-1), num_classes, dtype="float32")
            return ops.cast(hard, self.compute_dtype)
        y = ops.softmax((logits + gumbel) / self.temperature, axis=-1)
        if self.hard:
            y_hard = ops.one_hot(ops.argmax(y, axis=-1), num_classes, dtype="float32")
            y = ops.stop_gradient(y_hard - y) + y
        return ops.cast(y, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "temperature": self.initial_temperature,
                "hard": self.hard,
                "seed": self.seed,
                "inference": self.inference,
            }
        )
        return config
