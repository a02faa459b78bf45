"""Partial XLA: compile a step's element-wise parts when the step as a whole is not compiled.

Keras compiles the whole training step with XLA on GPUs (`jit_compile="auto"`)
but not on CPUs, and on CPUs that is often right: XLA's CPU backend computes
bfloat16 matrix products and convolutions without the CPU's bfloat16 units
(on a CPU with AMX they ran 2.5-4.5x slower than TensorFlow's oneDNN kernels,
see `benchmarks/zoo.py`), and convolutions are slower under XLA even in
float32. What XLA does well on any device is fusing element-wise work: the
optimizer update (Adam reads and writes every weight, two moments and the
gradient with a dozen small ops per variable) and a likelihood over every
pixel become one kernel each.

So, when a step is not XLA-compiled, a zoo model compiles just those two
parts (`xla_optimizer_update`, `jit_compiled`): matrix products and
convolutions stay on TensorFlow's kernels, the element-wise work runs fused.
One kind of convolution is the exception: a narrow one (a decoder's output
layer, 32 -> 1 channels) whose filter gradient oneDNN computes slowly on some
CPUs (under 2 GFLOP/s on an AVX2-only AMD EPYC, where XLA ran the layer's
training step 2x faster); where the machine's probe measures that
(`keras_rt.performance.plan.narrow_convs_prefer_xla`), those layers'
convolutions are compiled too (`xla_convolutions`), and where the probe
measured it faster, as one matrix product and shifted sums
(`keras_rt.ops.conv_matmul`; in float32 there 12 ms instead of XLA's
convolution's 26 ms and the kernels' 52 ms for that layer's step at batch
128).
Where the machine's probe did not measure XLA at least 1.25x faster for
them, an Adam update runs as TensorFlow's fused Adam kernel instead
(`keras_rt.distribute.fused_adam`) and the likelihood on TensorFlow's ops
(`keras_rt.performance.plan.optimizer_update_implementation`,
`likelihood_prefers_xla`).
Measured on 2 CPU cores (AMX), MLP VAE at batch 128 (14 variables): the Adam
update as one XLA function saved 0.85 ms of a 7.4 ms bfloat16 step (1 ms in
float32), and the XLA likelihood about 5% of the epoch time on top; for the
convolutional VAE the two together with the bfloat16 output layer took the
step from 36 to about 26 ms (the parts were not timed separately there).

It is off whenever it cannot help or cannot run: when the step is already
XLA-compiled or run eagerly, and under any `tf.distribute` strategy but the
default one: `MirroredStrategy` and the multi-worker strategies merge the
optimizer update across replicas (a `merge_call`, even with a single
replica), which an XLA function cannot hold.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator

import keras
import tensorflow as tf

PARTIAL_JIT_CHOICES = (True, False, "auto")

# How `xla_convolutions` can compute a narrow convolution (`keras_rt.performance.plan`'s
# `narrow_conv_implementation` names the fastest measured here, or "native").
NARROW_CONV_IMPLEMENTATIONS = ("xla", "matmul_xla", "matmul_filter_gradient")


def check_partial_jit_compile(value) -> bool | str:
    """Returns `value` or raises `ValueError` unless it is True, False or "auto"."""
    if not (value is True or value is False or (isinstance(value, str) and value == "auto")):
        raise ValueError(
            "`partial_jit_compile` must be True, False or 'auto'. "
            f"Received: partial_jit_compile={value!r}"
        )
    return value


def partial_jit_active(model: keras.Model, choice: bool | str) -> bool:
    """Whether `model`'s step should XLA-compile its element-wise parts.

    Args:
        model: a compiled Keras model.
        choice: True, False or "auto" (`check_partial_jit_compile`). True
            and "auto" behave alike: on unless the whole step is compiled or
            eager, or a `tf.distribute` strategy other than the default one
            is in use.

    Returns:
        True to compile the optimizer update and the likelihood with XLA.
    """
    if choice is False or model.run_eagerly or model.jit_compile is True:
        return False
    return not tf.distribute.has_strategy()


def jit_compiled(fn: Callable) -> Callable:
    """`fn` as an XLA-compiled `tf.function` (its gradient is compiled too)."""
    return tf.function(fn, jit_compile=True, reduce_retracing=True)


@contextlib.contextmanager
def xla_convolutions(layers: list, *, implementation: str = "xla") -> Iterator[None]:
    """Inside the block, each convolution layer in `layers` computes its convolution another way.

    Like `xla_optimizer_update`, meant around a step while it is traced: an
    instance attribute shadows the layer's `convolution_op` (bias and
    activation stay outside) and is removed afterwards, so inference and
    export graphs keep TensorFlow's kernels.

    Args:
        layers: Keras convolution layers (they have `convolution_op`).
        implementation: `"xla"`: the layer's convolution, forward and
            gradient compiled by XLA; `"matmul_xla"`: the stride-1 `Conv2D`
            layers among them as one matrix product and shifted sums under
            XLA (`keras_rt.ops.conv_matmul.conv2d_as_matmul`), the others as
            with `"xla"`; `"matmul_filter_gradient"`: those layers' kernel
            gradients as a matrix product, the rest on TensorFlow's kernels
            (`conv2d_matmul_filter_gradient`), the others left alone.

    Under `mixed_bfloat16`, use it together with
    `keras_rt.ops.float32_bias_gradients` (the zoo's step does): the
    replaced convolutions no longer feed oneDNN's fused bias gradient, and
    TensorFlow's own bias gradient sums bfloat16 in bfloat16 (a 2-channel
    bias gradient was 2-6% off without it).

    Example:

    >>> conv = keras.layers.Conv2D(1, 3, padding="same")
    >>> x = np.ones((2, 8, 8, 4), "float32")
    >>> with xla_convolutions([conv]):
    ...     y = tf.function(conv)(x)
    >>> y.shape, "convolution_op" in vars(conv)
    (TensorShape([2, 8, 8, 1]), False)
    """
    from keras_rt.ops.conv_matmul import (
        conv2d_as_matmul,
        conv2d_matmul_filter_gradient,
        supports_conv_as_matmul,
    )

    if implementation not in NARROW_CONV_IMPLEMENTATIONS:
        raise ValueError(
            f"implementation must be one of {NARROW_CONV_IMPLEMENTATIONS}. "
            f"Received: implementation={implementation!r}"
        )
    changed = []
    compute: Callable
    for layer in layers:
        as_matmul = implementation != "xla" and supports_conv_as_matmul(layer)
        if implementation == "matmul_filter_gradient":
            if not as_matmul:
                continue
            compute = functools.partial(conv2d_matmul_filter_gradient, padding=layer.padding)
        elif as_matmul:
            compute = jit_compiled(functools.partial(conv2d_as_matmul, padding=layer.padding))
        else:
            compute = jit_compiled(functools.partial(type(layer).convolution_op, layer))

        def convolution_op(inputs, kernel, compute=compute):
            return compute(inputs, tf.convert_to_tensor(kernel))

        object.__setattr__(layer, "convolution_op", convolution_op)
        changed.append(layer)
    try:
        yield
    finally:
        for layer in changed:
            vars(layer).pop("convolution_op", None)


@contextlib.contextmanager
def xla_optimizer_update(optimizer: keras.optimizers.Optimizer, variables: list) -> Iterator[None]:
    """Inside the block, `optimizer.apply(grads, variables)` runs as one XLA function.

    Meant around Keras's `train_step` while the step is traced: Keras calls
    `optimizer.apply_gradients`, which calls `optimizer.apply`; an instance
    attribute shadows that method for the duration of the trace and is
    removed afterwards, so nothing outside the traced step changes.

    Args:
        optimizer: the model's (built) optimizer.
        variables: the variables Keras updates (`model.trainable_weights`).

    Example:

    >>> class XLAUpdateModel(keras.Model):
    ...     def train_step(self, data):
    ...         with xla_optimizer_update(self.optimizer, self.trainable_weights):
    ...             return super().train_step(data)
    >>> inputs = keras.Input((3,))
    >>> model = XLAUpdateModel(inputs, keras.layers.Dense(1)(inputs))
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> history = model.fit(np.ones((8, 3)), np.zeros((8, 1)), epochs=2, verbose=0)
    >>> len(history.history["loss"])
    2
    """
    method = type(optimizer).apply
    update = jit_compiled(lambda grads: method(optimizer, grads, variables))

    def apply(grads, trainable_variables=None):
        if trainable_variables is not None and len(trainable_variables) != len(variables):
            return method(optimizer, grads, trainable_variables)
        return update(list(grads))

    optimizer.apply = apply
    try:
        yield
    finally:
        del optimizer.apply
