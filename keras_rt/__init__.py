"""keras-rt: the reparameterization trick for Keras 3."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from keras_rt.version import __version__  # noqa: E402

__all__ = ["__version__"]
