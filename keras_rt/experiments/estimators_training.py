"""The estimator shoot-out: does a lower-variance gradient estimator buy a better model, or the same one sooner?

Each (model, estimator) pair of the zoo is trained with `keras_rt.training.train`
on the same data and seed under two budgets:

- **equal epochs**: every estimator of a model trains for `epochs` epochs;
- **equal wall-clock**: every estimator of a model trains for the training
  time its default estimator (its first: `pathwise`, `gumbel_softmax`) took
  for those epochs, so a slower estimator takes fewer steps and a faster one
  more. Time is the training steps' own (`StepClock`: not evaluation, not
  the SNR measurement, not the first epoch's compilation, which do not
  depend on how fast the estimator trains): each estimator's steady speed
  is measured in its equal-epoch run, and its equal-time run takes the steps
  that fit in the default's time at that speed. On a machine whose speed
  drifts this is steadier than stopping on a live clock. The default's own
  run is shared by both budgets.

Per run it reports the test negative ELBO on the whole test set, the IWAE-k
negative log-likelihood bound on the first `iwae_examples` test images and its
paired difference (same images, standard error of the per-image difference)
against the model's default estimator, the steps taken, seconds per epoch
(training steps only, at the steady speed of its equal-epoch run), and the encoder's
gradient SNR at the end (`--log-gradient-snr`'s measurement).

Example:

>>> report = run_shootout(pairs=[("mlp_vae", "pathwise"), ("mlp_vae", "stl")],  # doctest: +SKIP
...                       dataset="fashion_mnist", epochs=3)
>>> print(format_shootout(report))  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from keras_rt.training.environment import cpu_description

BUDGETS = ("epochs", "wall_clock")


class StepClock(keras.callbacks.Callback):
    """Times the training steps of `fit` (not evaluation or callbacks); can stop after `max_steps`.

    Each call of the training function (one step, or `steps_per_execution`
    steps) is timed. The speed leaves out the first epoch's calls when there
    is more than one epoch (they hold the compilation, and a retrace for a
    smaller last batch), else the first call only.

    Args:
        max_steps: stop once this many optimizer steps were taken in this
            `fit` (>= 1), or None for no limit.

    Attributes:
        steps: optimizer steps taken in this `fit` (set when it ends).
        seconds_per_step: steady-state training time per step (None before
            any call was timed).
    """

    def __init__(self, max_steps: int | None = None):
        super().__init__()
        if max_steps is not None and not (isinstance(max_steps, int) and max_steps >= 1):
            raise ValueError(f"max_steps must be an integer >= 1 or None; Received: {max_steps!r}")
        self.max_steps = max_steps
        self.steps = 0
        self._calls: list[tuple[int, float, int]] = []  # (epoch, seconds, steps) per call
        self._first_step = self._call_step = self._epoch = 0
        self._call_start = 0.0

    def _iterations(self) -> int:
        return int(self.model.optimizer.iterations)

    def on_train_begin(self, logs=None):
        self._first_step = self._iterations()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        self._call_step = self._iterations()
        self._call_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        seconds = time.perf_counter() - self._call_start
        step = self._iterations()
        self._calls.append((self._epoch, seconds, step - self._call_step))
        if self.max_steps is not None and step - self._first_step >= self.max_steps:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.steps = self._iterations() - self._first_step

    @property
    def seconds_per_step(self) -> float | None:
        if len({epoch for epoch, _, _ in self._calls}) > 1:
            steady = [c for c in self._calls if c[0] != self._calls[0][0]]
        else:
            steady = self._calls[1:] or self._calls  # one call: it is all there is
        steps = sum(c[2] for c in steady)
        return sum(c[1] for c in steady) / steps if steps else None


def all_pairs(models: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """Every (model, estimator) the zoo accepts, the model's default estimator first.

    Example:

    >>> all_pairs(["iwae"])
    [('iwae', 'pathwise'), ('iwae', 'dreg'), ('iwae', 'stl')]
    """
    from keras_rt.experiments.zoo_results import check_names
    from keras_rt.zoo import ZOO

    return [(m, e) for m in check_names(models, ZOO, "models") for e in ZOO[m].estimators]


def _check_pairs(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """`{model: [default estimator, others...]}`; a named error for an unknown pair."""
    from keras_rt.zoo import get_zoo_entry

    by_model: dict[str, list[str]] = {}
    for model, estimator in pairs:
        entry = get_zoo_entry(model)  # names the valid models
        if estimator not in entry.estimators:
            raise ValueError(
                f"{model} does not accept estimator={estimator!r}. "
                f"Valid estimators: {list(entry.estimators)}"
            )
        by_model.setdefault(model, [])
        if estimator not in by_model[model]:
            by_model[model].append(estimator)
    for model, estimators in by_model.items():
        default = get_zoo_entry(model).estimators[0]
        by_model[model] = [default] + [e for e in estimators if e != default]
    if not by_model:
        raise ValueError("no (model, estimator) pairs to train")
    return by_model


def _train_one(model, estimator, budget, *, epochs, max_steps, settings) -> dict[str, Any]:
    from keras_rt.training.config import TrainConfig
    from keras_rt.training.run import train

    config = TrainConfig(
        model=model,
        dataset=settings["dataset"],
        epochs=epochs,
        batch_size=settings["batch_size"],
        binarized=settings["dataset"] != "digits",
        seed=settings["seed"],
        data_dir=settings["data_dir"],
        max_examples=settings["max_examples"],
        output_dir=os.path.join(settings["output_dir"], f"{model}-{estimator}-{budget}"),
        export_dir=None,
        plots=False,
        tensorboard=False,
        iwae_samples=0,  # scored below, paired against the default on the same images
        estimator=estimator,
        model_config=settings["model_config"].get(model, {}),
        log_gradient_snr=True,
        jit_compile=settings["jit_compile"],
        verbose=0,
    )
    clock = StepClock(max_steps)
    result = train(config, callbacks=[clock])
    seconds_per_step = clock.seconds_per_step or 0.0
    epochs_run = len(result.history.get("loss", []))
    return {
        "model": model,
        "estimator": estimator,
        "budget": budget,
        "epochs": epochs_run,
        "steps": clock.steps,
        "train_seconds": round(clock.steps * seconds_per_step, 2),
        "seconds_per_step": seconds_per_step,
        "seconds_per_epoch": seconds_per_step * clock.steps / max(epochs_run, 1),
        "test_neg_elbo": result.metrics["test"]["neg_elbo"],
        "encoder_snr": result.metrics["training"].get("encoder_grad_snr"),
        "_model": result.model,
    }


def _iwae_bounds(model, x, num_samples: int, seed: int) -> np.ndarray:
    """Per-image IWAE-k bounds, the same seeds for every model (chunks of 50 images)."""
    import tensorflow as tf

    from keras_rt.evaluation.iwae import importance_weighted_log_likelihood

    first = x["x"] if isinstance(x, dict) else x
    values = []
    for start in range(0, len(first), 50):
        chunk = tf.nest.map_structure(lambda t, s=start: t[s : s + 50], x)
        values.append(
            importance_weighted_log_likelihood(
                model, chunk, num_samples=num_samples, seed=seed * 100003 + start
            ).numpy()
        )
    return np.concatenate(values)


def _test_inputs(model_name: str, settings: dict[str, Any], model) -> Any:
    from keras_rt.datasets import load_dataset
    from keras_rt.training.plots import model_inputs
    from keras_rt.zoo import get_zoo_entry

    splits = load_dataset(
        settings["dataset"],
        binarized=settings["dataset"] != "digits",
        flatten=get_zoo_entry(model_name).flat_input,
        seed=settings["seed"],
        data_dir=settings["data_dir"],
    )
    x, y = splits.test_arrays()
    n = settings["iwae_examples"]
    return model_inputs(model, np.asarray(x[:n], "float32"), y[:n])


def run_shootout(
    *,
    pairs: Sequence[tuple[str, str]] | None = None,
    dataset: str = "fashion_mnist",
    epochs: int = 2,
    batch_size: int = 128,
    iwae_samples: int = 100,
    iwae_examples: int = 1000,
    max_examples: int | None = None,
    model_config: dict[str, dict[str, Any]] | None = None,
    seed: int = 0,
    data_dir: str | None = None,
    output_dir: str = "runs/estimators-training",
    jit_compile: str = "auto",
    echo: bool = True,
) -> dict[str, Any]:
    """Trains every pair under both budgets; returns the JSON-ready report.

    Args:
        pairs: `(model, estimator)` pairs (None: `all_pairs()`); each model's
            default estimator is added if missing, as the reference.
        dataset: data set name (Fashion-MNIST and MNIST are dynamically binarized).
        epochs: the epoch budget (>= 1).
        batch_size: examples per step.
        iwae_samples: k of the IWAE-k bound (>= 1).
        iwae_examples: test images scored with IWAE-k (>= 2).
        max_examples: cap per split (None: the whole data set), for quick runs.
        model_config: per model, constructor arguments over its preset.
        seed: the seed of every run and of the importance samples.
        data_dir: folder with the Fashion-MNIST / MNIST IDX files.
        output_dir: parent folder of the run folders (`<model>-<estimator>-<budget>`).
        jit_compile: XLA compilation of every run's whole step, `"auto"`, `"on"`
            or `"off"` (`TrainConfig.jit_compile`).
        echo: print each result as soon as it is measured.

    Returns:
        `{"dataset", "budget": {"epochs", "wall_clock_seconds": {model: s}},
        "cpu", "jit_compile", "iwae_k", "iwae_examples", "results": [{"model",
        "estimator", "budget", "epochs", "steps", "train_seconds",
        "seconds_per_step", "seconds_per_epoch",
        "test_neg_elbo", "test_iwae_nll", "iwae_nll_diff_vs_default",
        "diff_se", "encoder_snr"}]}`; the difference is the pair's NLL minus
        the default's (negative: better than the default).
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1; Received: epochs={epochs}")
    if iwae_samples < 1 or iwae_examples < 2:
        raise ValueError(
            "iwae_samples must be >= 1 and iwae_examples >= 2. "
            f"Received: iwae_samples={iwae_samples}, iwae_examples={iwae_examples}"
        )
    by_model = _check_pairs(all_pairs() if pairs is None else pairs)
    settings = {
        "dataset": dataset,
        "batch_size": batch_size,
        "seed": seed,
        "data_dir": data_dir,
        "max_examples": max_examples,
        "output_dir": output_dir,
        "jit_compile": jit_compile,
        "iwae_examples": iwae_examples,
        "model_config": dict(model_config or {}),
    }
    report: dict[str, Any] = {
        "dataset": dataset,
        "budget": {"epochs": epochs, "wall_clock_seconds": {}},
        "cpu": cpu_description(),
        "jit_compile": jit_compile,
        "iwae_k": iwae_samples,
        "iwae_examples": iwae_examples,
        "results": [],
    }
    if echo:
        print(
            "| model | estimator | budget | steps | s/epoch | test −ELBO | IWAE NLL "
            "| Δ NLL vs default ± s.e. | encoder SNR |",
            flush=True,
        )
    for model, estimators in by_model.items():
        default = _train_one(
            model, estimators[0], "epochs", epochs=epochs, max_steps=None, settings=settings
        )
        seconds = default["train_seconds"]
        report["budget"]["wall_clock_seconds"][model] = seconds
        runs = [default, {**default, "budget": "wall_clock"}]
        for estimator in estimators[1:]:
            by_epochs = _train_one(
                model, estimator, "epochs", epochs=epochs, max_steps=None, settings=settings
            )
            # The default's training time at this estimator's speed, in steps.
            speed = by_epochs["seconds_per_step"] or default["seconds_per_step"]
            steps = max(1, round(seconds / speed)) if speed else by_epochs["steps"]
            if steps == by_epochs["steps"]:
                by_time = {**by_epochs, "budget": "wall_clock"}
            else:
                steps_per_epoch = by_epochs["steps"] / by_epochs["epochs"]
                by_time = _train_one(
                    model,
                    estimator,
                    "wall_clock",
                    epochs=math.ceil(steps / steps_per_epoch),
                    max_steps=steps,
                    settings=settings,
                )
                # Its last epoch is cut short: its speed is the full epochs' speed.
                for key in ("seconds_per_step", "seconds_per_epoch"):
                    by_time[key] = by_epochs[key]
                by_time["train_seconds"] = round(by_time["steps"] * by_time["seconds_per_step"], 2)
            runs += [by_epochs, by_time]
        x = _test_inputs(model, settings, default["_model"])
        reference = _iwae_bounds(default["_model"], x, iwae_samples, seed)
        for run in runs:
            bounds = (
                reference
                if run["_model"] is default["_model"]
                else _iwae_bounds(run["_model"], x, iwae_samples, seed)
            )
            difference = reference - bounds  # per image: NLL of this run minus the default's
            run["test_iwae_nll"] = float(-bounds.mean())
            run["iwae_nll_diff_vs_default"] = float(difference.mean())
            run["diff_se"] = float(difference.std(ddof=1) / np.sqrt(len(difference)))
        for run in runs:
            run.pop("_model")
            report["results"].append(run)
            if echo:
                print(format_rows([run]), flush=True)
    return report


def format_rows(rows: list[dict[str, Any]]) -> str:
    """Result rows as Markdown table rows (no header)."""

    def number(value, spec):
        return "-" if value is None else format(value, spec)

    return "\n".join(
        f"| {r['model']} | {r['estimator']} | {r['budget']} | {r['steps']} "
        f"| {number(r['seconds_per_epoch'], '.1f')} | {r['test_neg_elbo']:.2f} "
        f"| {r['test_iwae_nll']:.2f} | {r['iwae_nll_diff_vs_default']:+.2f} ± {r['diff_se']:.2f} "
        f"| {number(r['encoder_snr'], '.3g')} |"
        for r in rows
    )


def format_shootout(report: dict[str, Any]) -> str:
    """The report as a Markdown table, one row per pair and both budgets side by side.

    Columns: seconds per epoch; at equal epochs the test −ELBO, the IWAE-k NLL,
    its paired difference from the model's default estimator and the final
    encoder SNR; at equal time the steps taken and the paired difference.
    """
    budget = report["budget"]
    seconds = ", ".join(f"{m} {s:.0f} s" for m, s in budget["wall_clock_seconds"].items())
    runs = {(r["model"], r["estimator"], r["budget"]): r for r in report["results"]}
    lines = [
        f"Estimator shoot-out on {report['dataset']}, CPU: {report['cpu']}",
        f"Budgets: {budget['epochs']} epochs, and equal training time: the default "
        f"estimator's training-step time for those epochs ({seconds}), each estimator "
        f"taking the steps that fit at its own speed. IWAE-{report['iwae_k']} NLL on "
        f"{report['iwae_examples']} test images; Δ = NLL minus the model's default "
        "estimator's, paired ± standard error (negative: better).",
        "",
        "| model | estimator | s/epoch | test −ELBO | IWAE NLL | Δ NLL, equal epochs "
        "| encoder SNR | steps in equal time | Δ NLL, equal time |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (model, estimator, kind), r in runs.items():
        if kind != "epochs":
            continue
        t = runs.get((model, estimator, "wall_clock"))
        snr = "-" if r["encoder_snr"] is None else f"{r['encoder_snr']:.3g}"
        lines.append(
            f"| {model} | {estimator} | {r['seconds_per_epoch']:.1f} | {r['test_neg_elbo']:.2f} "
            f"| {r['test_iwae_nll']:.2f} | {_difference(r)} | {snr} "
            f"| {'-' if t is None else t['steps']} | {'-' if t is None else _difference(t)} |"
        )
    return "\n".join(lines)


def _difference(r: dict[str, Any]) -> str:
    return f"{r['iwae_nll_diff_vs_default']:+.2f} ± {r['diff_se']:.2f}"


__all__ = ["BUDGETS", "StepClock", "all_pairs", "format_shootout", "run_shootout"]
