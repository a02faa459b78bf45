"""Likelihoods: log-probabilities agree with TFP's distributions, with extra sample axes."""

import numpy as np
import pytest
import tensorflow_probability as tfp

from keras_rt.likelihoods import get_likelihood

tfd = tfp.distributions


@pytest.mark.parametrize("binary", [True, False])
def test_bernoulli_matches_tfp_with_sample_axes(binary):
    rng = np.random.default_rng(0)
    x = rng.random((4, 6, 6, 1)).astype("float32")
    if binary:
        x = (x < 0.5).astype("float32")
    logits = (rng.standard_normal((3, 4, 6, 6, 1)) * 8).astype("float32")  # extreme logits too
    got = np.asarray(get_likelihood("bernoulli").log_prob(x, logits))
    expected = tfd.Bernoulli(logits=logits, dtype="float32").log_prob(x).numpy().sum((-3, -2, -1))
    assert got.shape == (3, 4)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-3)


def test_gaussian_sums_over_pixels():
    rng = np.random.default_rng(1)
    x = rng.random((5, 8)).astype("float32")
    params = rng.standard_normal((5, 16)).astype("float32")
    got = np.asarray(get_likelihood("gaussian").log_prob(x, params))
    loc, raw = params[:, :8], params[:, 8:]
    scale = np.log1p(np.exp(raw)) + 1e-3
    expected = tfd.Normal(loc, scale).log_prob(x).numpy().sum(-1)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)
