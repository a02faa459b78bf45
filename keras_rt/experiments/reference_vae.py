"""A VAE written "the common way": the baseline of the zoo benchmarks (not a zoo model).

This is how most tutorial code writes a VAE (keras-io `examples/generative/vae.py`
is the model): a `keras.Model` subclass holding an encoder and a decoder, the
sampling written inline, and the whole loss in a hand-written `train_step`
under `tf.GradientTape`, with its own loss trackers. It trains in float32
and is compiled with `jit_compile=False` (no XLA).

To compare like with like, it has exactly the architecture of the zoo model
it stands in for (the same `keras_rt.zoo.networks` builders, the same
`z_mean` / `z_log_var` heads, so the same parameter count) and the same
objective: the Bernoulli log-likelihood summed over pixels, computed from
logits (`sigmoid_cross_entropy_with_logits`; keras-io applies a sigmoid in
the decoder and `binary_crossentropy` on probabilities, which clips them at
1e-7 -- a small bias that would muddy a quality comparison), plus the
closed-form KL summed over latent dimensions, both averaged over the batch.

Data: it is fed from the same `tf.data` pipeline as the zoo model
(`keras_rt.datasets.load_dataset`: cached, shuffled, dynamically binarized,
batched, prefetched), not from numpy arrays as in keras-io. The benchmark
measures the model and its training step, not the input pipeline, and
dynamic binarization is part of the quality protocol.

The few inference methods that `keras_rt.evaluation.evaluate_iwae` needs
(`importance_log_weights`, `likelihood`; also `posterior`, `prior`,
`decode`) and `elbo(x)` are provided so that the same evaluation code
scores both models.
"""

from __future__ import annotations

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from keras_rt.likelihoods import get_likelihood
from keras_rt.zoo.networks import conv_decoder, conv_encoder, mlp_decoder, mlp_encoder

tfd = tfp.distributions

ARCHITECTURES = ("mlp_vae", "conv_vae")


def build_networks(architecture: str, input_shape, latent_dim: int, **config):
    """`(encoder, decoder)` with the zoo model's layers: x -> [z_mean, z_log_var], z -> logits.

    Args:
        architecture: `"mlp_vae"` or `"conv_vae"`.
        input_shape: shape of one example.
        latent_dim: latent dimensions.
        **config: the zoo config's `hidden_units` (and `filters` for conv).
    """
    input_shape = tuple(int(d) for d in input_shape)
    if architecture == "mlp_vae":
        hidden = tuple(config["hidden_units"])
        body = mlp_encoder(input_shape, hidden, name="encoder_body")
        decoder = mlp_decoder(
            (latent_dim,), tuple(reversed(hidden)), input_shape, 1, name="decoder"
        )
    elif architecture == "conv_vae":
        filters, dense_units = tuple(config["filters"]), int(config["hidden_units"])
        body = conv_encoder(input_shape, filters, dense_units, name="encoder_body")
        decoder = conv_decoder(latent_dim, filters, dense_units, input_shape, 1, name="decoder")
    else:
        raise ValueError(
            f"Unknown architecture. Received: architecture={architecture!r}. Valid: {list(ARCHITECTURES)}"
        )
    x = keras.Input(input_shape, name="x")
    h = body(x)
    z_mean = keras.layers.Dense(latent_dim, name="z_mean")(h)
    z_log_var = keras.layers.Dense(latent_dim, name="z_log_var")(h)
    return keras.Model(x, [z_mean, z_log_var], name="encoder"), decoder


class ReferenceVAE(keras.Model):
    """Bernoulli VAE with a hand-written `train_step` (GradientTape, inline sampling).

    Args:
        architecture: `"mlp_vae"` or `"conv_vae"` (which zoo networks to copy).
        input_shape: shape of one example.
        latent_dim: latent dimensions.
        seed: seed of the sampling noise.
        **config: `hidden_units` (and `filters`), as in the zoo config.

    Example:

    >>> model = ReferenceVAE("mlp_vae", (64,), 2, hidden_units=(16,), seed=0)
    >>> model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
    >>> x = np.random.default_rng(0).integers(0, 2, (8, 64)).astype("float32")
    >>> history = model.fit(x, epochs=1, batch_size=4, verbose=0)
    >>> sorted(history.history)
    ['kl', 'loss', 'reconstruction']
    >>> model.elbo(x).shape
    TensorShape([8])
    """

    def __init__(
        self, architecture: str, input_shape, latent_dim: int, seed: int | None = None, **config
    ):
        super().__init__(name=f"reference_{architecture}")
        self.encoder, self.decoder = build_networks(architecture, input_shape, latent_dim, **config)
        self.latent_dim = int(latent_dim)
        self.likelihood = get_likelihood("bernoulli")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.total_loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl")
        self.built = True  # the encoder and decoder are built functional models

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def call(self, x, training=False):
        z_mean, z_log_var = self.encoder(x, training=training)
        return self.decoder(z_mean, training=training)

    def loss_terms(self, x, training):
        z_mean, z_log_var = self.encoder(x, training=training)
        eps = keras.random.normal(tf.shape(z_mean), seed=self.seed_generator)
        z = z_mean + tf.exp(0.5 * z_log_var) * eps
        logits = self.decoder(z, training=training)
        axes = list(range(1, len(x.shape)))
        reconstruction = tf.reduce_sum(
            tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=axes
        )
        kl = -0.5 * tf.reduce_sum(1.0 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var), axis=1)
        return reconstruction, kl

    def _update(self, reconstruction, kl, total):
        self.total_loss_tracker.update_state(total)
        self.reconstruction_loss_tracker.update_state(reconstruction)
        self.kl_loss_tracker.update_state(kl)
        return {
            "loss": self.total_loss_tracker.result(),
            "reconstruction": self.reconstruction_loss_tracker.result(),
            "kl": self.kl_loss_tracker.result(),
        }

    def train_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            reconstruction, kl = self.loss_terms(x, training=True)
            total = tf.reduce_mean(reconstruction + kl)
        grads = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self._update(reconstruction, kl, total)

    def test_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        reconstruction, kl = self.loss_terms(x, training=False)
        return self._update(reconstruction, kl, tf.reduce_mean(reconstruction + kl))

    # -- what keras_rt.evaluation needs ------------------------------------------
    def encode(self, x):
        return self.encoder(x, training=False)

    def decode(self, z):
        """z `(..., latent_dim)` -> logits, any number of leading axes."""
        z = tf.convert_to_tensor(z)
        lead = tf.shape(z)[:-1]
        logits = self.decoder(tf.reshape(z, (-1, self.latent_dim)), training=False)
        return tf.reshape(logits, tf.concat([lead, tf.shape(logits)[1:]], 0))

    def posterior(self, x) -> tfp.distributions.Distribution:
        z_mean, z_log_var = self.encode(x)
        return tfd.MultivariateNormalDiag(z_mean, tf.exp(0.5 * z_log_var))

    def prior(self) -> tfp.distributions.Distribution:
        return tfd.MultivariateNormalDiag(tf.zeros(self.latent_dim), tf.ones(self.latent_dim))

    def importance_log_weights(self, x, num_samples: int, seed):
        """log p(x|z_i) + log p(z_i) - log q(z_i|x) for `num_samples` draws: `(num_samples, batch)`."""
        q = self.posterior(x)
        z = q.sample(num_samples, seed=seed)
        log_px = self.likelihood.log_prob(x, self.decode(z))
        return log_px + self.prior().log_prob(z) - q.log_prob(z)

    def elbo(self, x):
        """Per-example one-sample ELBO (nats)."""
        reconstruction, kl = self.loss_terms(tf.convert_to_tensor(x, tf.float32), training=False)
        return -(reconstruction + kl)
