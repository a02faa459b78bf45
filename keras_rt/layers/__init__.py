"""Keras 3 layers that put the reparameterization trick into any model.

| layer | distribution | gradient |
|---|---|---|
| `Sampling` | diagonal Gaussian | z = mean + sigma * eps |
| `MultivariateNormalTriLSampling` | full-covariance Gaussian | z = mean + L eps |
| `GumbelSoftmaxSampling` | relaxed categorical | Gumbel-softmax / straight-through |
| `DistributionSampling` | TFP family by name | reparameterized or implicit |
| `GaussianKL` | KL(q \\|\\| N(0, I)) via `add_loss` | closed form |
| `CategoricalKL` | KL(q \\|\\| Uniform) via `add_loss` | closed form |

The samplers `Sampling`, `MultivariateNormalTriLSampling` and
`GumbelSoftmaxSampling` subclass `BaseSampler` (seed, sample axis, inference
mode, noise); the KL layers subclass `BaseKL` (weight variable, free bits,
metric), which is how `keras_rt.callbacks.KLWarmup` finds them.
"""

from keras_rt.layers.base_kl import BaseKL
from keras_rt.layers.base_sampler import BaseSampler
from keras_rt.layers.categorical_kl import CategoricalKL
from keras_rt.layers.distribution_sampling import DistributionSampling
from keras_rt.layers.gaussian_kl import GaussianKL
from keras_rt.layers.gumbel_softmax import GumbelSoftmaxSampling
from keras_rt.layers.mvn_sampling import MultivariateNormalTriLSampling
from keras_rt.layers.sampling import Sampling

__all__ = [
    "BaseKL",
    "BaseSampler",
    "CategoricalKL",
    "DistributionSampling",
    "GaussianKL",
    "GumbelSoftmaxSampling",
    "MultivariateNormalTriLSampling",
    "Sampling",
]
