"""A small VAE on scikit-learn's 8x8 digits, written as pure functions of its weight tensors.

The model of the VAE variance study (`keras_rt.experiments.vae_variance_study`):
64 pixels -> `hidden` tanh units -> a `latent_dim`-D Gaussian posterior
`q_phi(z | x)`; decoder `latent_dim` -> `hidden` -> 64 Bernoulli logits.
`train_vae` fits it for a few hundred Adam steps on the bundled digits (pixel
values / 16, in [0, 1]); `elbo_problem` turns it into the estimators'
`(f, dist_fn, params)` for the ELBO gradient with respect to the encoder.

The encoder is a pure function of its weight tensors so that the
estimators' per-sample gradients (weights tiled along a sample axis) apply.

Example:

>>> encoder, decoder = init_vae_params(latent_dim=2, hidden=8, seed=0)
>>> loc, log_var = encode(tf.zeros([3, 64]), *encoder)
>>> loc.shape, decode_logits(loc, *decoder).shape
(TensorShape([3, 2]), TensorShape([3, 64]))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


def load_digits_pixels() -> np.ndarray:
    """The 1797 bundled 8x8 digits as `[1797, 64]` float32 in [0, 1]."""
    from sklearn.datasets import load_digits

    return (load_digits().data / 16.0).astype(np.float32)


def _glorot(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)


def init_vae_params(
    latent_dim: int = 2, hidden: int = 32, input_dim: int = 64, seed: int = 0
) -> tuple[list[tf.Tensor], list[tf.Tensor]]:
    """Glorot-initialized `(encoder_params, decoder_params)`.

    Encoder: `[W1 (input_dim, hidden), b1, W2 (hidden, 2 latent_dim), b2]`;
    decoder: `[V1 (latent_dim, hidden), c1, V2 (hidden, input_dim), c2]`.
    """
    rng = np.random.default_rng(seed)
    enc = [
        _glorot(rng, input_dim, hidden),
        np.zeros(hidden, np.float32),
        _glorot(rng, hidden, 2 * latent_dim),
        np.zeros(2 * latent_dim, np.float32),
    ]
    dec = [
        _glorot(rng, latent_dim, hidden),
        np.zeros(hidden, np.float32),
        _glorot(rng, hidden, input_dim),
        np.zeros(input_dim, np.float32),
    ]
    return [tf.constant(p) for p in enc], [tf.constant(p) for p in dec]


def encode(x: tf.Tensor, w1, b1, w2, b2) -> tuple[tf.Tensor, tf.Tensor]:
    """Posterior `(loc, log_var)` for a batch `x: [B, D]`.

    Weights may carry extra leading axes (e.g. a per-sample axis `N`): the
    outputs then have shape `[..., B, latent_dim]`.
    """
    h = tf.tanh(tf.einsum("bi,...ih->...bh", x, w1) + b1[..., tf.newaxis, :])
    out = tf.einsum("...bh,...ho->...bo", h, w2) + b2[..., tf.newaxis, :]
    loc, log_var = tf.split(out, 2, axis=-1)
    return loc, log_var


def decode_logits(z: tf.Tensor, v1, c1, v2, c2) -> tf.Tensor:
    """Bernoulli logits `[..., D]` for latents `z: [..., latent_dim]`."""
    h = tf.tanh(tf.tensordot(z, v1, 1) + c1)
    return tf.tensordot(h, v2, 1) + c2


def train_vae(
    data: np.ndarray,
    *,
    latent_dim: int = 2,
    hidden: int = 32,
    steps: int = 400,
    batch_size: int = 128,
    learning_rate: float = 3e-3,
    seed: int = 0,
) -> tuple[list[tf.Tensor], list[tf.Tensor]]:
    """Trains the small VAE with the pathwise ELBO (analytic KL) and Adam.

    Returns:
        `(encoder_params, decoder_params)` as constant tensors.
    """
    enc0, dec0 = init_vae_params(latent_dim, hidden, data.shape[1], seed)
    variables = [tf.Variable(p) for p in enc0 + dec0]
    m = [tf.Variable(tf.zeros_like(v)) for v in variables]
    s = [tf.Variable(tf.zeros_like(v)) for v in variables]
    data = tf.constant(data)
    n_enc = len(enc0)
    b1, b2, eps = 0.9, 0.999, 1e-7

    @tf.function(autograph=False)
    def step(t, key):
        idx = tf.random.stateless_uniform(
            [batch_size], seed=key, maxval=tf.shape(data)[0], dtype=tf.int32
        )
        x = tf.gather(data, idx)
        with tf.GradientTape() as tape:
            loc, log_var = encode(x, *variables[:n_enc])
            noise = tf.random.stateless_normal(tf.shape(loc), seed=key + 1)
            z = loc + tf.exp(0.5 * log_var) * noise
            logits = decode_logits(z, *variables[n_enc:])
            rec = tf.reduce_sum(
                tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), -1
            )
            kl = 0.5 * tf.reduce_sum(tf.exp(log_var) + tf.square(loc) - 1.0 - log_var, -1)
            loss = tf.reduce_mean(rec + kl)
        grads = tape.gradient(loss, variables)
        t = tf.cast(t, tf.float32)
        for v, g, mv, sv in zip(variables, grads, m, s):
            mv.assign(b1 * mv + (1 - b1) * g)
            sv.assign(b2 * sv + (1 - b2) * tf.square(g))
            mhat = mv / (1 - b1**t)
            shat = sv / (1 - b2**t)
            v.assign_sub(learning_rate * mhat / (tf.sqrt(shat) + eps))
        return loss

    for t in range(1, steps + 1):
        step(tf.constant(t), tf.constant([seed, 2 * t], tf.int32))
    params = [tf.constant(v.numpy()) for v in variables]
    return params[:n_enc], params[n_enc:]


def elbo_problem(
    x: tf.Tensor,
    encoder_params: Sequence[tf.Tensor],
    decoder_params: Sequence[tf.Tensor],
) -> tuple[Callable, Callable, Callable, list[tf.Tensor]]:
    """`(f, f_local, dist_fn, params)` for the ELBO gradient w.r.t. the encoder.

    `dist_fn(*encoder_params)` is `q(z | x)` with batch shape `[B, latent]`
    (`[N, B, latent]` for per-sample weights); `f(z)` maps `[N, B, latent]`
    to the per-sample ELBO summed over the batch, `[N]`. `f_local(z)` is the
    learning signal of each latent coordinate `z_bl`, `[N, B, latent]`: the
    terms that depend on it, `log p(x_b | z_b) + log p(z_bl) - log q(z_bl)`,
    as `score_function(..., local_signals=True)` needs.
    """
    x = tf.convert_to_tensor(x)
    params = [tf.convert_to_tensor(p) for p in encoder_params]
    loc0, log_var0 = encode(x, *params)
    q0 = tfd.Normal(tf.stop_gradient(loc0), tf.stop_gradient(tf.exp(0.5 * log_var0)))
    prior = tfd.Normal(0.0, 1.0)

    def terms(z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        logits = decode_logits(z, *decoder_params)
        log_lik = -tf.reduce_sum(
            tf.nn.sigmoid_cross_entropy_with_logits(
                labels=tf.broadcast_to(x, tf.shape(logits)), logits=logits
            ),
            axis=-1,
        )  # [N, B]
        return log_lik, prior.log_prob(z) - q0.log_prob(z)  # [N, B, latent]

    def f(z: tf.Tensor) -> tf.Tensor:
        log_lik, log_ratio = terms(z)
        return tf.reduce_sum(log_lik, axis=-1) + tf.reduce_sum(log_ratio, axis=[-2, -1])

    def f_local(z: tf.Tensor) -> tf.Tensor:
        log_lik, log_ratio = terms(z)
        return log_lik[..., tf.newaxis] + log_ratio

    def dist_fn(w1, b1, w2, b2) -> tfp.distributions.Distribution:
        loc, log_var = encode(x, w1, b1, w2, b2)
        return tfd.Normal(loc, tf.exp(0.5 * log_var), name="posterior")

    return f, f_local, dist_fn, params
