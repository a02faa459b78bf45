import pytest

from keras_rt.datasets import load_dataset
from tests.zoo.tiny import TINY


@pytest.fixture(scope="session")
def digits_labeled():
    from keras_rt.training.data import with_label_inputs

    return with_label_inputs(
        load_dataset(
            "digits", batch_size=32, flatten=True, with_labels=True, max_examples=96, seed=0
        )
    )


@pytest.fixture(scope="session")
def digits_flat():
    return load_dataset("digits", batch_size=32, flatten=True, max_examples=96, seed=0)


@pytest.fixture(scope="session")
def digits_images():
    return load_dataset("digits", batch_size=32, max_examples=96, seed=0)


@pytest.fixture
def tiny_model():
    """Builds a tiny zoo model by name; returns (model, splits-fixture-name)."""
    from keras_rt.zoo import get_zoo_entry

    def build(name, **overrides):
        entry = get_zoo_entry(name)
        config = entry.config_for("digits", {**TINY[name], **overrides})
        input_shape = (64,) if entry.flat_input else (8, 8, 1)
        return entry.build(config, input_shape=input_shape, seed=0)

    return build
