"""Save/load and export round trips with identical outputs under a fixed seed.

Backend-independent: the `.keras` round trip runs on any Keras backend, and
the SavedModel export on TensorFlow and on JAX (where `model.export` converts
the model with `jax2tf`; TensorFlow loads and serves it either way).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import keras
import numpy as np


def _seed_generators(model: keras.Model) -> list[keras.random.SeedGenerator]:
    generators = []
    for layer in model._flatten_layers(include_self=True, recursive=True):
        for value in vars(layer).values():
            if isinstance(value, keras.random.SeedGenerator) and value not in generators:
                generators.append(value)
    return generators


def reset_seed_generators(model: keras.Model, seed: int = 1234) -> None:
    """Puts every `SeedGenerator` of `model`'s layers into a known state.

    A `SeedGenerator`'s state advances with every draw and is not part of the
    saved weights; two copies of a model produce identical noise once their
    generators are reset to the same state.

    Args:
        model: a model (or layer) whose stochastic layers own `SeedGenerator`s.
        seed: the state's first word; the i-th generator gets `seed + i`.
    """
    for i, generator in enumerate(_seed_generators(model)):
        state = np.array([seed + i, 0], dtype=generator.state.dtype)
        generator.state.assign(state)


def _to_numpy(outputs: Any) -> list[np.ndarray]:
    return [keras.ops.convert_to_numpy(t) for t in keras.tree.flatten(outputs)]


def assert_save_load_round_trip(
    model: keras.Model,
    inputs: Any,
    directory: str,
    *,
    call: Callable[[keras.Model, Any], Any] | None = None,
    atol: float = 1e-6,
) -> keras.Model:
    """Saves `model` to `.keras`, reloads it in safe mode and compares outputs.

    Both copies' seed generators are reset to one state first, so outputs
    of stochastic layers must agree exactly, not just in distribution.

    Args:
        model: the model to check.
        inputs: inputs to call both models on.
        directory: where to write `model.keras`.
        call: how to call a model (default `model(inputs, training=False)`).
        atol: absolute tolerance of the comparison.

    Returns:
        The reloaded model.
    """
    call = call or (lambda m, x: m(x, training=False))
    path = os.path.join(directory, "model.keras")
    model.save(path)
    reloaded = keras.models.load_model(path, safe_mode=True)
    assert type(reloaded) is type(model), f"reloaded {type(reloaded)} != {type(model)}"
    reset_seed_generators(model)
    reset_seed_generators(reloaded)
    expected = _to_numpy(call(model, inputs))
    actual = _to_numpy(call(reloaded, inputs))
    for e, a in zip(expected, actual):
        np.testing.assert_allclose(a, e, atol=atol, err_msg="outputs differ after .keras reload")
    return reloaded


def assert_export_round_trip(
    model: keras.Model,
    inputs: Any,
    directory: str,
    *,
    stochastic: bool = True,
    atol: float = 1e-5,
) -> Any:
    """Exports `model` as a SavedModel, reloads it with `tf.saved_model.load` and serves.

    Checks that `serve` gives the model's output (same seed state) and, for
    a stochastic model, that two calls draw different noise. Runs on the
    TensorFlow and the JAX backends (`model.export` uses `jax2tf` on JAX);
    TensorFlow must be installed either way.

    Args:
        model: the model to export.
        inputs: a batch to serve.
        directory: the export folder (created).
        stochastic: whether repeated calls must differ.
        atol: absolute tolerance of the comparison with the model.

    Returns:
        The loaded SavedModel object.
    """
    import tensorflow as tf  # loads the SavedModel, on every backend

    path = os.path.join(directory, "export")
    reset_seed_generators(model)
    model.export(path, verbose=False)
    loaded = tf.saved_model.load(path)
    reset_seed_generators(model)
    expected = _to_numpy(model(inputs, training=False))
    first = _to_numpy(loaded.serve(inputs))
    for e, a in zip(expected, first):
        np.testing.assert_allclose(a, e, atol=atol, err_msg="exported serve() differs from model")
    second = _to_numpy(loaded.serve(inputs))
    if stochastic:
        assert any(not np.allclose(a, b) for a, b in zip(first, second)), (
            "exported serve() returned the same noise twice"
        )
    return loaded
