"""The keras-rt model zoo, installed as `keras_rt.zoo` (source folder: `models/`).

Importing this package registers every zoo model in `ZOO`:

>>> from keras_rt.zoo import ZOO, get_zoo_entry
>>> sorted(ZOO)
['beta_vae', 'conv_vae', 'cvae', 'fullcov_vae', 'gumbel_vae', 'iwae', 'mlp_vae']

A zoo model is one folder: `models/<name>/model.py` with its class, and an
`__init__.py` with one `register_model` call and its presets.
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
from keras_rt.zoo.beta_vae import BetaVAE
from keras_rt.zoo.conv_vae import ConvVAE
from keras_rt.zoo.cvae import CVAE
from keras_rt.zoo.fullcov_vae import FullCovVAE
from keras_rt.zoo.gaussian_vae import GaussianVAE
from keras_rt.zoo.gumbel_vae import GumbelVAE
from keras_rt.zoo.iwae import IWAE
from keras_rt.zoo.mlp_vae import MLPVAE
from keras_rt.zoo.registry import ZOO, ZooEntry, get_zoo_entry, register_model
from keras_rt.zoo.vae import VAE

__all__ = [
    "ZOO",
    "CVAE",
    "VAE",
    "BetaVAE",
    "ConvVAE",
    "FullCovVAE",
    "GaussianVAE",
    "GumbelVAE",
    "IWAE",
    "MLPVAE",
    "ZooEntry",
    "get_zoo_entry",
    "register_model",
]
