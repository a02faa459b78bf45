"""Lazy package exports: a name is imported from its module on first use.

Packages whose modules import TensorFlow (slow to start) use it for their
public names, so that a light module of theirs (a config, the CLI flags)
imports without TensorFlow and `keras-rt COMMAND --help` answers at once.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable, Callable]:
    """`(__getattr__, __dir__)` for a package whose `exports` map public names to submodules.

    Args:
        package: the package's `__name__`.
        exports: public name -> submodule (relative to the package) that defines it.

    Returns:
        The module-level `__getattr__` and `__dir__` (PEP 562).

    Example:

    >>> getattr_, dir_ = lazy_exports("keras_rt.ops", {"check_int": "validation"})
    >>> getattr_("check_int").__name__
    'check_int'
    """

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__


__all__ = ["lazy_exports"]
