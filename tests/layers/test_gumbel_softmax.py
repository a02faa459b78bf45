import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_rt.layers import GumbelSoftmaxSampling
from keras_rt.testing import run_layer_test
from tests.stats import frequency_tolerance

N = 20000
PROBS = np.array([0.2, 0.3, 0.5], "float32")


def test_layer_harness():
    run_layer_test(GumbelSoftmaxSampling, {"seed": 1}, np.zeros((4, 5, 3), "float32"), (4, 5, 3))
    run_layer_test(
        GumbelSoftmaxSampling, {"seed": 1, "hard": True}, np.zeros((4, 3), "float32"), (4, 3)
    )


@pytest.mark.parametrize("hard", [False, True])
def test_class_frequencies_approach_softmax(hard):
    logits = np.log(PROBS)[None].repeat(N, 0)
    y = keras.ops.convert_to_numpy(GumbelSoftmaxSampling(0.05, hard=hard, seed=2)(logits))
    np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-5)
    freqs = np.bincount(y.argmax(-1), minlength=3) / N
    assert np.all(np.abs(freqs - PROBS) < [frequency_tolerance(p, N) for p in PROBS])


def test_hard_is_one_hot_with_relaxed_gradient():
    logits = tf.Variable(np.zeros((8, 4), "float32"))
    layer = GumbelSoftmaxSampling(temperature=0.5, hard=True, seed=3)
    with tf.GradientTape() as tape:
        y = layer(logits)
        loss = tf.reduce_sum(y * tf.range(4, dtype="float32"))
    y = y.numpy()
    assert set(np.unique(y)) <= {0.0, 1.0} and np.all(y.sum(-1) == 1)
    grad = tape.gradient(loss, logits)
    assert grad is not None and np.abs(grad.numpy()).sum() > 0


def test_temperature_is_a_variable_that_survives_saving(tmp_path):
    x = keras.Input((3,))
    layer = GumbelSoftmaxSampling(temperature=2.0, seed=0)
    model = keras.Model(x, layer(x))
    layer.temperature.assign(0.7)
    model.save(tmp_path / "m.keras")
    reloaded = keras.models.load_model(tmp_path / "m.keras")
    assert float(reloaded.layers[-1].temperature.numpy()) == pytest.approx(0.7)
    assert reloaded.layers[-1].get_config()["temperature"] == 2.0


def test_mode_at_inference():
    layer = GumbelSoftmaxSampling(inference="mode")
    y = layer(np.array([[0.0, 3.0, 1.0]], "float32"), training=False)
    np.testing.assert_array_equal(y, [[0.0, 1.0, 0.0]])


@pytest.mark.parametrize("temperature", [0.0, -1.0, float("nan"), "hot"])
def test_non_positive_temperature(temperature):
    with pytest.raises(ValueError, match="temperature"):
        GumbelSoftmaxSampling(temperature=temperature)


def test_integer_logits_and_single_class_rejected():
    with pytest.raises(ValueError, match="floating-point"):
        GumbelSoftmaxSampling()(np.zeros((2, 3), "int32"))
    with pytest.raises(ValueError, match="at least 2 classes"):
        GumbelSoftmaxSampling()(np.zeros((2, 1), "float32"))
