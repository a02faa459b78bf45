"""`cvae`: conditional VAE (label-conditioned encoder and decoder)."""

import dataclasses

from keras_rt.zoo.cvae.model import CVAE
from keras_rt.zoo.registry import register_model


@dataclasses.dataclass
class CVAEConfig:
    """Hyperparameters of `CVAE` (input shape and seed come from the run)."""

    latent_dim: int = 2
    num_classes: int = 10
    hidden_units: tuple[int, ...] = (256, 128)
    likelihood: str = "bernoulli"
    beta: float = 1.0
    free_bits: float = 0.0


PRESETS = {
    "digits": {"latent_dim": 2, "hidden_units": (128, 64)},
    "fashion_mnist": {"latent_dim": 16, "hidden_units": (512, 256)},
    "mnist": {"latent_dim": 16, "hidden_units": (512, 256)},
}

register_model(
    "cvae",
    CVAE,
    CVAEConfig,
    presets=PRESETS,
    flat_input=True,
    needs_labels=True,
    description="conditional VAE: encoder and decoder see the class label",
)

__all__ = ["CVAE", "CVAEConfig"]
