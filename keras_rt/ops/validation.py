"""Argument checks with messages that name the argument and what was received."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np


def check_float_dtype(name: str, tensor: Any) -> None:
    """Raises `ValueError` unless `tensor` has a floating-point dtype.

    Args:
        name: the argument's name, used in the message.
        tensor: a tensor, a `KerasTensor` or a NumPy array.
    """
    import keras  # here, not at the top: the other checks serve configs that import no TensorFlow

    dtype = keras.backend.standardize_dtype(tensor.dtype)
    if "float" not in dtype:
        raise ValueError(
            f"`{name}` must have a floating-point dtype (e.g. float32). "
            f"Received: {name}.dtype={dtype}"
        )


def _dims(shape: Sequence[Any]) -> tuple:
    return tuple(None if d is None else int(d) for d in shape)


def check_same_shape(names: Sequence[str], shapes: Sequence[Sequence[Any]]) -> None:
    """Raises `ValueError` unless all shapes agree (unknown dimensions match anything).

    Args:
        names: the arguments' names, used in the message.
        shapes: one shape per argument.
    """
    first = _dims(shapes[0])
    for name, shape in zip(names[1:], shapes[1:]):
        other = _dims(shape)
        agree = len(other) == len(first) and all(
            a is None or b is None or a == b for a, b in zip(first, other)
        )
        if not agree:
            received = ", ".join(f"{n}.shape={_dims(s)}" for n, s in zip(names, shapes))
            raise ValueError(
                f"`{names[0]}` and `{name}` must have the same shape. Received: {received}"
            )


def check_int(
    name: str, value: Any, *, minimum: int = 1, allow_none: bool = False, why: str = ""
) -> Any:
    """Returns `value` as an `int` or raises `ValueError` unless it is an integer >= `minimum`.

    Python and NumPy integers are accepted; booleans are refused (they are
    integers to Python, never meant as sizes), and so are floats, even `2.0`.

    Args:
        name: the argument's name, used in the message.
        value: the value to check.
        minimum: the smallest valid value.
        allow_none: whether `None` (meaning "off" or "all") is valid.
        why: optional text appended to the requirement in the message, e.g.
            `" with baseline='rloo'"`.

    Returns:
        `int(value)`, or `None`.

    Example:

    >>> check_int("num_samples", 4)
    4
    >>> check_int("num_samples", 0)
    Traceback (most recent call last):
    ...
    ValueError: `num_samples` must be an integer >= 1. Received: num_samples=0
    >>> check_int("seed", -1, minimum=0)
    Traceback (most recent call last):
    ...
    ValueError: `seed` must be an integer >= 0. Received: seed=-1
    """
    if value is None and allow_none:
        return value
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Integral)
        or value < minimum
    ):
        also = " or None" if allow_none else ""
        raise ValueError(
            f"`{name}` must be an integer >= {minimum}{also}{why}. Received: {name}={value!r}"
        )
    return int(value)


def check_number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
    below: float | None = None,
    allow_none: bool = False,
) -> Any:
    """Returns `value` as a float or raises `ValueError` unless it is a finite number in range.

    Args:
        name: the argument's name, used in the message.
        value: the value to check (a Python or NumPy int or float; booleans
            and strings are refused).
        minimum: the smallest valid value (inclusive), if any.
        above: a value that `value` must exceed (exclusive bound), if any.
        maximum: the largest valid value (inclusive), if any.
        below: a value that `value` must stay under (exclusive bound), if any.
        allow_none: whether `None` is valid (returned unchanged).

    Returns:
        `float(value)`, or `None`.

    Example:

    >>> check_number("beta", 4)
    4.0
    >>> check_number("temperature", 0.0, above=0)
    Traceback (most recent call last):
    ...
    ValueError: `temperature` must be a number > 0. Received: temperature=0.0
    >>> check_number("decay", 1.0, minimum=0, below=1)
    Traceback (most recent call last):
    ...
    ValueError: `decay` must be a number >= 0 and < 1. Received: decay=1.0
    """
    if value is None and allow_none:
        return value
    is_number = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    number = float(value) if is_number else math.nan
    valid = (
        math.isfinite(number)
        and (minimum is None or number >= minimum)
        and (above is None or number > above)
        and (maximum is None or number <= maximum)
        and (below is None or number < below)
    )
    if not valid:
        bounds = [
            f"{op} {bound}"
            for op, bound in ((">=", minimum), (">", above), ("<=", maximum), ("<", below))
            if bound is not None
        ]
        what = "a finite number" if not bounds else "a number " + " and ".join(bounds)
        also = " or None" if allow_none else ""
        raise ValueError(f"`{name}` must be {what}{also}. Received: {name}={value!r}")
    return number


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    """Returns `value` or raises `ValueError` naming the valid choices.

    Args:
        name: the argument's name, used in the message.
        value: the value to check.
        choices: the valid values.

    Returns:
        `value`, unchanged.

    Example:

    >>> check_choice("likelihood", "poisson", ("bernoulli", "gaussian"))
    Traceback (most recent call last):
    ...
    ValueError: `likelihood` must be one of ['bernoulli', 'gaussian']. Received: likelihood='poisson'
    """
    if isinstance(value, bool) or value not in tuple(choices):
        raise ValueError(f"`{name}` must be one of {list(choices)}. Received: {name}={value!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Returns `value` as a `bool` or raises `ValueError` unless it is `True` or `False`.

    NumPy booleans are accepted; integers such as `1` are not.

    Args:
        name: the argument's name, used in the message.
        value: the value to check.

    Returns:
        `bool(value)`.

    Example:

    >>> check_bool("hard", True)
    True
    >>> check_bool("hard", "yes")
    Traceback (most recent call last):
    ...
    ValueError: `hard` must be True or False. Received: hard='yes'
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return bool(value)
