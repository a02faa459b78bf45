"""Command-line flags generated from a `RunConfig` dataclass, so `train` and `tune` cannot drift.

Every `setting(...)` with `flag=True` becomes `--kebab-name`: its type
parses the value (`none` means None for optional settings), booleans get
`--name` / `--no-name`, choices and help come from the setting. Flags left
out stay `None` and do not override `--config FILE` or the defaults.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from keras_rt.run_config import RunConfig, base_type, setting_types

NONE_WORDS = ("none", "null")


class _Off:
    """What `none` or an `off_flag` stores: the setting becomes None, even over a config file."""

    def __repr__(self) -> str:
        return "none"


OFF = _Off()


def flag_name(name: str) -> str:
    """`batch_size` -> `--batch-size`."""
    return "--" + name.replace("_", "-")


def value_parser(kind: Any, optional: bool, name: str) -> Callable[[str], Any]:
    """A function that turns a flag's text into the setting's type ('none' -> None if optional)."""

    def parse(text: str) -> Any:
        if optional and text.strip().lower() in NONE_WORDS:
            return OFF
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        if kind is Any:  # e.g. verbose: "auto" or an integer
            try:
                return int(text)
            except ValueError:
                return text
        return text

    parse.__name__ = {int: "integer", float: "number"}.get(kind, name)
    return parse


def add_config_arguments(
    parser: argparse.ArgumentParser,
    config_cls: type[RunConfig],
    *,
    choices: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Adds a flag for every setting of `config_cls` that has one.

    Args:
        parser: the command's parser.
        config_cls: a `RunConfig` dataclass.
        choices: extra choices for settings whose valid values are only known
            at run time (e.g. `{"model": zoo_model_names()}`).
    """
    types = setting_types(config_cls)
    defaults = config_cls()
    groups: dict[str, Any] = {}
    for field in dataclasses.fields(config_cls):
        meta = field.metadata
        if not meta.get("flag", False):
            continue
        target = parser
        if meta.get("group"):
            target = groups.setdefault(meta["group"], parser.add_argument_group(meta["group"]))
        kind, optional = base_type(types[field.name])
        default = getattr(defaults, field.name)
        shown = ",".join(map(str, default)) if isinstance(default, list) else default
        valid = (choices or {}).get(field.name) or meta.get("choices")
        help_text = meta["help"]
        if default is not None and "default" not in help_text:
            help_text += f" (default: {shown})"
        metavar = meta.get("metavar") or ("N" if kind in (int, float) else "VALUE")
        if valid is not None:
            metavar = "{" + ",".join(map(str, valid)) + "}"
        if kind is bool:
            target.add_argument(
                flag_name(field.name),
                dest=field.name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=help_text,
            )
            continue
        target.add_argument(
            flag_name(field.name),
            dest=field.name,
            type=value_parser(kind, optional, field.name),
            choices=valid,
            default=None,
            metavar=metavar,
            help=help_text,
        )
        if meta.get("off_flag"):
            target.add_argument(
                meta["off_flag"],
                dest=field.name,
                action="store_const",
                const=OFF,
                help=f"no {field.name.replace('_', ' ')} (sets it to none)",
            )
    parser.add_argument(
        "--config", metavar="FILE", help="JSON file with any of these settings (flags win over it)"
    )


def config_from_args(config_cls: type[RunConfig], args: argparse.Namespace):
    """Defaults <- `--config FILE` <- the flags given; not yet validated.

    Example:

    >>> parser = argparse.ArgumentParser()
    >>> from keras_rt.training.config import TrainConfig
    >>> add_config_arguments(parser, TrainConfig)
    >>> config = config_from_args(TrainConfig, parser.parse_args(["--epochs", "3", "--no-export"]))
    >>> config.epochs, config.export_dir
    (3, None)
    """
    flags: dict[str, Any] = {}
    off: list[str] = []
    for field in dataclasses.fields(config_cls):
        value = getattr(args, field.name, None)
        if value is OFF:
            off.append(field.name)
        elif value is not None:
            flags[field.name] = value
    path = getattr(args, "config", None)
    config = config_cls.from_file(path, **flags) if path else config_cls.from_dict(flags)
    for name in off:
        setattr(config, name, None)
    return config


__all__ = ["add_config_arguments", "config_from_args", "flag_name"]
