"""Bias gradients summed in 32 bits under 16-bit compute (`keras_rt.ops.bias_gradient`)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.framework import ops as tf_ops

import keras_rt.ops.bias_gradient as bias_module
from keras_rt.ops.bias_gradient import BIAS_OPS, bias_gradient, float32_bias_gradients
from keras_rt.zoo import get_zoo_entry

# Relative rounding of one bfloat16 value (8 significant bits, round to nearest).
BF16_ROUNDING = 2.0**-8


def _registered():
    return {name: tf_ops._gradient_registry.lookup(name) for name in BIAS_OPS}


@pytest.mark.parametrize(
    "data_format, shape, axis", [(None, (64, 7, 7, 5), 3), ("NCHW", (64, 5, 7, 7), 1)]
)
def test_bias_gradient_sums_every_axis_but_the_channels(data_format, shape, axis):
    g = np.random.default_rng(0).normal(size=shape).astype("float32")
    got = bias_gradient(tf.constant(g), data_format).numpy()
    axes = tuple(a for a in range(len(shape)) if a != axis)
    np.testing.assert_allclose(got, g.sum(axis=axes), rtol=1e-5, atol=1e-4)


def test_bias_gradient_in_bfloat16_is_exact_where_tensorflows_kernel_saturates():
    ones = tf.ones((128, 28, 28, 4), tf.bfloat16)
    assert bias_gradient(ones).numpy().astype("float64").tolist() == [128 * 28 * 28] * 4


def test_bias_gradient_in_bfloat16_is_within_one_rounding_of_the_exact_sum():
    # 100,352 positive values per channel: a bfloat16 accumulator would stop near 512.
    values = np.random.default_rng(1).random((128, 28, 28, 8)) * 0.01 + 0.001
    g = tf.constant(values.astype("float32"), tf.bfloat16)
    exact = tf.cast(g, tf.float64).numpy().sum(axis=(0, 1, 2))
    got = tf.cast(bias_gradient(g), tf.float64).numpy()
    np.testing.assert_array_less(np.abs(got - exact) / exact, BF16_ROUNDING)


def _bias_gradient_of_sum(layer, x):
    @tf.function
    def grad(x):
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(tf.cast(layer(x), "float32"))
        return tape.gradient(total, layer.bias)

    return grad(x).numpy()


LAYERS = [
    (
        "transposed",
        lambda: keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same"),
        (64, 16, 16, 8),
        64 * 32 * 32,
    ),
    (
        "conv",
        lambda: keras.layers.Conv2D(4, 3, strides=2, padding="same"),
        (64, 32, 32, 8),
        64 * 16 * 16,
    ),
    ("dense", lambda: keras.layers.Dense(4), (1024, 8), 1024),
]


@pytest.mark.parametrize("name, make, shape, count", LAYERS, ids=[l[0] for l in LAYERS])
def test_layers_bias_gradients_count_every_value_under_mixed_bfloat16(
    mixed_bfloat16, name, make, shape, count
):
    # d sum(outputs) / d bias = the number of values each bias is added to.
    layer = make()
    layer.build(shape)
    x = tf.constant(np.random.default_rng(0).random(shape).astype("float32"))
    with float32_bias_gradients():
        fixed = _bias_gradient_of_sum(layer, x)
    assert fixed.tolist() == [float(count)] * 4


def test_float32_gradients_keep_tensorflows_kernel(monkeypatch):
    calls = []
    monkeypatch.setattr(bias_module, "bias_gradient", lambda *args: calls.append(args))
    layer = keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same")
    shape = (8, 6, 6, 3)
    layer.build(shape)
    x = tf.constant(np.random.default_rng(0).normal(size=shape).astype("float32"))
    plain = _bias_gradient_of_sum(layer, x)
    with float32_bias_gradients():
        inside = _bias_gradient_of_sum(layer, x)
    assert calls == []
    np.testing.assert_array_equal(inside, plain)


def test_the_registered_gradients_come_back_after_the_block_even_on_errors():
    before = _registered()
    with pytest.raises(RuntimeError, match="boom"):
        with float32_bias_gradients():
            assert _registered() != before
            raise RuntimeError("boom")
    assert _registered() == before


def test_zoo_training_step_sums_bias_gradients_in_32_bits(mixed_bfloat16, monkeypatch):
    calls = []

    def spy(gradient, data_format=None):
        calls.append(gradient.dtype)
        return tf.reduce_sum(gradient, axis=list(range(gradient.shape.rank - 1)))

    monkeypatch.setattr(bias_module, "bias_gradient", spy)
    before = _registered()
    entry = get_zoo_entry("conv_vae")
    keras.utils.set_random_seed(0)
    model = entry.build(entry.config_for("digits", {}), input_shape=(8, 8, 1), seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
    x = (np.random.default_rng(0).random((32, 8, 8, 1)) < 0.5).astype("float32")
    history = model.fit(x, batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    # Every layer with a bias: the convolutions, transposed convolutions and Dense layers.
    assert len(calls) >= 6 and set(calls) == {tf.bfloat16}
    assert _registered() == before


def test_nested_and_overlapping_blocks_restore_tensorflows_gradient_once_all_end():
    before = _registered()
    outer = float32_bias_gradients()
    inner = float32_bias_gradients()
    outer.__enter__()
    inner.__enter__()
    try:
        outer.__exit__(None, None, None)  # the first opened ends first, as replica threads may
        outer = None
        assert _registered() != before
        layer = keras.layers.Dense(2, dtype="bfloat16")
        layer.build((1024, 3))
        assert (
            _bias_gradient_of_sum(layer, tf.ones((1024, 3), tf.bfloat16)).tolist() == [1024.0] * 2
        )
    finally:
        for block in (outer, inner):
            if block is not None:
                block.__exit__(None, None, None)
    assert _registered() == before


def _raw_bias_gradient(add, x, bias):
    @tf.function
    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(bias)
            total = tf.reduce_sum(tf.cast(add(x, bias), "float32"))
        return tape.gradient(total, bias)

    with float32_bias_gradients():
        return grad(x).numpy().astype("float64")


def test_bias_add_v1_in_bfloat16_is_summed_in_32_bits():
    x = tf.ones((1024, 3), tf.bfloat16)
    bias = tf.zeros((3,), tf.bfloat16)
    got = _raw_bias_gradient(lambda x, b: tf.raw_ops.BiasAddV1(value=x, bias=b), x, bias)
    assert got.tolist() == [1024.0] * 3


def test_channels_first_bias_add_in_bfloat16_is_summed_over_every_other_axis():
    x = tf.ones((64, 3, 16, 16), tf.bfloat16)
    bias = tf.zeros((3,), tf.bfloat16)
    got = _raw_bias_gradient(lambda x, b: tf.nn.bias_add(x, b, data_format="NCHW"), x, bias)
    assert got.tolist() == [64.0 * 16 * 16] * 3


def test_float16_keeps_tensorflows_kernel_which_sums_in_float32(monkeypatch):
    # `tf.reduce_sum` sums float16 in float16 and would stop at 2048 here.
    calls = []
    monkeypatch.setattr(bias_module, "bias_gradient", lambda *args: calls.append(args))
    x = tf.ones((64, 30, 30, 4), tf.float16)
    got = _raw_bias_gradient(tf.nn.bias_add, x, tf.zeros((4,), tf.float16))
    assert calls == [] and got.tolist() == [64.0 * 30 * 30] * 4
