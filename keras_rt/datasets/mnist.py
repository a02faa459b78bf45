"""`mnist`: LeCun et al.'s MNIST handwritten digits, 28x28 grey-level.

60,000 train / 10,000 test images of shape `(28, 28, 1)`, 10 classes,
scaled from 0-255 to [0, 1]. The official 10,000 test images are the test
split; a seeded 5,000 validation images are carved out of the 60,000 train
images (55,000 remain for training).

Sources:

1. `data_dir=` (`--data-dir` on the command line): a directory holding
   `mnist.npz` (keras's format: `x_train`, `y_train`, `x_test`, `y_test`) or
   the four standard IDX files (`train-images-idx3-ubyte.gz`, ...; `.gz`
   optional); or the path of an `.npz` file itself. When given, it is the
   only source tried.
2. Otherwise `keras.datasets.mnist.load_data()`, which downloads
   `mnist.npz` (needs internet once; then cached in `~/.keras/datasets`).

No Debian package ships MNIST installably; when neither source works,
`DatasetUnavailableError` says how to get it.
"""

from __future__ import annotations

import functools
import os
import zipfile
from pathlib import Path

import numpy as np

from keras_rt.datasets.errors import CorruptDatasetError, DatasetUnavailableError
from keras_rt.datasets.idx import check_data_dir, load_idx_directory
from keras_rt.datasets.pipeline import to_readonly_splits

NAME = "mnist"
IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
MAX_VALUE = 255.0
VALIDATION_SIZE = 5000
DESCRIPTION = "MNIST, 28x28, 60,000 train / 10,000 test (download or data_dir)"

NPZ_NAME = "mnist.npz"
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")

Splits = dict[str, tuple[np.ndarray, np.ndarray]]


def _convert(raw: dict[str, tuple[np.ndarray, np.ndarray]]) -> Splits:
    return to_readonly_splits(raw, MAX_VALUE)


def _read_npz(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [key for key in NPZ_KEYS if key not in data.files]
            if missing:
                raise CorruptDatasetError(
                    f"{path}: missing arrays {missing}; expected {list(NPZ_KEYS)}"
                )
            arrays = {key: data[key] for key in NPZ_KEYS}
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        if isinstance(error, CorruptDatasetError):
            raise
        raise CorruptDatasetError(
            f"{path}: not a readable .npz file ({error}); delete it and get it again"
        ) from error
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or len(x) != len(y):
            raise CorruptDatasetError(
                f"{path}: expected x_{split} of shape (N, H, W) and y_{split} of "
                f"shape (N,); found {x.shape} and {y.shape}"
            )
    return {
        "train": (arrays["x_train"], arrays["y_train"]),
        "test": (arrays["x_test"], arrays["y_test"]),
    }


@functools.lru_cache(maxsize=4)
def _read_path(path: str) -> Splits:
    location = Path(path)
    if location.is_file():
        return _convert(_read_npz(location))
    check_data_dir(location)
    if (location / NPZ_NAME).is_file():
        return _convert(_read_npz(location / NPZ_NAME))
    return _convert(load_idx_directory(location))


@functools.lru_cache(maxsize=1)
def _read_keras() -> Splits:
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return _convert({"train": (x_train, y_train), "test": (x_test, y_test)})


def unavailable_message(error: BaseException | None = None) -> str:
    """The one-line how-to-get-it message."""
    reason = f" ({type(error).__name__}: {error})" if error is not None else ""
    return (
        "MNIST is not available: keras.datasets.mnist could not download it"
        f"{reason}. Get it one of these ways: "
        "(1) run once with internet, and keras.datasets.mnist downloads it to "
        "~/.keras/datasets/mnist.npz; "
        "(2) copy mnist.npz, or the four IDX files train-images-idx3-ubyte.gz, "
        "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
        "t10k-labels-idx1-ubyte.gz, into a directory and pass data_dir=DIR "
        "(`--data-dir DIR` on the command line). "
        "For an offline data set, use `fashion_mnist` "
        "(`sudo apt-get install dataset-fashion-mnist`) or `digits` (bundled)."
    )


def load(data_dir: str | os.PathLike | None = None) -> Splits:
    """Loads MNIST's official train and test splits.

    Args:
        data_dir: a directory with `mnist.npz` or the four IDX files, or an
            `.npz` file; `None` uses `keras.datasets.mnist.load_data()`.

    Returns:
        `{"train": (x, y), "test": (x, y)}`: read-only float32 images
        `(N, 28, 28, 1)` in [0, 1] and int32 labels.

    Raises:
        FileNotFoundError: `data_dir` or files in it are missing (the
            message names the path).
        CorruptDatasetError: a file is corrupt.
        DatasetUnavailableError: no `data_dir` and no download possible (a
            `FileNotFoundError`; the message says how to get the data).
    """
    if data_dir is not None:
        location = Path(data_dir).expanduser()
        if not location.is_file():
            check_data_dir(location)
        return _read_path(str(location.resolve()))
    try:
        return _read_keras()
    except Exception as error:  # keras.utils.get_file raises bare Exception.
        raise DatasetUnavailableError(unavailable_message(error)) from error


def clear_cache() -> None:
    """Forgets the in-process copies of the data."""
    _read_path.cache_clear()
    _read_keras.cache_clear()
