"""`iwae`: importance-weighted autoencoder trained on the IWAE-k bound."""

import dataclasses

from keras_rt.zoo.iwae.layers import ImportanceLogWeights
from keras_rt.zoo.iwae.model import IWAE
from keras_rt.zoo.registry import register_model


@dataclasses.dataclass
class IWAEConfig:
    """Hyperparameters of `IWAE` (input shape and seed come from the run)."""

    latent_dim: int = 2
    hidden_units: tuple[int, ...] = (256, 128)
    likelihood: str = "bernoulli"
    num_samples: int = 10


PRESETS = {
    "digits": {"latent_dim": 2, "hidden_units": (128, 64), "num_samples": 10},
    "fashion_mnist": {"latent_dim": 16, "hidden_units": (512, 256), "num_samples": 10},
    "mnist": {"latent_dim": 16, "hidden_units": (512, 256), "num_samples": 10},
}

register_model(
    "iwae",
    IWAE,
    IWAEConfig,
    presets=PRESETS,
    flat_input=True,
    description="importance-weighted autoencoder (k samples per example, IWAE-k objective)",
)

__all__ = ["IWAE", "IWAEConfig", "ImportanceLogWeights"]
