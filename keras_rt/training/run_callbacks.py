"""`make_callbacks`: the Keras callbacks of a training run."""

from __future__ import annotations

import os

import keras

from keras_rt.training.config import TrainConfig


def make_callbacks(
    config: TrainConfig, run_dir: str, model=None, probe=None
) -> list[keras.callbacks.Callback]:
    """The Keras callbacks of a run: history, crash-safe backup, checkpoint, logs, what was
    asked for, and the model's own schedule (`model.training_callbacks()`: KL warm-up, annealing).

    A run killed at any moment resumes from its newest readable backup (`CrashSafeBackup`),
    and `history.csv` keeps one row per finished epoch (`ResumableCSVLogger`).

    With a KL warm-up the objective (`val_loss`) changes with the KL weight, so the best
    checkpoint, early stopping and LR reduction watch the weight-free `val_neg_elbo`.
    """
    from keras_rt.callbacks import (
        CrashSafeBackup,
        KLWarmup,
        ResumableCSVLogger,
        StepProgbarLogger,
    )

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
    callbacks: list[keras.callbacks.Callback] = [keras.callbacks.TerminateOnNaN()]
    if config.log_gradient_snr:
        # Before the CSV logger and TensorBoard, so they see the SNR keys.
        callbacks.append(gradient_snr_monitor(config, run_dir, model, probe))
    callbacks += [
        # An epoch's row is written before its backup; a resumed run drops later rows.
        ResumableCSVLogger(os.path.join(run_dir, "history.csv")),
        CrashSafeBackup(os.path.join(run_dir, "backup")),
        keras.callbacks.ModelCheckpoint(
            os.path.join(run_dir, "checkpoints", "best.keras"),
            monitor=monitor,
            mode="min",
            save_best_only=True,
        ),
        StepProgbarLogger(),
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


def gradient_snr_monitor(config: TrainConfig, run_dir: str, model, probe):
    """The `--log-gradient-snr` callback: encoder and decoder SNR on one fixed probe batch."""
    from keras_rt.callbacks import GradientVarianceMonitor
    from keras_rt.training.config import SNR_DRAWS

    if probe is None:
        raise ValueError("--log-gradient-snr needs a probe batch (the first validation batch).")
    groups = [name for name in ("encoder", "decoder") if _has_layer(model, name)]
    return GradientVarianceMonitor(
        probe,
        num_draws=SNR_DRAWS,
        log_dir=os.path.join(run_dir, "logs", "gradient_snr") if config.tensorboard else None,
        groups=groups,
    )


def _has_layer(model, name: str) -> bool:
    try:
        model.get_layer(name)
    except ValueError:
        return False
    return True


__all__ = ["gradient_snr_monitor", "make_callbacks"]
