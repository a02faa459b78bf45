"""Partial XLA for narrow convolutions: same numbers, XLA only inside the traced training step."""

import keras
import numpy as np
import pytest

from keras_rt.distribute.partial_xla import xla_convolutions
from keras_rt.zoo import ConvVAE


def test_xla_convolution_matches_tensorflow_kernels_and_is_removed_after():
    import tensorflow as tf

    conv = keras.layers.Conv2D(1, 3, padding="same")
    x = np.random.default_rng(0).normal(size=(4, 8, 8, 6)).astype("float32")
    expected = conv(x)
    with xla_convolutions([conv]):
        with tf.GradientTape() as tape:
            y = tf.function(conv)(x)
            loss = tf.reduce_sum(y**2)
        grads = tape.gradient(loss, conv.trainable_weights)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    assert all(g is not None for g in grads)
    assert "convolution_op" not in vars(conv)


def test_conv_vae_trains_with_forced_partial_xla_like_without():
    x = np.random.default_rng(0).integers(0, 2, (16, 8, 8, 1)).astype("float32")
    losses = {}
    for choice in (True, False):
        keras.utils.set_random_seed(0)
        model = ConvVAE(input_shape=(8, 8, 1), latent_dim=2, filters=(4, 8), hidden_units=8, seed=0)
        model.compile(optimizer=keras.optimizers.SGD(0.01), partial_jit_compile=choice)
        assert bool(model.xla_convolution_layers()) is choice
        history = model.fit(x, epochs=2, batch_size=8, verbose=0, shuffle=False)
        losses[choice] = history.history["loss"]
    np.testing.assert_allclose(losses[True], losses[False], rtol=1e-4)


@pytest.mark.parametrize("implementation", ["matmul_xla", "matmul_filter_gradient"])
def test_as_a_matrix_product_the_numbers_are_the_convolutions(implementation):
    import tensorflow as tf

    conv = keras.layers.Conv2D(1, 3, padding="same")
    x = np.random.default_rng(0).normal(size=(4, 8, 8, 6)).astype("float32")
    expected = conv(x)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(conv(x) ** 2)
    expected_grads = tape.gradient(loss, conv.trainable_weights)
    with xla_convolutions([conv], implementation=implementation):
        with tf.GradientTape() as tape:
            y = tf.function(conv)(x)
            loss = tf.reduce_sum(y**2)
        grads = tape.gradient(loss, conv.trainable_weights)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    for got, want in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    assert "convolution_op" not in vars(conv)


@pytest.mark.parametrize(
    ("narrow_ms", "expected"),
    [
        ({"native": 52.0, "xla": 26.0, "matmul_xla": 12.0}, (True, "matmul_xla")),  # AVX2, f32
        ({"native": 52.0, "xla": 26.0, "matmul_xla": 30.0}, (True, "xla")),  # bfloat16 emulated
        ({"native": 10.0, "xla": 26.0, "matmul_xla": 12.0}, (False, "xla")),  # kernels fast
        # Zen 5, bfloat16: the filter gradient as a matrix product
        (
            {"native": 3.4, "xla": 8.9, "matmul_xla": 19.8, "matmul_filter_gradient": 2.3},
            (True, "matmul_filter_gradient"),
        ),
    ],
)
def test_auto_computes_narrow_convolutions_the_way_the_probe_measured_fastest(
    monkeypatch, narrow_ms, expected
):
    from keras_rt.performance import probe as probe_module

    fake = {"machine": {"gpus": []}, "step_ms": {"narrow_conv": {"float32": narrow_ms}}}
    monkeypatch.setattr(probe_module, "load_or_probe", lambda **_: fake)
    x = np.random.default_rng(0).integers(0, 2, (16, 8, 8, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    model = ConvVAE(input_shape=(8, 8, 1), latent_dim=2, filters=(4, 8), hidden_units=8, seed=0)
    model.compile(optimizer=keras.optimizers.SGD(0.01))
    assert (bool(model._xla_convolutions), model._narrow_conv_implementation) == expected
    if expected[1] not in ("matmul_xla", "matmul_filter_gradient"):
        return  # the other ways train as tested above
    losses = model.fit(x, epochs=2, batch_size=8, verbose=0, shuffle=False).history["loss"]
    keras.utils.set_random_seed(0)
    plain = ConvVAE(input_shape=(8, 8, 1), latent_dim=2, filters=(4, 8), hidden_units=8, seed=0)
    plain.compile(optimizer=keras.optimizers.SGD(0.01), partial_jit_compile=False)
    expected_losses = plain.fit(x, epochs=2, batch_size=8, verbose=0, shuffle=False)
    np.testing.assert_allclose(losses, expected_losses.history["loss"], rtol=1e-4)


def test_matmul_leaves_other_convolutions_to_the_kernels_and_rejects_unknown_ways():
    strided = keras.layers.Conv2D(1, 3, strides=2, padding="same")
    with xla_convolutions([strided], implementation="matmul_filter_gradient"):
        assert "convolution_op" not in vars(strided)
    with pytest.raises(ValueError, match="implementation must be one of"):
        with xla_convolutions([strided], implementation="fast"):
            pass
