"""`TuneConfig`: every setting of a hyperparameter search, saved as `config.json`."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

# Settings that may change between a search and its resumption without
# changing what the search means: where things go and how much is shown.
RESUMABLE_CHANGES = frozenset(
    {"max_trials", "output_dir", "export_best", "overwrite", "verbose", "data_dir"}
)


def parse_latent_dims(value) -> list[int]:
    """`"2,4,8"` or `[2, 4, 8]` -> `[2, 4, 8]` (duplicates dropped, order kept).

    Raises:
        ValueError: the list is empty, or an entry is not an integer >= 1.
    """
    received = value
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(
            "`latent_dims` must list at least one latent size, e.g. --latent-dims 2,4,8,16,32. "
            f"Received: latent_dims={received!r}"
        )
    dims: list[int] = []
    for item in value:
        number = item
        if isinstance(item, str):
            try:
                number = int(item)
            except ValueError:
                number = None
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ValueError(
                "`latent_dims` must be comma-separated integers >= 1, e.g. 2,4,8,16,32. "
                f"Received: latent_dims={received!r}"
            )
        if number not in dims:
            dims.append(number)
    return dims


@dataclasses.dataclass
class TuneConfig:
    """Settings of one search (CLI flags and `--config FILE` fill it in).

    Attributes:
        model: zoo model name.
        dataset: dataset name.
        latent_dims: the latent sizes to search (`hp.Choice("latent_dim", ...)`).
        tuner: `"grid"`, `"random"`, `"bayesian"` or `"hyperband"`.
        max_trials: trials to run (None: the number of grid points when every
            dimension is discrete, else 10; Hyperband sizes its brackets from
            `epochs` and runs all of them unless this is given).
        epochs: training epochs per trial (Hyperband: the most epochs a model
            gets).
        objective: a name in `keras_rt.tuning.OBJECTIVES` (or an alias).
        output_dir: search folder (None: `runs/tune-<model>-<dataset>`);
            rerunning with the same folder resumes the search.
        export_best: SavedModel base folder for the best model (None: no export).
        seed: seed of the data split and shuffling, the oracle, and each
            trial's initialization and noise.
        overwrite: delete an earlier search in `output_dir` and start fresh.
        batch_size: examples per batch.
        learning_rate: Adam learning rate (unless searched).
        binarized: dynamically binarized training data.
        data_dir: folder with the dataset's files (Fashion-MNIST/MNIST).
        max_examples: cap per split (quick runs).
        iwae_samples: k of the IWAE-k objective (`val_iwae_nll`).
        iwae_max_examples: validation examples for the IWAE-k objective
            (None: all).
        hyperband_factor: Hyperband's reduction factor.
        executions_per_trial: models trained per trial (their objectives are
            averaged).
        search: extra search dimensions: config key of the model (e.g.
            `"beta"`, `"hidden_units"`) or `"learning_rate"` -> a list of
            values, or a range `{"min": a, "max": b, "step": s, "sampling":
            "linear" | "log"}`.
        model_config: fixed overrides of the model's config dataclass.
        verbose: Keras and KerasTuner verbosity (0, 1, 2).
    """

    model: str = "mlp_vae"
    dataset: str = "digits"
    latent_dims: list[int] = dataclasses.field(default_factory=lambda: [2, 4, 8, 16, 32])
    tuner: str = "grid"
    max_trials: int | None = None
    epochs: int = 10
    objective: str = "val_neg_elbo"
    output_dir: str | None = None
    export_best: str | None = None
    seed: int = 0
    overwrite: bool = False
    batch_size: int = 128
    learning_rate: float = 1e-3
    binarized: bool = False
    data_dir: str | None = None
    max_examples: int | None = None
    iwae_samples: int = 64
    iwae_max_examples: int | None = 500
    hyperband_factor: int = 3
    executions_per_trial: int = 1
    search: dict[str, Any] = dataclasses.field(default_factory=dict)
    model_config: dict[str, Any] = dataclasses.field(default_factory=dict)
    verbose: Any = 1

    def validate(self) -> TuneConfig:
        """Checks every setting that needs no data; raises `ValueError` naming the first bad one.

        Normalizes `latent_dims` (a string such as `"2,4,8"` becomes a list)
        and resolves objective aliases. Returns self.
        """
        from keras_rt.tuning.objectives import resolve_objective_name
        from keras_rt.tuning.tuners import TUNERS

        self.latent_dims = parse_latent_dims(self.latent_dims)
        if self.tuner not in TUNERS:
            raise ValueError(
                f"Unknown tuner. Received: tuner={self.tuner!r}. Valid tuners: {sorted(TUNERS)}"
            )
        self.objective = resolve_objective_name(self.objective)
        if self.max_trials is not None:
            _check_int("max_trials", self.max_trials, minimum=1)
        for name in ("epochs", "batch_size", "iwae_samples", "executions_per_trial"):
            _check_int(name, getattr(self, name), minimum=1)
        _check_int("hyperband_factor", self.hyperband_factor, minimum=2)
        _check_int("seed", self.seed, minimum=0)
        for name in ("max_examples", "iwae_max_examples"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), minimum=1)
        if isinstance(self.learning_rate, bool) or not (
            isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0
        ):
            raise ValueError(
                f"`learning_rate` must be a number > 0. Received: learning_rate={self.learning_rate!r}"
            )
        for name in ("search", "model_config"):
            if not isinstance(getattr(self, name), dict):
                raise ValueError(
                    f"`{name}` must be a mapping. Received: {name}={getattr(self, name)!r}"
                )
        if "latent_dim" in self.model_config:
            raise ValueError(
                "`model_config` must not fix `latent_dim`: it is searched over `latent_dims`. "
                f"Received: model_config={self.model_config!r}"
            )
        if self.data_dir is not None and not os.path.isdir(self.data_dir):
            raise FileNotFoundError(f"Data directory not found: {self.data_dir!r}")
        if self.export_best is not None and os.path.isfile(self.export_best):
            raise ValueError(
                f"`export_best` must be a folder, not a file. Received: export_best={self.export_best!r}"
            )
        return self

    @property
    def search_dir(self) -> str:
        """The search folder."""
        return self.output_dir or os.path.join("runs", f"tune-{self.model}-{self.dataset}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict."""
        return dataclasses.asdict(self)

    def differences(self, saved: dict[str, Any]) -> list[str]:
        """Settings (other than `RESUMABLE_CHANGES`) whose value differs from `saved`."""
        mine = json.loads(json.dumps(self.to_dict()))
        return sorted(
            key
            for key in set(mine) | set(saved)
            if key not in RESUMABLE_CHANGES and mine.get(key) != saved.get(key)
        )

    @classmethod
    def from_file(cls, path: str, **overrides) -> TuneConfig:
        """Reads a JSON config file; `overrides` (not None) win over it.

        Unknown keys are an error that lists the valid ones. The file may be
        a search's own `config.json`.
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
        values = values.get("tune_config", values)
        return cls.from_dict({**values, **{k: v for k, v in overrides.items() if v is not None}})

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TuneConfig:
        """Builds a config from a dict; unknown keys are an error that lists the valid ones."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown config keys: {unknown}. Valid keys: {sorted(known)}")
        return cls(**values)


def _check_int(name: str, value, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}. Received: {name}={value!r}")
