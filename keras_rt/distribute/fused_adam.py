"""Adam's update as TensorFlow's fused kernel: one pass over each weight, its moments and gradient.

Keras's `Adam.update_step` writes the first moment, then the second, then
the weight, each from its own expression: TensorFlow runs about a dozen ops
per variable, and XLA (partial XLA's `xla_optimizer_update`) compiles them
into separate loops that read the gradient and the moments again. Adam is
memory-bound: every step reads and writes every weight and both moments.
TensorFlow's `ResourceApplyAdam` kernel computes the same update, in the
same form (`m += (g - m)(1 - beta_1)`, `v += (g^2 - v)(1 - beta_2)`,
`w -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)`),
in one pass per variable, on CPUs and GPUs. It also starts as soon as its
variable's gradient is ready, while the rest of the backward pass runs.

On a 2-core AMD EPYC (Zen 5) Adam over the convolutional VAE's 1.7 million
weights took 1.4-1.6 ms this way, 1.9-2.2 ms as one XLA function and 3.6 ms
as Keras's ops (timed alone, a noisy measurement there: for a million
weights the two ways came within noise of each other), and `conv_vae`'s
bfloat16 training step was about 6% faster. The machine's probe times both
(`keras_rt.performance.probe`, `optimizer_update_ms`), and a zoo model's
partial XLA uses this kernel unless XLA measured clearly faster
(`keras_rt.performance.plan.optimizer_update_implementation`).

Only `keras.optimizers.Adam` and `AdamW` without `amsgrad` are computed this
way (`supports_fused_adam`); weight decay, gradient clipping, accumulation
and EMA stay Keras's, around the update. Sparse gradients and variables
that are not float32 or float64 (`FUSED_DTYPES`) fall back to Keras's own
`update_step`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras
import tensorflow as tf

# The variable dtypes computed this way. The kernel forms `1 - beta` in the variable's dtype,
# Keras in Python floats: in bfloat16 `1 - 0.999` is 0 (the second moment never moves), in
# float16 2.4% off; so 16-bit variables keep Keras's update.
FUSED_DTYPES = (tf.float32, tf.float64)
_NONE = object()


def supports_fused_adam(optimizer) -> bool:
    """Whether `fused_adam_update` computes `optimizer`'s update: a `keras.optimizers.Adam`
    or `AdamW` (not a subclass, which may change the update) without `amsgrad`.

    Example:

    >>> supports_fused_adam(keras.optimizers.Adam()), supports_fused_adam(keras.optimizers.SGD())
    (True, False)
    """
    return type(optimizer) in (keras.optimizers.Adam, keras.optimizers.AdamW) and not getattr(
        optimizer, "amsgrad", True
    )


def fused_adam_update_step(optimizer, gradient, variable, learning_rate):
    """`optimizer.update_step(gradient, variable, learning_rate)` as `ResourceApplyAdam`.

    Args:
        optimizer: a built `keras.optimizers.Adam` (`supports_fused_adam`).
        gradient: the variable's gradient (cast to its dtype, as Keras does).
        variable: one of the optimizer's variables (a Keras or TensorFlow
            variable).
        learning_rate: this step's learning rate.
    """
    dtype = tf.as_dtype(variable.dtype)
    if isinstance(gradient, tf.IndexedSlices) or dtype not in FUSED_DTYPES:
        return type(optimizer).update_step(optimizer, gradient, variable, learning_rate)
    index = optimizer._get_variable_index(variable)
    m, v = optimizer._momentums[index], optimizer._velocities[index]
    step = tf.cast(optimizer.iterations + 1, dtype)
    beta_1, beta_2 = tf.cast(optimizer.beta_1, dtype), tf.cast(optimizer.beta_2, dtype)
    tf.raw_ops.ResourceApplyAdam(
        var=variable.handle,
        m=m.handle,
        v=v.handle,
        beta1_power=tf.pow(beta_1, step),
        beta2_power=tf.pow(beta_2, step),
        lr=tf.cast(learning_rate, dtype),
        beta1=beta_1,
        beta2=beta_2,
        epsilon=tf.cast(optimizer.epsilon, dtype),
        grad=tf.cast(gradient, dtype),
    )
    return None


@contextlib.contextmanager
def fused_adam_update(optimizer) -> Iterator[None]:
    """Inside the block, `optimizer`'s per-variable update is TensorFlow's fused Adam kernel.

    Like `keras_rt.distribute.partial_xla.xla_optimizer_update`, meant
    around a step while it is traced: an instance attribute shadows the
    optimizer's `update_step` and is removed afterwards. An optimizer that
    `supports_fused_adam` rejects is left alone.

    Args:
        optimizer: the model's optimizer.

    Example:

    >>> class FusedAdamModel(keras.Model):
    ...     def train_step(self, data):
    ...         with fused_adam_update(self.optimizer):
    ...             return super().train_step(data)
    >>> inputs = keras.Input((3,))
    >>> model = FusedAdamModel(inputs, keras.layers.Dense(1)(inputs))
    >>> model.compile(optimizer="adam", loss="mse")
    >>> history = model.fit(np.ones((8, 3)), np.zeros((8, 1)), epochs=2, verbose=0)
    >>> len(history.history["loss"]), "update_step" in vars(model.optimizer)
    (2, False)
    """
    if not supports_fused_adam(optimizer):
        yield
        return

    def update_step(gradient, variable, learning_rate):
        return fused_adam_update_step(optimizer, gradient, variable, learning_rate)

    previous = vars(optimizer).get("update_step", _NONE)
    optimizer.update_step = update_step
    try:
        yield
    finally:
        if previous is _NONE:
            vars(optimizer).pop("update_step", None)
        else:  # a block around this one (or the caller) had its own
            optimizer.update_step = previous


__all__ = ["FUSED_DTYPES", "fused_adam_update", "fused_adam_update_step", "supports_fused_adam"]
