"""`run_search`: the tuning job — KerasTuner search, `results.json`, plot, best-model export.

Size: about 320 lines: `run_search` checks everything before it writes, and those
checks live next to it, since they read the same settings in the same order.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from typing import Any

import keras

from keras_rt.tuning.config import TuneConfig

PROJECT_NAME = "search"  # KerasTuner's project folder inside the search folder
RESULTS_FILE = "results.json"
PLOT_FILE = "objective_vs_latent_dim.png"
CONFIG_FILE = "config.json"
DEFAULT_CONTINUOUS_TRIALS = 10


@dataclasses.dataclass
class SearchResult:
    """What a search produced (in this process).

    Attributes:
        search_dir: the search folder.
        role: `"local"`, `"chief"` or `"worker"` (KerasTuner's distributed mode).
        results: what `results.json` holds (None on a worker).
        table: the trials table (None on a worker).
        results_path, plot_path: files written (None on a worker).
        export_path: the best model's SavedModel version folder (None if not exported).
        trials_fitted: trials this process trained during the search (not
            counting a retrained best model).
        tuner: the KerasTuner tuner.
    """

    search_dir: str
    role: str
    results: dict[str, Any] | None
    table: str | None
    results_path: str | None
    plot_path: str | None
    export_path: str | None
    trials_fitted: int
    tuner: Any


def search_space_for(config: TuneConfig):
    """The `SearchSpace` of `config.search`, checked against the model's config fields."""
    from keras_rt.tuning.space import SearchSpace
    from keras_rt.zoo import get_zoo_entry

    entry = get_zoo_entry(config.model)
    valid = set(entry.hyperparameters()) - {"latent_dim"} | {"learning_rate"}
    space = SearchSpace.from_dict(config.search, valid_keys=valid)
    if config.tuner == "grid":
        continuous = [d.name for d in space.dimensions if d.size is None]
        if continuous:
            raise ValueError(
                f"Grid search needs discrete dimensions; give a list of values or a 'step' for: {continuous}"
            )
    return space


def default_max_trials(config: TuneConfig, space) -> int | None:
    """`config.max_trials`, else the number of grid points (10 with a continuous dimension).

    Hyperband: None (its brackets set the number) unless `max_trials` is given.
    """
    if config.max_trials is not None:
        return config.max_trials
    if config.tuner == "hyperband":
        return None
    if space.grid_size is None:
        return DEFAULT_CONTINUOUS_TRIALS
    return len(config.latent_dims) * space.grid_size


def check_resumable(config: TuneConfig) -> bool:
    """Whether the search folder holds an earlier search to resume (raises if its settings differ)."""
    path = os.path.join(config.search_dir, CONFIG_FILE)
    if config.overwrite or not os.path.isfile(path):
        return False
    try:
        with open(path) as f:
            saved = json.load(f).get("tune_config", {})
    except (json.JSONDecodeError, AttributeError):
        raise ValueError(
            f"{path!r} is not a search config; pass --overwrite to start fresh."
        ) from None
    changed = config.differences(saved)
    if changed:
        raise ValueError(
            f"{config.search_dir!r} holds a search with other settings ({', '.join(changed)} differ); "
            "rerun with the same settings to resume it, pass --overwrite to start fresh, "
            "or choose another --output-dir."
        )
    return os.path.isdir(os.path.join(config.search_dir, PROJECT_NAME))


def _check_builds(hypermodel, space):
    """Builds the model at every dimension's first value, then one for each value of each extra
    dimension (others at their first value); returns the first one's `TrainingPlan`."""
    import keras_tuner

    hypermodel.build_from_values(*hypermodel.model_values(keras_tuner.HyperParameters()))
    plan = hypermodel.plan
    for dimension in space.dimensions:
        for value in dimension.check_values():
            hp = keras_tuner.HyperParameters()
            overrides, learning_rate = hypermodel.model_values(hp)
            if dimension.name == "learning_rate":
                learning_rate = value
            else:
                overrides[dimension.name] = value
            hypermodel.build_from_values(overrides, learning_rate)
    keras.backend.clear_session()
    return plan


def run_search(
    config: TuneConfig,
    *,
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> SearchResult:
    """Searches latent sizes (and the config's extra dimensions) with KerasTuner.

    Everything that can be checked (names, values, the model for every
    value of every extra dimension, the data, a resumed folder's settings)
    is checked before a file is written or a model trained. Writes into the
    search folder: `config.json`, KerasTuner's project `search/` (oracle,
    one folder per trial with its best checkpoint), `results.json` and
    `objective_vs_latent_dim.png`; with `export_best`, the best trial's
    model as a SavedModel under `export_best/<export_name or model>/<version>/`
    (not again when identical to the newest version, and refused if its
    signatures differ from it: see `export_model`).

    Re-running with the same settings and folder resumes: finished trials
    are kept and an interrupted one is run again (KerasTuner reloads its
    oracle); `overwrite=True` starts fresh. With the `KERASTUNER_*`
    variables set, this process is the chief (serves the oracle, then
    writes the results) or a worker (trains trials; writes no results).

    Args:
        config: the search's settings.
        callbacks: extra Keras callbacks for every trial's `fit` (deep-copied
            per trial by KerasTuner).

    Returns:
        A `SearchResult`.

    Example:

    Three trials (about half a minute on a CPU):

    >>> config = TuneConfig(model="mlp_vae", dataset="digits", latent_dims=[2, 4, 8], epochs=5)
    >>> result = run_search(config)  # doctest: +SKIP
    >>> result.results["best"]["latent_dim"]  # doctest: +SKIP
    """
    from keras_rt.performance import load_or_probe
    from keras_rt.training.data import load_splits
    from keras_rt.training.environment import package_versions
    from keras_rt.training.run import write_json
    from keras_rt.tuning.distributed import tuner_role
    from keras_rt.tuning.hypermodel import ZooHyperModel
    from keras_rt.tuning.objectives import IWAE_OBJECTIVES, get_objective
    from keras_rt.tuning.results import collect_results, format_table
    from keras_rt.tuning.tuners import make_tuner
    from keras_rt.zoo import get_zoo_entry

    config.validate()
    role = tuner_role()
    entry = get_zoo_entry(config.model)
    entry.config_for(config.dataset, config.model_overrides())  # unknown keys fail here
    space = search_space_for(config)
    max_trials = default_max_trials(config, space)
    overwrite = config.overwrite and role != "worker"  # only the chief may delete the project
    resuming = check_resumable(config) if role != "worker" else False
    # The files are read once (the datasets keep them in memory); each trial
    # gets a fresh train pipeline so its shuffling starts from the seed.
    load = functools.partial(load_splits, config, entry)
    splits = load()
    objective = get_objective(config.objective)
    iwae = None
    if objective.name in IWAE_OBJECTIVES:
        iwae = {
            "validation_data": splits.validation,
            "num_samples": config.iwae_samples,
            "max_examples": config.iwae_max_examples,
            "seed": config.seed,
            "name": objective.name,
        }
    hypermodel = ZooHyperModel(
        config.model,
        config.dataset,
        input_shape=splits.input_shape,
        latent_dims=config.latent_dims,
        space=space,
        model_config=config.model_overrides(),
        learning_rate=config.learning_rate,
        objective=objective,
        iwae=iwae,
        seed=config.seed,
        mixed_precision=config.mixed_precision,
        jit_compile=config.jit_compile,
        run_examples=config.epochs * splits.num_examples["train"],
        train_factory=lambda: load().train,
    )
    plan = _check_builds(hypermodel, space)
    if role != "worker":
        for warning in plan.warnings:
            print(f"Warning: {warning}")
    if config.export_best and role != "worker":
        from keras_rt.export import check_writable

        check_writable(
            os.path.join(config.export_best, config.export_name_for()), what="export folder"
        )

    search_dir = config.search_dir
    os.makedirs(search_dir, exist_ok=True)
    if role != "worker":
        if overwrite:
            for name in (RESULTS_FILE, PLOT_FILE):
                if os.path.exists(os.path.join(search_dir, name)):
                    os.remove(os.path.join(search_dir, name))
        write_json(
            os.path.join(search_dir, CONFIG_FILE),
            {
                "tune_config": config.to_dict(),
                "versions": package_versions(),
                # What the first grid point's model trains with on this machine (each
                # trial plans its own model the same way; workers on their machines).
                "performance": {"machine": load_or_probe()["machine"], "plan": plan.to_dict()},
            },
        )
        if resuming and config.verbose:
            print(
                f"Resuming the search in {search_dir} (finished trials are kept; --overwrite starts fresh)"
            )
    tuner = make_tuner(
        config.tuner,
        hypermodel,
        objective=objective,
        max_trials=max_trials,
        epochs=config.epochs,
        seed=config.seed,
        directory=search_dir,
        project_name=PROJECT_NAME,
        overwrite=overwrite,
        hyperband_factor=config.hyperband_factor,
        executions_per_trial=config.executions_per_trial,
    )
    from keras_rt.callbacks import StepProgbarLogger
    from keras_rt.training.run import resolve_verbose

    tuner.search(
        splits.train,
        validation_data=splits.validation,
        epochs=config.epochs,
        callbacks=[keras.callbacks.TerminateOnNaN(), StepProgbarLogger()] + list(callbacks or []),
        verbose=resolve_verbose(config.verbose),
        shuffle=False,  # the tf.data pipeline already shuffles
    )
    trials_fitted = hypermodel.trials_fitted
    if role == "worker":
        return SearchResult(search_dir, role, None, None, None, None, None, trials_fitted, tuner)

    results = collect_results(
        tuner.oracle,
        space=space,
        extra={
            "model": config.model,
            "dataset": config.dataset,
            "tuner": config.tuner,
            "latent_dims": config.latent_dims,
            "search": config.search,
            "max_trials": max_trials,
            "epochs": config.epochs,
            "seed": config.seed,
        },
    )
    # The results are saved before the export, which may be refused (a signature change).
    results["export_path"] = None
    results_path = os.path.join(search_dir, RESULTS_FILE)
    write_json(results_path, results)
    from keras_rt.tuning.plots import plot_objective_vs_latent_dim

    plot_path = plot_objective_vs_latent_dim(
        results,
        os.path.join(search_dir, PLOT_FILE),
        title=f"{config.model} on {config.dataset}: {objective.name} by latent size",
    )
    export_path = None
    if config.export_best and results["best"] is not None:
        export_path = export_best_model(tuner, hypermodel, splits, config, results)
        results["export_path"] = export_path
        write_json(results_path, results)
    table = format_table(results, space_names=space.names)
    return SearchResult(
        search_dir, role, results, table, results_path, plot_path, export_path, trials_fitted, tuner
    )


def export_best_model(
    tuner, hypermodel, splits, config: TuneConfig, results: dict[str, Any]
) -> str:
    """Exports the best trial's model (its best-epoch checkpoint, else retrained) as a SavedModel.

    The checkpoint is missing when a worker on another machine trained the
    trial; the best hyperparameters are then trained again for `epochs`.

    Returns:
        The SavedModel version folder (`export_best/<name>/<version>/`).
    """
    from keras_rt.export import export_model
    from keras_rt.training.run import resolve_verbose

    assert config.export_best is not None, "export_best_model needs config.export_best"
    best_trial = tuner.oracle.get_best_trials(1)[0]
    try:
        model = tuner.load_model(best_trial)
        source = "checkpoint"
    except (OSError, FileNotFoundError, ValueError):
        hp = best_trial.hyperparameters
        model = hypermodel.build(hp)
        hypermodel.fit(
            hp,
            model,
            splits.train,
            validation_data=splits.validation,
            epochs=config.epochs,
            verbose=resolve_verbose(config.verbose),
        )
        source = "retrained"
    best = results["best"]
    export_config = {
        "model": config.model,
        "dataset": config.dataset,
        "model_config": model.get_config(),
        "tuning": {
            "objective": results["objective"],
            "direction": results["direction"],
            "value": best["value"],
            "trial_id": best["trial_id"],
            "hyperparameters": best["hyperparameters"],
            "weights": source,
        },
        "tune_config": config.to_dict(),
    }
    return export_model(
        model,
        config.export_best,
        config.export_name_for(),
        config=export_config,
        allow_signature_change=config.allow_signature_change,
    )
