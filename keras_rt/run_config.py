"""`RunConfig`: the settings that training and tuning share, declared once with their CLI flags.

Each setting is a dataclass field made with `setting(default, help, ...)`:
its name, type, default, help text, choices and bounds. From these one
declaration come the JSON config file keys (`--config FILE`), the checks
(`validate`) and the command-line flags (`keras_rt.cli.config_flags`), so
`train` and `tune` cannot drift apart. `TrainConfig` and `TuneConfig`
extend `RunConfig`.

This module imports neither TensorFlow nor Keras: `--help` stays fast.
"""

from __future__ import annotations

import dataclasses
import json
import os
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from keras_rt.cli.choices import estimator_help

MIXED_PRECISION_POLICIES = ("auto", "off", "mixed_float16", "mixed_bfloat16")
JIT_CHOICES = ("auto", "on", "off")
SPEED = "speed (auto: what this machine measures faster for the model)"


def setting(
    default: Any,
    help: str,
    *,
    choices: Sequence[Any] | None = None,
    minimum: float | None = None,
    above: float | None = None,
    flag: bool = True,
    off_flag: str | None = None,
    group: str | None = None,
    metavar: str | None = None,
) -> Any:
    """A run setting: a dataclass field whose metadata describes its flag and its checks.

    Args:
        default: the default value (a list or dict default is copied per instance).
        help: one line for `--help`; the default is appended.
        choices: the valid values, if any.
        minimum: the smallest valid number (inclusive).
        above: a number the value must exceed.
        flag: whether the setting has a command-line flag (`--kebab-name`);
            otherwise it is set through `--config FILE` only.
        off_flag: an extra flag that sets the setting to `None` (e.g. `--no-export`).
        group: the `--help` section of the flag.
        metavar: the flag's value placeholder in `--help`.

    Returns:
        A `dataclasses.field`.

    Example:

    >>> @dataclasses.dataclass
    ... class Toy(RunConfig):
    ...     width: int = setting(8, "layer width", minimum=1)
    >>> Toy(width=0).validate()
    Traceback (most recent call last):
    ...
    ValueError: `width` must be an integer >= 1. Received: width=0
    """
    metadata = {
        "help": help,
        "choices": None if choices is None else tuple(choices),
        "minimum": minimum,
        "above": above,
        "flag": flag,
        "off_flag": off_flag,
        "group": group,
        "metavar": metavar,
    }
    if isinstance(default, (list, dict)):
        return dataclasses.field(
            default_factory=lambda: json.loads(json.dumps(default)), metadata=metadata
        )
    return dataclasses.field(default=default, metadata=metadata)


def setting_types(cls: type) -> dict[str, Any]:
    """Field name -> its evaluated type annotation (e.g. `int | None`)."""
    return typing.get_type_hints(cls)


def base_type(annotation: Any) -> tuple[Any, bool]:
    """`(type, optional)` of an annotation: `int | None` -> `(int, True)`; `Any` stays `Any`."""
    args = typing.get_args(annotation)
    if args and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else Any), True
    return annotation, False


def check_setting(name: str, value: Any, annotation: Any, metadata: Mapping[str, Any]) -> None:
    """Raises `ValueError` naming the setting unless `value` fits its type, choices and bounds.

    Uses the checks every keras-rt argument uses (`keras_rt.ops.validation`).
    """
    from keras_rt.ops.validation import check_bool, check_choice, check_int, check_number

    kind, optional = base_type(annotation)
    if value is None and optional:
        return
    if metadata.get("choices") is not None:
        check_choice(name, value, metadata["choices"])
    elif kind is int:
        check_int(name, value, minimum=int(metadata.get("minimum") or 0), allow_none=optional)
    elif kind is float:
        check_number(
            name,
            value,
            minimum=metadata.get("minimum"),
            above=metadata.get("above"),
            allow_none=optional,
        )
    elif kind is bool:
        check_bool(name, value)
    elif kind is str and (not isinstance(value, str) or not value):
        raise ValueError(
            f"`{name}` must be a non-empty string{' or None' * optional}. Received: {name}={value!r}"
        )
    elif (kind is dict or typing.get_origin(kind) is dict) and not isinstance(value, dict):
        raise ValueError(f"`{name}` must be a mapping (a JSON object). Received: {name}={value!r}")


@dataclasses.dataclass
class RunConfig:
    """Settings shared by training and tuning (CLI flags and `--config FILE` fill them in).

    Subclasses add their own settings with `setting(...)`, and may declare a
    shared one again to change its default or help text.

    Two settings decide how each model trains on this machine, for `train`
    and for every trial of `tune` alike (`keras_rt.performance.plan`):
    `mixed_precision` is "auto" (a 16-bit policy where this machine's probe
    measures it faster for the model, see `keras_rt.performance.plan`),
    "off", "mixed_float16" or "mixed_bfloat16" (a forced choice measured
    slower than float32 prints a warning); `jit_compile` is XLA for the
    whole step: "auto" (on for GPUs; on CPUs, the training plan's choice
    from this machine's measurements; when off, the step's element-wise
    parts are XLA-compiled instead), "on" or "off".
    """

    model: str = setting("mlp_vae", "zoo model", metavar="NAME")
    dataset: str = setting("digits", "dataset", metavar="NAME")
    epochs: int = setting(50, "training epochs", minimum=1)
    batch_size: int = setting(128, "examples per batch", minimum=1)
    learning_rate: float = setting(1e-3, "Adam learning rate", above=0.0)
    seed: int = setting(
        0, "seed of the data split and shuffling, initialization and noise", minimum=0
    )
    binarized: bool = setting(
        False,
        "dynamically binarized training data, fixed binarization for validation/test",
    )
    output_dir: str | None = setting(None, "run folder; rerunning with it resumes", metavar="DIR")
    data_dir: str | None = setting(
        None, "folder with the dataset's IDX files (Fashion-MNIST, MNIST)", metavar="DIR"
    )
    max_examples: int | None = setting(None, "cap per split, for quick runs", minimum=1)
    iwae_samples: int = setting(5000, "k of the test IWAE-k bound (0 skips it)", minimum=0)
    iwae_max_examples: int | None = setting(
        1000, "test examples for the IWAE bound ('none': all)", minimum=1
    )
    estimator: str | None = setting(
        None,
        "gradient estimator of the model (default: the first listed for it) -- " + estimator_help(),
        metavar="NAME",
    )
    model_config: dict[str, Any] = setting(
        {}, "the model's constructor arguments (its hyperparameters)", flag=False
    )
    verbose: Any = setting(
        "auto",
        "Keras verbosity (auto: a progress bar on a terminal, one line per epoch otherwise)",
        choices=("auto", 0, 1, 2),
    )
    overwrite: bool = setting(
        False, "delete an earlier run or search in the output folder and start afresh"
    )
    export_name: str | None = setting(
        None,
        "name of the export under the export folder (default: the model's name)",
        metavar="NAME",
    )
    allow_signature_change: bool = setting(
        False,
        "export even if the signatures differ from the newest version of that name "
        "(its clients must change too)",
    )
    mixed_precision: str = setting(
        "auto",
        "compute in 16-bit floats, variables and losses in float32; auto = a 16-bit policy "
        "where this machine's probe measures it faster for the model (e.g. CPUs with AMX), "
        "else off",
        choices=MIXED_PRECISION_POLICIES,
        group=SPEED,
    )
    jit_compile: str = setting(
        "auto",
        "XLA compilation of the whole step: auto = on for GPUs; on CPUs on where this "
        "machine's probe measures the model's ops faster under XLA",
        choices=JIT_CHOICES,
        group=SPEED,
    )

    def validate(self):
        """Checks every setting's type, choices and bounds; raises `ValueError` naming the first bad one.

        Returns:
            self.
        """
        types = setting_types(type(self))
        for field in dataclasses.fields(self):
            check_setting(field.name, getattr(self, field.name), types[field.name], field.metadata)
        if self.data_dir is not None and not os.path.isdir(self.data_dir):
            raise FileNotFoundError(f"Data directory not found: {self.data_dir!r}")
        if self.output_dir is not None and os.path.isfile(self.output_dir):
            raise ValueError(
                f"`output_dir` must be a folder, not a file. Received: output_dir={self.output_dir!r}"
            )
        return self

    def export_name_for(self) -> str:
        """The model's name under the export folder: `export_name`, else the zoo model's name."""
        return self.export_name or self.model

    def model_overrides(self) -> dict[str, Any]:
        """The model's constructor arguments this run sets: `model_config`, then `estimator`."""
        overrides = dict(self.model_config)
        if self.estimator is not None:
            overrides["estimator"] = self.estimator
        return overrides

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]):
        """Builds a config from a dict; unknown keys are an error that lists the valid ones."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown config keys: {unknown}. Valid keys: {sorted(known)}")
        return cls(**values)

    @classmethod
    def check_values(cls, values: Mapping[str, Any], source: str = "") -> None:
        """Checks the type and bounds of each known setting in `values` (before any is merged).

        A value that a flag will replace is still checked: a config file with
        a wrong value is wrong whatever the command line says.
        """
        types = setting_types(cls)
        for field in dataclasses.fields(cls):
            if field.name in values:
                try:
                    check_setting(field.name, values[field.name], types[field.name], field.metadata)
                except ValueError as error:
                    raise ValueError(f"{source}{error}") from None

    # The key under which a run folder's config.json holds this config.
    file_key = "run_config"

    @classmethod
    def from_file(cls, path: str, **overrides):
        """Reads a JSON config file; `overrides` (not None) win over it.

        Unknown keys are an error that lists the valid ones. The file may be a
        run's or a search's own `config.json`.
        """
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Config file not found: {path!r}")
        try:
            with open(path) as f:
                values = json.load(f)
        except json.JSONDecodeError as error:
            raise ValueError(f"Config file {path!r} is not valid JSON: {error}") from None
        except UnicodeDecodeError:
            raise ValueError(f"Config file {path!r} is not a text (JSON) file.") from None
        if not isinstance(values, dict):
            raise ValueError(f"Config file {path!r} must hold a JSON object.")
        values = values.get(cls.file_key, values)
        if not isinstance(values, dict):
            raise ValueError(f"Config file {path!r}: {cls.file_key!r} must be a JSON object.")
        cls.check_values(values, source=f"Config file {path!r}: ")
        return cls.from_dict({**values, **{k: v for k, v in overrides.items() if v is not None}})


__all__ = ["RunConfig", "base_type", "check_setting", "setting", "setting_types"]
