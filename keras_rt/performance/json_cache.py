"""The measurements' cache files: JSON read leniently and written atomically.

Example:

>>> import tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "sub", "a.json")
>>> write_json(path, {"x": 1})
>>> read_json(path)
{'x': 1}
>>> read_json(path + ".missing") is None
True
"""

from __future__ import annotations

import json
import os
from typing import Any


def read_json(path: str) -> Any | None:
    """The JSON value in `path`, or None if it is missing or unreadable."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_json(path: str, value: Any) -> None:
    """Writes `value` to `path` as indented JSON, creating its folder; atomic (a reader sees the
    old file or the new one, never half of one). Raises `OSError` if it cannot."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


__all__ = ["read_json", "write_json"]
