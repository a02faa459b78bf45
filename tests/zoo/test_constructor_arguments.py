"""The constructor is the config: every zoo model's hyperparameters round-trip, presets are checked."""

import keras
import numpy as np
import pytest

from keras_rt.cli.choices import zoo_model_names
from keras_rt.zoo import IWAE, MLPVAE, ZOO, get_zoo_entry, register_model
from keras_rt.zoo.constructor_arguments import KERAS_ARGUMENTS, constructor_arguments
from tests.zoo.tiny import TINY

# A value other than the default for each hyperparameter that a tiny model can take.
CHANGED = {
    "likelihood": "gaussian",
    "beta": 0.5,
    "free_bits": 0.25,
    "warmup": "cyclical",
    "warmup_epochs": 2.0,
    "num_cycles": 2,
    "num_classes": 5,
    "temperature": 2.0,
    "min_temperature": 0.25,
    "anneal_rate": 0.01,
    "hard": True,
    "num_score_samples": 3,
}


def _input_shape(entry):
    return (64,) if entry.flat_input else (8, 8, 1)


@pytest.mark.parametrize("name", sorted(ZOO))
def test_every_constructor_argument_round_trips(name):
    entry = get_zoo_entry(name)
    values = {**TINY[name], **{k: v for k, v in CHANGED.items() if k in entry.hyperparameters()}}
    values["estimator"] = entry.estimators[-1]  # not the default
    if name == "cvae":
        values["num_classes"] = 10
    model = entry.build(values, input_shape=_input_shape(entry), seed=3)
    config = model.get_config()
    arguments = constructor_arguments(entry.model_cls)
    assert set(config) == set(arguments) | set(KERAS_ARGUMENTS)
    for key, value in values.items():
        expected = list(value) if isinstance(value, tuple) else value
        assert config[key] == expected, key
    assert config["seed"] == 3 and config["input_shape"] == list(_input_shape(entry))
    rebuilt = entry.model_cls.from_config(config)
    assert rebuilt.get_config() == config
    assert [w.shape for w in rebuilt.weights] == [w.shape for w in model.weights]


def test_defaults_are_in_the_config():
    config = MLPVAE(input_shape=(64,), hidden_units=(8,)).get_config()
    assert (
        config["beta"] == 1.0 and config["free_bits"] == 0.0 and config["likelihood"] == "bernoulli"
    )


def test_dtype_round_trips_and_sets_the_layers_policy():
    model = MLPVAE(input_shape=(64,), hidden_units=(8,), dtype="mixed_bfloat16")
    assert keras.mixed_precision.global_policy().name == "float32"
    config = model.get_config()
    assert config["dtype"] == "mixed_bfloat16"
    rebuilt = MLPVAE.from_config(config)
    dense = rebuilt.get_layer("encoder").get_layer("encoder_body").get_layer("dense_0")
    assert dense.compute_dtype == "bfloat16"
    x = np.full((2, 64), 0.5, "float32")
    assert rebuilt.predict(x, verbose=0).dtype == np.float32


def test_a_subclass_refuses_a_base_argument_it_does_not_declare():
    with pytest.raises(
        ValueError, match=r"IWAE does not take \['free_bits'\]. Valid arguments: \["
    ):
        IWAE(free_bits=1.0)


def test_presets_are_checked_against_the_constructor():
    with pytest.raises(ValueError, match=r"Unknown preset 'digits' keys.*\['depth'\].*Valid keys"):
        register_model("bad_preset_vae", MLPVAE, presets={"digits": {"depth": 3}})
    assert "bad_preset_vae" not in ZOO
    with pytest.raises(ValueError, match="already registered"):
        register_model("mlp_vae", MLPVAE)


def test_registry_facts_are_class_attributes():
    for name, entry in ZOO.items():
        assert entry.description == entry.model_cls.description != "", name
        assert entry.flat_input == entry.model_cls.flat_input
        assert entry.needs_labels == entry.model_cls.needs_labels
    assert get_zoo_entry("cvae").needs_labels and not get_zoo_entry("conv_vae").flat_input


def test_hyperparameters_are_the_whole_constructor_chain_less_the_run_arguments():
    assert get_zoo_entry("mlp_vae").hyperparameters() == {
        "latent_dim": 2,
        "likelihood": "bernoulli",
        "beta": 1.0,
        "free_bits": 0.0,
        "estimator": "pathwise",
        "hidden_units": (256, 128),
    }
    beta_vae = get_zoo_entry("beta_vae").hyperparameters()
    assert beta_vae["beta"] == 4.0 and beta_vae["latent_dim"] == 8  # its own defaults win
    assert "free_bits" in beta_vae and "warmup" in beta_vae
    iwae = get_zoo_entry("iwae").hyperparameters()
    assert "beta" not in iwae and "free_bits" not in iwae and iwae["num_samples"] == 10


def test_a_misspelled_argument_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"MLPVAE does not take \['hiden_units'\].*'hidden_units'"):
        MLPVAE(hiden_units=(8,))


def test_model_names_from_folders_are_the_registry():
    assert zoo_model_names() == sorted(ZOO)
