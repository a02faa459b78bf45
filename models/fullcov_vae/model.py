"""`FullCovVAE`: a VAE whose posterior has a full covariance, z = mu + L eps."""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow_probability as tfp

from keras_rt.api_export import keras_rt_export
from keras_rt.layers import GaussianKL, MultivariateNormalTriLSampling
from keras_rt.layers.mvn_sampling import num_scale_params
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
        input_shape: shape of one (flattened) example.
        latent_dim: latent dimensions d.
        hidden_units: encoder widths (the decoder mirrors them).
        likelihood: `"bernoulli"` or `"gaussian"`.
        beta: initial KL weight.
        seed: seed of the sampling noise.
        **kwargs: `name`, `trainable`, `dtype`.

    Example:

    >>> model = FullCovVAE(input_shape=(64,), latent_dim=4)
    """

    def __init__(
        self,
        input_shape: Sequence[int] = (64,),
        latent_dim: int = 4,
        hidden_units: Sequence[int] = (256, 128),
        likelihood: str = "bernoulli",
        beta: float = 1.0,
        free_bits: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        if free_bits:
            raise ValueError(
                "free bits are defined per latent dimension; a full-covariance posterior has none. "
                f"Received: free_bits={free_bits!r}"
            )
        super().__init__(
            input_shape=input_shape,
            latent_dim=latent_dim,
            hidden_units=hidden_units,
            likelihood=likelihood,
            beta=beta,
            seed=seed,
            **kwargs,
        )

    def build_graph(self, inputs, body, decoder) -> dict:
        args = self._build_args
        d = args["latent_dim"]
        encoder = self.build_encoder(
            inputs, body, {"z_mean": d, "scale_params": num_scale_params(d)}
        )
        kl_layer = GaussianKL(weight=args["beta"], covariance="full", name="kl")
        sampling = MultivariateNormalTriLSampling(
            seed=args["seed"], name="sampling", dtype="float32"
        )
        params = decoder(sampling(kl_layer(encoder(inputs))))
        return {"outputs": params, "encoder": encoder, "kl_layer": kl_layer, "sampling": sampling}

    def posterior(self, x) -> tfd.Distribution:
        mean, scale_params = self.encode(x)
        return tfd.MultivariateNormalTriL(mean, self.sampling.scale_tril(scale_params))

    def encode_outputs(self, x) -> dict:
        mean, scale_params = self.encode(x)
        return {"z_mean": mean, "scale_tril": self.sampling.scale_tril(scale_params)}

    def get_config(self):
        config = super().get_config()
        config.pop("free_bits")
        return config
