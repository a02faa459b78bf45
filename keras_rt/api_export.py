"""`keras_rt_export`: the one decorator that registers a public keras-rt class for `.keras` loading.

It is `keras.saving.register_keras_serializable(package="keras_rt")` under
one name: a class it decorates is saved as `keras_rt>ClassName`, so a
`.keras` file that contains it loads with `keras.models.load_model` in safe
mode, without `custom_objects`, once the class's module is imported. Every
public layer, zoo model and estimator of keras-rt carries it. The name
follows keras-hub's `api_export` decorator, which does the same registration
for keras-hub; this one exports nothing else (no API-path aliases).
"""

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
    >>> keras.saving.get_registered_name(MyLayer)
    'keras_rt>MyLayer'
    """
    return keras.saving.register_keras_serializable(package=PACKAGE, name=name)
