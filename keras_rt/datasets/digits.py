"""`digits`: scikit-learn's bundled 8x8 handwritten digits (the offline default).

1,797 grey-level images of shape `(8, 8, 1)`, 10 classes, shipped inside the
scikit-learn wheel (`sklearn.datasets.load_digits()`), so it works on a fresh
machine without network. Values 0-16 are divided by 16 into [0, 1].

There is no official split: a seeded one (the `seed` of `load_dataset`) gives
1,297 train / 200 validation / 300 test images.
"""

from __future__ import annotations

import functools

import numpy as np

from keras_rt.datasets.pipeline import to_labels, to_unit_images

NAME = "digits"
IMAGE_SHAPE = (8, 8, 1)
NUM_CLASSES = 10
MAX_VALUE = 16.0
VALIDATION_SIZE = 200
TEST_SIZE = 300
DESCRIPTION = "scikit-learn's 8x8 digits, 1,797 images (bundled, offline)"


@functools.lru_cache(maxsize=1)
def _read() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = to_unit_images(bunch.images, MAX_VALUE)
    y = to_labels(bunch.target)
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y


def load(data_dir: str | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Loads all 1,797 digits as one `"train"` split (the registry splits it).

    Args:
        data_dir: must be `None`: the data set is bundled with scikit-learn.

    Returns:
        `{"train": (x, y)}`: read-only float32 images `(1797, 8, 8, 1)` in
        [0, 1] and int32 labels.

    Raises:
        ValueError: `data_dir` is given.
    """
    if data_dir is not None:
        raise ValueError(
            "The `digits` data set is bundled with scikit-learn and does not "
            f"read a data directory. Received: data_dir={data_dir!r}"
        )
    return {"train": _read()}


def clear_cache() -> None:
    """Forgets the in-process copy of the data."""
    _read.cache_clear()
