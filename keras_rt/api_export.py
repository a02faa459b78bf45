"""One decorator that makes a keras-rt object public and loadable."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import keras

T = TypeVar("T")

PACKAGE = "keras_rt"


def keras_rt_export(name: str | None = None) -> Callable[[T], T]:
    """Registers a class or function for Keras serialization under `keras_rt>`.

    Everything public in keras-rt goes through this decorator, so nothing
    public can be saved without also being loadable with
    `keras.models.load_model` in safe mode.

    Args:
        name: registered name; defaults to the object's `__name__`.

    Returns:
        The decorator, which returns the object unchanged.

    Example:

    >>> @keras_rt_export()
    ... class MyLayer(keras.layers.Layer):
    ...     pass
    """
    return keras.saving.register_keras_serializable(package=PACKAGE, name=name)
