"""Names that CLI flags offer, found without importing TensorFlow (so `--help` is fast).

Each sub-folder of the zoo (`models/`, installed as `keras_rt.zoo`) with a
`model.py` is one registered model of the same name; a test checks that
these names are `sorted(keras_rt.zoo.ZOO)`.
"""

from __future__ import annotations

import importlib.util
import os
import pkgutil


def zoo_model_names() -> list[str]:
    """Sorted names of the zoo's model folders (no TensorFlow import).

    Example:

    >>> "mlp_vae" in zoo_model_names()
    True
    """
    spec = importlib.util.find_spec("keras_rt.zoo")
    locations = list(spec.submodule_search_locations or []) if spec else []
    return sorted(
        module.name
        for module in pkgutil.iter_modules(locations)
        if module.ispkg
        and any(os.path.isfile(os.path.join(path, module.name, "model.py")) for path in locations)
    )


def dataset_names() -> list[str]:
    """Sorted names of the registered datasets (the dataset registry imports no TensorFlow).

    Example:

    >>> "digits" in dataset_names()
    True
    """
    from keras_rt.datasets import DATASETS

    return sorted(DATASETS)


__all__ = ["dataset_names", "zoo_model_names"]
