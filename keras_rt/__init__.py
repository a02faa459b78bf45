"""keras-rt: the reparameterization trick for Keras 3.

Submodules (imported on first use, so `keras-rt --help` stays fast):

- `keras_rt.layers` — `Sampling`, `MultivariateNormalTriLSampling`, `GumbelSoftmaxSampling`,
  `DistributionSampling`, `GaussianKL`, `CategoricalKL`
- `keras_rt.estimators` — score-function and pathwise gradient estimators
- `keras_rt.experiments` — variance studies and benchmarks (apart from the API)
- `keras_rt.callbacks` — `KLWarmup`, `GumbelTemperatureAnnealing`, `GradientVarianceMonitor`
- `keras_rt.datasets` — datasets by name (`digits`, `fashion_mnist`, `mnist`)
- `keras_rt.zoo` — the model zoo (source folder `models/`)
- `keras_rt.training`, `keras_rt.evaluation`, `keras_rt.export`, `keras_rt.serving`,
  `keras_rt.tuning`, `keras_rt.distribute`, `keras_rt.testing`
"""

import importlib
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from keras_rt.version import __version__  # noqa: E402

SUBMODULES = (
    "callbacks",
    "datasets",
    "distribute",
    "estimators",
    "evaluation",
    "export",
    "layers",
    "likelihoods",
    "ops",
    "serving",
    "testing",
    "training",
    "tuning",
    "zoo",
)

__all__ = ["__version__", *SUBMODULES]


def __getattr__(name):
    if name in SUBMODULES:
        return importlib.import_module(f"keras_rt.{name}")
    raise AttributeError(f"module 'keras_rt' has no attribute {name!r}")
