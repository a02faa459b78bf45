"""Bias gradients summed with a 32-bit accumulator under 16-bit compute dtypes.

Keras's TensorFlow backend adds every layer's bias with `tf.nn.bias_add`
(so that oneDNN can fuse it with the matrix product or convolution), and
TensorFlow differentiates that with `BiasAddGrad`. On CPUs that kernel sums
`bfloat16` gradients in `bfloat16`: with 8 significant bits the running sum
stops growing near 256-512, so a bias gradient summed over more values is
wrong. Measured with TensorFlow 2.21: the bias gradient of `sum(outputs)`,
which is the number of values summed, came out as 256 instead of 100,352
for a `Conv2DTranspose` at batch 128 and 28 x 28, 256 instead of 6,272 for a
`Conv2D` (oneDNN's kernel that also computes the filter gradient gave 512),
and 256 instead of 512 for a `Dense` layer at batch 512. In the
convolutional zoo VAE under `mixed_bfloat16`, the last transposed
convolution's bias gradient was 22% off the float32 one (its kernel's 5%).
(tensorflow/tensorflow#86378 reports the same kernel disagreeing between
CPU and GPU.)

`float32_bias_gradients` swaps TensorFlow's gradient of `BiasAdd` while a
training step is traced: for bfloat16 gradients it sums with
`tf.reduce_sum`, whose CPU kernel (and XLA's) accumulates bfloat16 in 32
bits (the sum above comes out exact, and random values within one rounding
of the result), and on a 2-core AMD EPYC it was faster too (0.33 ms instead
of 0.62 ms for the transposed convolution above). Other dtypes keep
TensorFlow's kernel: it sums float16 in float32 already (where
`tf.reduce_sum` would not), and float32 in float32. The forward graph is
not touched: oneDNN still fuses the bias with the matrix product or
convolution.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import tensorflow as tf

# Gradient dtypes whose BiasAddGrad is summed again with a 32-bit accumulator.
NARROW_DTYPES = (tf.bfloat16,)

# TensorFlow's op types whose gradient `float32_bias_gradients` replaces.
BIAS_OPS = ("BiasAdd", "BiasAddV1")


def bias_gradient(gradient: tf.Tensor, data_format: str | bytes | None = None) -> tf.Tensor:
    """The gradient of a bias added by `tf.nn.bias_add`: `gradient` summed over every axis
    but the channels', accumulated in (at least) 32 bits.

    Args:
        gradient: the gradient of the sum `x + bias`, channels last, or
            second with `data_format="NCHW"` (or `"NCDHW"`).
        data_format: `tf.nn.bias_add`'s data format; None for channels last.

    Returns:
        A vector with one value per channel, in `gradient`'s dtype.

    Example:

    >>> g = tf.ones((128, 28, 28, 32), tf.bfloat16)
    >>> float(bias_gradient(g)[0])  # TensorFlow's BiasAddGrad kernel: 512.0
    100352.0
    """
    if isinstance(data_format, bytes):
        data_format = data_format.decode()
    rank = gradient.shape.rank
    channel_axis = 1 if data_format is not None and data_format.startswith("NC") else rank - 1
    axes = [axis for axis in range(rank) if axis != channel_axis]
    return tf.reduce_sum(gradient, axis=axes)


def _data_format(op) -> str | bytes | None:
    """`op`'s data format: None (channels last) for `BiasAddV1`, which has none; the tape's
    stand-in for an op raises `InvalidArgumentError` for a missing attribute, a graph op
    `ValueError`."""
    if op.type == "BiasAddV1":
        return None
    try:
        return op.get_attr("data_format")
    except (ValueError, KeyError, tf.errors.InvalidArgumentError):
        return None


def _bias_add_gradient(original):
    def gradient(op, received):
        if received.dtype not in NARROW_DTYPES or received.shape.rank is None:
            return original(op, received)
        return received, bias_gradient(received, _data_format(op))

    return gradient


_lock = threading.Lock()
_active = 0  # blocks open now (several replicas' steps may be traced in threads at once)
_saved: dict = {}  # TensorFlow's registry entries while a block is open


@contextlib.contextmanager
def float32_bias_gradients() -> Iterator[None]:
    """Inside the block, bfloat16 gradients of `BiasAdd` are summed in 32 bits.

    Meant around a training step while it is traced (the gradient function
    is looked up when the tape computes the gradient): TensorFlow's
    registered gradient is swapped when the first open block starts and
    restored when the last one ends (blocks may nest or overlap in threads,
    as replicas' steps are traced). The swap is process-wide: while a block
    is open, a gradient computed in another thread gets it too. A function
    whose gradient TensorFlow already built (and cached) keeps the gradient
    it was built with, inside the block or out.

    Example:

    >>> bias = tf.Variable(tf.zeros(4))
    >>> @tf.function
    ... def grad(x):
    ...     with tf.GradientTape() as tape:
    ...         y = tf.nn.bias_add(x, tf.cast(bias, x.dtype))
    ...         total = tf.reduce_sum(tf.cast(y, "float32"))
    ...     return tape.gradient(total, bias)
    >>> x = tf.ones((1024, 4), tf.bfloat16)
    >>> with float32_bias_gradients():
    ...     fixed = grad(x)
    >>> float(fixed[0])  # TensorFlow's kernel alone: 256.0
    1024.0
    """
    global _active
    from tensorflow.python.framework import ops

    registry = ops._gradient_registry._registry  # noqa: SLF001 (TensorFlow has no public hook)
    with _lock:
        if _active == 0:
            _saved.update({name: registry[name] for name in BIAS_OPS if name in registry})
            for name, entry in _saved.items():
                registry[name] = {**entry, "type": _bias_add_gradient(entry["type"])}
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                registry.update(_saved)
                _saved.clear()


__all__ = ["BIAS_OPS", "NARROW_DTYPES", "bias_gradient", "float32_bias_gradients"]
