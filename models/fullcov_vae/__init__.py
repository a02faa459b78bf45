"""`fullcov_vae`: VAE with a full-covariance Gaussian posterior."""

from keras_rt.zoo.fullcov_vae.model import FullCovVAE
from keras_rt.zoo.registry import register_model

register_model(
    "fullcov_vae",
    FullCovVAE,
    presets={
        "digits": {"latent_dim": 2, "hidden_units": (128, 64)},
        "fashion_mnist": {"latent_dim": 16, "hidden_units": (512, 256)},
        "mnist": {"latent_dim": 16, "hidden_units": (512, 256)},
    },
)

__all__ = ["FullCovVAE"]
