"""The data set registry: names -> loaders, and `load_dataset`.

`DATASETS` is a plain dict from name to `DatasetSpec`; scripts offer
`choices=sorted(DATASETS)`. Built in:

- `digits`: `(8, 8, 1)`; 1,297 / 200 / 300 train / validation / test,
  a seeded split; scikit-learn, bundled (the offline default).
- `fashion_mnist`: `(28, 28, 1)`; 55,000 / 5,000 / 10,000: a seeded
  validation split of the official train set, the official test set; the
  Debian package `dataset-fashion-mnist`, a `data_dir`, or a keras download.
- `mnist`: `(28, 28, 1)`; split as `fashion_mnist`; a keras download or a
  `data_dir`.

`load_dataset` returns a `DatasetSplits` with tf.data pipelines (pixel
values in [0, 1]; see `keras_rt.datasets.pipeline` for their exact shape),
optionally binarized the way published VAE/IWAE log-likelihoods are
measured: a fresh Bernoulli draw every epoch for training, one fixed seeded
draw for validation and test.

Errors: an unknown name or a bad argument raises `ValueError` ("Received:
name=value"); a missing `data_dir` raises `FileNotFoundError` naming it; a
data set that is neither on disk nor downloadable raises
`DatasetUnavailableError` (a `FileNotFoundError`) saying how to get it.

Size: about 440 lines, over half of them docstrings and examples; the registry
and `load_dataset` are one contract (a name, its spec, its splits), kept together.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf

from keras_rt.datasets import digits, fashion_mnist, mnist
from keras_rt.datasets.errors import CorruptDatasetError
from keras_rt.datasets.pipeline import (
    SPLITS,
    eval_pipeline,
    fixed_binarize,
    seeded_split,
    train_pipeline,
)
from keras_rt.ops.validation import check_bool, check_int

SplitArrays = dict[str, tuple[np.ndarray, np.ndarray]]
Loader = Callable[..., Mapping[str, tuple[np.ndarray, np.ndarray]]]


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A registered data set.

    Args:
        name: the registry name.
        loader: `loader(data_dir) -> {"train": (x, y)[, "test": (x, y)]}`,
            images float32 in [0, 1] of shape `(N,) + image_shape` (or
            `(N, H, W)` for one channel), integer labels. Without a `"test"`
            split, `test_size` examples are carved out of `"train"`.
        image_shape: `(H, W, C)`.
        num_classes: number of label classes.
        validation_size: examples carved (seeded) out of train for validation.
        test_size: examples carved (seeded) out of train for test, when the
            loader has no official `"test"` split; `None` otherwise.
        description: one line for `--help` texts and listings.
    """

    name: str
    loader: Loader
    image_shape: tuple[int, int, int]
    num_classes: int
    validation_size: int
    test_size: int | None = None
    description: str = ""


DATASETS: dict[str, DatasetSpec] = {}


def register_dataset(
    name: str,
    loader: Loader | None = None,
    *,
    image_shape: tuple[int, int, int],
    num_classes: int,
    validation_size: int,
    test_size: int | None = None,
    description: str = "",
    overwrite: bool = False,
):
    """Adds a data set to `DATASETS`; usable as a decorator on the loader.

    Args:
        name: the registry name.
        loader: `loader(data_dir) -> {"train": (x, y)[, "test": (x, y)]}`;
            see `DatasetSpec`. Leave it out to use `register_dataset(...)` as
            a decorator.
        image_shape: `(H, W, C)`.
        num_classes: number of label classes.
        validation_size: examples carved (seeded) out of train for validation.
        test_size: examples carved out of train for test when the loader has
            no `"test"` split.
        description: one line for listings.
        overwrite: replace an existing registration instead of raising.

    Returns:
        The `DatasetSpec` (or, as a decorator, the loader unchanged).

    Example:

    >>> @register_dataset("tiny", image_shape=(2, 2, 1), num_classes=2,
    ...                   validation_size=2, test_size=2)
    ... def load_tiny(data_dir=None):
    ...     x = np.linspace(0, 1, 40, dtype="float32").reshape(10, 2, 2, 1)
    ...     return {"train": (x, np.arange(10) % 2)}
    >>> load_dataset("tiny", batch_size=4).num_examples
    {'train': 6, 'validation': 2, 'test': 2}
    """
    if loader is None:

        def decorator(fn: Loader) -> Loader:
            register_dataset(
                name,
                fn,
                image_shape=image_shape,
                num_classes=num_classes,
                validation_size=validation_size,
                test_size=test_size,
                description=description,
                overwrite=overwrite,
            )
            return fn

        return decorator
    if not isinstance(name, str) or not name:
        raise ValueError(f"`name` must be a non-empty string. Received: name={name!r}")
    if name in DATASETS and not overwrite:
        raise ValueError(
            f"A data set named {name!r} is already registered; pass "
            f"overwrite=True to replace it. Received: name={name!r}"
        )
    if len(tuple(image_shape)) != 3:
        raise ValueError(f"`image_shape` must be (H, W, C). Received: image_shape={image_shape!r}")
    check_int("num_classes", num_classes)
    check_int("validation_size", validation_size)
    check_int("test_size", test_size, allow_none=True)
    height, width, channels = (int(d) for d in image_shape)
    spec = DatasetSpec(
        name=name,
        loader=loader,
        image_shape=(height, width, channels),
        num_classes=int(num_classes),
        validation_size=int(validation_size),
        test_size=None if test_size is None else int(test_size),
        description=description,
    )
    DATASETS[name] = spec
    return spec


def get_dataset_spec(name: str) -> DatasetSpec:
    """Returns `DATASETS[name]`, or raises `ValueError` listing valid names."""
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown data set. Valid names: {', '.join(sorted(DATASETS))}. Received: name={name!r}"
        ) from None


def load_arrays(
    name: str, data_dir: str | os.PathLike | None = None, *, seed: int = 0
) -> SplitArrays:
    """Loads a data set as numpy arrays split into train / validation / test.

    The source files are read once per process (each loader keeps an
    `functools.lru_cache`d, read-only copy; `clear_cache()` forgets them);
    the seeded split is redone per call.

    Args:
        name: a key of `DATASETS`.
        data_dir: where to read the files from (see each loader); `None`
            uses the loader's default sources.
        seed: seed of the train / validation (/ test) split.

    Returns:
        `{"train": (x, y), "validation": (x, y), "test": (x, y)}`: float32
        images `(N, H, W, C)` in [0, 1] (grey levels, not binarized) and
        int32 labels.

    Raises:
        ValueError: unknown `name` or bad `seed`.
        FileNotFoundError: `data_dir` is missing (names the path).
        DatasetUnavailableError: the data set is neither on disk nor
            downloadable (the message says how to get it).
        CorruptDatasetError: a data file is corrupt.

    Example:

    >>> arrays = load_arrays("digits")
    >>> arrays["train"][0].shape, arrays["test"][0].shape
    ((1297, 8, 8, 1), (300, 8, 8, 1))
    """
    spec = get_dataset_spec(name)
    check_int("seed", seed, minimum=0)
    source = dict(spec.loader(data_dir))
    if "train" not in source:
        raise CorruptDatasetError(f"Loader of {name!r} returned no 'train' split.")
    sizes = {"validation": spec.validation_size}
    if "test" not in source:
        if spec.test_size is None:
            raise CorruptDatasetError(
                f"Loader of {name!r} returned no 'test' split and the data set "
                "has no test_size to carve one."
            )
        sizes["test"] = spec.test_size
    x, y = source["train"]
    splits = seeded_split(x, y, sizes, seed)
    if "test" in source:
        splits["test"] = source["test"]
    result = {}
    for split in SPLITS:
        x, y = splits[split]
        x = np.asarray(x, dtype=np.float32)
        if x.ndim == 3:
            x = x[..., np.newaxis]
        if x.shape[1:] != spec.image_shape:
            raise CorruptDatasetError(
                f"{name!r} {split} images have shape {x.shape[1:]}; expected "
                f"{spec.image_shape} (wrong files in data_dir?)"
            )
        result[split] = (x, np.asarray(y).reshape(-1).astype(np.int32))
    return result


@dataclasses.dataclass(frozen=True, eq=False)
class DatasetSplits:
    """What `load_dataset` returns: three tf.data pipelines and their facts.

    Attributes:
        name: the registry name.
        train: shuffled (seeded, each epoch), batched, prefetched; with
            `binarized`, a fresh Bernoulli draw every epoch.
        validation: not shuffled; batched, cached, prefetched; with
            `binarized`, one fixed seeded draw.
        test: as `validation`.
        image_shape: `(H, W, C)`.
        input_shape: `image_shape`, or `(H * W * C,)` when `flatten`.
        num_examples: `{"train": int, "validation": int, "test": int}`.
        num_classes: number of label classes.
        binarized: whether pixels are 0/1 draws.
        flatten: whether images are flat vectors.
        with_labels: whether elements are `(x, label)` rather than `x`.
        batch_size: examples per batch.
        seed: the seed of split, shuffle and binarization.

    Elements are float32 `x` of shape `(batch,) + input_shape`, or
    `(x, label)` with int32 labels of shape `(batch,)`.
    """

    name: str
    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    image_shape: tuple[int, int, int]
    input_shape: tuple[int, ...]
    num_examples: dict[str, int]
    num_classes: int
    binarized: bool
    flatten: bool
    with_labels: bool
    batch_size: int
    seed: int
    _eval_arrays: Mapping[str, tuple[np.ndarray, np.ndarray]] = dataclasses.field(
        repr=False, compare=False
    )

    def arrays(self, split: str = "test") -> tuple[np.ndarray, np.ndarray]:
        """The processed validation or test split as numpy arrays.

        Exactly what the split's pipeline yields, unbatched: the same
        `max_examples` cap, `flatten`, and fixed binarization.

        Args:
            split: `"validation"` or `"test"`.

        Returns:
            `(x, y)`: float32 images of shape `(N,) + input_shape` and int32
            labels of shape `(N,)` (read-only).
        """
        if split not in self._eval_arrays:
            raise ValueError(
                "`split` must be 'validation' or 'test' (training images are "
                "binarized afresh every epoch; use `load_arrays` for the raw "
                f"train split). Received: split={split!r}"
            )
        return self._eval_arrays[split]

    def test_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """`arrays("test")`: `(x_test, y_test)` for plots and IWAE evaluation."""
        return self.arrays("test")

    def validation_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """`arrays("validation")`."""
        return self.arrays("validation")


def load_dataset(
    name: str = "digits",
    *,
    batch_size: int = 128,
    binarized: bool = False,
    flatten: bool = False,
    with_labels: bool = False,
    seed: int = 0,
    data_dir: str | os.PathLike | None = None,
    max_examples: int | None = None,
    shuffle: bool = True,
) -> DatasetSplits:
    """Loads a registered data set as train / validation / test tf.data pipelines.

    Args:
        name: a key of `DATASETS` (`"digits"`, `"fashion_mnist"`, `"mnist"`).
        batch_size: examples per batch; the last batch of a split may be
            smaller.
        binarized: binarize pixels (Burda et al., 2016): a fresh Bernoulli
            draw every epoch for train, one fixed seeded draw for
            validation and test.
        flatten: images as `(H * W * C,)` vectors instead of `(H, W, C)`.
        with_labels: elements `(x, label)` (int32 label) instead of `x`.
        seed: seed of the train / validation split (and test, for `digits`),
            of the shuffle, and of both binarizations. Same seed, same data,
            in the same order.
        data_dir: where to read the files from (see each loader's module);
            `None` uses the loader's default sources.
        max_examples: keep at most this many examples of each split (the
            first ones after splitting); for tests and quick runs.
        shuffle: shuffle the train split (validation and test never are).

    Returns:
        A `DatasetSplits`.

    Raises:
        ValueError: unknown `name` (the message lists the valid ones) or a
            bad argument ("Received: name=value").
        FileNotFoundError: `data_dir` is missing (the message names it).
        DatasetUnavailableError: the data set is neither on disk nor
            downloadable; the message says how to get it.
        CorruptDatasetError: a data file is corrupt (a `ValueError`).

    Example:

    >>> splits = load_dataset("digits", batch_size=32, binarized=True)
    >>> splits.num_examples
    {'train': 1297, 'validation': 200, 'test': 300}
    >>> next(iter(splits.train)).shape
    TensorShape([32, 8, 8, 1])
    """
    spec = get_dataset_spec(name)
    check_int("batch_size", batch_size)
    check_int("max_examples", max_examples, allow_none=True)
    check_int("seed", seed, minimum=0)
    for arg, value in (
        ("binarized", binarized),
        ("flatten", flatten),
        ("with_labels", with_labels),
        ("shuffle", shuffle),
    ):
        check_bool(arg, value)
    batch_size, seed = int(batch_size), int(seed)
    binarized, flatten = bool(binarized), bool(flatten)
    with_labels, shuffle = bool(with_labels), bool(shuffle)

    arrays = load_arrays(name, data_dir, seed=seed)
    image_shape = spec.image_shape
    input_shape = (int(np.prod(image_shape)),) if flatten else image_shape
    processed = {}
    for split in SPLITS:
        x, y = arrays[split]
        if max_examples is not None:
            x, y = x[:max_examples], y[:max_examples]
        x = x.reshape((len(x),) + input_shape)
        if binarized and split != "train":
            x = fixed_binarize(x, seed, split)
        x, y = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.int32)
        x.flags.writeable = False
        y.flags.writeable = False
        processed[split] = (x, y)

    train = train_pipeline(
        *processed["train"],
        batch_size=batch_size,
        seed=seed,
        binarized=binarized,
        with_labels=with_labels,
        shuffle=shuffle,
    )
    evals = {
        split: eval_pipeline(*processed[split], batch_size=batch_size, with_labels=with_labels)
        for split in ("validation", "test")
    }
    return DatasetSplits(
        name=name,
        train=train,
        validation=evals["validation"],
        test=evals["test"],
        image_shape=image_shape,
        input_shape=input_shape,
        num_examples={split: len(processed[split][0]) for split in SPLITS},
        num_classes=spec.num_classes,
        binarized=binarized,
        flatten=flatten,
        with_labels=with_labels,
        batch_size=batch_size,
        seed=seed,
        _eval_arrays={split: processed[split] for split in ("validation", "test")},
    )


def clear_cache() -> None:
    """Forgets the in-process copies of the built-in data sets' files."""
    for module in (digits, fashion_mnist, mnist):
        module.clear_cache()


for _module in (digits, fashion_mnist, mnist):
    register_dataset(
        _module.NAME,
        _module.load,
        image_shape=_module.IMAGE_SHAPE,
        num_classes=_module.NUM_CLASSES,
        validation_size=_module.VALIDATION_SIZE,
        test_size=getattr(_module, "TEST_SIZE", None),
        description=_module.DESCRIPTION,
    )
del _module
