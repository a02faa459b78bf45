"""`gumbel_vae`: categorical-latent VAE (Gumbel-softmax, or score function with RLOO)."""

import dataclasses

from keras_rt.zoo.gumbel_vae.model import GumbelVAE, OneHotSampling
from keras_rt.zoo.registry import register_model


@dataclasses.dataclass
class GumbelVAEConfig:
    """Hyperparameters of `GumbelVAE`; `latent_dim` is the number of categorical variables."""

    latent_dim: int = 20
    num_classes: int = 10
    hidden_units: tuple[int, ...] = (256, 128)
    likelihood: str = "bernoulli"
    temperature: float = 1.0
    min_temperature: float = 0.5
    anneal_rate: float = 3e-5
    hard: bool = False
    estimator: str = "gumbel_softmax"
    num_score_samples: int = 4
    beta: float = 1.0


PRESETS = {
    "digits": {"latent_dim": 8, "num_classes": 10, "hidden_units": (128, 64), "anneal_rate": 1e-3},
    "fashion_mnist": {"latent_dim": 20, "num_classes": 10, "hidden_units": (512, 256)},
    "mnist": {"latent_dim": 20, "num_classes": 10, "hidden_units": (512, 256)},
}

register_model(
    "gumbel_vae",
    GumbelVAE,
    GumbelVAEConfig,
    presets=PRESETS,
    flat_input=True,
    description="categorical latent: Gumbel-softmax (or score-function RLOO) gradients",
)

__all__ = ["GumbelVAE", "GumbelVAEConfig", "OneHotSampling"]
