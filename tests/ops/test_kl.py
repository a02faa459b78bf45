"""The closed-form KLs of `keras_rt.ops.kl` agree with TFP."""

import numpy as np
import pytest
import tensorflow_probability as tfp

from keras_rt.ops.kl import categorical_kl_to_uniform

tfd = tfp.distributions


@pytest.mark.parametrize("shape", [(5, 4), (5, 3, 4), (2, 3, 2, 6)])
def test_categorical_kl_to_uniform_matches_tfp(shape):
    logits = np.random.RandomState(0).randn(*shape).astype("float32")
    num_variables = len(shape) - 2
    q = tfd.OneHotCategorical(logits=logits)
    p = tfd.OneHotCategorical(logits=np.zeros(shape[1:], "float32"))
    if num_variables:
        q, p = tfd.Independent(q, num_variables), tfd.Independent(p, num_variables)
    expected = tfd.kl_divergence(q, p)
    np.testing.assert_allclose(categorical_kl_to_uniform(logits), expected, rtol=1e-5, atol=1e-6)


def test_categorical_kl_to_uniform_is_zero_for_uniform_and_float32():
    kl = categorical_kl_to_uniform(np.zeros((3, 2, 5), "float16"))
    assert kl.dtype == "float32"
    np.testing.assert_allclose(kl, np.zeros(3), atol=1e-6)
