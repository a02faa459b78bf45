"""`load_splits`: the one data-preparation function of training runs and searches."""

from __future__ import annotations

import dataclasses

from keras_rt.run_config import RunConfig


def load_splits(config: RunConfig, entry):
    """The data of a run or a search, shaped for the zoo model `entry` describes.

    Flattened images for models with `flat_input`, `{"x", "label"}` inputs
    for models that need labels; the split, shuffling and binarization
    follow `config`'s seed.

    Returns:
        A `keras_rt.datasets.DatasetSplits`.
    """
    from keras_rt.datasets import load_dataset

    splits = load_dataset(
        config.dataset,
        batch_size=config.batch_size,
        binarized=config.binarized,
        flatten=entry.flat_input,
        with_labels=entry.needs_labels,
        seed=config.seed,
        data_dir=config.data_dir,
        max_examples=config.max_examples,
    )
    return with_label_inputs(splits) if entry.needs_labels else splits


def with_label_inputs(splits):
    """`(x, label)` elements -> `({"x": x, "label": label},)`: conditional models take both as inputs."""

    def to_inputs(x, label):
        return ({"x": x, "label": label},)

    return dataclasses.replace(
        splits,
        **{name: getattr(splits, name).map(to_inputs) for name in ("train", "validation", "test")},
    )


__all__ = ["load_splits", "with_label_inputs"]
