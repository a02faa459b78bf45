"""`gumbel_vae`: categorical-latent VAE (Gumbel-softmax, or score function with RLOO)."""

from keras_rt.zoo.gumbel_vae.model import GumbelVAE, OneHotSampling
from keras_rt.zoo.registry import register_model

register_model(
    "gumbel_vae",
    GumbelVAE,
    presets={
        "digits": {
            "latent_dim": 8,
            "num_classes": 10,
            "hidden_units": (128, 64),
            "anneal_rate": 1e-3,
        },
        "fashion_mnist": {"latent_dim": 20, "num_classes": 10, "hidden_units": (512, 256)},
        "mnist": {"latent_dim": 20, "num_classes": 10, "hidden_units": (512, 256)},
    },
)

__all__ = ["GumbelVAE", "OneHotSampling"]
