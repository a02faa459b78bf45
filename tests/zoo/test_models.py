import keras
import numpy as np
import pytest

from keras_rt.testing import assert_save_load_round_trip
from keras_rt.zoo import MLPVAE, ZOO, ConvVAE, get_zoo_entry

CORE = ["mlp_vae", "conv_vae"]


def _splits(name, digits_flat, digits_images):
    return digits_flat if get_zoo_entry(name).flat_input else digits_images


@pytest.mark.parametrize("name", CORE)
def test_fit_evaluate_predict_and_metrics(name, tiny_model, digits_flat, digits_images):
    splits = _splits(name, digits_flat, digits_images)
    model = tiny_model(name)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(splits.train, validation_data=splits.validation, epochs=2, verbose=0)
    expected = {"loss", "neg_elbo", "reconstruction", "kl"}
    assert expected | {f"val_{k}" for k in expected} <= set(history.history)
    result = model.evaluate(splits.test, verbose=0, return_dict=True)
    assert result["neg_elbo"] == pytest.approx(result["reconstruction"] + result["kl"], rel=1e-5)
    assert result["loss"] == pytest.approx(result["neg_elbo"], rel=1e-4)  # beta = 1
    x = splits.test_arrays()[0][:5]
    assert model.predict(x, verbose=0).shape == x.shape
    recon = np.asarray(model.reconstruct(x))
    assert recon.shape == x.shape and recon.min() >= 0 and recon.max() <= 1


@pytest.mark.parametrize("name", CORE)
def test_save_load_identical_outputs(name, tiny_model, digits_flat, digits_images, tmp_path):
    model = tiny_model(name)
    x = _splits(name, digits_flat, digits_images).test_arrays()[0][:4]
    reloaded = assert_save_load_round_trip(model, x, str(tmp_path))
    assert reloaded.get_config() == model.get_config()


def test_gaussian_likelihood_trains(tiny_model, digits_flat):
    model = tiny_model("mlp_vae", likelihood="gaussian")
    model.compile()
    history = model.fit(digits_flat.train, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert model.predict(digits_flat.test_arrays()[0][:3], verbose=0).shape == (3, 128)


def test_beta_scales_only_the_objective(tiny_model, digits_flat):
    model = tiny_model("mlp_vae", beta=0.0)
    model.compile()
    result = model.evaluate(digits_flat.test, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(result["reconstruction"], rel=1e-5)
    assert result["neg_elbo"] > result["loss"]


def test_registry_lists_core_models():
    assert set(CORE) <= set(ZOO)
    with pytest.raises(ValueError, match=r"Valid models: \[.*'mlp_vae'"):
        get_zoo_entry("transformer_vae")
    with pytest.raises(ValueError, match="Unknown config keys.*depth"):
        get_zoo_entry("mlp_vae").config_for("digits", {"depth": 3})


@pytest.mark.parametrize(
    "build,match",
    [
        (lambda: MLPVAE(latent_dim=0), "latent_dim"),
        (lambda: MLPVAE(latent_dim=2, hidden_units=()), "hidden_units"),
        (lambda: MLPVAE(likelihood="poisson"), "likelihood"),
        (lambda: ConvVAE(input_shape=(10, 10, 1), filters=(4, 8)), "divisible"),
        (lambda: ConvVAE(input_shape=(64,)), "height, width, channels"),
    ],
)
def test_bad_configs(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_compile_refuses_a_loss():
    with pytest.raises(ValueError, match="own loss"):
        MLPVAE(latent_dim=2, hidden_units=(8,)).compile(loss="mse")
