"""The zoo's registry: model name -> model class and its per-dataset presets.

Each zoo model registers itself, with one `register_model` call, when its
sub-package is imported (see `keras_rt.zoo`). The model's hyperparameters
are its constructor's arguments (`keras_rt.zoo.constructor_arguments`); the
registry facts (`description`, `flat_input`, `needs_labels`) are attributes
of its class. Scripts list the names with `sorted(ZOO)`.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from keras_rt.zoo.constructor_arguments import RUN_ARGUMENTS, constructor_arguments


@dataclasses.dataclass(frozen=True)
class ZooEntry:
    """A registered zoo model.

    Attributes:
        name: registry name (`--model NAME`).
        model_cls: the registered `keras.Model` subclass; its constructor
            arguments are the model's hyperparameters.
        presets: dataset name -> constructor arguments that replace the
            defaults for that dataset (plain dicts, checked at registration).
    """

    name: str
    model_cls: type
    presets: Mapping[str, Mapping[str, Any]]

    @property
    def description(self) -> str:
        """One line for `--help` and the README (the class's `description`)."""
        return getattr(self.model_cls, "description", "")

    @property
    def flat_input(self) -> bool:
        """Whether the model takes flattened images (the class's `flat_input`)."""
        return bool(getattr(self.model_cls, "flat_input", True))

    @property
    def needs_labels(self) -> bool:
        """Whether the model takes `{"x": images, "label": labels}` (the class's `needs_labels`)."""
        return bool(getattr(self.model_cls, "needs_labels", False))

    @property
    def estimators(self) -> tuple[str, ...]:
        """The gradient estimators the model accepts (the class's `estimators`; the first is the default)."""
        return tuple(getattr(self.model_cls, "estimators", ()))

    def hyperparameters(self) -> dict[str, Any]:
        """Name -> default of every hyperparameter (constructor arguments but the run's)."""
        return {
            name: default
            for name, default in constructor_arguments(self.model_cls).items()
            if name not in RUN_ARGUMENTS
        }

    def check_keys(self, values: Mapping[str, Any], what: str = "config") -> None:
        """Raises `ValueError` naming the valid keys if `values` has a key the constructor lacks."""
        valid = sorted(self.hyperparameters())
        unknown = sorted(set(values) - set(valid))
        if unknown:
            raise ValueError(
                f"Unknown {what} keys for model {self.name!r}: {unknown}. Valid keys: {valid}"
            )

    def config_for(
        self, dataset: str, overrides: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The model's constructor arguments for `dataset`: the preset, then `overrides` (not None).

        Arguments in neither keep the constructor's defaults (see `build`).
        Unknown keys are an error that names the valid ones.
        """
        values = dict(self.presets.get(dataset, {}))
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        self.check_keys(values)
        if "estimator" in values:
            self.check_estimator(values["estimator"])
        return values

    def check_estimator(self, estimator: Any) -> None:
        """Raises `ValueError` naming the model and its valid estimators unless it accepts `estimator`."""
        valid = tuple(getattr(self.model_cls, "estimators", ()))
        if estimator not in valid:
            raise ValueError(
                f"Model {self.name!r} does not accept estimator={estimator!r}. "
                f"Valid estimators: {list(valid)}"
            )

    def build(
        self,
        config: Mapping[str, Any],
        *,
        input_shape: Sequence[int],
        seed: int | None = None,
    ):
        """Builds the model from constructor arguments (e.g. `config_for`'s dict)."""
        values = dict(config)
        self.check_keys(values)
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
    *,
    presets: Mapping[str, Mapping[str, Any]] | None = None,
) -> ZooEntry:
    """Adds a model to the zoo.

    Args:
        name: registry name; a duplicate is an error.
        model_cls: a `keras.Model` subclass whose constructor takes
            `input_shape`, `seed` and its hyperparameters (see `keras_rt.zoo.vae.VAE`).
        presets: dataset name -> constructor arguments for that dataset; each
            key must be a constructor argument.

    Returns:
        The `ZooEntry`.

    Example:

    >>> from keras_rt.zoo import MLPVAE
    >>> entry = register_model("wide_mlp_vae", MLPVAE, presets={"digits": {"hidden_units": (512,)}})
    >>> entry.config_for("digits")
    {'hidden_units': (512,)}
    >>> del ZOO["wide_mlp_vae"]
    """
    if name in ZOO:
        raise ValueError(f"A zoo model named {name!r} is already registered.")
    if not inspect.isclass(model_cls):
        raise ValueError(f"`model_cls` must be a class. Received: model_cls={model_cls!r}")
    entry = ZooEntry(name, model_cls, {k: dict(v) for k, v in (presets or {}).items()})
    for dataset, preset in entry.presets.items():
        entry.check_keys(preset, what=f"preset {dataset!r}")
    ZOO[name] = entry
    return entry


def get_zoo_entry(name: str) -> ZooEntry:
    """Looks a zoo model up by name; unknown names list the valid ones."""
    if name not in ZOO:
        raise ValueError(f"Unknown model. Received: model={name!r}. Valid models: {sorted(ZOO)}")
    return ZOO[name]


__all__ = ["ZOO", "ZooEntry", "get_zoo_entry", "register_model"]
