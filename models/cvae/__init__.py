"""`cvae`: conditional VAE (label-conditioned encoder and decoder)."""

from keras_rt.zoo.cvae.model import CVAE
from keras_rt.zoo.registry import register_model

register_model(
    "cvae",
    CVAE,
    presets={
        "digits": {"latent_dim": 2, "hidden_units": (128, 64)},
        "fashion_mnist": {"latent_dim": 16, "hidden_units": (512, 256)},
        "mnist": {"latent_dim": 16, "hidden_units": (512, 256)},
    },
)

__all__ = ["CVAE"]
