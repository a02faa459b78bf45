"""`mlp_vae`: fully connected VAE (the default zoo model)."""

import dataclasses

from keras_rt.zoo.mlp_vae.model import MLPVAE
from keras_rt.zoo.registry import register_model


@dataclasses.dataclass
class MLPVAEConfig:
    """Hyperparameters of `MLPVAE` (input shape and seed come from the run)."""

    latent_dim: int = 2
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
    "mlp_vae",
    MLPVAE,
    MLPVAEConfig,
    presets=PRESETS,
    flat_input=True,
    description="VAE with Dense encoder/decoder and a diagonal-Gaussian latent",
)

__all__ = ["MLPVAE", "MLPVAEConfig"]
