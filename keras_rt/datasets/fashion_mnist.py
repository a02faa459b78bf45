"""`fashion_mnist`: Zalando's Fashion-MNIST, 28x28 grey-level clothing images.

60,000 train / 10,000 test images of shape `(28, 28, 1)`, 10 classes,
scaled from 0-255 to [0, 1]. The official 10,000 test images are the test
split; a seeded 5,000 validation images are carved out of the 60,000 train
images (55,000 remain for training).

Sources, tried in this order:

1. `data_dir=` (`--data-dir` on the command line), a directory with the four
   standard IDX files (`train-images-idx3-ubyte.gz`, ...; `.gz` optional).
   When given, it is the only source tried.
2. The Debian/Ubuntu package `dataset-fashion-mnist`
   (`apt-get install dataset-fashion-mnist`), which puts the IDX files in
   `DEBIAN_DIR` (`/usr/share/datasets/fashion-mnist`); the environment
   variable `KERAS_RT_FASHION_MNIST_DIR` overrides that path.
3. `keras.datasets.fashion_mnist.load_data()`, which downloads the files
   (needs internet once; then cached in `~/.keras/datasets`).

When none works, `DatasetUnavailableError` says how to get it.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from keras_rt.datasets.errors import DatasetUnavailableError
from keras_rt.datasets.idx import check_data_dir, has_idx_files, load_idx_directory
from keras_rt.datasets.pipeline import to_readonly_splits

NAME = "fashion_mnist"
IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
MAX_VALUE = 255.0
VALIDATION_SIZE = 5000
DESCRIPTION = "Fashion-MNIST, 28x28, 60,000 train / 10,000 test"

DEBIAN_PACKAGE = "dataset-fashion-mnist"
DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
DIR_ENV_VAR = "KERAS_RT_FASHION_MNIST_DIR"

Splits = dict[str, tuple[np.ndarray, np.ndarray]]


def default_dir() -> Path:
    """Where the Debian package puts the files (`KERAS_RT_FASHION_MNIST_DIR`
    overrides it)."""
    return Path(os.environ.get(DIR_ENV_VAR) or DEBIAN_DIR)


def _convert(raw: dict[str, tuple[np.ndarray, np.ndarray]]) -> Splits:
    return to_readonly_splits(raw, MAX_VALUE)


@functools.lru_cache(maxsize=4)
def _read_dir(path: str) -> Splits:
    return _convert(load_idx_directory(path))


@functools.lru_cache(maxsize=1)
def _read_keras() -> Splits:
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    return _convert({"train": (x_train, y_train), "test": (x_test, y_test)})


def unavailable_message(searched: Path, error: BaseException | None = None) -> str:
    """The one-line how-to-get-it message."""
    reason = f" ({type(error).__name__}: {error})" if error is not None else ""
    return (
        f"Fashion-MNIST is not available: no IDX files in {searched} and "
        f"keras.datasets.fashion_mnist could not download it{reason}. "
        "Get it one of these ways: "
        f"(1) `sudo apt-get install {DEBIAN_PACKAGE}` (Debian/Ubuntu; puts the "
        f"IDX files in {DEBIAN_DIR}, or set {DIR_ENV_VAR} to another folder); "
        "(2) put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz in a directory "
        "and pass data_dir=DIR (`--data-dir DIR` on the command line); "
        "(3) run once with internet, and keras.datasets.fashion_mnist downloads "
        "it to ~/.keras/datasets."
    )


def load(data_dir: str | os.PathLike | None = None) -> Splits:
    """Loads Fashion-MNIST's official train and test splits.

    Args:
        data_dir: a directory with the four IDX files; `None` tries the
            Debian package's folder, then `keras.datasets.fashion_mnist`.

    Returns:
        `{"train": (x, y), "test": (x, y)}`: read-only float32 images
        `(N, 28, 28, 1)` in [0, 1] and int32 labels.

    Raises:
        FileNotFoundError: `data_dir` or files in it are missing (the
            message names the path).
        CorruptDatasetError: an IDX file is corrupt.
        DatasetUnavailableError: no `data_dir`, no Debian package, and no
            download possible (a `FileNotFoundError`; the message says how to
            get the data).
    """
    if data_dir is not None:
        return _read_dir(str(check_data_dir(data_dir).resolve()))
    searched = default_dir()
    if has_idx_files(searched):
        return _read_dir(str(searched.resolve()))
    try:
        return _read_keras()
    except Exception as error:  # keras.utils.get_file raises bare Exception.
        raise DatasetUnavailableError(unavailable_message(searched, error)) from error


def clear_cache() -> None:
    """Forgets the in-process copies of the data."""
    _read_dir.cache_clear()
    _read_keras.cache_clear()
