"""Relaxed one-hot (Gumbel-softmax / Concrete) sampling for categorical latents."""

from __future__ import annotations

import keras
from keras import ops

from keras_rt.api_export import keras_rt_export
from keras_rt.layers.base_sampler import BaseSampler
from keras_rt.ops.random_draws import random_uniform
from keras_rt.ops.validation import check_bool, check_number


def check_temperature(temperature, name: str = "temperature") -> float:
    """Returns `temperature` as a float, or raises `ValueError` unless it is a finite number > 0.

    Args:
        temperature: the value to check.
        name: the argument's name, used in the message.

    Returns:
        `float(temperature)`.

    Example:

    >>> check_temperature(2)
    2.0
    """
    return check_number(name, temperature, above=0)


@keras_rt_export()
class GumbelSoftmaxSampling(BaseSampler):
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

    >>> h = keras.Input((64,))
    >>> logits = keras.layers.Dense(20 * 10)(h)
    >>> logits = keras.layers.Reshape((20, 10))(logits)
    >>> y = GumbelSoftmaxSampling(temperature=1.0, hard=True, seed=0)(logits)
    >>> y.shape  # 20 one-hot vectors of 10 categories per example
    (None, 20, 10)

    References:
        - [Jang et al., 2017](https://arxiv.org/abs/1611.01144)
        - [Maddison et al., 2017](https://arxiv.org/abs/1611.00712)
    """

    INFERENCE_MODES = ("sample", "hard", "mode")
    INPUT_NAMES = ("logits",)
    INPUT_SHAPES = "of shape (..., K), K >= 2"

    def __init__(
        self,
        temperature: float = 1.0,
        hard: bool = False,
        seed: int | None = None,
        inference: str = "sample",
        **kwargs,
    ):
        # One relaxed sample per set of logits: no `num_samples` here.
        super().__init__(seed=seed, inference=inference, **kwargs)
        self.initial_temperature = check_temperature(temperature)
        self.hard = check_bool("hard", hard)
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

    def gumbel_noise(self, shape):
        """Draws `Gumbel(0, 1)` noise of `shape` by inverse CDF, in float32 for accuracy."""
        tiny = 1e-20
        uniform = random_uniform(
            shape, minval=tiny, maxval=1.0, dtype="float32", seed=self.seed_generator
        )
        return -ops.log(-ops.log(uniform))

    def parameters(self, inputs):
        return ops.cast(inputs, "float32")

    def _one_hot_argmax(self, scores):
        hard = ops.one_hot(ops.argmax(scores, axis=-1), ops.shape(scores)[-1], dtype="float32")
        return ops.cast(hard, self.compute_dtype)

    def infer(self, logits):
        if self.inference == "mode":
            return self._one_hot_argmax(logits)
        # inference="hard": argmax(logits + Gumbel noise) is an exact categorical sample
        return self._one_hot_argmax(logits + self.gumbel_noise(ops.shape(logits)))

    def draw(self, logits):
        y = ops.softmax((logits + self.gumbel_noise(ops.shape(logits))) / self.temperature, axis=-1)
        if self.hard:
            num_classes = ops.shape(logits)[-1]
            y_hard = ops.one_hot(ops.argmax(y, axis=-1), num_classes, dtype="float32")
            y = ops.stop_gradient(y_hard - y) + y
        return ops.cast(y, self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"temperature": self.initial_temperature, "hard": self.hard})
        return config
