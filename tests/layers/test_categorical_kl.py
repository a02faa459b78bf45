import numpy as np
import pytest

from keras_rt.layers import CategoricalKL, GumbelSoftmaxSampling
from keras_rt.ops.kl import categorical_kl_to_uniform
from keras_rt.testing import run_layer_test
from tests.stats import frequency_tolerance

LOGITS = np.random.RandomState(0).randn(5, 3, 4).astype("float32")


def test_layer_adds_weighted_mean_and_passes_through():
    layer = CategoricalKL(weight=0.5)
    np.testing.assert_array_equal(layer(LOGITS), LOGITS)
    expected = 0.5 * np.mean(categorical_kl_to_uniform(LOGITS))
    assert float(layer.losses[0]) == pytest.approx(expected, rel=1e-6)
    run_layer_test(CategoricalKL, {}, LOGITS, (5, 3, 4), stochastic=False)


def test_bad_input():
    with pytest.raises(ValueError, match="K >= 2"):
        CategoricalKL()(np.zeros((2, 1), "float32"))
    with pytest.raises(ValueError, match="weight"):
        CategoricalKL(weight=-1)


def test_gumbel_hard_inference_draws_exact_categorical_samples():
    probs = np.array([0.2, 0.3, 0.5], "float32")
    n = 20000
    layer = GumbelSoftmaxSampling(temperature=5.0, inference="hard", seed=1)
    y = layer(np.log(probs)[None].repeat(n, 0), training=False).numpy()
    assert set(np.unique(y)) <= {0.0, 1.0}
    freqs = y.mean(0)
    assert np.all(np.abs(freqs - probs) < [frequency_tolerance(p, n) for p in probs])
    relaxed = layer(np.log(probs)[None].repeat(4, 0), training=True).numpy()
    assert not set(np.unique(relaxed)) <= {0.0, 1.0}  # training keeps the relaxation
