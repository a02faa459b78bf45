"""A training step's kernel time: its matrix products and convolutions run alone, each at its fastest.

The roofline column of `benchmarks/zoo.py` compares a step's achieved
GFLOP/s with the machine's measured matrix-multiply peak (the faster of a
1024^3 and a 2048^3 product, `keras_rt.performance.probe`). Small shapes
never reach that peak (on an AVX2 AMD EPYC a 128 x 784 x 512 product ran at
about 63% of it), so that percentage says little about the room left. This
module measures the step's own kernels: every layer's matrix product or
convolution, forward and backward (the gradient of the kernel, and of the
layer's input unless the layer reads the model's input), timed on its own
at the step's batch size, with TensorFlow's kernels, with XLA and, for
stride-1 convolutions, as one matrix product and shifted sums
(`keras_rt.ops.conv_matmul`), keeping the fastest; the kernel time is their
sum. Calling a function from Python and fetching its result costs about
half a millisecond on 2 CPU cores, which a training step pays once, not per
layer: so each time has the time of an empty function with the same
arguments (measured the same way, with and without XLA) taken off.

A step's time over its kernel time tells what the rest costs: element-wise
work (bias, activations, the likelihood, the optimizer), the input pipeline,
dispatch. It is not a strict bound: XLA and TensorFlow run independent
kernels at once (a layer's two gradients, say), which on small shapes uses
the cores better than one kernel alone, so a step could take less than
its kernel time. On a shared machine the times move by about 10-20% from
one run to the next.

Layers counted: those `keras_rt.performance.flops.op_kind` counts (`Dense`,
convolutions, transposed convolutions) with a known input shape.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import keras

from keras_rt.ops.validation import check_int


def reads_model_input(layer: keras.layers.Layer, input_shape: Sequence[int]) -> bool:
    """Whether `layer` is called directly on a functional model's `Input` of one example's
    shape `input_shape` (the data: no gradient of its input is computed in training).

    Example:

    >>> x = keras.Input((4,))
    >>> first, second = keras.layers.Dense(3), keras.layers.Dense(2)
    >>> _ = keras.Model(x, second(first(x)))
    >>> reads_model_input(first, (4,)), reads_model_input(second, (4,))
    (True, False)
    """
    tensor = layer.input
    history = getattr(tensor, "_keras_history", None)
    operation = getattr(history, "operation", None)
    return isinstance(operation, keras.layers.InputLayer) and tuple(tensor.shape[1:]) == tuple(
        input_shape
    )


def layer_kernel_steps(
    layer: keras.layers.Layer, batch_size: int, *, input_gradient: bool, dtype: str = "float32"
) -> dict[str, tuple[Callable, tuple]]:
    """`{implementation: (function, arguments)}`: `layer`'s matrix product or convolution,
    forward and backward, without bias or activation, on random inputs of `batch_size`
    examples.

    Args:
        layer: a built `Dense` or convolution layer with a known input shape.
        batch_size: examples per call.
        input_gradient: also compute the gradient of the layer's input.
        dtype: compute dtype of the copy that is timed.

    Returns:
        `"native"` (TensorFlow's kernels), `"xla"`, and `"matmul_xla"` and
        `"matmul_filter_gradient"` (TensorFlow's convolution, the kernel's
        gradient a matrix product) for the convolutions `keras_rt.ops.conv_matmul`
        computes.
    """
    import tensorflow as tf

    from keras_rt.ops.conv_matmul import (
        conv2d_as_matmul,
        conv2d_matmul_filter_gradient,
        supports_conv_as_matmul,
    )

    config = {**layer.get_config(), "activation": None, "use_bias": False, "dtype": dtype}
    copy = type(layer).from_config(config)
    shape = (batch_size, *tuple(layer.input.shape[1:]))
    copy.build(shape)
    rng = tf.random.Generator.from_seed(0)
    x = tf.cast(rng.normal(shape), dtype)
    out_shape = (batch_size, *tuple(layer.output.shape[1:]))
    upstream = tf.cast(rng.normal(out_shape), dtype)
    kernel = copy.kernel

    def make(forward: Callable) -> Callable:
        def step(x, upstream):
            with tf.GradientTape() as tape:
                if input_gradient:
                    tape.watch(x)
                y = forward(x)
            sources = [x, kernel] if input_gradient else [kernel]
            return tape.gradient(y, sources, output_gradients=upstream)

        return step

    steps = {
        "native": (tf.function(make(copy)), (x, upstream)),
        "xla": (tf.function(make(copy), jit_compile=True), (x, upstream)),
    }
    if supports_conv_as_matmul(copy):
        as_matmul = make(lambda x: conv2d_as_matmul(x, tf.convert_to_tensor(kernel), copy.padding))
        steps["matmul_xla"] = (tf.function(as_matmul, jit_compile=True), (x, upstream))
        by_kernels = make(
            lambda x: conv2d_matmul_filter_gradient(x, tf.convert_to_tensor(kernel), copy.padding)
        )
        steps["matmul_filter_gradient"] = (tf.function(by_kernels), (x, upstream))
    return steps


def empty_calls(arguments: tuple) -> dict[str, tuple[Callable, tuple]]:
    """`{"native", "xla"}`: functions of `arguments` that do almost nothing (one element of
    each argument), to time what calling a function and fetching its result costs."""
    import tensorflow as tf

    def empty(*args):
        return [tf.reshape(a, [-1])[:1] + 0 for a in args]

    return {
        "native": (tf.function(empty), arguments),
        "xla": (tf.function(empty, jit_compile=True), arguments),
    }


def kernel_time(
    model: keras.Model,
    input_shape: Sequence[int],
    batch_size: int,
    *,
    dtype: str = "float32",
    budget_s: float = 0.2,
    repeats: int = 2,
) -> dict[str, Any]:
    """Times `model`'s matrix products and convolutions as its training step runs them (see the module).

    Args:
        model: a built model (its layers' input shapes known).
        input_shape: one example's shape: layers reading it get no input gradient.
        batch_size: examples per step.
        dtype: compute dtype (`"float32"`, `"bfloat16"`, `"float16"`).
        budget_s: seconds each implementation of each layer is timed for, per repeat.
        repeats: interleaved repeats; the fastest time of each is kept.

    Returns:
        `{"ms_per_step": the kernel time, "examples_per_second": batch_size / it,
        "batch_size", "dtype", "layers": [{"name", "kind", "input_gradient",
        "ms", "implementation", "ms_by_implementation", "call_ms"}]}`: a
        layer's times are net of the empty call (`call_ms`, with XLA and
        without), and at least 1 microsecond.

    Raises:
        ValueError: a bad `batch_size`, or a model without a layer to time.

    Example:

    >>> x = keras.Input((8,))
    >>> model = keras.Model(x, keras.layers.Dense(4)(keras.layers.Dense(16)(x)))
    >>> timed = kernel_time(model, (8,), 32, budget_s=0.01, repeats=1)
    >>> [(layer["kind"], layer["input_gradient"]) for layer in timed["layers"]]
    [('dense', False), ('dense', True)]
    """
    import tensorflow as tf

    from keras_rt.performance.flops import layer_macs, leaf_layers, op_kind
    from keras_rt.performance.probe import _first_call_s, _time_ms

    check_int("batch_size", batch_size)
    check_int("repeats", repeats)
    steps = {}
    empties = {}
    layers = []
    # Every layer's functions are new `tf.function`s of the same code: TensorFlow would warn
    # about retracing at each first call.
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        for layer in leaf_layers(model):
            if not layer_macs(layer):
                continue
            input_gradient = not reads_model_input(layer, input_shape)
            steps[id(layer)] = layer_kernel_steps(
                layer, batch_size, input_gradient=input_gradient, dtype=dtype
            )
            empties[id(layer)] = empty_calls(steps[id(layer)]["native"][1])
            for fn, args in [*steps[id(layer)].values(), *empties[id(layer)].values()]:
                _first_call_s(fn, args)  # trace and compile before timing
            layers.append(
                {"name": layer.name, "kind": op_kind(layer), "input_gradient": input_gradient}
            )
    finally:
        logger.setLevel(level)
    if not layers:
        raise ValueError(
            f"Model {model.name!r} has no Dense or convolution layer with a known input shape: "
            "there are no kernels to time."
        )
    times: dict[tuple[int, str], float] = {}
    for _ in range(repeats):
        for key in steps:
            timed = [(name, step) for name, step in steps[key].items()]
            timed += [(f"empty_{name}", step) for name, step in empties[key].items()]
            for name, (fn, args) in timed:
                ms = _time_ms(fn, args, budget_s)
                times[key, name] = min(ms, times.get((key, name), math.inf))
    for entry, key in zip(layers, steps):
        call = {"native": times[key, "empty_native"], "xla": times[key, "empty_xla"]}
        measured = {
            name: round(max(times[key, name] - call["xla" if "xla" in name else "native"], 1e-3), 3)
            for name in steps[key]
        }
        entry["call_ms"] = {name: round(ms, 3) for name, ms in call.items()}
        entry["implementation"] = min(measured, key=measured.__getitem__)
        entry["ms"] = measured[entry["implementation"]]
        entry["ms_by_implementation"] = measured
    total = sum(entry["ms"] for entry in layers)
    return {
        "ms_per_step": round(total, 3),
        "examples_per_second": round(1000 * batch_size / total, 1),
        "batch_size": batch_size,
        "dtype": dtype,
        "layers": layers,
    }


__all__ = ["kernel_time", "layer_kernel_steps", "reads_model_input"]
