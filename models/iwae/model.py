"""`IWAE`: importance-weighted autoencoder (Burda et al., 2016)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
from keras import ops

from keras_rt.api_export import keras_rt_export
from keras_rt.layers import GaussianKL, Sampling
from keras_rt.zoo.gaussian_vae import (
    check_positive_int,
    reject_sample_weight,
    scale_loss_for_replicas,
)
from keras_rt.zoo.iwae.layers import ImportanceLogWeights
from keras_rt.zoo.mlp_vae.model import MLPVAE


@keras_rt_export()
class IWAE(MLPVAE):
    """An `MLPVAE` trained on the IWAE-k bound instead of the ELBO.

    Each example draws k posterior samples through `Sampling(num_samples=k)`;
    the objective is the importance-weighted bound

        L_k = E[ log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x) ],

    which equals the ELBO for k = 1 and tightens towards log p(x) as k grows.
    Training is still plain `compile()` + `fit()`. `predict(x)` returns the
    `(batch, k)` log importance weights; `reconstruct`, `elbo`, `sample` and
    the export signatures work as for every zoo model.

    Metrics: `loss` (-L_k), `neg_elbo` (a k-sample Monte Carlo estimate of the
    negative ELBO) and `kl` (closed form, tracked only: the bound contains it).

    Args:
        input_shape: shape of one (flattened) example.
        latent_dim: latent dimensions.
        hidden_units: encoder widths (the decoder mirrors them).
        likelihood: `"bernoulli"` or `"gaussian"`.
        num_samples: k >= 1.
        seed: seed of the sampling noise.
        **kwargs: `name`, `trainable`, `dtype`.

    Example:

    >>> model = IWAE(input_shape=(784,), latent_dim=50, num_samples=50)
    >>> model.compile()
    >>> model.fit(binarized_train, epochs=10)

    References:
        - [Burda, Grosse & Salakhutdinov, 2016](https://arxiv.org/abs/1509.00519)
    """

    def __init__(
        self,
        input_shape: Sequence[int] = (64,),
        latent_dim: int = 2,
        hidden_units: Sequence[int] = (256, 128),
        likelihood: str = "bernoulli",
        num_samples: int = 10,
        beta: float = 1.0,
        free_bits: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        self.num_samples = check_positive_int("num_samples", num_samples)
        if beta != 1.0 or free_bits:
            raise ValueError(
                "IWAE optimizes the importance-weighted bound, which has no KL weight or free bits. "
                f"Received: beta={beta!r}, free_bits={free_bits!r}"
            )
        self._likelihood_for_graph = likelihood
        super().__init__(
            input_shape=input_shape,
            latent_dim=latent_dim,
            hidden_units=hidden_units,
            likelihood=likelihood,
            seed=seed,
            **kwargs,
        )

    def build_graph(self, inputs, body, decoder) -> dict:
        args = self._build_args
        latent_dim = args["latent_dim"]
        encoder = self.build_encoder(inputs, body, {"z_mean": latent_dim, "z_log_var": latent_dim})
        kl_layer = GaussianKL(weight=0.0, name="kl")  # tracked as a metric; the bound holds the KL
        sampling = Sampling(seed=args["seed"], name="sampling", dtype="float32")
        k_sampling = Sampling(
            seed=args["seed"], num_samples=self.num_samples, name="k_sampling", dtype="float32"
        )
        z_mean, z_log_var = kl_layer(encoder(inputs))
        z = k_sampling([z_mean, z_log_var])  # (batch, k, d)
        params = decoder(ops.reshape(z, (-1, latent_dim)))
        params = ops.reshape(params, (-1, self.num_samples) + tuple(params.shape[1:]))
        log_weights = ImportanceLogWeights(
            self._likelihood_for_graph, log_var_range=sampling.log_var_range, name="log_weights"
        )([inputs, z, z_mean, z_log_var, params])
        return {
            "outputs": log_weights,
            "encoder": encoder,
            "kl_layer": kl_layer,
            "sampling": sampling,
            "k_sampling": k_sampling,
        }

    def build_metrics(self) -> None:
        self.neg_elbo_tracker = keras.metrics.Mean(name="neg_elbo")

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """-L_k: minus the log of the mean importance weight, averaged over the batch."""
        reject_sample_weight(sample_weight)
        log_weights = ops.cast(y_pred, "float32")
        bound = ops.logsumexp(log_weights, axis=1) - math.log(self.num_samples)
        self.neg_elbo_tracker.update_state(-ops.mean(log_weights, axis=1))
        return scale_loss_for_replicas(-ops.mean(bound))

    def get_config(self):
        config = super().get_config()
        config.pop("beta")
        config.pop("free_bits")
        return {**config, "num_samples": self.num_samples}
