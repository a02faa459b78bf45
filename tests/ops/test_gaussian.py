"""Gaussian parameter maps of `keras_rt.ops.gaussian`."""

import keras
import numpy as np
import pytest
import tensorflow_probability as tfp

from keras_rt.ops.gaussian import (
    check_scale_params_shape,
    clamp_log_var,
    fill_scale_tril,
    fill_triangular,
    latent_dim_for,
    num_scale_params,
)

tfb = tfp.bijectors


def test_fill_scale_tril_matches_tfp_fill_scale_tril():
    params = np.random.RandomState(0).randn(4, num_scale_params(3)).astype("float32")
    expected = tfb.FillScaleTriL(diag_bijector=tfb.Softplus(), diag_shift=1e-3).forward(params)
    np.testing.assert_allclose(fill_scale_tril(params, 1e-3), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("d", [1, 2, 4])
def test_fill_triangular_is_tfp_fill_triangular(d):
    """The `keras.ops` layout is TFP's exactly (copies, no arithmetic), also with batch axes."""
    params = np.random.RandomState(d).randn(2, 3, num_scale_params(d)).astype("float32")
    np.testing.assert_array_equal(fill_triangular(params), tfp.math.fill_triangular(params))
    with pytest.raises(ValueError, match=r"d \* \(d \+ 1\) / 2 entries"):
        fill_triangular(np.zeros((2, 5), "float32"))


def test_clamp_log_var_keeps_nan_and_inf():
    values = np.array([-50.0, 0.5, 50.0, np.nan, np.inf], "float32")
    out = keras.ops.convert_to_numpy(clamp_log_var(values, (-20.0, 20.0)))
    np.testing.assert_array_equal(out[:3], [-20.0, 0.5, 20.0])
    assert np.isnan(out[3]) and np.isinf(out[4])
    assert clamp_log_var(values, None) is values


def test_scale_param_counts():
    assert [num_scale_params(d) for d in (1, 2, 3, 4)] == [1, 3, 6, 10]
    assert [latent_dim_for(p) for p in (1, 3, 6, 10, 7)] == [1, 2, 3, 4, None]
    check_scale_params_shape((None, 4), (None, 10))
    with pytest.raises(ValueError, match=r"d=3 needs 6"):
        check_scale_params_shape((None, 3), (None, 5))
