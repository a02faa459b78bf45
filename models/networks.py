"""Encoder and decoder networks shared by the zoo models (functional sub-models).

Every layer computes in the global policy's compute dtype, the decoder's
output layer included (under `mixed_bfloat16` it is the decoder's largest
matrix product or convolution: in float32 it took about a third of the MLP
VAE's step and half of the convolutional one's on a CPU with bfloat16 units);
its output is then cast to float32 by a linear `Activation`, as the Keras
mixed-precision guide recommends, so likelihoods and losses see float32.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import keras

from keras_rt.ops.validation import check_int


def float32_output(params):
    """The decoder's output, cast to float32 (a no-op under the float32 policy)."""
    return keras.layers.Activation("linear", dtype="float32", name="params_float32")(params)


def mlp_encoder(input_shape: Sequence[int], hidden_units: Sequence[int], name: str) -> keras.Model:
    """x -> h: flatten, then Dense + ReLU for each width in `hidden_units`."""
    x = keras.Input(tuple(input_shape), name="x")
    h = keras.layers.Flatten()(x) if len(input_shape) > 1 else x
    for i, units in enumerate(hidden_units):
        h = keras.layers.Dense(units, activation="relu", name=f"dense_{i}")(h)
    return keras.Model(x, h, name=name)


def mlp_decoder(
    latent_shape: Sequence[int],
    hidden_units: Sequence[int],
    output_shape: Sequence[int],
    channels: int,
    name: str,
) -> keras.Model:
    """z -> params: Dense + ReLU stack, then `channels` outputs per data value.

    For a flat `output_shape=(D,)` the output is `(D * channels,)`, the
    channels being consecutive blocks of `D`; otherwise `(*output_shape[:-1],
    output_shape[-1] * channels)`.
    """
    z = keras.Input(tuple(latent_shape), name="z")
    h = keras.layers.Flatten()(z) if len(latent_shape) > 1 else z
    for i, units in enumerate(hidden_units):
        h = keras.layers.Dense(units, activation="relu", name=f"dense_{i}")(h)
    size = math.prod(output_shape) * channels
    params = float32_output(keras.layers.Dense(size, name="params")(h))
    if len(output_shape) > 1:
        shape = tuple(output_shape[:-1]) + (output_shape[-1] * channels,)
        params = keras.layers.Reshape(shape, dtype="float32")(params)
    return keras.Model(z, params, name=name)


def check_conv_shape(input_shape: Sequence[int], num_layers: int) -> None:
    """Conv models halve height and width `num_layers` times: they must divide evenly."""
    if len(input_shape) != 3:
        raise ValueError(
            f"A convolutional model needs images (height, width, channels). "
            f"Received: input_shape={tuple(input_shape)}"
        )
    factor = 2**num_layers
    if input_shape[0] % factor or input_shape[1] % factor:
        raise ValueError(
            f"Height and width must be divisible by 2**len(filters)={factor}. "
            f"Received: input_shape={tuple(input_shape)}, len(filters)={num_layers}"
        )


def conv_encoder(
    input_shape: Sequence[int], filters: Sequence[int], hidden_units: int, name: str
) -> keras.Model:
    """x -> h: stride-2 3x3 convolutions, then a Dense layer."""
    check_conv_shape(input_shape, len(filters))
    x = keras.Input(tuple(input_shape), name="x")
    h = x
    for i, f in enumerate(filters):
        h = keras.layers.Conv2D(
            f, 3, strides=2, padding="same", activation="relu", name=f"conv_{i}"
        )(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dense(hidden_units, activation="relu", name="dense")(h)
    return keras.Model(x, h, name=name)


def conv_decoder(
    latent_dim: int,
    filters: Sequence[int],
    hidden_units: int,
    output_shape: Sequence[int],
    channels: int,
    name: str,
) -> keras.Model:
    """z -> params: Dense, reshape, stride-2 transposed convolutions, 3x3 output conv."""
    factor = 2 ** len(filters)
    height, width = output_shape[0] // factor, output_shape[1] // factor
    z = keras.Input((latent_dim,), name="z")
    h = keras.layers.Dense(hidden_units, activation="relu", name="dense")(z)
    h = keras.layers.Dense(height * width * filters[-1], activation="relu", name="project")(h)
    h = keras.layers.Reshape((height, width, filters[-1]))(h)
    for i, f in enumerate(reversed(filters)):
        h = keras.layers.Conv2DTranspose(
            f, 3, strides=2, padding="same", activation="relu", name=f"deconv_{i}"
        )(h)
    params = keras.layers.Conv2D(output_shape[-1] * channels, 3, padding="same", name="params")(h)
    params = float32_output(params)
    return keras.Model(z, params, name=name)


def check_units(name: str, units: Sequence[int]) -> tuple[int, ...]:
    """`units` as a tuple of ints, or `ValueError` unless it is a non-empty list of integers >= 1."""
    message = f"`{name}` must be a non-empty list of positive integers. Received: {name}={units!r}"
    try:
        values = tuple(check_int(name, u) for u in units)
    except (TypeError, ValueError):
        raise ValueError(message) from None
    if not values:
        raise ValueError(message)
    return values


class MLPNetworks:
    """Mixin for zoo models: Dense + ReLU encoder body of widths `self.hidden_units`, mirrored decoder.

    The decoder's input is one latent code of shape `self.latent_shape()`.
    """

    hidden_units: tuple[int, ...]
    latent_shape: Callable[[], tuple]  # provided by the latent family (`VAE.latent_shape`)

    def build_networks(self, input_shape, latent_dim, channels):
        body = mlp_encoder(input_shape, self.hidden_units, name="encoder_body")
        decoder = mlp_decoder(
            self.latent_shape(),
            tuple(reversed(self.hidden_units)),
            input_shape,
            channels,
            name="decoder",
        )
        return body, decoder
