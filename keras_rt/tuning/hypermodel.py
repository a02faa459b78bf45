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
    with Adam (the loss is built into zoo models), in the precision and with
    the XLA compilation that `train` would choose for that model on this
    machine (`keras_rt.performance.plan`; `plan` holds the last build's
    choice). `fit` runs `model.fit` —
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
        mixed_precision: "auto", "off", "mixed_float16" or "mixed_bfloat16",
            as `TrainConfig.mixed_precision`.
        jit_compile: "auto", "on" or "off", as `TrainConfig.jit_compile`.
        run_examples: examples each trial trains on (epochs x training
            examples): the plan weighs whole-step XLA's compile time by it
            (None: steady-state speed only).
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
        mixed_precision: str = "auto",
        jit_compile: str = "auto",
        run_examples: int | None = None,
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
        self.mixed_precision = mixed_precision
        self.jit_compile = jit_compile
        self.run_examples = run_examples
        self.plan: Any = None  # the TrainingPlan of the last model built
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
        """Builds and compiles the zoo model for explicit config overrides, as the plan says.

        The model is built first in float32 (or the forced policy), its
        multiply-adds weighed against this machine's probe, and built again
        under the plan's 16-bit policy when `mixed_precision="auto"` picks
        one; the global dtype policy is restored afterwards (the layers keep
        theirs).
        """
        import tensorflow as tf

        from keras_rt.distribute import POLICIES
        from keras_rt.distribute.precision import dtype_policy
        from keras_rt.performance import (
            load_or_probe,
            macs_by_kind,
            plan_training,
            weighted_layers,
        )
        from keras_rt.training.run import resolve_jit_compile

        config = self.entry.config_for(self.dataset, overrides)
        first = "off" if self.mixed_precision == "auto" else self.mixed_precision
        with dtype_policy(POLICIES[first]):
            model = self._build_model(config)
        self.plan = plan_training(
            macs_by_kind(model),
            load_or_probe(),
            mixed_precision=self.mixed_precision,
            jit_compile=self.jit_compile,
            examples=self.run_examples,
            layers=weighted_layers(model),
        )
        with dtype_policy(POLICIES[self.plan.mixed_precision]):
            if self.plan.mixed_precision != first:
                model = self._build_model(config)
            jit = resolve_jit_compile(self.jit_compile, self.plan, tf.distribute.get_strategy())
            model.compile(optimizer=keras.optimizers.Adam(learning_rate), jit_compile=jit)
            # Built now, so that a trial's checkpoint (weights and optimizer
            # state) loads into the model without a mismatch warning.
            model.optimizer.build(model.trainable_variables)
        return model

    def _build_model(self, config: dict[str, Any]) -> keras.Model:
        """The zoo model for a full constructor config, from the seed."""
        if self.seed is not None:
            keras.utils.set_random_seed(self.seed)
        return self.entry.build(config, input_shape=self.input_shape, seed=self.seed)

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
