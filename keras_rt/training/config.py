"""`TrainConfig`: every setting of a training run, saved as `config.json`."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from keras_rt.run_config import JIT_CHOICES, MIXED_PRECISION_POLICIES, RunConfig, setting

SCALE_OUT = "scale-out (see README: one GPU, several GPUs, several machines)"
STRATEGIES = ("default", "mirrored", "multi_worker")
SNR_DRAWS = 8  # gradient draws per SNR measurement (--log-gradient-snr)


@dataclasses.dataclass
class TrainConfig(RunConfig):
    """Settings of one training run: `RunConfig`'s (among them `mixed_precision` and
    `jit_compile`), and these.

    Attributes:
        latent_dim: latent dimensions (None: the model's preset for the dataset).
        export_dir: SavedModel base folder; None skips the export.
        early_stopping_patience: epochs without improvement before stopping
            (None: off); the best weights are restored.
        reduce_lr_patience: epochs without improvement before halving the
            learning rate (None: off).
        kl_warmup_epochs: KL warm-up length in epochs (None: the model's own
            schedule, if any).
        kl_warmup_schedule: "linear" or "cyclical".
        log_gradient_snr: log the encoder's and decoder's gradient
            signal-to-noise ratio each epoch (`SNR_DRAWS` extra gradient draws
            on the first validation batch; nothing when off).
        tensorboard: write TensorBoard logs into the run folder.
        plots: write PNG plots into the run folder.
        strategy: "default", "mirrored" (all GPUs of one machine) or
            "multi_worker" (machines from TF_CONFIG); `batch_size` is global.
        steps_per_execution: training steps per call into the compiled
            step (Keras's `steps_per_execution`): fewer Python round trips;
            per-batch callbacks then run once per call. Multi-worker runs
            use 1 (Keras's multi-step loop fails under that strategy).
        scale_learning_rate: multiply the learning rate by the number of
            replicas (linear scaling rule).

    Example:

    >>> config = TrainConfig(model="mlp_vae", dataset="digits", epochs=5).validate()
    >>> config.run_dir
    'runs/mlp_vae-digits'
    """

    file_key = "train_config"

    latent_dim: int | None = setting(
        None, "latent dimensions (default: the model's preset)", minimum=1
    )
    export_dir: str | None = setting(
        "saved_models", "SavedModel base folder", off_flag="--no-export", metavar="DIR"
    )
    early_stopping_patience: int | None = setting(
        None, "stop after N epochs without improvement", minimum=0, metavar="N"
    )
    reduce_lr_patience: int | None = setting(
        None, "halve the learning rate after N epochs without improvement", minimum=0, metavar="N"
    )
    kl_warmup_epochs: float | None = setting(
        None, "KL warm-up over N epochs (default: the model's own schedule)", above=0.0, metavar="N"
    )
    kl_warmup_schedule: str = setting("linear", "KL warm-up shape", choices=("linear", "cyclical"))
    log_gradient_snr: bool = setting(
        False,
        "add the encoder's and the decoder's gradient signal-to-noise ratio to each epoch's logs "
        f"(history.csv, metrics.json, TensorBoard): {SNR_DRAWS} extra gradient draws on one "
        f"validation batch per epoch, about {SNR_DRAWS} training steps",
    )
    tensorboard: bool = setting(True, "write TensorBoard logs into the run folder")
    plots: bool = setting(True, "write PNG plots into the run folder")
    strategy: str = setting(
        "default",
        "tf.distribute strategy: mirrored = all GPUs of this machine, multi_worker = the "
        "machines in TF_CONFIG; --batch-size is the global batch",
        choices=STRATEGIES,
        group=SCALE_OUT,
    )
    steps_per_execution: int = setting(
        8, "training steps per call into the compiled step", minimum=1, group=SCALE_OUT
    )
    scale_learning_rate: bool = setting(
        False, "multiply the learning rate by the number of replicas", group=SCALE_OUT
    )

    @property
    def run_dir(self) -> str:
        """The run folder."""
        return self.output_dir or os.path.join("runs", f"{self.model}-{self.dataset}")

    def model_overrides(self) -> dict[str, Any]:
        """The model's constructor arguments this run sets: `model_config`, `estimator`, `latent_dim`."""
        overrides = super().model_overrides()
        if self.latent_dim is not None:
            overrides["latent_dim"] = self.latent_dim
        return overrides


__all__ = ["JIT_CHOICES", "MIXED_PRECISION_POLICIES", "STRATEGIES", "TrainConfig"]
