"""The one place that knows the exported signatures: names, inputs, outputs.

Every zoo export has these TensorFlow Serving signatures (inputs and
outputs are named; the server reads them from the SavedModel):

| signature | inputs | outputs |
|---|---|---|
| `serving_default` | `x`: images `(batch, *input_shape)` float32 | `reconstruction`: expected images |
| `encode` | `x` | the posterior's parameters, e.g. `z_mean`, `z_log_var` |
| `decode` | `z`: `(batch, *latent_shape)` float32 | `x`: expected images |
| `sample` | `num_samples`: int32 scalar | `x`: images decoded from prior draws (fresh noise each call) |
| `log_likelihood` | `x` | `elbo`: per-example ELBO in nats (one posterior sample) |

Conditional models add their condition to the inputs (`cvae`: `label`
beside `x` and `z`, and `sample` takes `label`: one image per label). The
input specs come from the model (`data_specs`, `decode_specs`,
`sample_specs`), the functions from its methods.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class Signature:
    """One exported endpoint: how to build its input specs and its function."""

    name: str
    description: str
    # Both take the zoo model (a keras.Model, untyped; its methods' arity varies by model).
    input_specs: Callable[[Any], list[tf.TensorSpec]]
    make_fn: Callable[[Any], Callable]


SIGNATURES: tuple[Signature, ...] = (
    Signature(
        "serving_default",
        "reconstruct: x -> reconstruction",
        lambda m: m.data_specs(),
        lambda m: lambda *a: {"reconstruction": m.reconstruct(m.pack_inputs(a))},
    ),
    Signature(
        "encode",
        "x -> posterior parameters",
        lambda m: m.data_specs(),
        lambda m: lambda *a: m.encode_outputs(m.pack_inputs(a)),
    ),
    Signature(
        "decode",
        "z -> expected x",
        lambda m: m.decode_specs(),
        lambda m: lambda *a: {"x": m.decode_images(*a)},
    ),
    Signature(
        "sample",
        "num_samples (or labels) -> x from the prior",
        lambda m: m.sample_specs(),
        lambda m: lambda *a: {"x": m.sample(*a)},
    ),
    Signature(
        "log_likelihood",
        "x -> per-example ELBO (nats)",
        lambda m: m.data_specs(),
        lambda m: lambda *a: {"elbo": m.elbo(m.pack_inputs(a))},
    ),
)

SIGNATURE_NAMES: tuple[str, ...] = tuple(s.name for s in SIGNATURES)
