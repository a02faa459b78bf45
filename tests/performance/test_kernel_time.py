"""The kernel time: every Dense and convolution layer's training kernels, timed the fastest way."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_rt.performance.kernel_time import kernel_time, layer_kernel_steps


def small_conv_model():
    x = keras.Input((8, 8, 1), name="x")
    h = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="down")(x)
    h = keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same", name="up")(h)
    out = keras.layers.Conv2D(1, 3, padding="same", name="out")(h)
    code = keras.layers.Dense(3, name="code")(keras.layers.Flatten()(h))
    return keras.Model(x, [out, code])


def test_every_weighted_layer_is_timed_and_the_fastest_way_kept():
    timed = kernel_time(small_conv_model(), (8, 8, 1), 4, budget_s=0.005, repeats=1)
    layers = {layer["name"]: layer for layer in timed["layers"]}
    assert sorted(layers) == ["code", "down", "out", "up"]
    assert [layers[n]["kind"] for n in ("down", "up", "out", "code")] == [
        "conv",
        "transposed_conv",
        "narrow_conv",
        "dense",
    ]
    # Only the layer reading the model's input skips the gradient of its input.
    assert {n: layer["input_gradient"] for n, layer in layers.items()} == {
        "down": False,
        "up": True,
        "out": True,
        "code": True,
    }
    # The matrix-product forms are timed where they apply: stride-1 convolutions only.
    for way in ("matmul_xla", "matmul_filter_gradient"):
        assert {n for n, layer in layers.items() if way in layer["ms_by_implementation"]} == {
            "out"
        }, way
    for layer in layers.values():
        times = layer["ms_by_implementation"]
        assert {"native", "xla"} <= set(times) and all(ms > 0 for ms in times.values())
        assert layer["ms"] == min(times.values()) == times[layer["implementation"]]
    assert timed["ms_per_step"] == pytest.approx(sum(layer["ms"] for layer in layers.values()))
    assert timed["examples_per_second"] == pytest.approx(4000 / timed["ms_per_step"], rel=1e-3)
    assert (timed["batch_size"], timed["dtype"]) == (4, "float32")


def test_every_implementation_computes_the_same_gradients():
    """What is timed is the layer's real backward pass, whichever way it is computed."""
    model = small_conv_model()
    for name in ("down", "up", "out", "code"):
        layer = model.get_layer(name)
        steps = layer_kernel_steps(layer, 2, input_gradient=name != "down")
        results = {impl: fn(*args) for impl, (fn, args) in steps.items()}
        expected = results["native"]
        assert len(expected) == (1 if name == "down" else 2)
        for impl, grads in results.items():
            for got, want in zip(grads, expected):
                scale = float(tf.reduce_max(tf.abs(want)))
                np.testing.assert_allclose(got, want, atol=1e-4 * scale, err_msg=f"{name} {impl}")


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="batch_size"):
        kernel_time(small_conv_model(), (8, 8, 1), 0)
    x = keras.Input((4,))
    with pytest.raises(ValueError, match="no Dense or convolution layer"):
        kernel_time(keras.Model(x, keras.layers.ReLU()(x)), (4,), 2)
