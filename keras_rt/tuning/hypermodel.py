"""`ZooHyperModel`: a `keras_tuner.HyperModel` that builds and fits a zoo VAE."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import keras
import keras_tuner

from keras_rt.tuning.space import SearchSpace


class ZooHyperModel(keras_tuner.HyperModel):
    """Builds a zoo model with `hp.Choice("latent_dim", latent_dims)` and the extra dimensions.

    `build(hp)` makes the model from the zoo entry's config for the dataset
    (preset, then `model_config`, then this trial's values) and compiles it
    with Adam (the loss is built into zoo models). `fit` runs `model.fit` —
    adding `ValidationIWAE` when the objective is `val_iwae_nll`, and the
    model's own `training_callbacks()` (KL warm-up, annealing) — and
    returns the objective's best epoch's metrics together with `epochs` (the
    epochs the model has trained), `best_epoch` and `seconds` (wall-clock
    time of this trial's `fit`), so every trial's cost reaches the oracle,
    also from a distributed worker.

    Args:
        model: zoo model name.
        dataset: dataset name (picks the model's preset).
        input_shape: shape of one example as the model receives it.
        latent_dims: the latent sizes to search.
        space: extra search dimensions (`SearchSpace`).
        model_config: fixed overrides of the model's config.
        learning_rate: Adam learning rate unless `"learning_rate"` is searched.
        objective: the `keras_tuner.Objective` (picks the best epoch).
        iwae: `None`, or the keyword arguments of `ValidationIWAE` (with
            `validation_data`) when the objective is the IWAE-k bound.
        seed: set as the global seed before each model is built; also the
            seed of the model's noise.
        train_factory: `None`, or a callable returning a fresh training
            `tf.data.Dataset`, used instead of the dataset given to `search`.
            A pipeline's shuffling and binarization continue from one `fit`
            to the next; a fresh one per trial (with `seed`) makes a trial's
            result independent of the trials run before it in the process,
            so a resumed or distributed search trains the same models as an
            uninterrupted one.
        name, tunable: as in `keras_tuner.HyperModel`.

    Example:

    >>> import keras_tuner
    >>> from keras_rt.tuning.objectives import get_objective
    >>> hypermodel = ZooHyperModel("mlp_vae", "digits", input_shape=(64,), latent_dims=[2, 4])
    >>> tuner = keras_tuner.GridSearch(
    ...     hypermodel, objective=get_objective("val_neg_elbo"), directory="runs/grid")
    >>> [(hp.name, hp.values) for hp in tuner.oracle.get_space().space]
    [('latent_dim', [2, 4])]
    """

    def __init__(
        self,
        model: str,
        dataset: str,
        *,
        input_shape: Sequence[int],
        latent_dims: Sequence[int],
        space: SearchSpace | None = None,
        model_config: dict[str, Any] | None = None,
        learning_rate: float = 1e-3,
        objective: keras_tuner.Objective | None = None,
        iwae: dict[str, Any] | None = None,
        seed: int | None = None,
        train_factory: Callable[[], Any] | None = None,
        name: str | None = None,
        tunable: bool = True,
    ):
        from keras_rt.tuning.objectives import get_objective
        from keras_rt.zoo import get_zoo_entry

        super().__init__(name=name, tunable=tunable)
        self.entry = get_zoo_entry(model)
        self.dataset = dataset
        self.input_shape = tuple(input_shape)
        self.latent_dims = [int(d) for d in latent_dims]
        self.space = space or SearchSpace()
        self.model_config = dict(model_config or {})
        self.learning_rate = learning_rate
        self.objective = objective or get_objective("val_neg_elbo")
        self.iwae = iwae
        self.seed = seed
        self.train_factory = train_factory
        self.trials_fitted = 0  # models fitted by this process (a worker's share)

    def model_values(self, hp) -> tuple[dict[str, Any], float]:
        """Declares the hyperparameters on `hp`; returns `(model config overrides, learning rate)`."""
        overrides = dict(self.model_config)
        overrides["latent_dim"] = hp.Choice("latent_dim", self.latent_dims)
        values = self.space.declare(hp)
        learning_rate = values.pop("learning_rate", self.learning_rate)
        overrides.update(values)
        return overrides, learning_rate

    def build_from_values(self, overrides: dict[str, Any], learning_rate: float) -> keras.Model:
        """Builds and compiles the zoo model for explicit config overrides."""
        if self.seed is not None:
            keras.utils.set_random_seed(self.seed)
        config = self.entry.config_for(self.dataset, overrides)
        model = self.entry.build(config, input_shape=self.input_shape, seed=self.seed)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate))
        # Built now, so that a trial's checkpoint (weights and optimizer
        # state) loads into the model without a mismatch warning.
        model.optimizer.build(model.trainable_variables)
        return model

    def build(self, hp) -> keras.Model:
        overrides, learning_rate = self.model_values(hp)
        return self.build_from_values(overrides, learning_rate)

    def fit(self, hp, model, *args, callbacks=None, **kwargs) -> dict[str, float]:
        callbacks = list(callbacks or [])
        if self.iwae is not None:
            from keras_rt.tuning.iwae_metric import ValidationIWAE

            # First, so that the checkpoint and History callbacks see the value.
            callbacks.insert(0, ValidationIWAE(**self.iwae))
        # The model's own schedule (KL warm-up, temperature annealing), as in training.
        callbacks += (
            list(model.training_callbacks()) if hasattr(model, "training_callbacks") else []
        )
        if self.train_factory is not None:
            if args:
                args = (self.train_factory(),) + tuple(args[1:])
            else:
                kwargs["x"] = self.train_factory()
        start = time.perf_counter()
        history = model.fit(*args, callbacks=callbacks, **kwargs)
        seconds = time.perf_counter() - start
        self.trials_fitted += 1
        return trial_metrics(history, self.objective, seconds=seconds)


def trial_metrics(history, objective: keras_tuner.Objective, *, seconds: float) -> dict[str, float]:
    """The objective's best epoch's logs plus `epochs`, `best_epoch` (1-based) and `seconds`.

    A run whose objective is never finite reports it as NaN, which KerasTuner
    records as a failed trial.
    """
    logs = history.history
    epochs = list(history.epoch)
    values = logs.get(objective.name, [])
    best = None
    for i, value in enumerate(values):
        if value is None or not math.isfinite(value):
            continue
        if best is None or objective.better_than(value, values[best]):
            best = i
    metrics = {
        name: float(series[best])
        for name, series in logs.items()
        if best is not None and len(series) > best
    }
    metrics.setdefault(objective.name, float("nan"))
    metrics["epochs"] = float(epochs[-1] + 1 if epochs else 0)
    metrics["best_epoch"] = float(epochs[best] + 1 if best is not None else 0)
    metrics["seconds"] = float(seconds)
    return metrics
