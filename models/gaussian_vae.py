"""`GaussianVAE`: the shared base of the zoo's Gaussian-latent VAEs.

The model is a functional graph inside a `keras.Model` subclass:

    x -> encoder body -> [z_mean, z_log_var] -> GaussianKL -> Sampling -> decoder -> params

The KL term enters through `GaussianKL.add_loss`, the reconstruction term
through `compute_loss`, so plain `compile()` / `fit()` / `evaluate()` /
`predict()` and validation all work, and `.keras` save/load rebuilds the
model from its constructor arguments (`get_config`). `predict(x)` returns the
decoder's distribution parameters (logits for Bernoulli); `reconstruct(x)`
returns the expected image.

Metrics, in nats per example (KL summed over latent dimensions, averaged
over the batch): `loss` (the objective, with the KL weight), `reconstruction`
(-log p(x|z)), `kl` (unweighted) and `neg_elbo` (= reconstruction + kl).
"""

from __future__ import annotations

import keras
import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

from keras_rt.layers import GaussianKL, Sampling
from keras_rt.likelihoods import get_likelihood

tfd = tfp.distributions


class MetricSum(keras.metrics.Metric):
    """A metric whose result is the sum of other metrics' results (no state of its own)."""

    def __init__(self, name: str, components, **kwargs):
        super().__init__(name=name, **kwargs)
        # A callable hides the components from variable tracking: they are
        # updated and reset by their owners.
        self._components = lambda: tuple(components)

    def update_state(self, *args, **kwargs):
        return None

    def result(self):
        return ops.sum(ops.stack([ops.cast(m.result(), "float32") for m in self._components()]))

    def reset_state(self):
        return None


def check_latent_dim(latent_dim) -> int:
    """Returns `latent_dim` or raises `ValueError` unless it is an integer >= 1."""
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
        raise ValueError(f"`latent_dim` must be an integer >= 1. Received: latent_dim={latent_dim!r}")
    return latent_dim


class GaussianVAE(keras.Model):
    """Base class: a VAE with a diagonal-Gaussian posterior and a N(0, I) prior.

    Subclasses build an encoder body (x -> h) and a decoder (z -> params)
    and pass them to `__init__` through `build_networks`.

    Args:
        input_shape: shape of one example, e.g. `(64,)` or `(28, 28, 1)`.
        latent_dim: number of latent dimensions (>= 1).
        likelihood: `"bernoulli"` or `"gaussian"` (see `keras_rt.likelihoods`).
        beta: initial KL weight (1.0: the ELBO).
        free_bits: nats per latent dimension (0: off).
        seed: seed of the sampling noise.
        **kwargs: `name`, `trainable`, `dtype`.
    """

    def __init__(
        self,
        input_shape,
        latent_dim: int,
        likelihood: str = "bernoulli",
        beta: float = 1.0,
        free_bits: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        input_shape = tuple(int(d) for d in input_shape)
        check_latent_dim(latent_dim)
        likelihood_model = get_likelihood(likelihood)
        body, decoder = self.build_networks(input_shape, latent_dim, likelihood_model.channels)

        x = keras.Input(input_shape, name="x")
        h = body(x)
        z_mean = keras.layers.Dense(latent_dim, name="z_mean", dtype="float32")(h)
        z_log_var = keras.layers.Dense(latent_dim, name="z_log_var", dtype="float32")(h)
        encoder = keras.Model(x, [z_mean, z_log_var], name="encoder")

        kl_layer = GaussianKL(weight=beta, free_bits=free_bits, name="kl")
        sampling = Sampling(seed=seed, name="sampling", dtype="float32")
        inputs = keras.Input(input_shape, name="x")
        posterior_params = kl_layer(encoder(inputs))
        params = decoder(sampling(posterior_params))
        super().__init__(inputs=inputs, outputs=params, **kwargs)

        self.input_shape_ = input_shape
        self.latent_dim = latent_dim
        self.likelihood_name = likelihood
        self.likelihood = likelihood_model
        self.beta = beta
        self.free_bits = free_bits
        self.seed = seed
        self.encoder = encoder
        self.decoder = decoder
        self.kl_layer = kl_layer
        self.sampling = sampling
        self.prior_seed_generator = keras.random.SeedGenerator(
            None if seed is None else seed + 1
        )
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.neg_elbo_tracker = MetricSum(
            "neg_elbo", [self.reconstruction_tracker, kl_layer.kl_tracker]
        )

    # -- what subclasses provide -------------------------------------------------
    def build_networks(self, input_shape, latent_dim: int, channels: int):
        """Returns `(encoder_body, decoder)` functional models. Subclasses override."""
        raise NotImplementedError

    # -- training ----------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Objective: mean -log p(x|z) plus the layers' losses (the weighted KL).

        Like Keras's own `compute_loss`, the result is divided by the number
        of replicas under a `tf.distribute` strategy (gradients are summed
        across replicas); the logged `loss` is the per-example value.
        """
        nll = -self.likelihood.log_prob(x, y_pred)
        self.reconstruction_tracker.update_state(nll)
        loss = ops.mean(nll)
        if self.losses:
            loss = loss + ops.sum(ops.stack([ops.cast(v, "float32") for v in self.losses]))
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        return loss / replicas if replicas > 1 else loss

    def compile(self, optimizer="adam", **kwargs):
        """`keras.Model.compile` with Adam by default and the loss built in."""
        if kwargs.get("loss") is not None:
            raise ValueError(
                "Zoo VAEs compute their own loss (negative ELBO); do not pass `loss`. "
                f"Received: loss={kwargs['loss']!r}"
            )
        kwargs.pop("loss", None)
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):
        """Re-compiles a loaded model (the optimizer and its state come back)."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    # -- inference helpers used by evaluation and export ---------------------------
    def encode(self, x):
        """x -> `(z_mean, z_log_var)`."""
        return self.encoder(x, training=False)

    def encode_outputs(self, x) -> dict:
        """Named posterior parameters for the `encode` signature."""
        z_mean, z_log_var = self.encode(x)
        return {"z_mean": z_mean, "z_log_var": z_log_var}

    def latent_spec_shape(self) -> tuple:
        """Shape of a batch of latent codes, batch axis unknown."""
        return (None, self.latent_dim)

    def decode(self, z):
        """z `(..., latent_dim)` -> decoder params, any number of leading axes."""
        z = ops.convert_to_tensor(z)
        lead = ops.shape(z)[:-1]
        flat = ops.reshape(z, (-1, self.latent_dim))
        params = self.decoder(flat, training=False)
        return ops.reshape(params, tuple(lead) + tuple(params.shape[1:]))

    def posterior(self, x) -> tfd.Distribution:
        """q(z|x) as a TFP distribution with event shape `(latent_dim,)`."""
        z_mean, z_log_var = self.encode(x)
        z_log_var = self.sampling.clamp_log_var(z_log_var)
        return tfd.MultivariateNormalDiag(z_mean, ops.exp(0.5 * z_log_var))

    def prior(self) -> tfd.Distribution:
        """p(z) = N(0, I)."""
        return tfd.MultivariateNormalDiag(tf.zeros(self.latent_dim), tf.ones(self.latent_dim))

    def reconstruct(self, x):
        """The expected reconstruction of `x` (one posterior sample)."""
        return self.likelihood.mean(self(x, training=False))

    def elbo(self, x):
        """Per-example ELBO (nats): one-sample log p(x|z) minus the closed-form KL."""
        z_mean, z_log_var = self.encode(x)
        z = self.sampling([z_mean, z_log_var])
        log_px = self.likelihood.log_prob(x, self.decoder(z, training=False))
        return log_px - self.kl_layer.kl_per_example([z_mean, z_log_var])

    def sample(self, num_samples):
        """`num_samples` images decoded from prior draws (expected images)."""
        z = keras.random.normal(
            (num_samples, self.latent_dim), dtype="float32", seed=self.prior_seed_generator
        )
        return self.likelihood.mean(self.decoder(z, training=False))

    # -- serialization -----------------------------------------------------------
    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "input_shape": list(self.input_shape_),
            "latent_dim": self.latent_dim,
            "likelihood": self.likelihood_name,
            "beta": self.beta,
            "free_bits": self.free_bits,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
