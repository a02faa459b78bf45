"""The machine and package versions saved next to each trained model and printed with benchmarks."""

from __future__ import annotations

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

    Example:

    >>> "cores" in cpu_description()
    True
    """
    from keras_rt.performance.machine import cpu_facts

    return cpu_facts().describe()


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
