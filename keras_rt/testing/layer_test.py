"""`run_layer_test`: the checks every keras-rt layer must pass, on TensorFlow or on JAX."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from keras_rt.ops.validation import check_backend
from keras_rt.testing.round_trip import (
    assert_export_round_trip,
    assert_save_load_round_trip,
    reset_seed_generators,
)


def _as_list(x: Any) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _numpy(outputs: Any) -> list[np.ndarray]:
    return [keras.ops.convert_to_numpy(t) for t in keras.tree.flatten(outputs)]


def _check_shapes(what: str, outputs: list[np.ndarray], expected: Any) -> None:
    expected_shapes = (
        [tuple(s) for s in expected]
        if expected and isinstance(expected[0], (list, tuple))
        else [tuple(expected)]
    )
    actual = [tuple(o.shape) for o in outputs]
    assert actual == expected_shapes, f"{what} output shapes {actual} != {expected_shapes}"


def jit_compile(model: keras.Model) -> Callable[[Any], Any]:
    """`model`'s call compiled by XLA, on the TensorFlow or the JAX backend.

    TensorFlow: `tf.function(jit_compile=True)`. JAX: `jax.jit` of the
    model's `stateless_call`, its variables (random seed states included)
    passed in as arrays and its new non-trainable values assigned after each
    call, so that a stochastic model draws fresh noise on every call, as on
    TensorFlow. Other backends raise a `RuntimeError`.

    Args:
        model: a built model (or layer).

    Returns:
        A function of the inputs (arrays or tensors, as `model` takes them)
        that returns the outputs as backend tensors.

    Example:

    >>> from keras_rt.layers import Sampling
    >>> inputs = [keras.Input((2,)), keras.Input((2,))]
    >>> model = keras.Model(inputs, Sampling(seed=0)(inputs))
    >>> jit_compile(model)([np.zeros((3, 2), "float32")] * 2).shape
    TensorShape([3, 2])
    """
    backend = check_backend("`jit_compile`", ("tensorflow", "jax"), why="it compiles with XLA")
    if backend == "tensorflow":
        import tensorflow as tf

        compiled = tf.function(lambda x: model(x), jit_compile=True)
        return lambda inputs: compiled(keras.tree.map_structure(tf.constant, inputs))
    import jax

    stateless = jax.jit(model.stateless_call)

    def call(inputs: Any) -> Any:
        outputs, non_trainable = stateless(
            [v.value for v in model.trainable_variables],
            [v.value for v in model.non_trainable_variables],
            keras.tree.map_structure(jax.numpy.asarray, inputs),
        )
        for variable, value in zip(model.non_trainable_variables, non_trainable):
            variable.assign(value)
        return outputs

    return call


def run_layer_test(
    layer_cls: type[keras.layers.Layer],
    init_kwargs: dict,
    input_data: Any,
    expected_output_shape: tuple,
    *,
    stochastic: bool = True,
    check_export: bool = True,
    check_jit: bool = True,
) -> keras.layers.Layer:
    """Runs the standard checks for a keras-rt layer.

    1. Construct, call eagerly, compare the output shape.
    2. `get_config` -> `from_config` -> same config; registered name resolves.
    3. Same seed -> same output; two calls -> different noise (if stochastic).
    4. Inside a functional model: `.keras` save -> `load_model(safe_mode=True)`
       gives identical outputs under a reset seed state.
    5. `model.export` -> `tf.saved_model.load` -> `serve` works, fresh noise.
    6. Compiled by XLA (`jit_compile`: `tf.function(jit_compile=True)`, or
       `jax.jit` on JAX), the right shape, and fresh noise on a second call
       (if stochastic).

    Every step runs on the TensorFlow and on the JAX backend (the export
    through `jax2tf`, which needs TensorFlow installed).

    Args:
        layer_cls: the layer class.
        init_kwargs: constructor arguments (include a `seed` for stochastic layers).
        input_data: a NumPy array or list of arrays (batch first).
        expected_output_shape: the full expected output shape, or a list of
            shapes for a layer with several outputs.
        stochastic: whether the layer draws noise.
        check_export: run the SavedModel export step.
        check_jit: run the XLA step.

    Returns:
        The built layer.

    Example:

    >>> from keras_rt.layers import Sampling
    >>> layer = run_layer_test(Sampling, {"seed": 1}, [np.zeros((4, 2))] * 2, (4, 2))
    >>> layer.built
    True
    """
    layer = layer_cls(**init_kwargs)
    output = _numpy(layer(input_data))
    _check_shapes(layer_cls.__name__, output, expected_output_shape)

    config = layer.get_config()
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config, "get_config/from_config round trip changed the config"
    registered = keras.saving.get_registered_object(keras.saving.get_registered_name(layer_cls))
    assert registered is layer_cls, f"{layer_cls.__name__} is not registered for serialization"

    if stochastic:
        a = _numpy(layer_cls(**init_kwargs)(input_data))
        b = _numpy(layer_cls(**init_kwargs)(input_data))
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y, err_msg="same seed gave different samples")
        c = _numpy(layer(input_data))
        assert any(not np.array_equal(x, y) for x, y in zip(output, c)), (
            "two calls of one layer drew the same noise"
        )

    inputs = [
        keras.Input(np.shape(x)[1:], dtype=str(np.asarray(x).dtype)) for x in _as_list(input_data)
    ]
    symbolic = inputs if isinstance(input_data, (list, tuple)) else inputs[0]
    model = keras.Model(symbolic, layer_cls(**init_kwargs)(symbolic))
    with tempfile.TemporaryDirectory() as directory:
        assert_save_load_round_trip(model, input_data, directory)
        if check_export:
            assert_export_round_trip(model, input_data, directory, stochastic=stochastic)

    if check_jit:
        reset_seed_generators(model)
        compiled = jit_compile(model)
        first = _numpy(compiled(input_data))
        _check_shapes(f"{layer_cls.__name__} under XLA", first, expected_output_shape)
        if stochastic:
            second = _numpy(compiled(input_data))
            assert any(not np.array_equal(a, b) for a, b in zip(first, second)), (
                "two compiled calls drew the same noise"
            )
    return layer
