"""Reparameterized sampling from a TFP distribution family chosen by name."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import keras
import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

from keras_rt.api_export import keras_rt_export
from keras_rt.ops.random_draws import random_int32
from keras_rt.ops.validation import (
    check_backend,
    check_int,
    check_layer_inputs,
    check_same_shape,
)

tfd = tfp.distributions

POSITIVE_EPSILON = 1e-6


def _identity(x):
    return x


def _positive(x):
    return tf.math.softplus(x) + POSITIVE_EPSILON


@dataclasses.dataclass(frozen=True)
class Family:
    """A reparameterizable family: its TFP constructor and its parameters.

    `constraints` map each unconstrained network output to the parameter's
    support (identity for locations, softplus for scales and concentrations).
    """

    make: Callable[..., tfp.distributions.Distribution]
    params: tuple[str, ...]
    constraints: tuple[Callable, ...]
    gradient: str  # "reparameterized" (z = g(params, eps)) or "implicit"


FAMILIES: dict[str, Family] = {
    "normal": Family(tfd.Normal, ("loc", "scale"), (_identity, _positive), "reparameterized"),
    "lognormal": Family(tfd.LogNormal, ("loc", "scale"), (_identity, _positive), "reparameterized"),
    "laplace": Family(tfd.Laplace, ("loc", "scale"), (_identity, _positive), "reparameterized"),
    "logistic": Family(tfd.Logistic, ("loc", "scale"), (_identity, _positive), "reparameterized"),
    "exponential": Family(tfd.Exponential, ("rate",), (_positive,), "reparameterized"),
    "gamma": Family(tfd.Gamma, ("concentration", "rate"), (_positive, _positive), "implicit"),
    "beta": Family(
        tfd.Beta, ("concentration1", "concentration0"), (_positive, _positive), "implicit"
    ),
    "dirichlet": Family(tfd.Dirichlet, ("concentration",), (_positive,), "implicit"),
}

# Families whose samples have no differentiable path: say what to use instead.
NOT_REPARAMETERIZABLE = (
    "bernoulli",
    "binomial",
    "categorical",
    "geometric",
    "multinomial",
    "negative_binomial",
    "one_hot_categorical",
    "poisson",
)


def get_family(family: str) -> Family:
    """Looks a family up by name, with a clear error for unknown or discrete ones."""
    name = str(family).lower()
    if name in FAMILIES:
        return FAMILIES[name]
    if name in NOT_REPARAMETERIZABLE:
        raise ValueError(
            f"family={family!r} is not reparameterizable: a discrete distribution has no "
            "differentiable sampling path z = g(params, eps). Use "
            "`keras_rt.layers.GumbelSoftmaxSampling` for a relaxed categorical/Bernoulli "
            "latent, or the score-function estimators in `keras_rt.estimators`."
        )
    raise ValueError(
        f"Unknown distribution family. Received: family={family!r}. "
        f"Reparameterizable families: {sorted(FAMILIES)}."
    )


@keras_rt_export()
class DistributionSampling(keras.layers.Layer):
    """Draws a reparameterized sample from a TFP distribution chosen by name.

    The layer takes one unconstrained tensor per distribution parameter
    (e.g. two Dense outputs for `"gamma"`), maps each to its support
    (softplus for scales, rates and concentrations), builds the TFP
    distribution and samples with a stateless seed from the layer's
    `SeedGenerator`. Location-scale families (`normal`, `lognormal`,
    `laplace`, `logistic`, `exponential`) are sampled as `g(params, eps)`;
    `gamma`, `beta` and `dirichlet` use TFP's implicit reparameterization
    gradients. Discrete families are refused with a pointer to
    `GumbelSoftmaxSampling` and the score-function estimators.

    TensorFlow backend only: on another Keras backend the constructor (and
    so loading a `.keras` file that holds the layer) raises a `RuntimeError`
    that names it (TFP 0.25's JAX substrate does not import with current
    JAX releases).

    | family | parameters (in call order) |
    |---|---|
    | normal, lognormal, laplace, logistic | loc, scale |
    | exponential | rate |
    | gamma | concentration, rate |
    | beta | concentration1, concentration0 |
    | dirichlet | concentration (event on the last axis) |

    Args:
        family: the family's name, see the table.
        seed: integer seed for the layer's noise; `None` picks a random one.
        num_samples: `None` (default) for one sample with the parameters'
            shape, or an integer `k >= 1` for `(batch, k, ...)`.
        **kwargs: base layer keyword arguments.

    Call arguments:
        inputs: one tensor, or a list of tensors of one shape, in the
            family's parameter order; floating-point (checked when the
            layer is called, symbolically too, like the samplers'
            `BaseSampler.check_inputs`).

    Output shape:
        The parameters' shape, or `(batch, num_samples, ...)`.

    Example:

    >>> h = keras.layers.Dense(16, activation="relu")(keras.Input((4,)))
    >>> rate_params = [keras.layers.Dense(2)(h), keras.layers.Dense(2)(h)]
    >>> z = DistributionSampling("gamma", seed=0)(rate_params)
    >>> z.shape
    (None, 2)

    References:
        - [Figurnov et al., 2018, Implicit Reparameterization Gradients](https://arxiv.org/abs/1805.08498)
    """

    def __init__(
        self,
        family: str,
        seed: int | None = None,
        num_samples: int | None = None,
        **kwargs,
    ):
        check_backend(
            "`DistributionSampling`",
            ("tensorflow",),
            why="it builds TFP distributions, and TFP 0.25's JAX substrate does not import "
            "with current JAX releases",
            instead="on JAX use `Sampling` (Gaussian) or `GumbelSoftmaxSampling` (categorical)",
        )
        super().__init__(**kwargs)
        self._family = get_family(family)
        self.family = str(family).lower()
        self.seed = seed
        self.num_samples = check_int("num_samples", num_samples, allow_none=True)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _as_list(self, inputs):
        return list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]

    def check_inputs(self, inputs) -> None:
        """Raises `ValueError` unless `inputs` are the family's floating-point parameter tensors.

        The message names the layer, the family, what it expects and what it
        received. Runs on every call, before `build`, on tensors and `KerasTensor`s.
        """
        check_layer_inputs(
            f"`DistributionSampling(family={self.family!r})` (layer {self.name!r})",
            inputs,
            self._family.params,
            shapes="of the same shape" if len(self._family.params) > 1 else "",
            list_of_one=True,
        )

    def __call__(self, inputs, *args, **kwargs):
        # Before Keras converts, builds or traces: a symbolic call never reaches
        # `call`, and `build` sees shapes only.
        self.check_inputs(inputs)
        return super().__call__(inputs, *args, **kwargs)

    def build(self, input_shape):
        shapes = (
            list(input_shape)
            if isinstance(input_shape, (list, tuple))
            and input_shape
            and isinstance(input_shape[0], (list, tuple))
            else [input_shape]
        )
        params = self._family.params
        if len(shapes) != len(params):
            raise ValueError(
                f"family={self.family!r} takes {len(params)} parameter tensor(s) {list(params)}. "
                f"Received: {len(shapes)} tensor(s) with shapes {[tuple(s) for s in shapes]}"
            )
        if len(shapes) > 1:
            check_same_shape(list(params), shapes, layer=self)
        self.built = True

    def distribution(self, inputs) -> tfp.distributions.Distribution:
        """The TFP distribution for raw (unconstrained) parameter tensors."""
        tensors = self._as_list(inputs)
        kwargs = {}
        for name, constrain, tensor in zip(self._family.params, self._family.constraints, tensors):
            kwargs[name] = constrain(ops.cast(tensor, "float32"))
        return self._family.make(**kwargs)

    def call(self, inputs):
        dist = self.distribution(inputs)
        seed = random_int32((2,), minval=0, maxval=2**31 - 1, seed=self.seed_generator)
        if self.num_samples is None:
            z = dist.sample(seed=seed)
        else:
            z = dist.sample(self.num_samples, seed=seed)
            rank = len(z.shape)
            z = ops.transpose(z, [1, 0] + list(range(2, rank)))
        return ops.cast(z, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        shape = (
            tuple(input_shape[0])
            if isinstance(input_shape[0], (list, tuple))
            else tuple(input_shape)
        )
        if self.num_samples is None:
            return shape
        return (shape[0], self.num_samples) + shape[1:]

    def get_config(self):
        config = super().get_config()
        config.update({"family": self.family, "seed": self.seed, "num_samples": self.num_samples})
        return config
