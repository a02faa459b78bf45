"""Settings, objectives and search spaces: checked before anything runs (no training here)."""

import keras_tuner
import pytest

from keras_rt.tuning import (
    OBJECTIVES,
    TUNERS,
    SearchSpace,
    TuneConfig,
    get_objective,
    parse_latent_dims,
    tuner_role,
)
from keras_rt.tuning.search import default_max_trials, search_space_for


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2,4,8,16,32", [2, 4, 8, 16, 32]),
        (" 8, 2 ,8", [8, 2]),
        ([4, 2], [4, 2]),
        ("16", [16]),
        (3, [3]),
    ],
)
def test_parse_latent_dims(value, expected):
    assert parse_latent_dims(value) == expected


@pytest.mark.parametrize(
    "value", ["", " , ", [], "a,b", "2,x", "2.5", "0,2", "-4", [2, True], None]
)
def test_bad_latent_dims(value):
    with pytest.raises(ValueError, match="latent_dims"):
        parse_latent_dims(value)


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"tuner": "annealing"}, "`tuner` must be one of"),
        ({"objective": "val_accuracy"}, "Valid objectives"),
        ({"max_trials": 0}, "max_trials"),
        ({"epochs": 0}, "epochs"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"hyperband_factor": 1}, "hyperband_factor"),
        ({"model_config": {"latent_dim": 4}}, "latent_dims"),
        ({"data_dir": "/no/such/dir"}, "/no/such/dir"),
    ],
)
def test_bad_settings(overrides, message):
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        TuneConfig.from_dict(overrides).validate()


def test_unknown_config_key_lists_valid_ones():
    with pytest.raises(ValueError, match="Valid keys"):
        TuneConfig.from_dict({"latent_dim": 4})


def test_objectives_are_keras_tuner_objectives_with_a_direction():
    assert {"val_neg_elbo", "val_iwae_nll"} <= set(OBJECTIVES)
    for name, objective in OBJECTIVES.items():
        assert isinstance(objective, keras_tuner.Objective) and objective.name == name
        assert objective.direction == "min"
    assert get_objective("iwae").name == "val_iwae_nll"
    assert TuneConfig(objective="neg_elbo").validate().objective == "val_neg_elbo"
    assert set(TUNERS) == {"grid", "random", "bayesian", "hyperband"}


def test_search_space_choices_ranges_and_grid_size():
    space = SearchSpace.from_dict(
        {
            "beta": [0.5, 1, 2.0],
            "hidden_units": [[32, 16], [64, 32]],
            "free_bits": {"min": 0.0, "max": 1.0, "step": 0.5},
        },
        valid_keys={"beta", "hidden_units", "free_bits"},
    )
    assert space.names == ["beta", "hidden_units", "free_bits"]
    assert space.grid_size == 3 * 2 * 3
    hp = keras_tuner.HyperParameters()
    values = space.declare(hp)
    assert values == {"beta": 0.5, "hidden_units": (32, 16), "free_bits": 0.0}
    assert hp.values["hidden_units"] == "32,16"  # KerasTuner choices hold scalars
    assert space.decode({"hidden_units": "64,32", "latent_dim": 4}) == {
        "hidden_units": [64, 32],
        "latent_dim": 4,
    }
    log_range = SearchSpace.from_dict(
        {"lr": {"min": 1e-4, "max": 1e-2, "sampling": "log"}}, valid_keys={"lr"}
    )
    assert log_range.grid_size is None


@pytest.mark.parametrize(
    "search,message",
    [
        ({"latent_dim": [2, 4]}, "latent_dims"),
        ({"width": [2, 4]}, "Valid dimensions"),
        ({"beta": []}, "non-empty list"),
        ({"beta": 1.0}, "model_config"),
        ({"beta": [1.0, "a"]}, "same type"),
        ({"beta": {"min": 2.0, "max": 1.0}}, "min < max"),
        ({"beta": {"min": 0.0, "max": 1.0, "sampling": "log"}}, "min > 0"),
        ({"beta": {"low": 0.0}}, "range with keys"),
    ],
)
def test_bad_search_spaces(search, message):
    with pytest.raises(ValueError, match=message):
        SearchSpace.from_dict(search, valid_keys={"beta", "learning_rate"})


def test_space_from_config_knows_the_model_fields_and_grid_needs_discrete_values():
    config = TuneConfig(search={"beta": [0.5, 1.0], "learning_rate": [1e-3, 3e-3]}).validate()
    space = search_space_for(config)
    assert default_max_trials(config, space) == 5 * 2 * 2
    with pytest.raises(ValueError, match="Valid dimensions.*hidden_units"):
        search_space_for(TuneConfig(search={"filters": [[4, 8]]}).validate())
    with pytest.raises(ValueError, match="Grid search needs discrete"):
        search_space_for(
            TuneConfig(search={"learning_rate": {"min": 1e-4, "max": 1e-2}}).validate()
        )
    continuous = TuneConfig(
        tuner="random", search={"learning_rate": {"min": 1e-4, "max": 1e-2}}
    ).validate()
    assert default_max_trials(continuous, search_space_for(continuous)) == 10
    assert default_max_trials(TuneConfig(tuner="hyperband").validate(), SearchSpace()) is None


def test_tuner_role_reads_keras_tuner_variables():
    assert tuner_role({}) == "local"
    env = {"KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": "8000"}
    assert tuner_role({**env, "KERASTUNER_TUNER_ID": "chief"}) == "chief"
    assert tuner_role({**env, "KERASTUNER_TUNER_ID": "tuner1"}) == "worker"
    with pytest.raises(ValueError, match="KERASTUNER_TUNER_ID"):
        tuner_role(env)
    with pytest.raises(ValueError, match="port"):
        tuner_role({**env, "KERASTUNER_TUNER_ID": "chief", "KERASTUNER_ORACLE_PORT": "http"})


def test_resume_compares_only_settings_that_change_the_search():
    config = TuneConfig(latent_dims="2,4").validate()
    saved = config.to_dict()
    assert (
        TuneConfig(latent_dims=[2, 4], max_trials=7, verbose=0).validate().differences(saved) == []
    )
    assert TuneConfig(latent_dims=[2, 4, 8]).validate().differences(saved) == ["latent_dims"]
