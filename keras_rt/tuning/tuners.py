"""The tuners by name: KerasTuner's own grid, random, Bayesian and Hyperband searches."""

from __future__ import annotations

from collections.abc import Callable

import keras_tuner

from keras_rt.tuning.grid_oracle import ResumableGridSearchOracle


def _grid(hypermodel, *, max_trials, epochs, hyperband_factor, objective, seed, **common):
    # `keras_tuner.GridSearch` is `Tuner` + `GridSearchOracle`; this oracle also resumes.
    oracle = ResumableGridSearchOracle(objective=objective, max_trials=max_trials, seed=seed)
    return keras_tuner.Tuner(oracle=oracle, hypermodel=hypermodel, **common)


def _random(hypermodel, *, max_trials, epochs, hyperband_factor, **common):
    return keras_tuner.RandomSearch(hypermodel, max_trials=max_trials, **common)


def _bayesian(hypermodel, *, max_trials, epochs, hyperband_factor, **common):
    return keras_tuner.BayesianOptimization(hypermodel, max_trials=max_trials, **common)


def _hyperband(hypermodel, *, max_trials, epochs, hyperband_factor, **common):
    tuner = keras_tuner.Hyperband(hypermodel, max_epochs=epochs, factor=hyperband_factor, **common)
    # Hyperband sizes its brackets from max_epochs; the base Oracle's
    # `max_trials` check still caps the trial count when one is asked for.
    tuner.oracle.max_trials = max_trials
    return tuner


TUNERS: dict[str, Callable] = {
    "grid": _grid,
    "random": _random,
    "bayesian": _bayesian,
    "hyperband": _hyperband,
}

DESCRIPTIONS: dict[str, str] = {
    "grid": "every combination, in order (KerasTuner's grid oracle)",
    "random": "random combinations, no repeats (keras_tuner.RandomSearch)",
    "bayesian": "Gaussian-process Bayesian optimization (keras_tuner.BayesianOptimization)",
    "hyperband": "successive halving of epochs (keras_tuner.Hyperband; --epochs is max_epochs)",
}


def make_tuner(
    name: str,
    hypermodel: keras_tuner.HyperModel,
    *,
    objective: keras_tuner.Objective,
    max_trials: int | None,
    epochs: int,
    seed: int,
    directory: str,
    project_name: str,
    overwrite: bool = False,
    hyperband_factor: int = 3,
    executions_per_trial: int = 1,
) -> keras_tuner.Tuner:
    """Makes the tuner registered as `name`; an existing project in `directory/project_name` is reloaded.

    Unknown names list the valid ones.
    """
    if name not in TUNERS:
        raise ValueError(f"Unknown tuner. Received: tuner={name!r}. Valid tuners: {sorted(TUNERS)}")
    return TUNERS[name](
        hypermodel,
        max_trials=max_trials,
        epochs=epochs,
        hyperband_factor=hyperband_factor,
        objective=objective,
        # KerasTuner's oracles take seed 0 for "unset" (and draw a random one).
        seed=seed + 1,
        directory=directory,
        project_name=project_name,
        overwrite=overwrite,
        executions_per_trial=executions_per_trial,
    )
