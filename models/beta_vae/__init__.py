"""`beta_vae`: beta-VAE with KL warm-up (linear or cyclical) and free bits."""

import dataclasses

from keras_rt.zoo.beta_vae.model import BetaVAE
from keras_rt.zoo.registry import register_model


@dataclasses.dataclass
class BetaVAEConfig:
    """Hyperparameters of `BetaVAE` (input shape and seed come from the run)."""

    latent_dim: int = 8
    hidden_units: tuple[int, ...] = (256, 128)
    likelihood: str = "bernoulli"
    beta: float = 4.0
    free_bits: float = 0.0
    warmup: str = "linear"
    warmup_epochs: float = 10.0
    num_cycles: int = 4


PRESETS = {
    "digits": {"latent_dim": 8, "hidden_units": (128, 64), "beta": 2.0, "free_bits": 0.1},
    "fashion_mnist": {"latent_dim": 16, "hidden_units": (512, 256)},
    "mnist": {"latent_dim": 16, "hidden_units": (512, 256)},
}

register_model(
    "beta_vae",
    BetaVAE,
    BetaVAEConfig,
    presets=PRESETS,
    flat_input=True,
    description="beta-VAE with KL warm-up (linear/cyclical) and free bits",
)

__all__ = ["BetaVAE", "BetaVAEConfig"]
