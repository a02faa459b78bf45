"""The one place that knows the exported signatures: names, inputs, outputs.

Every zoo export has these TensorFlow Serving signatures (inputs and
outputs are named; the server reads them from the SavedModel):

| signature | inputs | outputs |
|---|---|---|
| `serving_default` | `x`: images `(batch, *input_shape)` float32 | `reconstruction`: expected images |
| `encode` | `x` | `z_mean`, `z_log_var`: `(batch, latent_dim)` |
| `decode` | `z`: `(batch, latent_dim)` float32 | `x`: expected images |
| `sample` | `num_samples`: int32 scalar | `x`: images decoded from prior draws (fresh noise each call) |
| `log_likelihood` | `x` | `elbo`: per-example ELBO in nats (one posterior sample) |
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class Signature:
    """One exported endpoint: how to build its input specs and its function."""

    name: str
    description: str
    input_specs: Callable[[object], list[tf.TensorSpec]]
    make_fn: Callable[[object], Callable]


def _x_spec(model) -> list[tf.TensorSpec]:
    return [tf.TensorSpec((None,) + tuple(model.input_shape_), tf.float32, name="x")]


def _z_spec(model) -> list[tf.TensorSpec]:
    return [tf.TensorSpec(model.latent_spec_shape(), tf.float32, name="z")]


SIGNATURES: tuple[Signature, ...] = (
    Signature(
        "serving_default",
        "reconstruct: x -> reconstruction",
        _x_spec,
        lambda m: lambda x: {"reconstruction": m.reconstruct(x)},
    ),
    Signature(
        "encode",
        "x -> posterior parameters",
        _x_spec,
        lambda m: lambda x: m.encode_outputs(x),
    ),
    Signature(
        "decode",
        "z -> expected x",
        _z_spec,
        lambda m: lambda z: {"x": m.likelihood.mean(m.decode(z))},
    ),
    Signature(
        "sample",
        "num_samples -> x from the prior",
        lambda m: [tf.TensorSpec((), tf.int32, name="num_samples")],
        lambda m: lambda num_samples: {"x": m.sample(num_samples)},
    ),
    Signature(
        "log_likelihood",
        "x -> per-example ELBO (nats)",
        _x_spec,
        lambda m: lambda x: {"elbo": m.elbo(x)},
    ),
)

SIGNATURE_NAMES: tuple[str, ...] = tuple(s.name for s in SIGNATURES)
