import pytest

from keras_rt.datasets import load_dataset

TINY = {
    "mlp_vae": {"latent_dim": 2, "hidden_units": (16,)},
    "conv_vae": {"latent_dim": 2, "filters": (4, 8), "hidden_units": 16},
    "beta_vae": {"latent_dim": 2, "hidden_units": (16,), "warmup_epochs": 1.0},
    "iwae": {"latent_dim": 2, "hidden_units": (16,), "num_samples": 4},
    "fullcov_vae": {"latent_dim": 3, "hidden_units": (16,)},
    "gumbel_vae": {"latent_dim": 3, "num_classes": 4, "hidden_units": (16,)},
    "cvae": {"latent_dim": 2, "hidden_units": (16,)},
}


@pytest.fixture(scope="session")
def digits_labeled():
    from keras_rt.training.train import with_label_inputs

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
