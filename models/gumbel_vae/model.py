"""`GumbelVAE`: a VAE with categorical latents, Gumbel-softmax or score-function (RLOO) gradients."""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

from keras_rt.api_export import keras_rt_export
from keras_rt.callbacks import GumbelTemperatureAnnealing
from keras_rt.estimator_names import CATEGORICAL
from keras_rt.layers import CategoricalKL, GumbelSoftmaxSampling
from keras_rt.ops.random_draws import random_uniform
from keras_rt.ops.validation import check_bool, check_int, check_number
from keras_rt.zoo.gaussian_vae import check_estimator
from keras_rt.zoo.losses import layer_losses, reject_sample_weight, scale_loss_for_replicas
from keras_rt.zoo.networks import MLPNetworks, check_units
from keras_rt.zoo.vae import VAE

tfd = tfp.distributions

RELAXED = ("gumbel_softmax", "st_gumbel")  # the estimators that sample through the relaxation


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
        self.num_samples = check_int("num_samples", num_samples)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, logits):
        logits = ops.cast(ops.stop_gradient(logits), "float32")
        shape = list(ops.shape(logits))
        shape.insert(1, self.num_samples)
        uniform = random_uniform(shape, minval=1e-20, maxval=1.0, seed=self.seed_generator)
        noisy = ops.expand_dims(logits, 1) - ops.log(-ops.log(uniform))
        return ops.one_hot(ops.argmax(noisy, axis=-1), logits.shape[-1], dtype="float32")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_samples) + tuple(input_shape[1:])

    def get_config(self):
        return {**super().get_config(), "num_samples": self.num_samples, "seed": self.seed}


def vimco_surrogate(log_px, log_q, latent_shape):
    """Per example, a surrogate whose value is the IWAE-k bound and whose gradient is VIMCO's.

    VIMCO (Mnih & Rezende, 2016): with log weights `log w_i = log p(x|z_i) +
    log p(z_i) - log q(z_i|x)` of k exact samples, the bound `L = log mean_i
    w_i`, and `L_{-i}` the bound with `log w_i` replaced by the mean of the
    other k - 1 log weights, the gradient is `sum_i (L - L_{-i}) d log q(z_i|x)
    + d L` (z_i held fixed). The prior is uniform over `num_classes` classes.
    The score term is zero in value, so the surrogate's value is the bound.

    Args:
        log_px: `(batch, k)` log-likelihoods.
        log_q: `(batch, k)` log q(z_i|x), with the encoder's gradient.
        latent_shape: `(num_variables, num_classes)`.

    Returns:
        `(batch,)` tensor.
    """
    n, classes = latent_shape
    log_w = log_px - float(n) * math.log(classes) - log_q
    k = ops.shape(log_w)[1]
    k_float = ops.cast(k, "float32")
    bound = ops.logsumexp(log_w, axis=1) - ops.log(k_float)
    others_mean = (ops.sum(log_w, axis=1, keepdims=True) - log_w) / (k_float - 1.0)
    # log_w with entry i replaced by the mean of the others, for each i: (batch, k, k).
    eye = ops.eye(k, dtype="float32")
    replaced = ops.expand_dims(log_w, 1) * (1.0 - eye) + ops.expand_dims(others_mean, 2) * eye
    bound_without = ops.logsumexp(replaced, axis=2) - ops.log(k_float)
    signal = ops.stop_gradient(ops.expand_dims(bound, 1) - bound_without)
    # The score term is zero in value (log q - its stopped copy): the surrogate's value is the bound.
    return bound + ops.sum(signal * (log_q - ops.stop_gradient(log_q)), axis=1)


@keras_rt_export()
class GumbelVAE(MLPNetworks, VAE):
    """A VAE whose latent is `latent_dim` categorical variables with `num_classes` classes each.

    The prior is uniform; the KL to it is closed form (`CategoricalKL`).
    Four ways to get gradients through the discrete latent (`estimator`):

    - `"gumbel_softmax"` (default; Jang et al., 2017): relaxed one-hot
      samples from `GumbelSoftmaxSampling` at temperature
      tau = max(tau_min, tau_0 * exp(-r * step)), annealed by the callback from
      `training_callbacks()`;
    - `"st_gumbel"`: straight-through Gumbel, a hard one-hot forward pass with
      the relaxed gradient (the same as `hard=True`);
    - `"score_function"`: exact one-hot samples, `num_score_samples` per
      example, and the REINFORCE gradient of the ELBO with the leave-one-out
      baseline (RLOO) — unbiased, higher variance;
    - `"vimco"` (Mnih & Rezende, 2016): the same samples, trained on the
      importance-weighted bound with VIMCO's per-sample baselines.

    Same model, same evaluation, so they can be compared on any dataset.

    Evaluation (`training=False`) uses exact one-hot samples, so `evaluate`,
    `neg_elbo` and the IWAE bound score the discrete model.

    Args:
        input_shape: shape of one (flattened) example.
        latent_dim: number of categorical variables.
        num_classes: classes per variable (>= 2).
        hidden_units: encoder widths (the decoder mirrors them).
        temperature: initial temperature tau_0 (> 0).
        min_temperature: tau_min (> 0).
        anneal_rate: r per optimizer step (0: constant temperature).
        hard: straight-through one-hot forward pass.
        estimator: `"gumbel_softmax"`, `"st_gumbel"`, `"score_function"` or `"vimco"`.
        num_score_samples: samples per example for RLOO and VIMCO (>= 2).
        **kwargs: the arguments of `VAE` (`likelihood`, `beta`, `seed`) and
            Keras's `name`, `trainable`, `dtype`.

    Example:

    >>> model = GumbelVAE(input_shape=(64,), latent_dim=4, num_classes=3, hidden_units=(16,))
    >>> model.posterior(np.zeros((2, 64), "float32")).event_shape
    TensorShape([4, 3])

    References:
        - [Jang, Gu & Poole, 2017](https://arxiv.org/abs/1611.01144)
        - [Kool, van Hoof & Welling, 2019 (RLOO)](https://openreview.net/forum?id=r1lgTGL5DE)
        - [Mnih & Rezende, 2016 (VIMCO)](https://arxiv.org/abs/1602.06725)
    """

    description = "categorical latent: Gumbel-softmax, straight-through, RLOO or VIMCO gradients"
    estimators = CATEGORICAL

    def __init__(
        self,
        input_shape: Sequence[int] = (64,),
        latent_dim: int = 20,
        num_classes: int = 10,
        hidden_units: Sequence[int] = (256, 128),
        temperature: float = 1.0,
        min_temperature: float = 0.5,
        anneal_rate: float = 3e-5,
        hard: bool = False,
        estimator: str = "gumbel_softmax",
        num_score_samples: int = 4,
        **kwargs,
    ):
        check_int("latent_dim", latent_dim)
        self.num_classes = check_int("num_classes", num_classes, minimum=2)
        self.hidden_units = check_units("hidden_units", hidden_units)
        self.estimator = check_estimator(type(self), estimator)
        # The leave-one-out baselines (RLOO, VIMCO) need two samples.
        several = estimator not in RELAXED
        self.num_score_samples = check_int(
            "num_score_samples",
            num_score_samples,
            minimum=2 if several else 1,
            why=f" with estimator={estimator!r}" if several else "",
        )
        self.temperature = check_number("temperature", temperature, above=0.0)
        self.min_temperature = check_number("min_temperature", min_temperature, above=0.0)
        self.anneal_rate = check_number("anneal_rate", anneal_rate, minimum=0.0)
        self.hard = check_bool("hard", hard)
        self.num_variables = latent_dim
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, **kwargs)

    def latent_shape(self) -> tuple:
        return (self.num_variables, self.num_classes)

    def build_graph(self, inputs, body, decoder) -> dict:
        n, k = self.num_variables, self.num_classes
        encoder_inputs = keras.Input(tuple(inputs.shape[1:]), name="x")
        flat_logits = keras.layers.Dense(n * k, name="logits", dtype="float32")(
            body(encoder_inputs)
        )
        logits = keras.layers.Reshape((n, k), dtype="float32")(flat_logits)
        encoder = keras.Model(encoder_inputs, logits, name="encoder")
        # VIMCO optimizes the importance-weighted bound, which holds the KL: the layer tracks it.
        kl_layer = CategoricalKL(weight=0.0 if self.estimator == "vimco" else self.beta, name="kl")
        logits = kl_layer(encoder(inputs))
        parts = {"encoder": encoder, "kl_layer": kl_layer}
        if self.estimator in RELAXED:
            sampling = GumbelSoftmaxSampling(
                temperature=self.temperature,
                hard=self.hard or self.estimator == "st_gumbel",
                seed=self.seed,
                inference="hard",
                name="sampling",
                dtype="float32",
            )
            parts.update(outputs=decoder(sampling(logits)), sampling=sampling)
        else:
            sampling = OneHotSampling(self.num_score_samples, seed=self.seed, name="sampling")
            z = sampling(logits)  # (batch, S, n, k)
            params = decoder(ops.reshape(z, (-1, n, k)))
            params = ops.reshape(params, (-1, self.num_score_samples) + tuple(params.shape[1:]))
            parts.update(outputs=[params, logits, z], sampling=sampling)
        return parts

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if self.estimator in RELAXED:
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        reject_sample_weight(sample_weight)
        params, logits, z = y_pred
        x = ops.cast(x, "float32")
        log_px = self.likelihood.distribution(params).log_prob(ops.expand_dims(x, 1))
        log_px = ops.sum(
            ops.reshape(log_px, (ops.shape(log_px)[0], self.num_score_samples, -1)), -1
        )
        # In float32, as the losses are under a mixed-precision policy (the logits are then 16-bit).
        log_q_each = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
        log_q = ops.sum(z * ops.expand_dims(log_q_each, 1), axis=(-2, -1))
        self.reconstruction_tracker.update_state(-ops.mean(log_px, axis=1))
        if self.estimator == "vimco":
            surrogate = -ops.mean(vimco_surrogate(log_px, log_q, self.latent_shape()))
        else:
            k = float(self.num_score_samples)
            baseline = (ops.sum(log_px, axis=1, keepdims=True) - log_px) / (k - 1.0)
            signal = ops.stop_gradient(log_px - baseline)
            score = log_q - ops.stop_gradient(log_q)  # zero in value: the loss is the -ELBO
            surrogate = -ops.mean(log_px + signal * score)
        return scale_loss_for_replicas(surrogate + layer_losses(self))

    def training_callbacks(self) -> list:
        if self.estimator not in RELAXED or self.anneal_rate == 0:
            return []
        return [
            GumbelTemperatureAnnealing(
                initial=self.temperature, rate=self.anneal_rate, minimum=self.min_temperature
            )
        ]

    def encode_outputs(self, x) -> dict:
        return {"logits": self.encode(x)[0]}

    def posterior(self, x) -> tfp.distributions.Distribution:
        (logits,) = self.encode(x)
        return tfd.Independent(tfd.OneHotCategorical(logits=logits, dtype=tf.float32), 1)

    def prior(self) -> tfp.distributions.Distribution:
        logits = tf.zeros(self.latent_shape())
        return tfd.Independent(tfd.OneHotCategorical(logits=logits, dtype=tf.float32), 1)


__all__ = ["GumbelVAE", "OneHotSampling"]
