"""`train`: the main job — train a zoo model with `model.fit`, evaluate, plot, export."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from typing import Any

import keras
import numpy as np

from keras_rt.training.config import TrainConfig


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
    """

    run_dir: str
    metrics: dict[str, Any]
    plots: dict[str, str]
    export_path: str | None
    model: Any
    history: dict[str, list]


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
        `(entry, splits, model, model_config)`.
    """
    from keras_rt.datasets import load_dataset
    from keras_rt.zoo import get_zoo_entry

    config.validate()
    entry = get_zoo_entry(config.model)
    overrides = dict(config.model_config)
    if config.latent_dim is not None:
        overrides["latent_dim"] = config.latent_dim
    model_config = entry.config_for(config.dataset, overrides)
    splits = load_dataset(
        config.dataset,
        batch_size=config.batch_size,
        binarized=config.binarized,
        flatten=entry.flat_input,
        with_labels=entry.needs_labels,
        seed=config.seed,
        data_dir=config.data_dir,
        max_examples=config.max_examples,
    )
    if entry.needs_labels:
        splits = with_label_inputs(splits)
    model = entry.build(model_config, input_shape=splits.input_shape, seed=config.seed)
    return entry, splits, model, model_config


def with_label_inputs(splits):
    """`(x, label)` elements -> `({"x": x, "label": label},)`: conditional models take both as inputs."""

    def to_inputs(x, label):
        return ({"x": x, "label": label},)

    return dataclasses.replace(
        splits,
        **{name: getattr(splits, name).map(to_inputs) for name in ("train", "validation", "test")},
    )


def make_callbacks(config: TrainConfig, run_dir: str, model=None) -> list[keras.callbacks.Callback]:
    """The Keras callbacks of a run: checkpoint, backup/restore, logs, what was asked for,
    and the model's own schedule (`model.training_callbacks()`: KL warm-up, annealing).

    With a KL warm-up the objective (`val_loss`) changes with the KL weight, so the best
    checkpoint, early stopping and LR reduction watch the weight-free `val_neg_elbo`.
    """
    from keras_rt.callbacks import KLWarmup

    own = list(model.training_callbacks()) if hasattr(model, "training_callbacks") else []
    if config.kl_warmup_epochs is not None:
        # The run's warm-up replaces the model's own, towards the model's beta.
        own = [c for c in own if not isinstance(c, KLWarmup)]
        own.append(
            KLWarmup(
                config.kl_warmup_schedule,
                warmup_epochs=config.kl_warmup_epochs,
                max_weight=getattr(model, "beta", 1.0),
            )
        )
    monitor = "val_neg_elbo" if any(isinstance(c, KLWarmup) for c in own) else "val_loss"
    backup_dir = os.path.join(run_dir, "backup")
    resuming = os.path.isdir(backup_dir)  # BackupAndRestore left a backup: an interrupted run
    callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.BackupAndRestore(backup_dir),
        keras.callbacks.ModelCheckpoint(
            os.path.join(run_dir, "checkpoints", "best.keras"),
            monitor=monitor,
            mode="min",
            save_best_only=True,
        ),
        keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"), append=resuming),
    ]
    if config.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(run_dir, "logs")))
    if config.early_stopping_patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor,
                mode="min",
                patience=config.early_stopping_patience,
                restore_best_weights=True,
            )
        )
    if config.reduce_lr_patience is not None:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=monitor, mode="min", factor=0.5, patience=config.reduce_lr_patience
            )
        )
    return callbacks + own


def test_iwae(model, splits, config: TrainConfig) -> dict[str, Any]:
    """The IWAE-k bound on the test split, with `iwae_nll` = its negative."""
    from keras_rt.evaluation import evaluate_iwae

    result = evaluate_iwae(
        model,
        splits.test,
        num_samples=config.iwae_samples,
        max_examples=config.iwae_max_examples,
        seed=config.seed,
    )
    result["iwae_nll"] = -result["iwae_log_likelihood"]
    return result


def check_finite_metrics(metrics: dict[str, Any], run_dir: str) -> None:
    """Refuses to save or export a model whose evaluation is NaN/inf (it diverged)."""
    bad = [
        f"{split}.{name}"
        for split in ("train", "validation", "test")
        for name, value in metrics.get(split, {}).items()
        if isinstance(value, float) and not math.isfinite(value)
    ]
    if bad:
        raise FloatingPointError(
            f"Training diverged: {', '.join(bad)} are not finite; nothing was saved or exported. "
            f"Try a lower --learning-rate. Logs are in {run_dir}."
        )


def evaluate_splits(model, splits, config: TrainConfig, *, iwae: bool = True) -> dict[str, Any]:
    """Negative ELBO, reconstruction and KL on each split, IWAE-k on test (nats per example)."""
    metrics: dict[str, Any] = {}
    for name in ("train", "validation", "test"):
        data = getattr(splits, name)
        metrics[name] = {
            k: float(v) for k, v in model.evaluate(data, verbose=0, return_dict=True).items()
        }
    if hasattr(splits, "test_arrays"):
        from keras_rt.evaluation import active_units
        from keras_rt.training.plots import model_inputs

        x_test, y_test = splits.test_arrays()
        metrics["test"]["active_units"] = active_units(model, model_inputs(model, x_test, y_test))
    if config.iwae_samples and iwae:
        metrics["test"].update(test_iwae(model, splits, config))
    return metrics


def summary_table(metrics: dict[str, Any]) -> str:
    """A short text table of the final metrics."""
    keys = ("neg_elbo", "reconstruction", "kl")
    lines = [f"{'split':<12}" + "".join(f"{k:>16}" for k in keys)]
    for split in ("train", "validation", "test"):
        row = metrics.get(split, {})
        cells = (f"{row[k]:>16.3f}" if k in row else f"{'-':>16}" for k in keys)
        lines.append(f"{split:<12}" + "".join(cells))
    test = metrics.get("test", {})
    if "iwae_nll" in test:
        lines.append(
            f"test IWAE-{test['iwae_k']} negative log-likelihood: {test['iwae_nll']:.3f} "
            f"± {test['iwae_std_error']:.3f} nats ({test['examples']} examples)"
        )
    return "\n".join(lines)


def train(
    config: TrainConfig, *, callbacks: list[keras.callbacks.Callback] | None = None
) -> TrainResult:
    """Trains, evaluates, plots and exports a zoo model as described by `config`.

    Everything that can be checked (names, sizes, data availability, model
    shapes) is checked before the run folder is created, so a bad setting
    leaves nothing on disk. Re-running with the same `output_dir` resumes an
    interrupted run from its last finished epoch (`BackupAndRestore`).

    Args:
        config: the run's settings.
        callbacks: extra Keras callbacks, run after the built-in ones.

    Returns:
        A `TrainResult`.

    Example:

    >>> result = train(TrainConfig(model="mlp_vae", dataset="digits", epochs=5))
    >>> result.metrics["test"]["neg_elbo"]
    """
    from keras_rt.distribute import make_strategy, set_mixed_precision, worker_info

    config.validate()
    strategy = make_strategy(config.strategy)  # before any other TensorFlow work
    info = worker_info(config.strategy)
    previous_policy = keras.mixed_precision.global_policy()
    set_mixed_precision(config.mixed_precision)
    try:
        return _train(config, strategy, info, callbacks)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)


def resolve_jit_compile(choice: str, model, strategy) -> bool | str:
    """XLA for this run: "on"/"off" as asked; "auto" is Keras's choice on GPUs and, on CPUs,
    the model's measured preference (`xla_on_cpu`) in float32 — off with several replicas,
    since XLA has no cross-replica collectives on CPUs, and under a mixed policy, since XLA's
    CPU backend computes bfloat16/float16 products without the CPU's matrix units (the zoo
    then XLA-compiles only the step's element-wise parts, see `keras_rt.distribute.partial_xla`).
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
    float32 = keras.mixed_precision.global_policy().compute_dtype == "float32"
    return bool(getattr(model, "xla_on_cpu", False)) and float32 and not several_replicas


def resolve_steps_per_execution(steps: int, strategy) -> int:
    """`steps`, or 1 under a multi-worker strategy: Keras 3.15's multi-step loop fails there
    ("You must feed a value for placeholder tensor" inside the loop)."""
    return 1 if strategy.extended._in_multi_worker_mode() else steps


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


def _train(config: TrainConfig, strategy, info, callbacks) -> TrainResult:
    from keras_rt.training.environment import package_versions
    from keras_rt.training.plots import plot_all

    keras.utils.set_random_seed(config.seed)
    with strategy.scope():
        entry, splits, model, model_config = prepare(config)
        replicas = strategy.num_replicas_in_sync
        learning_rate = config.learning_rate * (replicas if config.scale_learning_rate else 1)
        jit = resolve_jit_compile(config.jit_compile, model, strategy)
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
    os.makedirs(work_dir, exist_ok=True)
    full_config = {
        "model": config.model,
        "dataset": config.dataset,
        "model_config": model.get_config(),
        "train_config": config.to_dict(),
        "replicas": replicas,
    }
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
    history = model.fit(
        splits.train,
        validation_data=splits.validation,
        epochs=config.epochs,
        callbacks=make_callbacks(config, work_dir, model) + list(callbacks or []),
        verbose=config.verbose,
        shuffle=False,  # the tf.data pipeline already shuffles
    )
    train_time = time.perf_counter() - start
    losses = history.history.get("loss", [])
    if any(not math.isfinite(v) for v in losses):
        raise FloatingPointError(
            "Training diverged (the loss became NaN/inf); try a lower --learning-rate. "
            f"Partial logs are in {run_dir}."
        )

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
        "mixed_precision": config.mixed_precision,
    }
    if not info.is_chief:
        return TrainResult(work_dir, metrics, {}, None, model, history.history)

    write_json(os.path.join(run_dir, "metrics.json"), metrics)
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

        export_path = export_model(model, config.export_dir, config.model, config=full_config)
    return TrainResult(run_dir, metrics, plots, export_path, model, history.history)
