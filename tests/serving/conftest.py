"""Serving fixtures: a tiny exported MLP VAE and a real server on a free loopback port."""

import numpy as np
import pytest

INPUT_DIM, LATENT_DIM = 64, 2


def export_tiny(base, name="mlp_vae", seed=0):
    """Exports an untrained tiny MLP VAE to `base/name/<next version>`; returns the version path."""
    from keras_rt.export import export_model
    from keras_rt.zoo import MLPVAE

    model = MLPVAE(input_shape=(INPUT_DIM,), latent_dim=LATENT_DIM, hidden_units=(8,), seed=seed)
    return export_model(model, str(base), name)


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """A base path holding `mlp_vae/1`."""
    base = tmp_path_factory.mktemp("saved_models")
    export_tiny(base)
    return base


@pytest.fixture(scope="module")
def server(exported):
    """The REST server over `exported`, in a thread of this process."""
    from keras_rt.serving import ModelStore, start_server

    store = ModelStore(str(exported), poll_seconds=0, num_versions=1)
    with start_server(store, max_body_bytes=256 * 1024, max_batch_size=512) as running:
        yield running


@pytest.fixture
def x():
    return np.random.RandomState(0).rand(3, INPUT_DIM).astype(np.float32)
