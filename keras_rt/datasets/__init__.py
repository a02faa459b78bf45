"""Data sets by name, as tf.data pipelines for the zoo.

>>> from keras_rt.datasets import load_dataset
>>> splits = load_dataset("digits", batch_size=64, binarized=True)
>>> splits.input_shape
(8, 8, 1)
>>> model.fit(splits.train, validation_data=splits.validation)  # doctest: +SKIP

Built in (`sorted(DATASETS)`): `digits` (scikit-learn, bundled: works
offline), `fashion_mnist` (Debian package `dataset-fashion-mnist`, a
`data_dir`, or keras download) and `mnist` (keras download or a `data_dir`).
See `keras_rt.datasets.registry` for splits and errors, and
`keras_rt.datasets.pipeline` for the pipelines and binarization.
"""

from keras_rt.datasets.errors import CorruptDatasetError, DatasetUnavailableError
from keras_rt.datasets.idx import read_idx
from keras_rt.datasets.registry import (
    DATASETS,
    DatasetSpec,
    DatasetSplits,
    clear_cache,
    get_dataset_spec,
    load_arrays,
    load_dataset,
    register_dataset,
)

__all__ = [
    "DATASETS",
    "CorruptDatasetError",
    "DatasetSpec",
    "DatasetSplits",
    "DatasetUnavailableError",
    "clear_cache",
    "get_dataset_spec",
    "load_arrays",
    "load_dataset",
    "read_idx",
    "register_dataset",
]
