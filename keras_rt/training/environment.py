"""The machine and package versions saved next to each trained model and printed with benchmarks."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

PACKAGES = (
    "keras-rt",
    "tensorflow",
    "keras",
    "tensorflow-probability",
    "keras-tuner",
    "numpy",
    "scikit-learn",
)


def cpu_description() -> str:
    """The CPU's model name, core count and the matrix features speed depends on.

    Read from `/proc/cpuinfo` where there is one (Linux), else from `platform`.

    Example:

    >>> "cores" in cpu_description()
    True
    """
    name = platform.processor() or platform.machine() or "unknown CPU"
    flags: set[str] = set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and value.strip():
                    name = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    features: list[str] = [
        f for f in ("avx512f", "avx512_bf16", "amx_bf16", "amx_tile") if f in flags
    ]
    if flags and not any(f.startswith("amx") for f in features):
        features.append("no AMX")
    extras = f"; {', '.join(features)}" if features else ""
    return f"{name} ({os.cpu_count()} cores{extras})"


def package_versions() -> dict[str, str]:
    """Python, platform, CPU and the versions of the packages keras-rt runs on."""
    versions = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_description(),
    }
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
