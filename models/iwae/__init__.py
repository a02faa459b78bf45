"""`iwae`: importance-weighted autoencoder trained on the IWAE-k bound."""

from keras_rt.zoo.iwae.layers import DReGSurrogate, ImportanceLogWeights
from keras_rt.zoo.iwae.model import IWAE
from keras_rt.zoo.registry import register_model

register_model(
    "iwae",
    IWAE,
    presets={
        "digits": {"latent_dim": 2, "hidden_units": (128, 64), "num_samples": 10},
        "fashion_mnist": {"latent_dim": 16, "hidden_units": (512, 256), "num_samples": 10},
        "mnist": {"latent_dim": 16, "hidden_units": (512, 256), "num_samples": 10},
    },
)

__all__ = ["IWAE", "DReGSurrogate", "ImportanceLogWeights"]
