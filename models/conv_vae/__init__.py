"""`conv_vae`: convolutional VAE."""

import dataclasses

from keras_rt.zoo.conv_vae.model import ConvVAE
from keras_rt.zoo.registry import register_model


@dataclasses.dataclass
class ConvVAEConfig:
    """Hyperparameters of `ConvVAE` (input shape and seed come from the run)."""

    latent_dim: int = 16
    filters: tuple[int, ...] = (32, 64)
    hidden_units: int = 256
    likelihood: str = "bernoulli"
    beta: float = 1.0
    free_bits: float = 0.0


PRESETS = {
    "digits": {"latent_dim": 2, "filters": (16, 32), "hidden_units": 64},
    "fashion_mnist": {"latent_dim": 16, "filters": (32, 64), "hidden_units": 256},
    "mnist": {"latent_dim": 16, "filters": (32, 64), "hidden_units": 256},
}

register_model(
    "conv_vae",
    ConvVAE,
    ConvVAEConfig,
    presets=PRESETS,
    flat_input=False,
    description="VAE with a convolutional encoder and a transposed-convolution decoder",
)

__all__ = ["ConvVAE", "ConvVAEConfig"]
