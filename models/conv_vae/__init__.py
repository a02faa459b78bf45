"""`conv_vae`: convolutional VAE."""

from keras_rt.zoo.conv_vae.model import ConvVAE
from keras_rt.zoo.registry import register_model

register_model(
    "conv_vae",
    ConvVAE,
    presets={
        "digits": {"latent_dim": 2, "filters": (16, 32), "hidden_units": 64},
        "fashion_mnist": {"latent_dim": 16, "filters": (32, 64), "hidden_units": 256},
        "mnist": {"latent_dim": 16, "filters": (32, 64), "hidden_units": 256},
    },
)

__all__ = ["ConvVAE"]
