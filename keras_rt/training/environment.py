"""Package versions saved next to each trained model, for reproducibility."""

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


def package_versions() -> dict[str, str]:
    """Python, platform and the versions of the packages keras-rt runs on."""
    versions = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
