"""`beta_vae`: beta-VAE with KL warm-up (linear or cyclical) and free bits."""

from keras_rt.zoo.beta_vae.model import BetaVAE
from keras_rt.zoo.registry import register_model

register_model(
    "beta_vae",
    BetaVAE,
    presets={
        "digits": {"latent_dim": 8, "hidden_units": (128, 64), "beta": 2.0, "free_bits": 0.1},
        "fashion_mnist": {"latent_dim": 16, "hidden_units": (512, 256)},
        "mnist": {"latent_dim": 16, "hidden_units": (512, 256)},
    },
)

__all__ = ["BetaVAE"]
