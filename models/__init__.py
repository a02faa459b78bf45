"""The keras-rt model zoo, installed as `keras_rt.zoo` (source folder: `models/`).

Importing this package registers every zoo model in `ZOO`:

>>> from keras_rt.zoo import ZOO, get_zoo_entry
>>> sorted(ZOO)
['conv_vae', 'mlp_vae']
"""

from keras_rt.zoo import conv_vae, mlp_vae  # noqa: F401  (registers the models)
from keras_rt.zoo.conv_vae import ConvVAE, ConvVAEConfig
from keras_rt.zoo.gaussian_vae import GaussianVAE
from keras_rt.zoo.mlp_vae import MLPVAE, MLPVAEConfig
from keras_rt.zoo.registry import ZOO, ZooEntry, get_zoo_entry, register_model

__all__ = [
    "ZOO",
    "ConvVAE",
    "ConvVAEConfig",
    "GaussianVAE",
    "MLPVAE",
    "MLPVAEConfig",
    "ZooEntry",
    "get_zoo_entry",
    "register_model",
]
