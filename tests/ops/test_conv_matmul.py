"""A stride-1 convolution as one matrix product and shifted sums, and the convolution whose
kernel gradient is one: the convolution's numbers."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_rt.ops.conv_matmul import (
    conv2d_as_matmul,
    conv2d_matmul_filter_gradient,
    supports_conv_as_matmul,
)


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize(
    ("kernel", "channels"), [((3, 3), (5, 1)), ((2, 4), (3, 2)), ((1, 1), (4, 3))]
)
@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("way", [conv2d_as_matmul, conv2d_matmul_filter_gradient])
def test_values_and_gradients_match_the_convolution(padding, kernel, channels, jit, way):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(3, 7, 6, channels[0])), "float32")
    w = tf.Variable(rng.normal(size=(*kernel, *channels)).astype("float32"))
    g = tf.constant(rng.normal(size=tf.nn.conv2d(x, w, 1, padding.upper()).shape), "float32")

    def value_and_grads(conv):
        @tf.function(jit_compile=jit)
        def run(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = conv(x)
                loss = tf.reduce_sum(y * g)
            return (y, *tape.gradient(loss, [x, w]))

        return run(x)

    expected = value_and_grads(lambda x: tf.nn.conv2d(x, w, 1, padding.upper()))
    result = value_and_grads(lambda x: way(x, w, padding))
    for got, want in zip(result, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


def test_unknown_batch_and_image_sizes():
    w = tf.random.stateless_normal((3, 3, 2, 1), (0, 1))
    run = tf.function(
        lambda x: conv2d_as_matmul(x, w),
        input_signature=[tf.TensorSpec((None, None, None, 2))],
    )
    x = tf.random.stateless_normal((2, 5, 4, 2), (0, 2))
    np.testing.assert_allclose(run(x), tf.nn.conv2d(x, w, 1, "SAME"), rtol=1e-5, atol=1e-5)


def test_the_kernel_gradient_as_a_product_needs_the_image_size():
    w = tf.zeros((3, 3, 2, 1))
    run = tf.function(
        lambda x: conv2d_matmul_filter_gradient(x, w),
        input_signature=[tf.TensorSpec((None, None, None, 2))],
    )
    with pytest.raises(ValueError, match=r"needs the height and width.*None, None, None, 2"):
        run.get_concrete_function()


def test_its_unknown_batch_size_is_fine():
    w = tf.Variable(tf.random.stateless_normal((3, 3, 2, 2), (0, 1)))

    def kernel_gradient(conv):
        @tf.function(input_signature=[tf.TensorSpec((None, 5, 4, 2))])
        def run(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.square(conv(x)))
            return tape.gradient(loss, w)

        return run(tf.random.stateless_normal((3, 5, 4, 2), (0, 2)))

    np.testing.assert_allclose(
        kernel_gradient(lambda x: conv2d_matmul_filter_gradient(x, w)),
        kernel_gradient(lambda x: tf.nn.conv2d(x, w, 1, "SAME")),
        rtol=1e-5,
        atol=1e-4,
    )


@pytest.mark.parametrize("way", [conv2d_as_matmul, conv2d_matmul_filter_gradient])
def test_a_padding_it_does_not_compute_is_named(way):
    with pytest.raises(ValueError, match="padding must be 'same' or 'valid'.*'causal'"):
        way(tf.zeros((1, 4, 4, 1)), tf.zeros((3, 3, 1, 1)), "causal")


def test_which_layers_it_computes():
    assert supports_conv_as_matmul(keras.layers.Conv2D(1, 3, padding="same"))
    assert supports_conv_as_matmul(keras.layers.Conv2D(2, (1, 3), padding="valid"))
    for layer in (
        keras.layers.Conv2D(1, 3, strides=2),
        keras.layers.Conv2D(1, 3, dilation_rate=2),
        keras.layers.Conv2D(2, 3, groups=2),
        keras.layers.Conv2D(1, 3, data_format="channels_first"),
        keras.layers.Conv2DTranspose(1, 3),
        keras.layers.DepthwiseConv2D(3),
        keras.layers.Conv1D(1, 3),
        keras.layers.Dense(1),
    ):
        assert not supports_conv_as_matmul(layer), layer
