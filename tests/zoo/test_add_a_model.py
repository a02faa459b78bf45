"""Adding a zoo model is one class and one registration call: the toy model trains through `train()`."""

import importlib.util
import sys
import textwrap

import pytest

from keras_rt.training import TrainConfig, train
from keras_rt.zoo import ZOO

TOY_MODULE = textwrap.dedent(
    '''
    from keras_rt.api_export import keras_rt_export
    from keras_rt.zoo import GaussianVAE, register_model
    from keras_rt.zoo.networks import mlp_decoder, mlp_encoder


    @keras_rt_export("ToyVAE")
    class ToyVAE(GaussianVAE):
        """One hidden layer of `width` units each way."""

        description = "a toy VAE added in a test"

        def __init__(self, input_shape=(64,), latent_dim=2, width=8, seed=None, **kwargs):
            self.width = width
            super().__init__(input_shape=input_shape, latent_dim=latent_dim, seed=seed, **kwargs)

        def build_networks(self, input_shape, latent_dim, channels):
            body = mlp_encoder(input_shape, (self.width,), name="encoder_body")
            decoder = mlp_decoder((latent_dim,), (self.width,), input_shape, channels, name="decoder")
            return body, decoder


    register_model("toy_vae", ToyVAE, presets={"digits": {"width": 4}})
    '''
)


@pytest.fixture
def toy_module(tmp_path):
    path = tmp_path / "toy_zoo_model.py"
    path.write_text(TOY_MODULE)
    spec = importlib.util.spec_from_file_location("toy_zoo_model", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["toy_zoo_model"] = module
    spec.loader.exec_module(module)
    yield module
    ZOO.pop("toy_vae", None)
    sys.modules.pop("toy_zoo_model", None)


def test_a_toy_zoo_model_trains_through_train(toy_module, tmp_path):
    config = TrainConfig(
        model="toy_vae",
        dataset="digits",
        epochs=2,
        batch_size=32,
        max_examples=64,
        iwae_samples=4,
        iwae_max_examples=8,
        output_dir=str(tmp_path / "run"),
        export_dir=str(tmp_path / "saved_models"),
        plots=False,
        tensorboard=False,
        verbose=0,
        jit_compile="off",  # whole-step XLA compiles for seconds; not what is tested here
    )
    result = train(config)
    assert result.model.get_config()["width"] == 4  # the preset
    assert result.metrics["test"]["neg_elbo"] > 0
    assert len(result.history["loss"]) == 2
    assert result.export_path is not None
