"""Partial XLA for narrow convolutions: same numbers, XLA only inside the traced training step."""

import keras
import numpy as np

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
