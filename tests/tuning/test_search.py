"""Tiny real searches: results, plot, export, resume, objectives, tuners."""

import json
import os

import keras
import pytest

from keras_rt.tuning import run_search


@pytest.mark.slow
def test_grid_covers_every_latent_size_and_exports_the_best(quick_config, tmp_path):
    config = quick_config(latent_dims=[2, 4, 8], export_best=str(tmp_path / "sm"))
    result = run_search(config)
    results = json.load(open(result.results_path))
    assert results["objective"] == "val_neg_elbo" and results["direction"] == "min"
    assert [t["latent_dim"] for t in results["trials"]] == [2, 4, 8]
    for trial in results["trials"]:
        assert (
            isinstance(trial["value"], float) and trial["value"] == trial["metrics"]["val_neg_elbo"]
        )
        assert trial["epochs"] == 1 and trial["seconds"] > 0
    best = results["best"]
    assert best["value"] == min(t["value"] for t in results["trials"])
    assert os.path.getsize(result.plot_path) > 1000
    assert result.table.splitlines()[0].split() == [
        "trial",
        "latent_dim",
        "val_neg_elbo",
        "epochs",
        "seconds",
    ]
    assert f"latent_dim={best['latent_dim']}" in result.table
    # The best model is the best trial's checkpoint, exported with the shared export function.
    assert result.export_path == str(tmp_path / "sm" / "mlp_vae" / "1")
    assert os.path.isfile(os.path.join(result.export_path, "saved_model.pb"))
    exported = json.load(open(os.path.join(result.export_path, "assets.extra", "config.json")))
    assert exported["model_config"]["latent_dim"] == best["latent_dim"]
    assert (
        exported["tuning"]["weights"] == "checkpoint"
        and results["export_path"] == result.export_path
    )
    saved = json.load(open(os.path.join(config.search_dir, "config.json")))
    assert saved["tune_config"]["latent_dims"] == [2, 4, 8]

    # A finished search run again trains nothing and exports nothing new.
    rerun = run_search(config)
    assert rerun.trials_fitted == 0 and rerun.export_path == result.export_path
    assert sorted(os.listdir(tmp_path / "sm" / "mlp_vae")) == ["1"]

    # Without the trial's checkpoint (a worker on another machine trained it),
    # the best hyperparameters are trained again; the export is the next version.
    os.remove(
        os.path.join(
            config.search_dir, "search", f"trial_{best['trial_id']}", "checkpoint.weights.h5"
        )
    )
    again = run_search(config)
    assert again.trials_fitted == 0 and again.export_path.endswith(os.path.join("mlp_vae", "2"))
    exported = json.load(open(os.path.join(again.export_path, "assets.extra", "config.json")))
    assert exported["tuning"]["weights"] == "retrained"
    assert exported["model_config"]["latent_dim"] == best["latent_dim"]


class Interrupted(BaseException):
    """Stands in for a kill: not an `Exception`, so KerasTuner does not catch it."""


class InterruptAt(keras.callbacks.Callback):
    """Interrupts the n-th `fit` of the process (KerasTuner deep-copies callbacks per trial)."""

    fits = 0

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_train_begin(self, logs=None):
        type(self).fits += 1
        if type(self).fits == self.at:
            raise Interrupted()


@pytest.mark.slow
def test_resume_keeps_finished_trials_and_overwrite_starts_fresh(quick_config):
    # Two of three grid points, then the same search again: only the third runs.
    first = run_search(quick_config(latent_dims=[2, 4, 8], max_trials=2))
    assert first.trials_fitted == 2 and len(first.results["trials"]) == 2
    values = {t["trial_id"]: t["value"] for t in first.results["trials"]}
    resumed = run_search(quick_config(latent_dims=[2, 4, 8]))
    assert resumed.trials_fitted == 1
    assert [t["latent_dim"] for t in resumed.results["trials"]] == [2, 4, 8]
    assert {t["trial_id"]: t["value"] for t in resumed.results["trials"][:2]} == values

    # Started fresh (--overwrite), killed in the middle of the second trial:
    # the rerun redoes that one and runs the third.
    with pytest.raises(Interrupted):
        run_search(quick_config(latent_dims=[2, 4, 8], overwrite=True), callbacks=[InterruptAt(2)])
    rerun = run_search(quick_config(latent_dims=[2, 4, 8]))
    assert rerun.trials_fitted == 2
    assert sorted(t["latent_dim"] for t in rerun.results["trials"]) == [2, 4, 8]
    assert rerun.results["failed"] == []
    # Each trial starts from the seed (weights, noise, data order), so the
    # values do not depend on which trials ran before it in the process.
    by_dim = lambda result: {t["latent_dim"]: t["value"] for t in result.results["trials"]}  # noqa: E731
    assert by_dim(rerun) == pytest.approx(by_dim(resumed), rel=1e-5)

    finished = run_search(quick_config(latent_dims=[2, 4, 8]))
    assert finished.trials_fitted == 0 and len(finished.results["trials"]) == 3

    with pytest.raises(ValueError, match="latent_dims differ.*--overwrite"):
        run_search(quick_config(latent_dims=[2, 4]))


def test_iwae_objective_and_extra_dimensions(quick_config):
    config = quick_config(
        latent_dims=[2, 4],
        tuner="random",
        max_trials=2,
        objective="iwae",
        iwae_samples=8,
        iwae_max_examples=32,
        search={"beta": [0.5, 1.0], "hidden_units": [[16], [8, 8]], "learning_rate": [1e-3, 3e-3]},
    )
    result = run_search(config)
    results = result.results
    assert results["objective"] == "val_iwae_nll" and len(results["trials"]) == 2
    for trial in results["trials"]:
        assert trial["value"] == trial["metrics"]["val_iwae_nll"] > 0
        hp = trial["hyperparameters"]
        assert hp["beta"] in (0.5, 1.0) and hp["hidden_units"] in ([16], [8, 8])
        assert hp["learning_rate"] in (1e-3, 3e-3)
    assert "beta" in result.table.splitlines()[0] and "hidden_units" in result.table.splitlines()[0]


@pytest.mark.parametrize("tuner", ["bayesian", "hyperband"])
def test_other_tuners(quick_config, tuner):
    result = run_search(quick_config(latent_dims=[2, 4], tuner=tuner, max_trials=2, epochs=2))
    assert 1 <= len(result.results["trials"]) <= 2 and result.results["best"] is not None
    assert result.results["tuner"] == tuner


def test_a_bad_dimension_value_fails_before_training(quick_config):
    config = quick_config(latent_dims=[2], search={"likelihood": ["bernoulli", "poisson"]})
    with pytest.raises(ValueError, match="poisson"):
        run_search(config)
    assert not os.path.exists(config.search_dir)


def test_conditional_model_gets_label_inputs(quick_config):
    result = run_search(quick_config(model="cvae", latent_dims=[2], model_config={}))
    assert [t["latent_dim"] for t in result.results["trials"]] == [2] and result.results[
        "failed"
    ] == []
