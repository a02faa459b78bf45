"""The layer bases: what `BaseSampler` and `BaseKL` hold for every sampler and KL layer."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_rt.callbacks import KLWarmup
from keras_rt.layers import (
    BaseKL,
    BaseSampler,
    CategoricalKL,
    GaussianKL,
    GumbelSoftmaxSampling,
    MultivariateNormalTriLSampling,
    Sampling,
)

# get_config keys written by release 0.1.0: they must stay loadable.
OLD_CONFIG_KEYS = {
    Sampling: {"seed", "num_samples", "inference", "log_var_range"},
    MultivariateNormalTriLSampling: {"seed", "num_samples", "inference", "diag_shift"},
    GumbelSoftmaxSampling: {"temperature", "hard", "seed", "inference"},
    GaussianKL: {"weight", "free_bits", "covariance", "diag_shift", "metric_name"},
    CategoricalKL: {"weight", "metric_name"},
}
# keys added since 0.1.0; their defaults reproduce 0.1.0 when a config lacks them.
NEW_CONFIG_KEYS = {
    Sampling: {"noise"},
    MultivariateNormalTriLSampling: {"noise"},
    GaussianKL: {"estimator"},
}


@pytest.mark.parametrize("cls", [Sampling, MultivariateNormalTriLSampling, GumbelSoftmaxSampling])
def test_samplers_subclass_base_sampler(cls):
    assert issubclass(cls, BaseSampler)
    layer = cls(seed=3)
    assert isinstance(layer.seed_generator, keras.random.SeedGenerator)
    assert layer.INFERENCE_MODES[0] == "sample"


@pytest.mark.parametrize("cls", [GaussianKL, CategoricalKL])
def test_kl_layers_subclass_base_kl(cls):
    assert issubclass(cls, BaseKL)
    layer = cls(weight=0.25)
    assert float(layer.kl_weight.numpy()) == 0.25


@pytest.mark.parametrize("cls", sorted(OLD_CONFIG_KEYS, key=lambda c: c.__name__))
def test_config_keys_are_those_of_release_0_1_0(cls):
    layer = cls()
    base_keys = set(keras.layers.Layer(name="x").get_config())
    new_keys = NEW_CONFIG_KEYS.get(cls, set())
    assert set(layer.get_config()) - base_keys == OLD_CONFIG_KEYS[cls] | new_keys
    restored = cls.from_config(layer.get_config())
    assert restored.get_config() == layer.get_config()


def test_old_configs_deserialize():
    old = [
        (
            "Sampling",
            {
                "name": "s",
                "seed": 1,
                "num_samples": 2,
                "inference": "mean",
                "log_var_range": [-10.0, 10.0],
            },
        ),
        (
            "MultivariateNormalTriLSampling",
            {
                "name": "m",
                "seed": None,
                "num_samples": None,
                "inference": "sample",
                "diag_shift": 1e-5,
            },
        ),
        (
            "GumbelSoftmaxSampling",
            {"name": "g", "temperature": 0.5, "hard": True, "seed": 0, "inference": "mode"},
        ),
        (
            "GaussianKL",
            {
                "name": "k",
                "weight": 1.0,
                "free_bits": 0.0,
                "covariance": "full",
                "diag_shift": 1e-5,
                "metric_name": "kl",
            },
        ),
        ("CategoricalKL", {"name": "c", "weight": 0.5, "metric_name": None}),
    ]
    for class_name, config in old:
        layer = keras.saving.deserialize_keras_object(
            {"module": None, "class_name": f"keras_rt>{class_name}", "config": config}
        )
        assert type(layer).__name__ == class_name
        if isinstance(layer, (Sampling, MultivariateNormalTriLSampling)):
            assert layer.noise == "normal"


def test_only_the_gaussian_samplers_offer_a_noise_choice():
    for cls in (Sampling, MultivariateNormalTriLSampling):
        assert cls.NOISE_TYPES == ("normal", "antithetic", "qmc")
    assert GumbelSoftmaxSampling.NOISE_TYPES == ("normal",)
    assert "noise" not in GumbelSoftmaxSampling(seed=0).get_config()
    with pytest.raises(ValueError, match=r"`noise` must be one of \['normal'\]"):
        GumbelSoftmaxSampling(noise="qmc")


def test_sample_axis_and_output_shape():
    layer = Sampling(seed=0, num_samples=3)
    z = layer([np.zeros((2, 4), "float32"), np.zeros((2, 4), "float32")])
    assert tuple(z.shape) == (2, 3, 4) == layer.compute_output_shape([(2, 4), (2, 4)])
    assert layer.sample_shape((None, 4)) == (None, 3, 4)
    assert Sampling().sample_shape((None, 4)) == (None, 4)
    with pytest.raises(ValueError, match="`num_samples` must be an integer >= 1 or None"):
        MultivariateNormalTriLSampling(num_samples=0)


class _ZeroNoise:
    """Mixin that replaces the standard-normal draw: the samplers then return the mean."""

    def standard_normal(self, shape):
        return ops.zeros(shape, dtype=self.compute_dtype)


@pytest.mark.parametrize("num_samples", [None, 2])
def test_standard_normal_is_the_one_place_gaussian_noise_is_drawn(num_samples):
    mean = np.random.RandomState(0).randn(2, 3).astype("float32")

    class ZeroSampling(_ZeroNoise, Sampling):
        pass

    class ZeroTriL(_ZeroNoise, MultivariateNormalTriLSampling):
        pass

    expected = mean if num_samples is None else np.repeat(mean[:, None], num_samples, 1)
    z = ZeroSampling(num_samples=num_samples)([mean, np.ones((2, 3), "float32")], training=True)
    np.testing.assert_allclose(z, expected)
    z = ZeroTriL(num_samples=num_samples)([mean, np.ones((2, 6), "float32")], training=True)
    np.testing.assert_allclose(z, expected, atol=1e-6)


def test_inference_mode_dispatch():
    mean = np.ones((2, 3), "float32")
    layer = Sampling(seed=0, inference="mean", num_samples=2)
    np.testing.assert_array_equal(layer([mean, mean], training=False), np.ones((2, 2, 3)))
    assert not np.allclose(layer([mean, mean], training=True), 1.0)
    with pytest.raises(ValueError, match=r"`inference` must be one of \['sample', 'mean'\]"):
        Sampling(inference="mode")


class SquareKL(BaseKL):
    """A custom KL layer: `0.5 * sum(x**2)` (the KL of N(x, 1) to N(0, 1))."""

    def kl_per_example(self, inputs):
        return ops.sum(0.5 * ops.square(ops.cast(inputs, "float32")), axis=-1)


def test_base_kl_adds_weighted_loss_and_tracks_the_metric():
    layer = SquareKL(weight=0.5, metric_name="square_kl")
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(layer(x), x)
    assert float(layer.losses[0]) == pytest.approx(0.75)
    assert float(layer.kl_tracker.result()) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="`weight` must be a number >= 0"):
        SquareKL(weight=-1.0)
    with pytest.raises(NotImplementedError, match="free bits"):
        SquareKL(free_bits=0.1)(x)


def test_kl_warmup_drives_a_custom_base_kl_subclass():
    x = keras.Input((3,))
    h = SquareKL(weight=1.0)(keras.layers.Dense(2)(x))
    model = keras.Model(x, keras.layers.Dense(1)(h))
    model.compile("sgd", "mse")
    kl_layer = next(layer for layer in model.layers if isinstance(layer, SquareKL))
    history = model.fit(
        np.ones((16, 3), "float32"),
        np.zeros((16, 1), "float32"),
        batch_size=8,
        epochs=2,
        verbose=0,
        callbacks=[KLWarmup("linear", warmup_epochs=4)],
    )
    # 2 steps per epoch, warm-up over 8 steps; set before each batch: last batch is step 3.
    assert history.history["kl_weight"] == pytest.approx([0.125, 0.375])
    assert float(kl_layer.kl_weight.numpy()) == pytest.approx(0.375)
