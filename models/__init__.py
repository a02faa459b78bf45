"""The keras-rt model zoo, installed as `keras_rt.zoo` (source folder: `models/`).

Importing this package registers every zoo model in `ZOO`:

>>> from keras_rt.zoo import ZOO, get_zoo_entry
>>> sorted(ZOO)
['beta_vae', 'conv_vae', 'cvae', 'fullcov_vae', 'gumbel_vae', 'iwae', 'mlp_vae']
"""

from keras_rt.zoo import (  # noqa: F401  (importing a model's package registers it)
    beta_vae,
    conv_vae,
    cvae,
    fullcov_vae,
    gumbel_vae,
    iwae,
    mlp_vae,
)
from keras_rt.zoo.beta_vae import BetaVAE, BetaVAEConfig
from keras_rt.zoo.conv_vae import ConvVAE, ConvVAEConfig
from keras_rt.zoo.cvae import CVAE, CVAEConfig
from keras_rt.zoo.fullcov_vae import FullCovVAE, FullCovVAEConfig
from keras_rt.zoo.gaussian_vae import GaussianVAE
from keras_rt.zoo.gumbel_vae import GumbelVAE, GumbelVAEConfig
from keras_rt.zoo.iwae import IWAE, IWAEConfig
from keras_rt.zoo.mlp_vae import MLPVAE, MLPVAEConfig
from keras_rt.zoo.registry import ZOO, ZooEntry, get_zoo_entry, register_model

__all__ = [
    "ZOO",
    "CVAE",
    "BetaVAE",
    "BetaVAEConfig",
    "CVAEConfig",
    "ConvVAE",
    "ConvVAEConfig",
    "FullCovVAE",
    "FullCovVAEConfig",
    "GaussianVAE",
    "GumbelVAE",
    "GumbelVAEConfig",
    "IWAE",
    "IWAEConfig",
    "MLPVAE",
    "MLPVAEConfig",
    "ZooEntry",
    "get_zoo_entry",
    "register_model",
]
