"""Argument checks with messages that name the argument and what was received."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras


def check_float_dtype(name: str, tensor: Any) -> None:
    """Raises `ValueError` unless `tensor` has a floating-point dtype.

    Args:
        name: the argument's name, used in the message.
        tensor: a tensor, a `KerasTensor` or a NumPy array.
    """
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
