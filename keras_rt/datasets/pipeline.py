"""What every data set shares: scaling, seeded splits, binarization, tf.data.

Pipelines (built by `train_pipeline` and `eval_pipeline`):

- **train**: `range(N)` -> `shuffle` (seeded, all N example *indices* in the
  buffer, reshuffled each iteration) -> `batch` -> `map(tf.gather)` from the
  images held in memory -> [binarized: dynamic binarization] -> `prefetch`.
  Shuffling indices rather than images is the same uniform permutation, but
  filling the buffer costs N integers instead of N images: shuffling the
  images themselves stalled the first step of every epoch for about a second
  on Fashion-MNIST.
- **validation / test**: `from_tensor_slices` -> `batch` -> `cache()` ->
  `prefetch`; never shuffled. When binarized, the images were binarized
  once, beforehand, with a fixed seed (`fixed_binarize`).

Both run with a fixed map parallelism and prefetch depth and with tf.data's
autotuner off (`_finish`): these in-memory pipelines (a gather and at most one
cheap op per batch) have nothing to tune, and with the autotuner on, dropping
a finished epoch's iterator inside `fit` stalled the next epoch's first step
for up to a second about every third epoch on 2 CPU cores.

Dynamic binarization (Burda et al., 2016) draws `x_bin ~ Bernoulli(x)`
afresh every epoch: the batched dataset is zipped with
`tf.data.Dataset.random(seed=..., rerandomize_each_iteration=True)` seeds
(pairs, one per batch) and `tf.random.stateless_uniform(shape, seed) < x` is
mapped over it -- all on the tf.data graph (no `py_function`), so the same
pipeline runs on any device and the draws are reproducible for a seed.
Binarizing whole batches rather than single images is the same distribution
and one vectorized op per batch instead of one per image.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # TensorFlow is imported where a pipeline is built: listing datasets stays light
    import tensorflow as tf

SPLITS: tuple[str, ...] = ("train", "validation", "test")

# Offsets that give each use of the user's seed its own random stream.
_SPLIT_STREAM = 0
_FIXED_BINARIZATION_STREAM = {"validation": 1, "test": 2}
_SHUFFLE_SEED_OFFSET = 0
_BINARIZATION_SEED_OFFSET = 1

# Batches prepared ahead of the training step, and batches prepared at once by
# each map (a gather or a binarization of 128 images takes well under a
# millisecond: two workers keep far ahead of any step on CPU or GPU).
PREFETCH_BATCHES = 2
MAP_PARALLELISM = 2


def _finish(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Prefetches `PREFETCH_BATCHES` and turns tf.data's autotuner off (see the module docstring)."""
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(PREFETCH_BATCHES).with_options(options)


def to_unit_images(images: np.ndarray, max_value: float) -> np.ndarray:
    """Scales images to float32 in [0, 1] with a trailing channel axis.

    Args:
        images: `(N, H, W)` or `(N, H, W, C)` array of values in
            `[0, max_value]`.
        max_value: the largest possible value (255 for uint8 images, 16 for
            scikit-learn's digits).

    Returns:
        A float32 array of shape `(N, H, W, C)` (`C = 1` for `(N, H, W)`).
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4:
        raise ValueError(
            "Expected images of shape (N, H, W) or (N, H, W, C). "
            f"Received: images.shape={images.shape}"
        )
    scaled = images.astype(np.float32)  # a copy: scaled in place below.
    scaled /= np.float32(max_value)
    return np.clip(scaled, 0.0, 1.0, out=scaled)


def to_labels(labels: np.ndarray) -> np.ndarray:
    """Returns labels as a flat int32 array."""
    return np.asarray(labels).reshape(-1).astype(np.int32)


def to_readonly_splits(
    raw: Mapping[str, tuple[np.ndarray, np.ndarray]], max_value: float
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Raw `{split: (images, labels)}` -> read-only float32 images in [0, 1] and int32 labels."""
    splits = {}
    for split, (images, labels) in raw.items():
        x = to_unit_images(images, max_value)
        y = to_labels(labels)
        x.flags.writeable = False
        y.flags.writeable = False
        splits[split] = (x, y)
    return splits


def seeded_split(
    x: np.ndarray,
    y: np.ndarray,
    sizes: Mapping[str, int],
    seed: int,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Carves seeded random splits of given sizes out of `(x, y)`.

    Args:
        x: examples, first axis the example axis.
        y: labels, same length as `x`.
        sizes: split name -> number of examples, e.g.
            `{"validation": 5000}`; the examples left over form `"train"`.
        seed: the permutation seed (numpy's `default_rng([seed, 0])`).

    Returns:
        Split name -> `(x, y)`, including `"train"` (the remainder). Each
        split keeps the original order of its examples.
    """
    n = len(x)
    taken = sum(sizes.values())
    if taken >= n:
        raise ValueError(
            f"Cannot carve {dict(sizes)} out of {n} examples: nothing would be left for training."
        )
    permutation = np.random.default_rng([seed, _SPLIT_STREAM]).permutation(n)
    splits = {}
    start = 0
    for split, size in sizes.items():
        index = np.sort(permutation[start : start + size])
        splits[split] = (x[index], y[index])
        start += size
    index = np.sort(permutation[start:])
    splits["train"] = (x[index], y[index])
    return splits


def fixed_binarize(x: np.ndarray, seed: int, split: str) -> np.ndarray:
    """One seeded Bernoulli draw per pixel: `1` with probability `x`.

    Used for validation and test: the same binarized images every time for a
    given `seed` and `split` (numpy's PCG64, identical on every machine).

    Args:
        x: float array of probabilities in [0, 1].
        seed: the user's seed.
        split: `"validation"` or `"test"` (each has its own stream).

    Returns:
        A float32 array of 0s and 1s, shaped like `x`.
    """
    rng = np.random.default_rng([seed, _FIXED_BINARIZATION_STREAM[split]])
    return (rng.random(x.shape, dtype=np.float32) < x).astype(np.float32)


def _binarize(x: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    import tensorflow as tf

    uniform = tf.random.stateless_uniform(tf.shape(x), seed=seed, dtype=x.dtype)
    return tf.cast(uniform < x, x.dtype)


def dynamic_binarize(dataset: tf.data.Dataset, seed: int, with_labels: bool) -> tf.data.Dataset:
    """Maps a fresh Bernoulli draw over `dataset`'s images, new every epoch.

    Args:
        dataset: elements `x` or `(x, label)`.
        seed: seeds `tf.data.Dataset.random(..., rerandomize_each_iteration=
            True)`, whose values (in pairs) seed `tf.random.stateless_uniform`.
        with_labels: whether elements are `(x, label)`.

    Returns:
        The dataset with `x` replaced by float 0/1 draws.
    """
    import tensorflow as tf

    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    zipped = tf.data.Dataset.zip((dataset, seeds))
    if with_labels:
        fn = lambda xy, s: (_binarize(xy[0], s), xy[1])  # noqa: E731
    else:
        fn = _binarize
    return zipped.map(fn, num_parallel_calls=MAP_PARALLELISM, deterministic=True)


def _slices(x: np.ndarray, y: np.ndarray, with_labels: bool) -> tf.data.Dataset:
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y) if with_labels else x)


def train_pipeline(
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    seed: int,
    binarized: bool,
    with_labels: bool,
    shuffle: bool,
) -> tf.data.Dataset:
    """The training pipeline; see the module docstring.

    Args:
        x: float32 images in [0, 1].
        y: int32 labels.
        batch_size: examples per batch (the last batch may be smaller).
        seed: shuffle and dynamic binarization seed.
        binarized: whether to binarize dynamically (fresh draw each epoch).
        with_labels: elements `(x, label)` instead of `x`.
        shuffle: whether to shuffle (seeded, reshuffled every epoch).

    Returns:
        A batched, prefetched `tf.data.Dataset`.
    """
    import tensorflow as tf

    images = tf.convert_to_tensor(x)
    labels = tf.convert_to_tensor(y)
    indices = tf.data.Dataset.range(len(x))
    if shuffle:
        indices = indices.shuffle(
            len(x),
            seed=seed + _SHUFFLE_SEED_OFFSET,
            reshuffle_each_iteration=True,
        )
    if with_labels:
        gather = lambda i: (tf.gather(images, i), tf.gather(labels, i))  # noqa: E731
    else:
        gather = lambda i: tf.gather(images, i)  # noqa: E731
    dataset = indices.batch(batch_size).map(
        gather, num_parallel_calls=MAP_PARALLELISM, deterministic=True
    )
    if binarized:
        dataset = dynamic_binarize(dataset, seed + _BINARIZATION_SEED_OFFSET, with_labels)
    return _finish(dataset)


def eval_pipeline(
    x: np.ndarray, y: np.ndarray, *, batch_size: int, with_labels: bool
) -> tf.data.Dataset:
    """A validation or test pipeline: not shuffled, batched, cached, prefetched.

    Args:
        x: float32 images (already binarized, when binarized).
        y: int32 labels.
        batch_size: examples per batch (the last batch may be smaller).
        with_labels: elements `(x, label)` instead of `x`.

    Returns:
        A `tf.data.Dataset`.
    """

    return _finish(_slices(x, y, with_labels).batch(batch_size).cache())
