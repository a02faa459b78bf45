"""The variance study on a real objective: a VAE encoder's ELBO gradient on digits.

A small VAE (64 pixels -> `hidden` tanh units -> a `latent_dim`-D Gaussian
posterior `q_phi(z | x)`; decoder `latent_dim` -> `hidden` -> 64 Bernoulli
logits) is first trained for a few hundred steps on scikit-learn's bundled
8x8 digits (pixel values / 16, in [0, 1]). Then, on a fixed batch of
examples, the gradient of the ELBO with respect to the encoder's weights `phi`

    ELBO(phi) = sum_b E_{z ~ q_phi(z | x_b)}[ log p(x_b | z) + log p(z) - log q_phi(z | x_b) ]

is estimated by each estimator at equal sample counts, `reps` times, and the
total variance (trace of the covariance over all encoder weights) compared.
Inside the expectation the `log q` term is evaluated with the current weights
held fixed (`stop_gradient`); that leaves the gradient unchanged because
`E_q[grad_phi log q_phi(z)] = 0`, and it lets every estimator share one `f`:
the pathwise estimator is then the "sticking the landing" path-derivative
estimator (Roeder, Wu, Duvenaud, 2017), the score-function one is REINFORCE.

The encoder is written as a pure function of its weight tensors so that the
estimators' per-sample gradients (weights tiled along a sample axis) apply.
For QMC each example gets its own randomized `latent_dim`-D Sobol sequence
(`joint_ndims=1`): a low-dimensional QMC per example keeps most of the gain.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from keras_rt.estimators.pathwise import pathwise, pathwise_antithetic, pathwise_qmc
from keras_rt.estimators.score_function import score_function
from keras_rt.estimators.variance import gradient_variance

tfd = tfp.distributions

VAE_ESTIMATORS = (
    "score_function",
    "score_function_rloo",
    "pathwise",
    "pathwise_antithetic",
    "pathwise_qmc",
)
DEFAULT_VAE_SIZES = (16, 128, 1024)


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


def _vae_estimators(latent_dim: int) -> dict[str, tuple[Callable, dict[str, Any]]]:
    # The score-function rows use per-example ("local") learning signals, the
    # fair form for a batch of independent examples.
    return {
        "score_function": (score_function, {"local_signals": True}),
        "score_function_rloo": (score_function, {"baseline": "rloo", "local_signals": True}),
        "pathwise": (pathwise, {}),
        "pathwise_antithetic": (pathwise_antithetic, {}),
        "pathwise_qmc": (pathwise_qmc, {"joint_ndims": 1}),
    }


def run_vae_study(
    sizes: Sequence[int] = DEFAULT_VAE_SIZES,
    reps: int = 50,
    seed: int = 0,
    *,
    latent_dim: int = 2,
    hidden: int = 32,
    batch_size: int = 32,
    train_steps: int = 400,
    estimators: Sequence[str] | None = None,
) -> dict[str, Any]:
    """ELBO-gradient variance of each estimator on a trained digits VAE encoder.

    Args:
        sizes: sample counts `N` (>= 2). Defaults to `(16, 128, 1024)`.
        reps: repetitions per cell (>= 2). Defaults to `50`.
        seed: seed of the training, the batch and the draws. Defaults to `0`.
        latent_dim: latent dimensions. Defaults to `2`.
        hidden: hidden units of encoder and decoder. Defaults to `32`.
        batch_size: examples in the fixed batch `B`. Defaults to `32`.
        train_steps: Adam steps before measuring. Defaults to `400`.
        estimators: names from `VAE_ESTIMATORS`. Defaults to all.

    Returns:
        A JSON-ready dict: settings plus `"results": [{"estimator", "n",
        "total_variance", "mean_norm", "mean_error_norm", "snr",
        "variance_ratio_to_pathwise"}]` where `total_variance` is the trace of
        the covariance of the `N`-sample estimate over all encoder weights,
        the reference gradient is the mean of the lowest-variance cell
        (`reference_gradient_norm` is its norm), `snr = reference norm /
        sqrt(total_variance)` and `mean_error_norm` is the distance of the
        cell's mean from the reference.
    """
    sizes = [int(n) for n in sizes]
    if not sizes or min(sizes) < 2:
        raise ValueError(f"every sample size must be >= 2; Received: sizes={sizes}")
    if reps < 2:
        raise ValueError(f"reps must be >= 2; Received: reps={reps}")
    table = _vae_estimators(latent_dim)
    names = list(table) if estimators is None else list(estimators)
    unknown = [n for n in names if n not in table]
    if unknown:
        raise ValueError(f"unknown estimator(s) {unknown}; valid: {sorted(table)}")

    data = load_digits_pixels()
    encoder_params, decoder_params = train_vae(
        data, latent_dim=latent_dim, hidden=hidden, steps=train_steps, seed=seed
    )
    rng = np.random.default_rng(seed)
    x = tf.constant(data[rng.choice(len(data), size=batch_size, replace=False)])
    f, f_local, dist_fn, params = elbo_problem(x, encoder_params, decoder_params)

    results: list[dict[str, Any]] = []
    for name in names:
        estimator, options = table[name]
        objective = f_local if options.get("local_signals") else f
        for n in sizes:
            key = tf.constant([seed, zlib.crc32(f"vae/{name}/{n}".encode()) & 0x7FFFFFFF])
            stats = gradient_variance(
                estimator,
                objective,
                dist_fn,
                params,
                n,
                num_repeats=reps,
                seed=key,
                **options,
            )
            results.append(
                {
                    "estimator": name,
                    "n": n,
                    "total_variance": float(sum(float(s.total_variance) for s in stats)),
                    "_mean": np.concatenate([s.mean.numpy().ravel() for s in stats]),
                }
            )
    by_cell = {(r["estimator"], r["n"]): r for r in results}
    # The reference gradient: the most precise mean available (lowest variance).
    best = min(results, key=lambda r: r["total_variance"])
    reference = best["_mean"]
    reference_norm = float(np.linalg.norm(reference))
    for r in results:
        mean = r.pop("_mean")
        r["mean_norm"] = float(np.linalg.norm(mean))
        r["mean_error_norm"] = float(np.linalg.norm(mean - reference))
        r["snr"] = (
            reference_norm / math.sqrt(r["total_variance"])
            if r["total_variance"] > 0
            else float("inf")
        )
        ref = by_cell.get(("pathwise", r["n"]))
        r["variance_ratio_to_pathwise"] = (
            r["total_variance"] / ref["total_variance"]
            if ref and ref["total_variance"] > 0
            else None
        )
    return {
        "latent_dim": latent_dim,
        "hidden": hidden,
        "batch_size": batch_size,
        "train_steps": train_steps,
        "num_encoder_weights": int(sum(int(np.prod(p.shape)) for p in params)),
        "reps": int(reps),
        "seed": int(seed),
        "sizes": sizes,
        "reference_gradient_norm": reference_norm,
        "results": results,
    }


def format_vae_table(study: dict[str, Any]) -> str:
    """The VAE study as a Markdown-compatible table."""
    lines = [
        f"ELBO gradient w.r.t. the encoder ({study['num_encoder_weights']} weights) of a "
        f"{study['latent_dim']}-D-latent VAE on digits, batch of {study['batch_size']}, "
        f"{study['reps']} repetitions per cell",
        "",
        "| estimator | N | total variance | variance / pathwise | SNR |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in study["results"]:
        ratio = r.get("variance_ratio_to_pathwise")
        ratio_text = "-" if ratio is None else f"{ratio:.4g}"
        lines.append(
            f"| {r['estimator']} | {r['n']} | {r['total_variance']:.4g} | {ratio_text} "
            f"| {r['snr']:.3g} |"
        )
    return "\n".join(lines)
