"""`FullCovVAE`: a VAE whose posterior has a full covariance, z = mu + L eps."""

from __future__ import annotations

import tensorflow_probability as tfp

from keras_rt.api_export import keras_rt_export
from keras_rt.layers import GaussianKL, MultivariateNormalTriLSampling
from keras_rt.ops.gaussian import num_scale_params
from keras_rt.zoo.gaussian_vae import sample_with_kl
from keras_rt.zoo.mlp_vae.model import MLPVAE

tfd = tfp.distributions


@keras_rt_export()
class FullCovVAE(MLPVAE):
    """An `MLPVAE` with posterior `N(mu, L L^T)`: correlated latent dimensions.

    The encoder outputs the mean and `d(d+1)/2` parameters of the Cholesky
    factor `L` (a positive diagonal through softplus);
    `MultivariateNormalTriLSampling` draws `z = mu + L eps` and
    `GaussianKL(covariance="full")` adds the matching closed-form KL
    `0.5 (||L||_F^2 + ||mu||^2 - d) - sum log L_jj`.

    Args:
        latent_dim: latent dimensions d.
        **kwargs: the arguments of `MLPVAE` (`input_shape`, `hidden_units`,
            `likelihood`, `beta`, `seed`; not `free_bits`, which is defined per
            latent dimension) and Keras's `name`, `trainable`, `dtype`.

    Example:

    >>> model = FullCovVAE(input_shape=(64,), latent_dim=4)
    >>> x = np.random.default_rng(0).uniform(size=(2, 64)).astype("float32")
    >>> model.posterior(x).covariance().shape  # a full 4 x 4 covariance per example
    TensorShape([2, 4, 4])
    """

    description = "VAE with a full-covariance posterior (z = mu + L eps)"
    excluded_arguments = ("free_bits",)  # defined per latent dimension; L mixes them

    def __init__(self, latent_dim: int = 4, **kwargs):
        super().__init__(latent_dim=latent_dim, **kwargs)

    def build_graph(self, inputs, body, decoder) -> dict:
        d = self.latent_dim
        parts = {
            "encoder": self.build_encoder(
                inputs, body, {"z_mean": d, "scale_params": num_scale_params(d)}
            ),
            "kl_layer": GaussianKL(
                weight=self.beta,
                covariance="full",
                estimator="stl" if self.estimator == "stl" else "analytic",
                name="kl",
            ),
            "sampling": MultivariateNormalTriLSampling(
                seed=self.seed, noise=self.sampler_noise(), name="sampling", dtype="float32"
            ),
        }
        z = sample_with_kl(parts, parts["encoder"](inputs), stl=self.estimator == "stl")
        return {"outputs": decoder(z), **parts}

    def posterior(self, x) -> tfp.distributions.Distribution:
        mean, scale_params = self.encode(x)
        return tfd.MultivariateNormalTriL(mean, self.sampling.scale_tril(scale_params))

    def encode_outputs(self, x) -> dict:
        mean, scale_params = self.encode(x)
        return {"z_mean": mean, "scale_tril": self.sampling.scale_tril(scale_params)}
