"""`GaussianVAE`: the shared base of the zoo's VAEs.

The model is a functional graph inside a `keras.Model` subclass:

    x -> encoder body -> [z_mean, z_log_var] -> GaussianKL -> Sampling -> decoder -> params

The KL term enters through `GaussianKL.add_loss`, the reconstruction term
through `compute_loss`, so plain `compile()` / `fit()` / `evaluate()` /
`predict()` and validation all work, and `.keras` save/load rebuilds the
model from its constructor arguments (`get_config`). `predict(x)` returns the
graph's output (decoder parameters: logits for Bernoulli); `reconstruct(x)`
returns expected images.

Metrics, in nats per example (KL summed over latent dimensions, averaged
over the batch): `loss` (the objective, with the KL weight), `reconstruction`
(-log p(x|z)), `kl` (unweighted) and `neg_elbo` (= reconstruction + kl).

Subclasses change the latent (full covariance, categorical), the objective
(IWAE) or the inputs (labels) through the hooks `build_inputs`,
`build_graph`, `posterior`, `prior`, `decode` and `data`; everything built on
the hooks (evaluation, export signatures, plots) then works unchanged.
"""

from __future__ import annotations

import keras
import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

from keras_rt.distribute.partial_xla import (
    check_partial_jit_compile,
    jit_compiled,
    partial_jit_active,
    xla_optimizer_update,
)
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


def check_positive_int(name: str, value) -> int:
    """Returns `value` or raises `ValueError` unless it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{name}` must be an integer >= 1. Received: {name}={value!r}")
    return value


def check_latent_dim(latent_dim) -> int:
    """Returns `latent_dim` or raises `ValueError` unless it is an integer >= 1."""
    return check_positive_int("latent_dim", latent_dim)


def reject_sample_weight(sample_weight) -> None:
    """Zoo objectives are per-example averages without weights: refuse weights clearly."""
    if sample_weight is not None:
        raise ValueError(
            "Zoo VAEs do not support `sample_weight` (their loss is the mean negative ELBO over "
            "the batch); pass the data without weights."
        )


def scale_loss_for_replicas(loss):
    """Divides a loss by the number of replicas, as Keras's own `compute_loss` does."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss / replicas if replicas > 1 else loss


class GaussianVAE(keras.Model):
    """Base class: a VAE with a diagonal-Gaussian posterior and a N(0, I) prior.

    Subclasses build an encoder body (x -> h) and a decoder (z -> params)
    in `build_networks`, and may override the hooks listed in the module
    docstring.

    Args:
        input_shape: shape of one example, e.g. `(64,)` or `(28, 28, 1)`.
        latent_dim: number of latent dimensions (>= 1).
        likelihood: `"bernoulli"` or `"gaussian"` (see `keras_rt.likelihoods`).
        beta: initial KL weight (1.0: the ELBO).
        free_bits: nats per latent dimension (0: off).
        seed: seed of the sampling noise.
        **kwargs: `name`, `trainable`, `dtype`.

    Example:

    >>> class TinyVAE(GaussianVAE):
    ...     def build_networks(self, input_shape, latent_dim, channels):
    ...         body = mlp_encoder(input_shape, (32,), name="encoder_body")
    ...         decoder = mlp_decoder((latent_dim,), (32,), input_shape, channels, name="decoder")
    ...         return body, decoder
    >>> model = TinyVAE(input_shape=(64,), latent_dim=2, seed=0)
    """

    needs_labels = False
    # Whole-step XLA on CPUs in float32: measured about 1.4x faster for Dense VAEs, 0.7x for
    # convolutional ones (README "Benchmarks"). Under mixed precision the zoo compiles only
    # the step's element-wise parts on CPUs (`keras_rt.distribute.partial_xla`); on GPUs
    # Keras turns XLA on for every model.
    xla_on_cpu = True

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
        self._build_args = {
            "latent_dim": latent_dim,
            "beta": beta,
            "free_bits": free_bits,
            "seed": seed,
        }
        body, decoder = self.build_networks(input_shape, latent_dim, likelihood_model.channels)
        inputs = self.build_inputs(input_shape)
        parts = self.build_graph(inputs, body, decoder)
        super().__init__(inputs=inputs, outputs=parts.pop("outputs"), **kwargs)
        for attribute, value in parts.items():
            setattr(self, attribute, value)

        self.input_shape_ = input_shape
        self.latent_dim = latent_dim
        self.likelihood_name = likelihood
        self.likelihood = likelihood_model
        self.beta = beta
        self.free_bits = free_bits
        self.seed = seed
        self.decoder = decoder
        self.noise_seed_generator = keras.random.SeedGenerator(None if seed is None else seed + 1)
        self.build_metrics()

    # -- hooks ---------------------------------------------------------------------
    def build_networks(self, input_shape, latent_dim: int, channels: int):
        """Returns `(encoder_body, decoder)` functional models. Subclasses override."""
        raise NotImplementedError

    def build_inputs(self, input_shape):
        """The model's `keras.Input`(s)."""
        return keras.Input(input_shape, name="x")

    def build_encoder(self, inputs, body, sizes: dict[str, int]) -> keras.Model:
        """`inputs` -> body -> one float32 Dense head per entry of `sizes` (name -> width)."""
        encoder_inputs = tf.nest.map_structure(
            lambda t: keras.Input(tuple(t.shape[1:]), dtype=t.dtype, name=t.name), inputs
        )
        h = body(encoder_inputs)
        heads = [
            keras.layers.Dense(width, name=name, dtype="float32")(h)
            for name, width in sizes.items()
        ]
        return keras.Model(encoder_inputs, heads, name="encoder")

    def build_metrics(self) -> None:
        """Creates the metric trackers: reconstruction, and neg_elbo = reconstruction + kl."""
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        kl_tracker = getattr(getattr(self, "kl_layer", None), "kl_tracker", None)
        if kl_tracker is not None:
            self.neg_elbo_tracker = MetricSum("neg_elbo", [self.reconstruction_tracker, kl_tracker])

    def build_graph(self, inputs, body, decoder) -> dict:
        """Wires the graph; returns `{"outputs": ..., attribute: layer, ...}`."""
        args = self._build_args
        latent_dim = args["latent_dim"]
        encoder = self.build_encoder(inputs, body, {"z_mean": latent_dim, "z_log_var": latent_dim})
        kl_layer = GaussianKL(weight=args["beta"], free_bits=args["free_bits"], name="kl")
        sampling = Sampling(seed=args["seed"], name="sampling", dtype="float32")
        params = decoder(sampling(kl_layer(encoder(inputs))))
        return {"outputs": params, "encoder": encoder, "kl_layer": kl_layer, "sampling": sampling}

    def data(self, x):
        """The part of a model input that the likelihood scores (the images)."""
        return x

    def posterior(self, x) -> tfd.Distribution:
        """q(z|x) as a TFP distribution whose event is one latent code."""
        z_mean, z_log_var = self.encode(x)
        z_log_var = self.sampling.clamp_log_var(z_log_var)
        return tfd.MultivariateNormalDiag(z_mean, ops.exp(0.5 * z_log_var))

    def prior(self) -> tfd.Distribution:
        """p(z) = N(0, I)."""
        return tfd.MultivariateNormalDiag(tf.zeros(self.latent_dim), tf.ones(self.latent_dim))

    def latent_shape(self) -> tuple:
        """Shape of one latent code."""
        return (self.latent_dim,)

    def decode(self, z, x=None):
        """z `(..., *latent_shape)` -> decoder params, any number of leading axes.

        `x` (the model input) is only used by conditional models.
        """
        z = ops.convert_to_tensor(z)
        rank = len(self.latent_shape())
        lead = ops.shape(z)[: len(z.shape) - rank]
        flat = ops.reshape(z, (-1,) + self.latent_shape())
        params = self.decoder(flat, training=False)
        return ops.reshape(params, tuple(lead) + tuple(params.shape[1:]))

    # -- training ----------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Objective: mean -log p(x|z) plus the layers' losses (the weighted KL).

        Like Keras's own `compute_loss`, the result is divided by the number
        of replicas under a `tf.distribute` strategy (gradients are summed
        across replicas); the logged `loss` is the per-example value.
        """
        reject_sample_weight(sample_weight)
        log_prob = self.likelihood.log_prob
        if self._partial_jit():
            log_prob = jit_compiled(log_prob)
        nll = -log_prob(self.data(x), y_pred)
        self.reconstruction_tracker.update_state(nll)
        loss = ops.mean(nll)
        if self.losses:
            loss = loss + ops.sum(ops.stack([ops.cast(v, "float32") for v in self.losses]))
        return scale_loss_for_replicas(loss)

    def compile(self, optimizer="adam", partial_jit_compile="auto", **kwargs):
        """`keras.Model.compile` with Adam by default and the loss built in.

        Args:
            optimizer: as in Keras (default Adam).
            partial_jit_compile: when the step as a whole is not XLA-compiled
                (Keras's default on CPUs), compile its element-wise parts --
                the optimizer update and the likelihood -- with XLA
                (`keras_rt.distribute.partial_xla`). True, False or "auto"
                (alike: on unless the step is compiled or eager, or runs on
                several replicas).
            **kwargs: the rest of `keras.Model.compile`'s arguments, except
                `loss`.
        """
        if kwargs.get("loss") is not None:
            raise ValueError(
                "Zoo VAEs compute their own loss (negative ELBO); do not pass `loss`. "
                f"Received: loss={kwargs['loss']!r}"
            )
        kwargs.pop("loss", None)
        check_partial_jit_compile(partial_jit_compile)
        super().compile(optimizer=optimizer, **kwargs)
        self.partial_jit_compile = partial_jit_compile
        self._compile_config.config["partial_jit_compile"] = partial_jit_compile

    def _partial_jit(self) -> bool:
        return self.compiled and partial_jit_active(
            self, getattr(self, "partial_jit_compile", "auto")
        )

    def train_step(self, data):
        """Keras's own step; with partial XLA, the optimizer update runs as one XLA function."""
        if not self._partial_jit() or self.optimizer is None:
            return super().train_step(data)
        with xla_optimizer_update(self.optimizer, self.trainable_weights):
            return super().train_step(data)

    def compile_from_config(self, config):
        """Re-compiles a loaded model (the optimizer and its state come back)."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def training_callbacks(self) -> list:
        """Callbacks the model's own schedule needs during `fit` (KL warm-up, annealing)."""
        return []

    # -- inference helpers used by evaluation, export and plots --------------------
    def encode(self, x):
        """x -> the posterior's parameters (a tuple)."""
        return tuple(self.encoder(x, training=False))

    def encode_outputs(self, x) -> dict:
        """Named posterior parameters for the `encode` signature."""
        z_mean, z_log_var = self.encode(x)
        return {"z_mean": z_mean, "z_log_var": z_log_var}

    def latent_spec_shape(self) -> tuple:
        """Shape of a batch of latent codes, batch axis unknown."""
        return (None,) + self.latent_shape()

    def _seed(self):
        return keras.random.randint(
            (2,), 0, 2**31 - 1, dtype="int32", seed=self.noise_seed_generator
        )

    def sample_posterior(self, x, num_samples: int | None = None):
        """Draws z ~ q(z|x): `(batch, ...)`, or `(num_samples, batch, ...)`."""
        q = self.posterior(x)
        if num_samples is None:
            return q.sample(seed=self._seed())
        return q.sample(num_samples, seed=self._seed())

    def reconstruct(self, x):
        """Expected images decoded from one posterior sample of each input."""
        return self.likelihood.mean(self.decode(self.sample_posterior(x), x))

    def elbo(self, x):
        """Per-example ELBO (nats): one-sample log p(x|z) minus the closed-form KL."""
        q = self.posterior(x)
        z = q.sample(seed=self._seed())
        log_px = self.likelihood.log_prob(self.data(x), self.decode(z, x))
        return log_px - tfd.kl_divergence(q, self.prior())

    def importance_log_weights(self, x, num_samples: int, seed):
        """log p(x|z_i) + log p(z_i) - log q(z_i|x) for `num_samples` draws: `(num_samples, batch)`."""
        q = self.posterior(x)
        z = q.sample(num_samples, seed=seed)
        log_px = self.likelihood.log_prob(self.data(x), self.decode(z, x))
        return log_px + self.prior().log_prob(z) - q.log_prob(z)

    def sample_specs(self) -> list[tf.TensorSpec]:
        """Inputs of the `sample` signature."""
        return [tf.TensorSpec((), tf.int32, name="num_samples")]

    def sample(self, num_samples):
        """`num_samples` expected images decoded from prior draws."""
        z = self.prior().sample(num_samples, seed=self._seed())
        return self.likelihood.mean(self.decode(z))

    def data_specs(self) -> list[tf.TensorSpec]:
        """Inputs of the signatures that take data (serving_default, encode, log_likelihood)."""
        return [tf.TensorSpec((None,) + tuple(self.input_shape_), tf.float32, name="x")]

    def pack_inputs(self, tensors):
        """Signature arguments (one per `data_specs` entry) -> a model input."""
        return tensors[0]

    def decode_specs(self) -> list[tf.TensorSpec]:
        """Inputs of the `decode` signature."""
        return [tf.TensorSpec(self.latent_spec_shape(), tf.float32, name="z")]

    def decode_images(self, z):
        """Expected images for latent codes `z` (the `decode` signature)."""
        return self.likelihood.mean(self.decode(z))

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


__all__ = [
    "GaussianVAE",
    "MetricSum",
    "check_latent_dim",
    "check_positive_int",
    "scale_loss_for_replicas",
]
