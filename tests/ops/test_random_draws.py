"""`keras_rt.ops.random_draws`: `keras.random`'s numbers outside XLA, the same law under XLA."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_rt.ops.random_draws import random_int32, random_normal, random_uniform
from tests.stats import mean_tolerance, std_tolerance

N = 20_000


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_outside_xla_the_numbers_are_keras_randoms(dtype):
    np.testing.assert_array_equal(
        random_normal((3, 5), dtype=dtype, seed=7), keras.random.normal((3, 5), dtype=dtype, seed=7)
    )
    ours, theirs = keras.random.SeedGenerator(3), keras.random.SeedGenerator(3)
    for _ in range(2):  # the generator's state advances the same way
        np.testing.assert_array_equal(
            random_uniform((4,), minval=-2.0, maxval=3.0, dtype=dtype, seed=ours),
            keras.random.uniform((4,), minval=-2.0, maxval=3.0, dtype=dtype, seed=theirs),
        )


def test_outside_xla_the_integers_are_keras_randints():
    ours, theirs = keras.random.SeedGenerator(5), keras.random.SeedGenerator(5)
    for _ in range(2):
        np.testing.assert_array_equal(
            random_int32((3, 2), minval=0, maxval=2**31 - 1, seed=ours),
            keras.random.randint((3, 2), 0, 2**31 - 1, dtype="int32", seed=theirs),
        )


def test_inside_a_graph_the_numbers_are_keras_randoms():
    shape = tf.constant([2, 3])
    draw = tf.function(lambda: (random_normal(shape, seed=5), keras.random.normal(shape, seed=5)))
    ours, theirs = draw()
    np.testing.assert_array_equal(ours, theirs)


def test_under_xla_the_draws_have_their_law_and_are_fresh_each_call():
    generator = keras.random.SeedGenerator(11)

    @tf.function(jit_compile=True)
    def draw():
        return (
            random_normal((N,), seed=generator),
            random_uniform((N,), minval=-1.0, maxval=3.0, seed=generator),
            random_int32((N,), minval=-3, maxval=5, seed=generator),
        )

    normal, uniform, integers = (x.numpy() for x in draw())
    assert abs(normal.mean()) < mean_tolerance(1.0, N)
    assert abs(normal.std() - 1.0) < std_tolerance(1.0, N)
    assert uniform.min() >= -1.0 and uniform.max() < 3.0
    assert abs(uniform.mean() - 1.0) < mean_tolerance(4.0 / np.sqrt(12.0), N)
    assert integers.dtype == np.int32 and set(np.unique(integers)) == set(range(-3, 5))
    again, _, _ = draw()
    assert not np.array_equal(normal, again.numpy())


def test_a_bad_seed_is_named():
    with pytest.raises(ValueError, match="seed"):
        random_normal((2,), seed="seven")
    with pytest.raises(ValueError, match="seed"):
        random_uniform((2,), seed=1.5)
