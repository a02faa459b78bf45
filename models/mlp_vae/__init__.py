"""`mlp_vae`: fully connected VAE (the default zoo model)."""

from keras_rt.zoo.mlp_vae.model import MLPVAE
from keras_rt.zoo.registry import register_model

register_model(
    "mlp_vae",
    MLPVAE,
    presets={
        "digits": {"latent_dim": 2, "hidden_units": (128, 64)},
        "fashion_mnist": {"latent_dim": 16, "hidden_units": (512, 256)},
        "mnist": {"latent_dim": 16, "hidden_units": (512, 256)},
    },
)

__all__ = ["MLPVAE"]
