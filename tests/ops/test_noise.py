"""Standard-normal noise of `keras_rt.ops.noise`: exact N(0, 1) marginals, pairing, Sobol nets."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy.stats import norm

from keras_rt.ops.noise import (
    MAX_SOBOL_DIM,
    NOISE_TYPES,
    antithetic_normal,
    sobol_direction_numbers,
    sobol_normal,
    standard_normal_noise,
)
from tests.stats import frequency_tolerance, mean_tolerance, std_tolerance

R = 4000  # independent randomizations (point sets / pair sets)


def test_direction_numbers_have_the_sobol_structure():
    numbers = sobol_direction_numbers(40)
    assert numbers.shape == (29, 40) and numbers.dtype == np.int32
    for b, row in enumerate(numbers):
        low = 30 - b  # V_b = m_b * 2^(30 - b) with m_b odd
        assert np.all((row >> low) & 1 == 1) and np.all(row & ((1 << low) - 1) == 0)
    np.testing.assert_array_equal(numbers[:, 0], [2 ** (30 - b) for b in range(29)])
    assert not numbers.flags.writeable
    sobol_direction_numbers(MAX_SOBOL_DIM)  # the largest supported dimension
    with pytest.raises(ValueError, match="dim"):
        sobol_direction_numbers(MAX_SOBOL_DIM + 1)


def _uniform(eps):
    return norm.cdf(np.asarray(eps, "float64"))


def _one_per_slice(values, atol=1e-6):
    """Whether the sorted `values` put exactly one in each slice [k/n, (k+1)/n] (up to atol)."""
    k = np.arange(len(values)) / len(values)
    values = np.sort(values)
    return bool(np.all(values >= k - atol) and np.all(values <= k + 1 / len(values) + atol))


@pytest.mark.parametrize("axis", [0, 1])
def test_sobol_points_are_a_net_in_every_coordinate_and_pair(axis):
    """The first 2^m points put one point in each 1/2^m slice of every coordinate.

    Dimensions 0 and 1 also form a (0, m, 2)-net: each 1/16 slice of dimension 0
    holds 16 points, one in each 1/16 slice of dimension 1. (The float32 noise
    may put a point within ~1e-7 of a slice's edge on the wrong side: atol.)
    """
    n, d = 256, 4
    shape = (n, d) if axis == 0 else (3, n, d)
    u = _uniform(sobol_normal(shape, seed=5, axis=axis)).reshape(-1, n, d)
    for group in u:
        assert all(_one_per_slice(group[:, j]) for j in range(d))
        by_first = group[np.argsort(group[:, 0])]
        assert all(_one_per_slice(block[:, 1]) for block in by_first.reshape(16, 16, d))


@pytest.mark.parametrize("noise", ["antithetic", "qmc"])
@pytest.mark.parametrize("index", [0, 1, 6, 7])
def test_exact_standard_normal_marginals(noise, index):
    """Point `index` of R independent sets is an i.i.d. N(0, 1) sample."""
    eps = standard_normal_noise(noise, (R, 8, 3), keras.random.SeedGenerator(0), axis=1)
    x = np.asarray(eps)[:, index].reshape(-1)  # R * 3 independent draws
    n = x.size
    assert abs(x.mean()) < mean_tolerance(1.0, n)
    assert abs(x.std() - 1.0) < std_tolerance(1.0, n)
    for q in (-2.0, -1.0, 0.0, 0.5, 1.5):
        p = norm.cdf(q)
        assert abs(np.mean(x < q) - p) < frequency_tolerance(p, n), q


def test_qmc_tails_are_symmetric_and_finite():
    eps = np.asarray(sobol_normal((R, 64, 2), seed=3, axis=1))
    assert np.all(np.isfinite(eps))
    p = norm.cdf(-3.0)
    n = eps.size
    assert abs(np.mean(eps < -3.0) - p) < frequency_tolerance(p, n)
    assert abs(np.mean(eps > 3.0) - p) < frequency_tolerance(p, n)


@pytest.mark.parametrize("n", [6, 5])
def test_antithetic_pairs_along_the_axis(n):
    eps = np.asarray(antithetic_normal((n, 2), seed=1))
    half = (n + 1) // 2
    np.testing.assert_array_equal(eps[half:], -eps[: n - half])
    eps = np.asarray(antithetic_normal((2, n, 3), seed=1, axis=1))
    np.testing.assert_array_equal(eps[:, half:], -eps[:, : n - half])


def test_seed_generator_gives_fresh_noise_and_int_seed_repeats():
    generator = keras.random.SeedGenerator(0)
    for noise in NOISE_TYPES:
        a = standard_normal_noise(noise, (8, 2), generator)
        b = standard_normal_noise(noise, (8, 2), generator)
        assert not np.allclose(a, b), noise
        np.testing.assert_array_equal(
            standard_normal_noise(noise, (8, 2), 7), standard_normal_noise(noise, (8, 2), 7)
        )


@pytest.mark.parametrize("noise", NOISE_TYPES)
def test_unknown_batch_in_a_graph_and_under_xla(noise):
    generator = keras.random.SeedGenerator(0)

    def draw(x):
        return standard_normal_noise(noise, keras.ops.shape(x), generator, axis=0)

    graph = tf.function(draw, input_signature=[tf.TensorSpec((None, 3, 2))])
    assert graph(tf.zeros((7, 3, 2))).shape == (7, 3, 2)
    compiled = tf.function(draw, jit_compile=True)
    a, b = compiled(tf.zeros((7, 3, 2))), compiled(tf.zeros((7, 3, 2)))
    assert a.shape == (7, 3, 2) and not np.allclose(a, b)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_dtypes(dtype):
    for noise in NOISE_TYPES:
        eps = standard_normal_noise(noise, (4, 2), 0, dtype=dtype)
        assert keras.backend.standardize_dtype(eps.dtype) == dtype


def test_bad_arguments():
    with pytest.raises(
        ValueError, match=r"`noise` must be one of \['normal', 'antithetic', 'qmc'\]"
    ):
        standard_normal_noise("sobol", (2, 2))
    with pytest.raises(ValueError, match=rf"at most {MAX_SOBOL_DIM}.*noise='qmc' with 21201"):
        sobol_normal((2, MAX_SOBOL_DIM + 1))
    with pytest.raises(ValueError, match="axis"):
        sobol_normal((2, 3), axis=2)
