"""The zoo's registry: model name -> class, config dataclass, presets.

Each zoo model registers itself when its sub-package is imported (see
`keras_rt.zoo.__init__`). Scripts use `choices=sorted(ZOO)`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras


@dataclasses.dataclass(frozen=True)
class ZooEntry:
    """What the training script needs to know about a zoo model.

    Attributes:
        name: registry name (`--model NAME`).
        model_cls: the registered `keras.Model` subclass.
        config_cls: dataclass of the model's hyperparameters (everything the
            constructor takes except `input_shape` and `seed`, which come from
            the dataset and the run).
        presets: per-dataset overrides of `config_cls`'s defaults.
        flat_input: whether the model takes flattened images.
        needs_labels: whether the model takes `(x, label)` examples.
        description: one line for `--help` and the README.
    """

    name: str
    model_cls: type
    config_cls: type
    presets: dict[str, dict[str, Any]]
    flat_input: bool
    description: str
    needs_labels: bool = False

    def config_for(self, dataset: str, overrides: dict[str, Any] | None = None):
        """The config dataclass for `dataset`: defaults, then preset, then overrides."""
        values = dict(self.presets.get(dataset, {}))
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        known = {f.name for f in dataclasses.fields(self.config_cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"Unknown config keys for model {self.name!r}: {unknown}. Valid keys: {sorted(known)}"
            )
        return self.config_cls(**values)

    def build(self, config, *, input_shape, seed: int | None = None) -> keras.Model:
        """Builds the model from a config dataclass (or dict)."""
        values = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
        try:
            return self.model_cls(input_shape=tuple(input_shape), seed=seed, **values)
        except TypeError as error:  # e.g. "hidden_units": 5 instead of a list
            raise ValueError(
                f"Bad config for model {self.name!r}: {error}. Received: {values}"
            ) from None


ZOO: dict[str, ZooEntry] = {}


def register_model(
    name: str,
    model_cls: type,
    config_cls: type,
    *,
    presets: dict[str, dict[str, Any]] | None = None,
    flat_input: bool = False,
    description: str = "",
    needs_labels: bool = False,
) -> ZooEntry:
    """Adds a model to the zoo; a duplicate name is an error."""
    if name in ZOO:
        raise ValueError(f"A zoo model named {name!r} is already registered.")
    entry = ZooEntry(
        name, model_cls, config_cls, dict(presets or {}), flat_input, description, needs_labels
    )
    ZOO[name] = entry
    return entry


def get_zoo_entry(name: str) -> ZooEntry:
    """Looks a zoo model up by name; unknown names list the valid ones."""
    if name not in ZOO:
        raise ValueError(f"Unknown model. Received: model={name!r}. Valid models: {sorted(ZOO)}")
    return ZOO[name]
