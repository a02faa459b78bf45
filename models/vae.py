"""`VAE`: the latent-agnostic base of every zoo model.

The model is a functional graph inside a `keras.Model` subclass:

    x -> encoder -> posterior parameters -> KL layer -> sampler -> decoder -> params

The KL term enters through the KL layer's `add_loss`, the reconstruction
term through `compute_loss`, so plain `compile()` / `fit()` / `evaluate()` /
`predict()` and validation all work. The constructor is the config
(`ConstructorArguments`): `get_config` returns the constructor's arguments, and
`.keras` save/load rebuilds the model from them. `predict(x)` returns the
graph's output (decoder parameters: logits for Bernoulli); `reconstruct(x)`
returns expected images.

Metrics, in nats per example (KL summed over latent dimensions, averaged
over the batch): `loss` (the objective, with the KL weight), `reconstruction`
(-log p(x|z)), `kl` (unweighted) and `neg_elbo` (= reconstruction + kl).

A latent family is a subclass that implements `build_graph`, `posterior`
and `prior` (`GaussianVAE`: diagonal Gaussian; `GumbelVAE`: categorical).
Zoo models then choose networks (`build_networks`), inputs (`build_inputs`,
`data`) or the objective (`compute_loss`); everything built on these hooks
(evaluation, export signatures, plots) works unchanged.

Registry facts are class attributes: `description` (one line for `--help`
and the README), `flat_input` (whether the model takes flattened images) and
`needs_labels` (whether it takes `{"x": images, "label": labels}`).

Size: about 320 lines: the hooks are one interface (training, evaluation, export
signatures and plots all rely on them), so they are kept in one class.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

from keras_rt.distribute.fused_adam import fused_adam_update, supports_fused_adam
from keras_rt.distribute.partial_xla import (
    check_partial_jit_compile,
    jit_compiled,
    partial_jit_active,
    xla_convolutions,
    xla_optimizer_update,
)
from keras_rt.distribute.precision import dtype_policy
from keras_rt.likelihoods import get_likelihood
from keras_rt.ops.bias_gradient import float32_bias_gradients
from keras_rt.ops.validation import check_int, check_number
from keras_rt.zoo.constructor_arguments import ConstructorArguments
from keras_rt.zoo.losses import (
    MetricSum,
    layer_losses,
    reject_sample_weight,
    scale_loss_for_replicas,
)

tfd = tfp.distributions


class VAE(ConstructorArguments, keras.Model):
    """Base class of the zoo: a VAE with any latent family; subclasses choose it.

    Args:
        input_shape: shape of one example, e.g. `(64,)` or `(28, 28, 1)`.
        latent_dim: latent size (>= 1): dimensions, or categorical variables.
        likelihood: `"bernoulli"` or `"gaussian"` (see `keras_rt.likelihoods`).
        beta: initial KL weight (1.0: the ELBO).
        seed: seed of the sampling noise.
        **kwargs: `name`, `trainable`, `dtype`.

    Example:

    A latent family implements `build_graph`, `posterior`, `prior` and
    `encode_outputs` (see `GaussianVAE`); a zoo model then only chooses its
    networks:

    >>> from keras_rt.zoo import GaussianVAE
    >>> from keras_rt.zoo.networks import mlp_decoder, mlp_encoder
    >>> class TinyVAE(GaussianVAE):
    ...     def build_networks(self, input_shape, latent_dim, channels):
    ...         body = mlp_encoder(input_shape, (8,), name="encoder_body")
    ...         return body, mlp_decoder((latent_dim,), (8,), input_shape, channels, name="decoder")
    >>> model = TinyVAE(input_shape=(64,), latent_dim=2, seed=0)
    >>> isinstance(model, VAE), model.get_config()["latent_dim"]
    (True, 2)
    """

    description = ""
    flat_input = True
    needs_labels = False

    def __init__(
        self,
        input_shape: Sequence[int],
        latent_dim: int,
        likelihood: str = "bernoulli",
        beta: float = 1.0,
        seed: int | None = None,
        **kwargs,
    ):
        input_shape = tuple(int(d) for d in input_shape)
        check_int("latent_dim", latent_dim)
        check_number("beta", beta, minimum=0.0)
        check_int("seed", seed, minimum=0, allow_none=True)
        likelihood_model = get_likelihood(likelihood)
        # Set before the graph is built: the hooks read them.
        self.latent_dim = latent_dim
        self.likelihood_name = likelihood
        self.beta = beta
        self.seed = seed
        # Every layer computes in the model's `dtype` policy (default: the global one).
        policy = kwargs.pop("dtype", None) or keras.mixed_precision.global_policy()
        with dtype_policy(policy):
            body, decoder = self.build_networks(input_shape, latent_dim, likelihood_model.channels)
            inputs = self.build_inputs(input_shape)
            parts = self.build_graph(inputs, body, decoder)
        super().__init__(inputs=inputs, outputs=parts.pop("outputs"), **kwargs)
        self.dtype_policy = policy  # a functional model does not take `dtype` itself
        for attribute, value in parts.items():
            setattr(self, attribute, value)

        self.input_shape_ = input_shape
        self.likelihood = likelihood_model
        self.decoder = decoder
        self.noise_seed_generator = keras.random.SeedGenerator(None if seed is None else seed + 1)
        self.build_metrics()

    # -- hooks ---------------------------------------------------------------------
    def build_networks(self, input_shape, latent_dim: int, channels: int):
        """Returns `(encoder_body, decoder)` functional models. Zoo models override."""
        raise NotImplementedError

    def build_graph(self, inputs, body, decoder) -> dict:
        """Wires the graph; returns `{"outputs": ..., attribute: layer, ...}`. Latent families override."""
        raise NotImplementedError

    def posterior(self, x) -> tfp.distributions.Distribution:
        """q(z|x) as a TFP distribution whose event is one latent code. Latent families override."""
        raise NotImplementedError

    def prior(self) -> tfp.distributions.Distribution:
        """p(z) as a TFP distribution whose event is one latent code. Latent families override."""
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

    def data(self, x):
        """The part of a model input that the likelihood scores (the images)."""
        return x

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
        if self._partial_jit() and getattr(self, "_likelihood_xla", True):
            log_prob = jit_compiled(log_prob)
        nll = -log_prob(self.data(x), y_pred)
        self.reconstruction_tracker.update_state(nll)
        return scale_loss_for_replicas(ops.mean(nll) + layer_losses(self))

    def compile(self, optimizer="adam", partial_jit_compile="auto", **kwargs):
        """`keras.Model.compile` with Adam by default and the loss built in.

        Args:
            optimizer: as in Keras (default Adam).
            partial_jit_compile: when the step as a whole is not XLA-compiled
                (Keras's default on CPUs), compile its element-wise parts --
                the optimizer update and the likelihood -- with XLA
                (`keras_rt.distribute.partial_xla`): True, False or "auto"
                (on unless the step is compiled or eager, or runs under a
                `tf.distribute` strategy). Narrow convolutions (<= 4 output
                channels) are compiled too with True, and with "auto" where
                this machine's probe measured XLA faster for them, as a
                matrix product where that measured fastest
                (`keras_rt.performance.plan.narrow_conv_implementation`).
                With "auto", an Adam or AdamW update runs as TensorFlow's
                fused Adam kernel and the likelihood on TensorFlow's ops,
                unless the probe measured XLA at least 1.25x faster for
                them (`keras_rt.distribute.fused_adam`,
                `keras_rt.performance.plan.optimizer_update_implementation`,
                `likelihood_prefers_xla`). With "auto", `compile` reads
                this machine's probe: measured once per machine kind
                (6-15 s on 2 CPU cores) and cached.
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
        # Decided here, eagerly (the machine's probe may have to measure), not while tracing.
        self._xla_convolutions = self.xla_convolution_layers() if self._partial_jit() else []
        self._narrow_conv_implementation = self._narrow_convs_implementation()
        self._optimizer_update = self._optimizer_update_implementation()
        self._likelihood_xla = self._likelihood_prefers_xla()

    def _partial_jit(self) -> bool:
        return self.compiled and partial_jit_active(
            self, getattr(self, "partial_jit_compile", "auto")
        )

    def train_step(self, data):
        """Keras's own step; with partial XLA, the optimizer update (and narrow convolutions) run
        as XLA functions, or Adam's update as TensorFlow's fused kernel (see `compile`).
        Under bfloat16, bias gradients are summed in 32 bits
        (`keras_rt.ops.bias_gradient`: TensorFlow's CPU kernel sums them in bfloat16)."""
        if not self._partial_jit() or self.optimizer is None:
            with float32_bias_gradients():
                return super().train_step(data)
        optimizer_update = (
            fused_adam_update(self.optimizer)
            if getattr(self, "_optimizer_update", "xla") == "fused"
            else xla_optimizer_update(self.optimizer, self.trainable_weights)
        )
        with (
            float32_bias_gradients(),
            optimizer_update,
            xla_convolutions(
                getattr(self, "_xla_convolutions", []),
                implementation=getattr(self, "_narrow_conv_implementation", "xla"),
            ),
        ):
            return super().train_step(data)

    def xla_convolution_layers(self) -> list:
        """The narrow convolution layers that partial XLA computes another way (see `compile`)."""
        from keras_rt.performance.flops import op_kind

        choice = getattr(self, "partial_jit_compile", "auto")
        layers = [
            layer
            for layer in self._flatten_layers(include_self=False, recursive=True)
            if op_kind(layer) == "narrow_conv"
        ]
        if not layers or choice != "auto":
            return layers if choice is True else []
        from keras_rt.performance.plan import narrow_convs_prefer_xla
        from keras_rt.performance.probe import load_or_probe

        prefer = narrow_convs_prefer_xla(load_or_probe(), layers[0].compute_dtype)
        return layers if prefer else []

    def _narrow_convs_implementation(self) -> str:
        """How partial XLA computes its narrow convolutions (`xla_convolutions`): with "auto",
        the way the probe measured fastest; with True, XLA's convolution ("xla")."""
        layers = getattr(self, "_xla_convolutions", [])
        if not layers or getattr(self, "partial_jit_compile", "auto") != "auto":
            return "xla"
        from keras_rt.performance.plan import narrow_conv_implementation
        from keras_rt.performance.probe import load_or_probe

        return narrow_conv_implementation(load_or_probe(), layers[0].compute_dtype)

    def _optimizer_update_implementation(self) -> str:
        """How partial XLA computes the optimizer update: with "auto", for an Adam or AdamW
        optimizer, "fused" (TensorFlow's fused Adam kernel) unless the probe measured XLA at
        least 1.25x faster; else "xla"."""
        if (
            not self._partial_jit()
            or getattr(self, "partial_jit_compile", "auto") != "auto"
            or not supports_fused_adam(self.optimizer)
        ):
            return "xla"
        from keras_rt.performance.plan import optimizer_update_implementation
        from keras_rt.performance.probe import load_or_probe

        return optimizer_update_implementation(load_or_probe())

    def _likelihood_prefers_xla(self) -> bool:
        """Whether partial XLA compiles the likelihood: with True always, with "auto" where the
        probe measured it enough faster (`keras_rt.performance.plan.likelihood_prefers_xla`)."""
        if not self._partial_jit() or getattr(self, "partial_jit_compile", "auto") is True:
            return True
        from keras_rt.performance.plan import likelihood_prefers_xla
        from keras_rt.performance.probe import load_or_probe

        return likelihood_prefers_xla(load_or_probe())

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
        outputs = self.encoder(x, training=False)
        return tuple(outputs) if isinstance(outputs, (list, tuple)) else (outputs,)

    def encode_outputs(self, x) -> dict:
        """Named posterior parameters for the `encode` signature. Latent families override."""
        raise NotImplementedError

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


__all__ = ["VAE"]
