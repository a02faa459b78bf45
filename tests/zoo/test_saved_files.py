"""`.keras` files saved by keras-rt 0.1.0 (before the constructor became the config) still load."""

from pathlib import Path

import keras
import numpy as np
import pytest

import keras_rt.layers  # noqa: F401  (registers the layers)
import keras_rt.zoo  # noqa: F401  (registers the zoo models)

# Files saved by the released 0.1.0, kept next to the repository (shared/ in CI and on
# developers' machines); a checkout without them skips these tests.
FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "keras-rt-0.1.0"
ZOO_FILES = ["zoo_conv_vae", "zoo_gumbel_vae", "zoo_iwae", "zoo_mlp_vae"]

pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"no fixtures at {FIXTURES}")


def _key(array):
    return (array.shape, round(float(np.sum(array, dtype=np.float64)), 4))


@pytest.mark.parametrize("name", ZOO_FILES)
def test_zoo_models_saved_by_0_1_0_load_with_their_weights(name):
    model = keras.models.load_model(FIXTURES / f"{name}.keras", safe_mode=True)
    saved = np.load(FIXTURES / f"{name}_weights.npz")
    assert sorted(_key(np.asarray(w)) for w in model.weights) == sorted(
        _key(saved[k]) for k in saved.files
    )
    config = model.get_config()
    assert config["dtype"] == "float32"  # 0.1.0 did not save it: the policy at load time
    assert type(model).from_config(config).get_config() == config


def test_layers_saved_by_0_1_0_compute_the_same():
    model = keras.models.load_model(FIXTURES / "layers.keras", safe_mode=True)
    io = np.load(FIXTURES / "layers_io.npz")
    outputs = model.predict(io["x"], verbose=0)
    for key in ("gaussian", "fullcov", "categorical"):
        np.testing.assert_allclose(np.asarray(outputs[key]), io[key], atol=1e-5)
