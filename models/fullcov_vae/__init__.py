"""`fullcov_vae`: VAE with a full-covariance Gaussian posterior."""

import dataclasses

from keras_rt.zoo.fullcov_vae.model import FullCovVAE
from keras_rt.zoo.registry import register_model


@dataclasses.dataclass
class FullCovVAEConfig:
    """Hyperparameters of `FullCovVAE` (input shape and seed come from the run)."""

    latent_dim: int = 4
    hidden_units: tuple[int, ...] = (256, 128)
    likelihood: str = "bernoulli"
    beta: float = 1.0


PRESETS = {
    "digits": {"latent_dim": 2, "hidden_units": (128, 64)},
    "fashion_mnist": {"latent_dim": 16, "hidden_units": (512, 256)},
    "mnist": {"latent_dim": 16, "hidden_units": (512, 256)},
}

register_model(
    "fullcov_vae",
    FullCovVAE,
    FullCovVAEConfig,
    presets=PRESETS,
    flat_input=True,
    description="VAE with a full-covariance posterior (z = mu + L eps)",
)

__all__ = ["FullCovVAE", "FullCovVAEConfig"]
