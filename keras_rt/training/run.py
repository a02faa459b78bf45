"""`train`: the main job — train a zoo model with `model.fit`, evaluate, plot, export."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import sys
import time
from typing import Any

import keras
import numpy as np

from keras_rt.training.config import TrainConfig
from keras_rt.training.data import load_splits, with_label_inputs
from keras_rt.training.evaluate import (
    check_finite_metrics,
    evaluate_splits,
    summary_table,
    test_iwae,
)
from keras_rt.training.run_callbacks import make_callbacks


@dataclasses.dataclass
class TrainResult:
    """What a run produced.

    Attributes:
        run_dir: the run folder.
        metrics: what `metrics.json` holds.
        plots: plot name -> PNG path.
        export_path: the SavedModel version folder (None if not exported).
        model: the trained model.
        history: `History.history` of this invocation's `fit`.
        already_complete: the run folder held a complete run, left as it was
            (`model` is then None; `metrics` and the paths are the saved ones).
    """

    run_dir: str
    metrics: dict[str, Any]
    plots: dict[str, str]
    export_path: str | None
    model: Any
    history: dict[str, list]
    already_complete: bool = False


def write_json(path: str, value: Any) -> None:
    """Writes JSON atomically (temporary file + rename)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(value, f, indent=2, sort_keys=False, default=str)
        f.write("\n")
    os.replace(tmp, path)


def prepare(config: TrainConfig):
    """Validates the config, loads the data and builds the model — before any file is written.

    Returns:
        `(entry, splits, model, model_config)`: `model_config` holds the
        constructor arguments set by the preset and the run.
    """
    from keras_rt.zoo import get_zoo_entry

    config.validate()
    entry = get_zoo_entry(config.model)
    model_config = entry.config_for(config.dataset, config.model_overrides())
    splits = load_splits(config, entry)
    model = entry.build(model_config, input_shape=splits.input_shape, seed=config.seed)
    return entry, splits, model, model_config


def train(
    config: TrainConfig, *, callbacks: list[keras.callbacks.Callback] | None = None
) -> TrainResult:
    """Trains, evaluates, plots and exports a zoo model as described by `config`.

    Everything that can be checked (names, sizes, data availability, model
    shapes, the export folder's writability and signatures) is checked before
    the run folder is created, so a bad setting leaves nothing on disk.

    Re-running with the same `output_dir` resumes an interrupted run — killed
    at any moment — from its newest readable backup (`CrashSafeBackup`),
    losing at most the epoch in progress; a complete run (its `metrics.json`,
    written last, exists) is left as it is unless `config.overwrite`.

    Args:
        config: the run's settings.
        callbacks: extra Keras callbacks, run after the built-in ones.

    Returns:
        A `TrainResult`.

    Example:

    >>> config = TrainConfig(model="mlp_vae", dataset="digits", epochs=5)
    >>> result = train(config)  # doctest: +SKIP
    >>> round(result.metrics["test"]["neg_elbo"], 1)  # doctest: +SKIP
    29.2
    """
    from keras_rt.distribute import make_strategy, set_mixed_precision, worker_info
    from keras_rt.training.run_folder import complete_run_message, run_folder_state

    config.validate()
    state = run_folder_state(config.run_dir)
    if state.status == "complete" and not config.overwrite:
        print(complete_run_message(config.run_dir, state, config.to_dict()))
        return completed_result(config.run_dir, state.metrics or {})
    strategy = make_strategy(config.strategy)  # before any other TensorFlow work
    info = worker_info(config.strategy)
    previous_policy = keras.mixed_precision.global_policy()
    # "auto" builds in float32 first: the plan weighs the model's op kinds (`plan_run`).
    set_mixed_precision("off" if config.mixed_precision == "auto" else config.mixed_precision)
    try:
        return _train(config, state, strategy, info, callbacks)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)


def completed_result(run_dir: str, metrics: dict[str, Any]) -> TrainResult:
    """The `TrainResult` of a run that a previous invocation completed (read from its files)."""
    plots_dir = os.path.join(run_dir, "plots")
    plots = {
        name[: -len(".png")]: os.path.join(plots_dir, name)
        for name in (sorted(os.listdir(plots_dir)) if os.path.isdir(plots_dir) else [])
        if name.endswith(".png")
    }
    export_path = (metrics.get("export") or {}).get("path")
    return TrainResult(run_dir, metrics, plots, export_path, None, {}, already_complete=True)


def resolve_verbose(verbose: Any) -> int:
    """Keras's verbosity for `fit`: "auto" is a progress bar on a terminal and one line per
    epoch otherwise (a log file gets no ANSI codes or carriage returns)."""
    if verbose != "auto":
        return int(verbose)
    return 1 if sys.stdout.isatty() else 2


def plan_run(
    config: TrainConfig, model, train_examples: int | None = None, request=None
) -> tuple[dict, Any]:
    """`(probe, plan)`: this machine's measurements and the precision/XLA plan for `model`.

    The probe is measured once per machine kind and cached
    (`keras_rt.performance.probe.load_or_probe`); the plan weighs it by the
    model's multiply-adds per op kind, and XLA's compile time by the run's
    length, `config.epochs` x `train_examples` (`keras_rt.performance.plan`).
    With a `request` (`step_timing_request`), the options the estimate puts
    close are settled by timing the model's own step
    (`keras_rt.performance.step_timing`).
    """
    from keras_rt.performance import load_or_probe, macs_by_kind, weighted_layers
    from keras_rt.performance.step_timing import plan_with_step_timing

    probe = load_or_probe()
    steps = (
        None
        if train_examples is None
        else config.epochs * math.ceil(train_examples / config.batch_size)
    )
    plan = plan_with_step_timing(
        macs_by_kind(model),
        probe,
        request,
        mixed_precision=config.mixed_precision,
        jit_compile=config.jit_compile,
        examples=None if train_examples is None else config.epochs * train_examples,
        layers=weighted_layers(model),
        steps=steps,
    )
    return probe, plan


def step_timing_request(config: TrainConfig, model_config: dict, splits, strategy):
    """What `plan_run` times: the run's model on a batch shaped like its data (None under
    several replicas or workers, where each would time, and might choose, apart)."""
    from keras_rt.performance.step_timing import StepTimingRequest, synthetic_batch

    if strategy.num_replicas_in_sync > 1 or strategy.extended._in_multi_worker_mode():
        return None
    return StepTimingRequest(
        model=config.model,
        model_config=model_config,
        input_shape=tuple(splits.input_shape),
        batch=synthetic_batch(splits.train.element_spec, config.batch_size),
        steps_per_execution=resolve_steps_per_execution(config.steps_per_execution, strategy),
    )


def resolve_jit_compile(choice: str, plan, strategy) -> bool | str:
    """XLA for this run: "on"/"off" as asked; "auto" is Keras's choice on GPUs and, on CPUs,
    the measured plan's (`plan.jit_compile`, see `keras_rt.performance.plan`) — off with
    several replicas, since XLA has no cross-replica collectives on CPUs. When the whole step
    is not compiled, the zoo XLA-compiles its element-wise parts
    (`keras_rt.distribute.partial_xla`).
    """
    import tensorflow as tf

    on_accelerator = bool(
        tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU")
    )
    several_replicas = (
        strategy.num_replicas_in_sync > 1 or strategy.extended._in_multi_worker_mode()
    )
    if choice == "on" and several_replicas and not on_accelerator:
        raise ValueError(
            "--jit-compile on cannot run with several replicas on CPUs (XLA has no cross-replica "
            "collectives there). Use --jit-compile auto or off."
        )
    if choice != "auto":
        return choice == "on"
    if on_accelerator:
        return "auto"
    return plan.jit_compile is True and not several_replicas


def resolve_steps_per_execution(steps: int, strategy) -> int:
    """`steps`, or 1 under a multi-worker strategy: Keras 3.15's multi-step loop fails there
    ("You must feed a value for placeholder tensor" inside the loop)."""
    return 1 if strategy.extended._in_multi_worker_mode() else steps


def probe_batch(splits, config: TrainConfig):
    """The fixed batch `--log-gradient-snr` measures on: the first validation batch (else None)."""
    if not config.log_gradient_snr:
        return None
    batch = next(iter(splits.validation))
    return batch[0] if isinstance(batch, tuple) and len(batch) == 1 else batch


def _distribute_options(splits, strategy):
    """Shards the tf.data pipelines per worker by data (the arrays are in memory)."""
    import tensorflow as tf

    if not strategy.extended._in_multi_worker_mode():
        return splits
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataclasses.replace(
        splits,
        **{
            name: getattr(splits, name).with_options(options)
            for name in ("train", "validation", "test")
        },
    )


def _train(config: TrainConfig, state, strategy, info, callbacks) -> TrainResult:
    from keras_rt.callbacks import CrashSafeBackup
    from keras_rt.distribute import set_mixed_precision
    from keras_rt.training.environment import package_versions
    from keras_rt.training.evaluate import posterior_collapse
    from keras_rt.training.plots import plot_all
    from keras_rt.training.run_folder import check_resumable, clear_run_folder

    keras.utils.set_random_seed(config.seed)
    with strategy.scope():
        entry, splits, model, model_config = prepare(config)
        request = step_timing_request(config, model_config, splits, strategy)
        probe, plan = plan_run(config, model, splits.num_examples["train"], request)
        if config.mixed_precision == "auto" and plan.mixed_precision != "off":
            set_mixed_precision(plan.mixed_precision)
            keras.utils.set_random_seed(config.seed)
            model = entry.build(model_config, input_shape=splits.input_shape, seed=config.seed)
        replicas = strategy.num_replicas_in_sync
        learning_rate = config.learning_rate * (replicas if config.scale_learning_rate else 1)
        jit = resolve_jit_compile(config.jit_compile, plan, strategy)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            jit_compile=jit,
            steps_per_execution=resolve_steps_per_execution(config.steps_per_execution, strategy),
        )
    splits = _distribute_options(splits, strategy)

    # Only the chief writes the run folder; other workers keep their checkpoints apart.
    run_dir = config.run_dir
    work_dir = (
        run_dir
        if info.is_chief
        else os.path.join(run_dir, "workers", f"{info.task_type}-{info.task_index}")
    )
    full_config = {
        "model": config.model,
        "dataset": config.dataset,
        "model_config": model.get_config(),
        "train_config": config.to_dict(),
        "replicas": replicas,
        "performance": {
            "machine": probe["machine"],
            "probe_cache": probe.get("cache"),
            "plan": plan.to_dict(),
            "jit_compile": jit,
        },
    }
    if not config.overwrite:
        check_resumable(run_dir, state, full_config)
    if config.export_dir and info.is_chief:
        _check_export_target(model, config, strategy)
    if config.overwrite and info.is_chief and state.status != "new":
        clear_run_folder(run_dir)
        state = dataclasses.replace(state, status="new")
    for warning in plan.warnings:
        print(f"Warning: {warning}")
    if state.status == "interrupted":
        print(f"Resuming the interrupted run in {run_dir} (--overwrite starts afresh).")
    os.makedirs(work_dir, exist_ok=True)
    if info.is_chief:
        write_json(os.path.join(run_dir, "config.json"), full_config)
        write_json(os.path.join(run_dir, "versions.json"), package_versions())
    if replicas > 1 or info.num_workers > 1:
        print(
            f"{config.strategy}: {replicas} replicas over {info.num_workers} worker(s); global batch "
            f"{config.batch_size} = {config.batch_size / replicas:g} per replica; "
            f"learning rate {learning_rate:g}"
        )

    start = time.perf_counter()
    run_callbacks = make_callbacks(config, work_dir, model, probe_batch(splits, config))
    history = model.fit(
        splits.train,
        validation_data=splits.validation,
        epochs=config.epochs,
        callbacks=run_callbacks + list(callbacks or []),
        verbose=resolve_verbose(config.verbose),
        shuffle=False,  # the tf.data pipeline already shuffles
    )
    train_time = time.perf_counter() - start
    losses = history.history.get("loss", [])
    if any(not math.isfinite(v) for v in losses):
        raise FloatingPointError(
            "Training diverged (the loss became NaN/inf); try a lower --learning-rate. "
            f"Partial logs are in {run_dir}."
        )

    for callback in run_callbacks:
        if isinstance(callback, CrashSafeBackup):  # a kill from here on does not train again
            callback.save_finished(config.epochs)

    metrics = evaluate_splits(model, splits, config, iwae=False)
    check_finite_metrics(metrics, run_dir)
    if config.iwae_samples and info.is_chief:
        metrics["test"].update(test_iwae(model, splits, config))
    epochs_run = len(losses)
    metrics["training"] = {
        "epochs_this_invocation": epochs_run,
        "seconds": round(train_time, 2),
        "examples_per_second": round(epochs_run * splits.num_examples["train"] / train_time, 1)
        if epochs_run and train_time > 0
        else None,
        "strategy": config.strategy,
        "replicas": replicas,
        "mixed_precision": keras.mixed_precision.global_policy().name,
        "jit_compile": model.jit_compile,
        **{k: v[-1] for k, v in history.history.items() if "grad_" in k and v},
    }
    metrics["training"]["epochs"] = _epochs_in_history(run_dir, epochs_run)
    collapse = posterior_collapse(metrics)
    if collapse:
        metrics["warnings"] = [collapse]
    if not info.is_chief:
        return TrainResult(work_dir, metrics, {}, None, model, history.history)

    model_path = os.path.join(run_dir, "model.keras")
    model.save(model_path)
    if config.strategy != "default":
        # Plots and the export use a plain copy, outside the distribution strategy.
        model = keras.models.load_model(model_path, safe_mode=True)

    plots: dict[str, str] = {}
    if config.plots:
        x_test, y_test = splits.test_arrays()
        x_test = np.asarray(x_test[:2000], "float32")
        plots = plot_all(
            model,
            x_test,
            np.asarray(y_test[:2000]),
            splits.image_shape,
            os.path.join(run_dir, "plots"),
        )

    export_path = None
    if config.export_dir:
        from keras_rt.export import export_model

        export_path = export_model(
            model,
            config.export_dir,
            config.export_name_for(),
            config=full_config,
            allow_signature_change=config.allow_signature_change,
        )
        metrics["export"] = {"name": config.export_name_for(), "path": export_path}
    # metrics.json is written last: its presence marks the run complete.
    write_json(os.path.join(run_dir, "metrics.json"), metrics)
    shutil.rmtree(os.path.join(run_dir, "backup"), ignore_errors=True)
    return TrainResult(run_dir, metrics, plots, export_path, model, history.history)


def _epochs_in_history(run_dir: str, fallback: int) -> int:
    """Finished epochs over all invocations: the rows of `history.csv`."""
    try:
        with open(os.path.join(run_dir, "history.csv")) as f:
            return max(0, sum(1 for line in f if line.strip()) - 1)
    except OSError:
        return fallback


def _check_export_target(model, config: TrainConfig, strategy) -> None:
    """Before training: the export folder is writable and the model's signatures fit the name's
    newest version (the dry-run export only outside distribution strategies)."""
    from keras_rt.export import check_export_target, check_writable

    name = config.export_name_for()
    assert config.export_dir is not None
    if config.strategy != "default":
        check_writable(os.path.join(config.export_dir, name), what="export folder")
        return
    check_export_target(
        model, config.export_dir, name, allow_signature_change=config.allow_signature_change
    )


__all__ = [
    "TrainResult",
    "completed_result",
    "evaluate_splits",
    "load_splits",
    "make_callbacks",
    "prepare",
    "resolve_jit_compile",
    "resolve_verbose",
    "resolve_steps_per_execution",
    "summary_table",
    "train",
    "with_label_inputs",
    "write_json",
]
