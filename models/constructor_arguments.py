"""The constructor is the config: a zoo model's hyperparameters are its constructor arguments.

Each class declares the arguments it adds (or whose default it changes) in
its `__init__`, and passes the rest on with `**kwargs`: a hyperparameter is
declared once, in the class that uses it. The model's arguments are those of
its whole chain of constructors (`constructor_arguments`), less the ones a
class leaves out with `excluded_arguments` (e.g. `IWAE` has no `beta`).

`ConstructorArguments` (a mixin for `keras.Model` subclasses) records the
arguments of every construction, defaults included, and `get_config` returns
exactly them, so `from_config(get_config())` rebuilds the same model and
`config.json` next to a run or an export holds every hyperparameter. The
registry validates presets against the same arguments.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

# Arguments that are not hyperparameters: the data decides the input shape,
# the run decides the seed, and Keras's own keyword arguments go to the base.
RUN_ARGUMENTS = ("input_shape", "seed")
KERAS_ARGUMENTS = ("name", "trainable", "dtype")
_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _constructors(cls: type) -> list[inspect.Signature]:
    """Signatures of the `__init__`s that a construction of `cls` runs through, most derived first.

    The chain follows the method resolution order while each `__init__`
    forwards `**kwargs`, and stops at `ConstructorArguments` (Keras's classes come after it).
    """
    chain = []
    for klass in cls.__mro__:
        if klass is ConstructorArguments:
            break
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        signature = inspect.signature(init)
        chain.append(signature)
        if not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            break
    return chain


def constructor_arguments(cls: type) -> dict[str, Any]:
    """Name -> default (`inspect.Parameter.empty` if none) of every argument a model class takes.

    Arguments of the whole constructor chain, base classes' first; a default
    is the one of the most derived class that declares the argument; names in
    the class's `excluded_arguments` are left out.

    Args:
        cls: a `ConstructorArguments` subclass (e.g. a zoo model).

    Returns:
        An ordered dict (`self`, `*args` and `**kwargs` left out).

    Example:

    >>> from keras_rt.zoo import BetaVAE
    >>> arguments = constructor_arguments(BetaVAE)
    >>> arguments["beta"], arguments["hidden_units"], "free_bits" in arguments
    (4.0, (256, 128), True)
    """
    excluded = set(getattr(cls, "excluded_arguments", ()))
    chain = _constructors(cls)
    defaults: dict[str, Any] = {}
    for signature in chain:  # most derived first: its defaults win
        for parameter in signature.parameters.values():
            if parameter.kind in _NAMED and parameter.name != "self":
                defaults.setdefault(parameter.name, parameter.default)
    # In the order of the base class's signature (input_shape, latent_dim, ...), then what
    # subclasses add.
    ordered = [n for s in reversed(chain) for n in s.parameters if n in defaults]
    return {n: defaults[n] for n in dict.fromkeys(ordered) if n not in excluded}


def to_config_value(value: Any) -> Any:
    """A JSON-friendly copy of a constructor argument: tuples become lists, NumPy scalars numbers.

    Example:

    >>> to_config_value((128, np.int64(64)))
    [128, 64]
    """
    if isinstance(value, (list, tuple)):
        return [to_config_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_config_value(v) for k, v in value.items()}
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        return value.item()
    return value


def bind_arguments(cls: type, args: tuple, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The value of every argument of `cls` in a construction `cls(*args, **kwargs)`.

    Raises:
        ValueError: an argument `cls` does not take (one it excludes, or a
            misspelled one), naming the valid arguments.
    """
    arguments = constructor_arguments(cls)
    chain = _constructors(cls)
    positional = (
        [p.name for p in chain[0].parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD][1:]
        if chain
        else []
    )
    given = dict(zip(positional, args))
    given.update(kwargs)
    unknown = sorted(set(given) - set(arguments) - set(KERAS_ARGUMENTS))
    if unknown:
        valid = list(arguments) + list(KERAS_ARGUMENTS)
        raise ValueError(f"{cls.__name__} does not take {unknown}. Valid arguments: {valid}")
    # A required argument left out is not recorded: `__init__` raises Python's own error.
    return {
        name: given.get(name, default)
        for name, default in arguments.items()
        if name in given or default is not inspect.Parameter.empty
    }


class ConstructorArguments:
    """Mixin: `get_config()` returns the constructor's arguments, defaults included.

    Put it before `keras.Model` in the bases. The arguments are recorded in
    `__new__`, before `__init__` runs, exactly as they were given (then made
    JSON-friendly), so a subclass only declares its arguments in its
    signature and never writes `get_config`.

    Example:

    >>> class Toy(ConstructorArguments, keras.Model):
    ...     def __init__(self, units: int = 4, seed=None, **kwargs):
    ...         inputs = keras.Input((3,))
    ...         super().__init__(inputs, keras.layers.Dense(units)(inputs), **kwargs)
    >>> config = Toy(units=2).get_config()
    >>> config["units"], config["seed"]
    (2, None)
    """

    _constructor_arguments: dict[str, Any]
    # Arguments of a base class that this class does not take (they are refused).
    excluded_arguments: tuple[str, ...] = ()

    def __new__(cls, *args, **kwargs):
        values = bind_arguments(cls, args, kwargs)
        instance = super().__new__(cls, *args, **kwargs)
        config = {name: to_config_value(value) for name, value in values.items()}
        object.__setattr__(instance, "_constructor_arguments", config)
        return instance

    def get_config(self) -> dict[str, Any]:
        """Keras's `name`, `trainable` and `dtype`, then every constructor argument."""
        layer: Any = self
        return {
            "name": layer.name,
            "trainable": layer.trainable,
            "dtype": layer.dtype_policy.name,
            **self._constructor_arguments,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        """Builds the model from `get_config()`'s dict."""
        config = dict(config)
        if isinstance(config.get("dtype"), dict):  # a serialized `DTypePolicy`
            config["dtype"] = config["dtype"].get("config", {}).get("name")
        return cls(**config)


__all__ = [
    "KERAS_ARGUMENTS",
    "RUN_ARGUMENTS",
    "ConstructorArguments",
    "bind_arguments",
    "constructor_arguments",
    "to_config_value",
]
