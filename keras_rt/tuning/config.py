"""`TuneConfig`: every setting of a hyperparameter search, saved as `config.json`."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from keras_rt.run_config import RunConfig, setting

# Settings that may change between a search and its resumption without
# changing what the search means: where things go and how much is shown.
RESUMABLE_CHANGES = frozenset(
    {
        "max_trials",
        "output_dir",
        "export_best",
        "export_name",
        "allow_signature_change",
        "overwrite",
        "verbose",
        "data_dir",
    }
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


TUNER_NAMES = ("bayesian", "grid", "hyperband", "random")


@dataclasses.dataclass
class TuneConfig(RunConfig):
    """Settings of one search: `RunConfig`'s (each trial's training), and these.

    Attributes:
        latent_dims: the latent sizes to search (`hp.Choice("latent_dim", ...)`).
        tuner: `"grid"`, `"random"`, `"bayesian"` or `"hyperband"`.
        max_trials: trials to run (None: the number of grid points when every
            dimension is discrete, else 10; Hyperband sizes its brackets from
            `epochs` and runs all of them unless this is given).
        objective: a name in `keras_rt.tuning.OBJECTIVES` (or an alias).
        export_best: SavedModel base folder for the best model (None: no export).
        hyperband_factor: Hyperband's reduction factor.
        executions_per_trial: models trained per trial (their objectives are
            averaged).
        search: extra search dimensions: a constructor argument of the model
            (e.g. `"beta"`, `"hidden_units"`) or `"learning_rate"` -> a list
            of values, or a range `{"min": a, "max": b, "step": s, "sampling":
            "linear" | "log"}`.

    `model_config` holds fixed constructor arguments (not `latent_dim`, which
    is searched).

    Example:

    >>> TuneConfig(latent_dims="2,4,8").validate().latent_dims
    [2, 4, 8]
    """

    file_key = "tune_config"

    epochs: int = setting(10, "epochs per trial; Hyperband's max epochs", minimum=1)
    output_dir: str | None = setting(
        None,
        "search folder (default: runs/tune-<model>-<dataset>); rerunning resumes",
        metavar="DIR",
    )
    iwae_samples: int = setting(64, "k of the val_iwae_nll objective", minimum=1)
    iwae_max_examples: int | None = setting(
        500, "validation examples for val_iwae_nll ('none': all)", minimum=1
    )
    verbose: Any = setting(
        "auto",
        "Keras/KerasTuner verbosity (auto: a progress bar on a terminal, one line per epoch "
        "otherwise)",
        choices=("auto", 0, 1, 2),
    )
    latent_dims: list[int] = setting(
        [2, 4, 8, 16, 32], "comma-separated latent sizes to search", metavar="LIST"
    )
    tuner: str = setting("grid", "search algorithm", choices=TUNER_NAMES)
    max_trials: int | None = setting(
        None,
        "trials to run (default: the number of grid points; 10 with a continuous dimension)",
        minimum=1,
    )
    objective: str = setting(
        "val_neg_elbo", "val_neg_elbo, val_iwae_nll, val_loss or val_reconstruction"
    )
    export_best: str | None = setting(
        None, "export the best model as a SavedModel under DIR", metavar="DIR"
    )
    hyperband_factor: int = setting(3, "Hyperband's reduction factor", minimum=2)
    executions_per_trial: int = setting(1, "models averaged per trial", minimum=1)
    search: dict[str, Any] = setting({}, "extra search dimensions (see --help's text)", flag=False)

    def validate(self) -> TuneConfig:
        """Checks every setting that needs no data; raises `ValueError` naming the first bad one.

        Normalizes `latent_dims` (a string such as `"2,4,8"` becomes a list)
        and resolves objective aliases. Returns self.
        """
        from keras_rt.tuning.objectives import resolve_objective_name

        self.latent_dims = parse_latent_dims(self.latent_dims)
        self.objective = resolve_objective_name(self.objective)
        super().validate()
        if "latent_dim" in self.model_config:
            raise ValueError(
                "`model_config` must not fix `latent_dim`: it is searched over `latent_dims`. "
                f"Received: model_config={self.model_config!r}"
            )
        if self.export_best is not None and os.path.isfile(self.export_best):
            raise ValueError(
                f"`export_best` must be a folder, not a file. Received: export_best={self.export_best!r}"
            )
        return self

    @property
    def search_dir(self) -> str:
        """The search folder."""
        return self.output_dir or os.path.join("runs", f"tune-{self.model}-{self.dataset}")

    def differences(self, saved: dict[str, Any]) -> list[str]:
        """Settings (other than `RESUMABLE_CHANGES`) whose value differs from `saved`.

        A setting that `saved` lacks (written by a version without it) counts
        as its default.
        """
        mine = json.loads(json.dumps(self.to_dict()))
        defaults = json.loads(json.dumps(type(self)().to_dict()))
        return sorted(
            key
            for key in set(mine) | set(saved)
            if key not in RESUMABLE_CHANGES and mine.get(key) != saved.get(key, defaults.get(key))
        )
