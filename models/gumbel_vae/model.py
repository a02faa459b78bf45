"""`GumbelVAE`: a VAE with categorical latents, Gumbel-softmax or score-function (RLOO) gradients."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

from keras_rt.api_export import keras_rt_export
from keras_rt.callbacks import GumbelTemperatureAnnealing
from keras_rt.layers import CategoricalKL, GumbelSoftmaxSampling
from keras_rt.layers.categorical_kl import categorical_kl_to_uniform
from keras_rt.layers.gumbel_softmax import check_temperature
from keras_rt.zoo.gaussian_vae import (
    check_positive_int,
    reject_sample_weight,
    scale_loss_for_replicas,
)
from keras_rt.zoo.mlp_vae.model import MLPVAE
from keras_rt.zoo.networks import mlp_decoder, mlp_encoder

tfd = tfp.distributions

ESTIMATORS = ("gumbel_softmax", "score_function")


@keras_rt_export()
class OneHotSampling(keras.layers.Layer):
    """Exact one-hot categorical samples without a gradient path: `(batch, k, ..., K)`.

    The score-function estimator's sampler: gradients reach the encoder
    through `log q(z|x)` in the loss, not through `z`.

    Args:
        num_samples: samples per example (k >= 1).
        seed: integer seed; `None` picks a random one.
        **kwargs: base layer keyword arguments.
    """

    def __init__(self, num_samples: int = 2, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.num_samples = check_positive_int("num_samples", num_samples)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, logits):
        logits = ops.cast(ops.stop_gradient(logits), "float32")
        shape = list(ops.shape(logits))
        shape.insert(1, self.num_samples)
        uniform = keras.random.uniform(shape, minval=1e-20, maxval=1.0, seed=self.seed_generator)
        noisy = ops.expand_dims(logits, 1) - ops.log(-ops.log(uniform))
        return ops.one_hot(ops.argmax(noisy, axis=-1), logits.shape[-1], dtype="float32")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_samples) + tuple(input_shape[1:])

    def get_config(self):
        return {**super().get_config(), "num_samples": self.num_samples, "seed": self.seed}


@keras_rt_export()
class GumbelVAE(MLPVAE):
    """A VAE whose latent is `latent_dim` categorical variables with `num_classes` classes each.

    The prior is uniform; the KL to it is closed form (`CategoricalKL`).
    Two ways to get gradients through the discrete latent:

    - `estimator="gumbel_softmax"` (default; Jang et al., 2017): relaxed
      one-hot samples from `GumbelSoftmaxSampling` at temperature
      tau = max(tau_min, tau_0 * exp(-r * step)), annealed by the callback from
      `training_callbacks()`; `hard=True` uses the straight-through one-hot.
    - `estimator="score_function"`: exact one-hot samples, `num_score_samples`
      per example, and the REINFORCE gradient with the leave-one-out
      baseline (RLOO) — unbiased, higher variance. Same model, same
      evaluation, so the two can be compared on any dataset.

    Evaluation (`training=False`) uses exact one-hot samples, so `evaluate`,
    `neg_elbo` and the IWAE bound score the discrete model.

    Args:
        input_shape: shape of one (flattened) example.
        latent_dim: number of categorical variables.
        num_classes: classes per variable (>= 2).
        hidden_units: encoder widths (the decoder mirrors them).
        likelihood: `"bernoulli"` or `"gaussian"`.
        temperature: initial temperature tau_0 (> 0).
        min_temperature: tau_min (> 0).
        anneal_rate: r per optimizer step (0: constant temperature).
        hard: straight-through one-hot forward pass.
        estimator: `"gumbel_softmax"` or `"score_function"`.
        num_score_samples: samples per example for RLOO (>= 2).
        beta: initial KL weight.
        seed: seed of the sampling noise.
        **kwargs: `name`, `trainable`, `dtype`.

    Example:

    >>> model = GumbelVAE(input_shape=(784,), latent_dim=20, num_classes=10, hard=True)

    References:
        - [Jang, Gu & Poole, 2017](https://arxiv.org/abs/1611.01144)
        - [Kool, van Hoof & Welling, 2019 (RLOO)](https://openreview.net/forum?id=r1lgTGL5DE)
    """

    def __init__(
        self,
        input_shape: Sequence[int] = (64,),
        latent_dim: int = 20,
        num_classes: int = 10,
        hidden_units: Sequence[int] = (256, 128),
        likelihood: str = "bernoulli",
        temperature: float = 1.0,
        min_temperature: float = 0.5,
        anneal_rate: float = 3e-5,
        hard: bool = False,
        estimator: str = "gumbel_softmax",
        num_score_samples: int = 4,
        beta: float = 1.0,
        seed: int | None = None,
        **kwargs,
    ):
        check_positive_int("latent_dim", latent_dim)
        self.num_classes = check_positive_int("num_classes", num_classes)
        if num_classes < 2:
            raise ValueError(f"`num_classes` must be >= 2. Received: num_classes={num_classes!r}")
        if estimator not in ESTIMATORS:
            raise ValueError(
                f"`estimator` must be one of {ESTIMATORS}. Received: estimator={estimator!r}"
            )
        check_positive_int("num_score_samples", num_score_samples)
        if estimator == "score_function" and num_score_samples < 2:
            raise ValueError(
                "The leave-one-out baseline needs num_score_samples >= 2. "
                f"Received: num_score_samples={num_score_samples!r}"
            )
        if not anneal_rate >= 0:
            raise ValueError(f"`anneal_rate` must be >= 0. Received: anneal_rate={anneal_rate!r}")
        self.temperature = check_temperature(temperature)
        self.min_temperature = check_temperature(min_temperature)
        self.anneal_rate = float(anneal_rate)
        self.hard = bool(hard)
        self.estimator = estimator
        self.num_score_samples = int(num_score_samples)
        self.num_variables = latent_dim
        super().__init__(
            input_shape=input_shape,
            latent_dim=latent_dim,
            hidden_units=hidden_units,
            likelihood=likelihood,
            beta=beta,
            seed=seed,
            **kwargs,
        )

    def latent_shape(self) -> tuple:
        return (self.num_variables, self.num_classes)

    def build_networks(self, input_shape, latent_dim, channels):
        body = mlp_encoder(input_shape, self._hidden_units, name="encoder_body")
        decoder = mlp_decoder(
            self.latent_shape(),
            tuple(reversed(self._hidden_units)),
            input_shape,
            channels,
            name="decoder",
        )
        return body, decoder

    def build_graph(self, inputs, body, decoder) -> dict:
        args = self._build_args
        n, k = self.num_variables, self.num_classes
        encoder_inputs = keras.Input(tuple(inputs.shape[1:]), name="x")
        flat_logits = keras.layers.Dense(n * k, name="logits", dtype="float32")(
            body(encoder_inputs)
        )
        logits = keras.layers.Reshape((n, k), dtype="float32")(flat_logits)
        encoder = keras.Model(encoder_inputs, logits, name="encoder")
        kl_layer = CategoricalKL(weight=args["beta"], name="kl")
        logits = kl_layer(encoder(inputs))
        parts = {"encoder": encoder, "kl_layer": kl_layer}
        if self.estimator == "gumbel_softmax":
            sampling = GumbelSoftmaxSampling(
                temperature=self.temperature,
                hard=self.hard,
                seed=args["seed"],
                inference="hard",
                name="sampling",
                dtype="float32",
            )
            parts.update(outputs=decoder(sampling(logits)), sampling=sampling)
        else:
            sampling = OneHotSampling(self.num_score_samples, seed=args["seed"], name="sampling")
            z = sampling(logits)  # (batch, S, n, k)
            params = decoder(ops.reshape(z, (-1, n, k)))
            params = ops.reshape(params, (-1, self.num_score_samples) + tuple(params.shape[1:]))
            parts.update(outputs=[params, logits, z], sampling=sampling)
        return parts

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if self.estimator == "gumbel_softmax":
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        reject_sample_weight(sample_weight)
        params, logits, z = y_pred
        x = ops.cast(x, "float32")
        log_px = self.likelihood.distribution(params).log_prob(ops.expand_dims(x, 1))
        log_px = ops.sum(
            ops.reshape(log_px, (ops.shape(log_px)[0], self.num_score_samples, -1)), -1
        )
        log_q = ops.sum(z * ops.expand_dims(ops.log_softmax(logits, axis=-1), 1), axis=(-2, -1))
        k = float(self.num_score_samples)
        baseline = (ops.sum(log_px, axis=1, keepdims=True) - log_px) / (k - 1.0)
        signal = ops.stop_gradient(log_px - baseline)
        surrogate = -ops.mean(log_px + signal * log_q)
        self.reconstruction_tracker.update_state(-ops.mean(log_px, axis=1))
        loss = surrogate + ops.sum(ops.stack([ops.cast(v, "float32") for v in self.losses]))
        return scale_loss_for_replicas(loss)

    def training_callbacks(self) -> list:
        if self.estimator != "gumbel_softmax" or self.anneal_rate == 0:
            return []
        return [
            GumbelTemperatureAnnealing(
                initial=self.temperature, rate=self.anneal_rate, minimum=self.min_temperature
            )
        ]

    def encode(self, x):
        return (self.encoder(x, training=False),)

    def encode_outputs(self, x) -> dict:
        return {"logits": self.encode(x)[0]}

    def posterior(self, x) -> tfd.Distribution:
        (logits,) = self.encode(x)
        return tfd.Independent(tfd.OneHotCategorical(logits=logits, dtype=tf.float32), 1)

    def prior(self) -> tfd.Distribution:
        logits = tf.zeros(self.latent_shape())
        return tfd.Independent(tfd.OneHotCategorical(logits=logits, dtype=tf.float32), 1)

    def elbo(self, x):
        (logits,) = self.encode(x)
        q = tfd.Independent(tfd.OneHotCategorical(logits=logits, dtype=tf.float32), 1)
        log_px = self.likelihood.log_prob(x, self.decode(q.sample(seed=self._seed())))
        return log_px - categorical_kl_to_uniform(logits)

    def get_config(self):
        config = super().get_config()
        config.pop("free_bits")
        return {
            **config,
            "num_classes": self.num_classes,
            "temperature": self.temperature,
            "min_temperature": self.min_temperature,
            "anneal_rate": self.anneal_rate,
            "hard": self.hard,
            "estimator": self.estimator,
            "num_score_samples": self.num_score_samples,
        }


__all__ = ["GumbelVAE", "OneHotSampling"]
