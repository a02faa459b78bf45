"""The registry: names, argument checks, custom data sets."""

import numpy as np
import pytest

from keras_rt.datasets import (
    DATASETS,
    DatasetSpec,
    load_arrays,
    load_dataset,
    register_dataset,
)


def test_builtin_names():
    assert sorted(DATASETS) == ["digits", "fashion_mnist", "mnist"]
    assert all(isinstance(spec, DatasetSpec) for spec in DATASETS.values())
    assert DATASETS["mnist"].image_shape == (28, 28, 1)


def test_unknown_name_lists_valid_names_sorted():
    with pytest.raises(ValueError) as info:
        load_dataset("cifar10")
    message = str(info.value)
    assert "digits, fashion_mnist, mnist" in message
    assert "Received: name='cifar10'" in message
    with pytest.raises(ValueError, match="digits, fashion_mnist, mnist"):
        load_arrays("nope")


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"batch_size": 0}, "batch_size=0"),
        ({"batch_size": -3}, "batch_size=-3"),
        ({"batch_size": 2.5}, "batch_size=2.5"),
        ({"batch_size": True}, "batch_size=True"),
        ({"max_examples": 0}, "max_examples=0"),
        ({"seed": -1}, "seed=-1"),
        ({"seed": "0"}, "seed='0'"),
        ({"binarized": "yes"}, "binarized='yes'"),
        ({"flatten": 1}, "flatten=1"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, received):
    with pytest.raises(ValueError, match=f"Received: {received}"):
        load_dataset("digits", **kwargs)


def test_digits_takes_no_data_dir(tmp_path):
    with pytest.raises(ValueError, match="data_dir="):
        load_dataset("digits", data_dir=str(tmp_path))


def test_arrays_split_request_is_checked():
    with pytest.raises(ValueError, match="Received: split='val'"):
        load_dataset("digits", max_examples=8).arrays("val")


def test_register_custom_dataset_as_decorator():
    name = "tiny_test_dataset"
    try:

        @register_dataset(
            name, image_shape=(2, 2, 1), num_classes=2, validation_size=2, test_size=3
        )
        def load_tiny(data_dir=None):
            x = np.linspace(0, 1, 4 * 20, dtype="float32").reshape(20, 2, 2)
            return {"train": (x, np.arange(20) % 2)}

        assert DATASETS[name].loader is load_tiny
        splits = load_dataset(name, batch_size=4, flatten=True, with_labels=True)
        assert splits.num_examples == {"train": 15, "validation": 2, "test": 3}
        assert splits.input_shape == (4,)
        x, y = next(iter(splits.train))
        assert x.shape == (4, 4) and y.shape == (4,)
        with pytest.raises(ValueError, match="already registered"):
            register_dataset(
                name, load_tiny, image_shape=(2, 2, 1), num_classes=2, validation_size=2
            )
    finally:
        DATASETS.pop(name, None)


def test_loader_with_wrong_image_shape_is_reported():
    name = "wrong_shape_test_dataset"
    try:
        register_dataset(
            name,
            lambda data_dir=None: {"train": (np.zeros((10, 3, 3), "float32"), np.zeros(10))},
            image_shape=(2, 2, 1),
            num_classes=2,
            validation_size=2,
            test_size=2,
        )
        with pytest.raises(ValueError, match=r"expected \(2, 2, 1\)"):
            load_dataset(name)
    finally:
        DATASETS.pop(name, None)
