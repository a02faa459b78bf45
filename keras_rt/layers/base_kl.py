"""The base class of keras-rt's KL layers: a weighted KL term added through `add_loss`."""

from __future__ import annotations

import keras
from keras import ops

from keras_rt.ops.validation import check_layer_inputs, check_number

NO_METRIC_BACKENDS = ("jax",)
"""Backends on which a KL layer tracks no metric: Keras cannot update it in `fit` (see `BaseKL`)."""


class BaseKL(keras.layers.Layer):
    """Base class of the KL layers: adds `weight * KL(q || prior)` to the losses, passes inputs on.

    It holds what every KL layer repeats, once:

    - the weight: a non-trainable float32 variable `layer.kl_weight`,
      initialized from `weight`, that `keras_rt.callbacks.KLWarmup` anneals
      on every `BaseKL` layer of a model (subclasses included);
    - free bits (Kingma et al., 2016): with `free_bits = lambda > 0`, each
      latent dimension's batch-averaged KL is floored at `lambda` nats before
      summing; a subclass that offers it implements `kl_per_dimension`;
    - the metric: the unweighted KL tracked as a `keras.metrics.Mean` named
      `metric_name` (`None` turns it off). Not on the JAX backend: there
      Keras runs `fit` and `evaluate` as pure functions of the model's
      variables, which leave out metrics that a layer updates in `call`
      (keras-team/keras#19402), so on JAX `kl_tracker` is `None` and the logs
      have no KL entry; the KL term still enters the loss;
    - `call`, which adds the loss, updates the metric and returns `inputs`
      unchanged.

    The convention is the same for every subclass: the KL of an example is
    summed over latent dimensions and the loss averages it over the batch,
    in nats, in float32.

    A subclass implements `kl_per_example(inputs)` (and `kl_per_dimension`
    if it offers free bits), and adds its own constructor arguments to
    `get_config` (`weight` and `metric_name`), `free_bits` included when it
    offers it.

    What the layer is called on is checked before it is built, eagerly and
    symbolically alike (`check_inputs`): the structure that `INPUT_NAMES`
    and `INPUT_SHAPES` describe (a list or one tensor, never a dict; not
    checked when `INPUT_NAMES` is `None`, the default), and a
    floating-point dtype for every tensor (float16 and bfloat16 included).
    A subclass whose inputs depend on its arguments overrides `check_inputs`.

    Args:
        weight: initial multiplier of the KL term, a number `>= 0`.
            Defaults to `1.0`.
        metric_name: name of the tracked unweighted-KL metric, or `None`.
            Defaults to `"kl"`.
        free_bits: nats per latent dimension, `>= 0` (0 turns it off).
            Defaults to `0.0`.
        **kwargs: base layer keyword arguments.

    Call arguments:
        inputs: the posterior's parameters, as the subclass defines them.

    Output shape:
        The inputs, unchanged.

    Example:

    >>> class NormalKL(BaseKL):
    ...     def kl_per_example(self, inputs):
    ...         return ops.sum(0.5 * ops.square(ops.cast(inputs, "float32")), axis=-1)
    >>> layer = NormalKL(weight=0.5)
    >>> _ = layer(np.ones((2, 3), "float32"))
    >>> float(layer.losses[0])
    0.75
    """

    # What `call` takes, for `check_inputs`: the tensors' names in order (one
    # name: one tensor; several: a list; None: any structure, only dtypes are
    # checked) and how their shapes relate.
    INPUT_NAMES: tuple[str, ...] | None = None
    INPUT_SHAPES: str = ""

    def __init__(
        self,
        weight: float = 1.0,
        metric_name: str | None = "kl",
        *,
        free_bits: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.weight = check_number("weight", weight, minimum=0)
        self.free_bits = check_number("free_bits", free_bits, minimum=0)
        self.metric_name = metric_name
        self.kl_weight = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(self.weight),
            trainable=False,
            name="kl_weight",
            dtype="float32",
        )
        self.kl_tracker = (
            keras.metrics.Mean(name=metric_name)
            if metric_name and keras.backend.backend() not in NO_METRIC_BACKENDS
            else None
        )

    def check_inputs(self, inputs) -> None:
        """Raises `ValueError` unless `inputs` are the floating-point tensors `call` takes.

        The message names the layer, what it expects and what it received.
        Runs on every call, before `build`, on tensors and `KerasTensor`s.
        """
        check_layer_inputs(self, inputs, self.INPUT_NAMES, shapes=self.INPUT_SHAPES)

    def kl_per_example(self, inputs):
        """The unweighted KL of each example: float32, summed over latent dimensions."""
        raise NotImplementedError(f"{type(self).__name__} must implement `kl_per_example`.")

    def kl_per_dimension(self, inputs):
        """The unweighted KL of each example and latent dimension (needed for free bits)."""
        raise NotImplementedError(f"{type(self).__name__} does not support free bits.")

    def kl_penalty(self, inputs, kl):
        """The unweighted loss term: the batch mean of `kl`, or its free-bits version."""
        if self.free_bits > 0:
            per_dim = self.kl_per_dimension(inputs)
            batch_axes = tuple(range(len(per_dim.shape) - 1))
            return ops.sum(ops.maximum(ops.mean(per_dim, axis=batch_axes), self.free_bits))
        return ops.mean(kl)

    def __call__(self, inputs, *args, **kwargs):
        # Before Keras converts, builds or traces: a symbolic call never reaches
        # `call`, and `build` sees shapes only.
        self.check_inputs(inputs)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs):
        kl = self.kl_per_example(inputs)
        self.add_loss(self.kl_weight * self.kl_penalty(inputs, kl))
        if self.kl_tracker is not None:
            self.kl_tracker.update_state(kl)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"weight": self.weight, "metric_name": self.metric_name})
        return config
