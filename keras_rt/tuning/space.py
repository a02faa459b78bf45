"""`SearchSpace`: the extra search dimensions (beyond the latent size) from a config.

A config's `"search"` mapping names a field of the zoo model's config
dataclass (`"beta"`, `"hidden_units"`, `"free_bits"`, ...) or
`"learning_rate"`, and gives either a list of values (`hp.Choice`) or a range
(`hp.Int` / `hp.Float`):

    {"beta": [0.5, 1.0, 2.0],
     "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
     "hidden_units": [[64, 32], [128, 64], [256, 128]]}

KerasTuner choices hold scalars only, so a list-valued choice (such as an
MLP's `hidden_units`) is declared with the values written `"128,64"` and
turned back into a tuple when the model is built.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

RANGE_KEYS = frozenset({"min", "max", "step", "sampling"})
SAMPLINGS = ("linear", "log", "reverse_log")


def _encode(value) -> Any:
    if isinstance(value, (list, tuple)):
        return ",".join(str(int(v)) for v in value)
    return value


@dataclasses.dataclass(frozen=True)
class Dimension:
    """One search dimension.

    Attributes:
        name: config key (also the hyperparameter's name).
        values: the choices (None for a range).
        min_value, max_value, step, sampling: the range (None for a choice).
    """

    name: str
    values: tuple | None = None
    min_value: float | None = None
    max_value: float | None = None
    step: float | None = None
    sampling: str = "linear"

    @property
    def is_choice(self) -> bool:
        return self.values is not None

    @property
    def is_int(self) -> bool:
        return not self.is_choice and all(
            isinstance(v, int) for v in (self.min_value, self.max_value, self.step) if v is not None
        )

    @property
    def size(self) -> int | None:
        """Grid points along this dimension (None: continuous)."""
        if self.values is not None:
            return len(self.values)
        if self.step is None:
            return None
        assert self.min_value is not None and self.max_value is not None, (
            f"range dimension {self.name!r} needs min_value and max_value"
        )
        if self.sampling == "linear":
            return int(math.floor((self.max_value - self.min_value) / self.step + 1e-9)) + 1
        return int(math.floor(math.log(self.max_value / self.min_value, self.step) + 1e-9)) + 1

    def declare(self, hp):
        """Declares the hyperparameter on `hp`; returns the (decoded) value to use."""
        if self.is_choice:
            encoded = [_encode(v) for v in self.values]
            value = hp.Choice(self.name, encoded)
            return self.values[encoded.index(value)]
        if self.is_int:
            return hp.Int(
                self.name, self.min_value, self.max_value, step=self.step, sampling=self.sampling
            )
        return hp.Float(
            self.name, self.min_value, self.max_value, step=self.step, sampling=self.sampling
        )

    def decode(self, value):
        """A hyperparameter value as stored by KerasTuner -> the config value (JSON-friendly)."""
        if self.is_choice:
            for original in self.values:
                if _encode(original) == value:
                    return list(original) if isinstance(original, tuple) else original
        return value

    def check_values(self) -> list:
        """Values worth building a model with before the search (every choice, range ends)."""
        if self.values is not None:
            return list(self.values)
        return [self.min_value, self.max_value]


def _parse_dimension(name: str, spec) -> Dimension:
    where = f"search[{name!r}]"
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - RANGE_KEYS)
        if unknown or "min" not in spec or "max" not in spec:
            raise ValueError(
                f"`{where}` must be a list of values or a range with keys 'min', 'max' and optionally "
                f"'step', 'sampling'. Received: {where}={spec!r}"
            )
        lo, hi, step = spec["min"], spec["max"], spec.get("step")
        sampling = spec.get("sampling", "linear")
        for value in (lo, hi) + ((step,) if step is not None else ()):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(
                    f"`{where}` range bounds must be numbers. Received: {where}={spec!r}"
                )
        if not lo < hi:
            raise ValueError(f"`{where}` needs min < max. Received: {where}={spec!r}")
        if sampling not in SAMPLINGS:
            raise ValueError(
                f"`{where}` sampling must be one of {list(SAMPLINGS)}. Received: sampling={sampling!r}"
            )
        if sampling != "linear" and lo <= 0:
            raise ValueError(
                f"`{where}` with {sampling} sampling needs min > 0. Received: {where}={spec!r}"
            )
        if step is not None and (step <= 0 or (sampling != "linear" and step <= 1)):
            raise ValueError(
                f"`{where}` step must be > 0 (a factor > 1 for log sampling). Received: {where}={spec!r}"
            )
        return Dimension(name, min_value=lo, max_value=hi, step=step, sampling=sampling)
    if not isinstance(spec, (list, tuple)) or not spec:
        raise ValueError(
            f"`{where}` must be a non-empty list of values or a range {{'min': ..., 'max': ...}}; "
            f"fixed values go in `model_config`. Received: {where}={spec!r}"
        )
    values = []
    for value in spec:
        if isinstance(value, (list, tuple)):
            if not value or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
                raise ValueError(
                    f"`{where}` list values must be non-empty lists of integers. Received: {where}={spec!r}"
                )
            value = tuple(value)
        elif value is None or not isinstance(value, (int, float, str, bool)):
            raise ValueError(
                f"`{where}` values must be numbers, strings or lists. Received: {where}={spec!r}"
            )
        if value not in values:
            values.append(value)
    kinds = {type(v) for v in values}
    if kinds <= {int, float} and float in kinds:
        values = [float(v) for v in values]  # KerasTuner choices hold one type
    elif len(kinds) > 1:
        raise ValueError(
            f"`{where}` values must all have the same type. Received: {where}={spec!r}"
        )
    return Dimension(name, values=tuple(values))


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """The extra search dimensions, in the order given.

    Example:

    >>> space = SearchSpace.from_dict({"beta": [0.5, 1.0]}, valid_keys={"beta", "learning_rate"})
    >>> space.grid_size
    2
    """

    dimensions: tuple[Dimension, ...] = ()

    @classmethod
    def from_dict(cls, search: dict, *, valid_keys) -> SearchSpace:
        """Parses and validates a `"search"` mapping; `valid_keys` are the names allowed."""
        if not isinstance(search, dict):
            raise ValueError(f"`search` must be a mapping. Received: search={search!r}")
        if "latent_dim" in search or "latent_dims" in search:
            raise ValueError(
                "Search latent sizes with `latent_dims` (--latent-dims), not in `search`."
            )
        unknown = sorted(set(search) - set(valid_keys))
        if unknown:
            raise ValueError(
                f"Unknown search dimensions: {unknown}. Valid dimensions: {sorted(valid_keys)}"
            )
        return cls(tuple(_parse_dimension(name, spec) for name, spec in search.items()))

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.dimensions]

    @property
    def grid_size(self) -> int | None:
        """Product of the dimensions' sizes (None if one is continuous)."""
        size = 1
        for dimension in self.dimensions:
            if dimension.size is None:
                return None
            size *= dimension.size
        return size

    def declare(self, hp) -> dict[str, Any]:
        """Declares every dimension on `hp`; returns `{name: value}` for this trial."""
        return {d.name: d.declare(hp) for d in self.dimensions}

    def decode(self, values: dict[str, Any]) -> dict[str, Any]:
        """KerasTuner's stored values -> config values (other keys pass through)."""
        by_name = {d.name: d for d in self.dimensions}
        return {k: by_name[k].decode(v) if k in by_name else v for k, v in values.items()}
