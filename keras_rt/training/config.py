"""`TrainConfig`: every setting of a training run, saved as `config.json`."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

JIT_CHOICES = ("auto", "on", "off")


@dataclasses.dataclass
class TrainConfig:
    """Settings of one training run (CLI flags and `--config FILE` fill it in).

    Attributes:
        model: zoo model name.
        dataset: dataset name.
        epochs: training epochs.
        batch_size: examples per batch.
        latent_dim: latent dimensions (None: the model's preset for the dataset).
        learning_rate: Adam learning rate.
        seed: global seed (data split and shuffling, initialization, noise).
        binarized: dynamically binarized training data, fixed binarized test data.
        output_dir: run folder (None: `runs/<model>-<dataset>`); rerunning with
            the same folder resumes an interrupted run.
        export_dir: SavedModel base folder; None skips the export.
        data_dir: folder with the dataset's files (Fashion-MNIST/MNIST).
        max_examples: cap per split (quick runs).
        iwae_samples: k of the IWAE-k bound on the test split (0: skip).
        iwae_max_examples: test examples used for the IWAE bound (None: all).
        early_stopping_patience: epochs without val_loss improvement before
            stopping (None: off); the best weights are restored.
        reduce_lr_patience: epochs without improvement before halving the
            learning rate (None: off).
        kl_warmup_epochs: linear KL warm-up length (None: off).
        kl_warmup_schedule: "linear" or "cyclical".
        tensorboard: write TensorBoard logs into the run folder.
        plots: write PNG plots into the run folder.
        strategy: "default", "mirrored" (all GPUs of one machine) or
            "multi_worker" (machines from TF_CONFIG); `batch_size` is global.
        mixed_precision: "off", "mixed_float16" or "mixed_bfloat16".
        jit_compile: XLA for the whole step: "auto" (on for GPUs; on CPUs, the
            model's measured preference: on for Dense VAEs in float32, off for
            convolutional ones and under mixed precision, where the step's
            element-wise parts are XLA-compiled instead), "on" or "off".
        steps_per_execution: training steps per call into the compiled
            step (Keras's `steps_per_execution`): fewer Python round trips;
            per-batch callbacks then run once per call. Multi-worker runs
            use 1 (Keras's multi-step loop fails under that strategy).
        scale_learning_rate: multiply the learning rate by the number of
            replicas (linear scaling rule).
        model_config: overrides of the model's config dataclass.
        verbose: Keras verbosity ("auto", 0, 1, 2).
    """

    model: str = "mlp_vae"
    dataset: str = "digits"
    epochs: int = 50
    batch_size: int = 128
    latent_dim: int | None = None
    learning_rate: float = 1e-3
    seed: int = 0
    binarized: bool = False
    output_dir: str | None = None
    export_dir: str | None = "saved_models"
    data_dir: str | None = None
    max_examples: int | None = None
    iwae_samples: int = 5000
    iwae_max_examples: int | None = 1000
    early_stopping_patience: int | None = None
    reduce_lr_patience: int | None = None
    kl_warmup_epochs: float | None = None
    kl_warmup_schedule: str = "linear"
    tensorboard: bool = True
    plots: bool = True
    strategy: str = "default"
    mixed_precision: str = "off"
    jit_compile: str = "auto"
    steps_per_execution: int = 8
    scale_learning_rate: bool = False
    model_config: dict[str, Any] = dataclasses.field(default_factory=dict)
    verbose: Any = "auto"

    def validate(self) -> TrainConfig:
        """Raises `ValueError` naming the first bad setting; returns self."""
        positive_ints = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "steps_per_execution": self.steps_per_execution,
        }
        if self.latent_dim is not None:
            positive_ints["latent_dim"] = self.latent_dim
        if self.max_examples is not None:
            positive_ints["max_examples"] = self.max_examples
        for name, value in positive_ints.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be an integer >= 1. Received: {name}={value!r}")
        if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            raise ValueError(
                f"`learning_rate` must be a number > 0. Received: learning_rate={self.learning_rate!r}"
            )
        if not isinstance(self.iwae_samples, int) or self.iwae_samples < 0:
            raise ValueError(
                f"`iwae_samples` must be an integer >= 0. Received: iwae_samples={self.iwae_samples!r}"
            )
        if self.data_dir is not None and not os.path.isdir(self.data_dir):
            raise FileNotFoundError(f"Data directory not found: {self.data_dir!r}")
        from keras_rt.distribute import POLICIES, STRATEGIES

        choices = {
            "strategy": STRATEGIES,
            "mixed_precision": tuple(POLICIES),
            "jit_compile": JIT_CHOICES,
            "kl_warmup_schedule": ("linear", "cyclical"),
        }
        for name, valid in choices.items():
            if getattr(self, name) not in valid:
                raise ValueError(
                    f"`{name}` must be one of {list(valid)}. Received: {name}={getattr(self, name)!r}"
                )
        if not isinstance(self.model_config, dict):
            raise ValueError(
                f"`model_config` must be a mapping. Received: model_config={self.model_config!r}"
            )
        return self

    @property
    def run_dir(self) -> str:
        """The run folder."""
        return self.output_dir or os.path.join("runs", f"{self.model}-{self.dataset}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_file(cls, path: str, **overrides) -> TrainConfig:
        """Reads a JSON config file; `overrides` (not None) win over it.

        Unknown keys are an error that lists the valid ones.
        """
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Config file not found: {path!r}")
        try:
            with open(path) as f:
                values = json.load(f)
        except json.JSONDecodeError as error:
            raise ValueError(f"Config file {path!r} is not valid JSON: {error}") from None
        if not isinstance(values, dict):
            raise ValueError(f"Config file {path!r} must hold a JSON object.")
        values = values.get("train_config", values)  # a run's config.json works too
        return cls.from_dict({**values, **{k: v for k, v in overrides.items() if v is not None}})

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Builds a config from a dict; unknown keys are an error that lists the valid ones."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown config keys: {unknown}. Valid keys: {sorted(known)}")
        return cls(**values)
