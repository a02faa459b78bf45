"""The variance study on a real objective: a VAE encoder's ELBO gradient on digits.

The small VAE of `keras_rt.experiments.digits_vae` is first trained for a few
hundred steps on scikit-learn's bundled 8x8 digits. Then, on a fixed batch
of examples, the gradient of the ELBO with respect to the encoder's weights
`phi`

    ELBO(phi) = sum_b E_{z ~ q_phi(z | x_b)}[ log p(x_b | z) + log p(z) - log q_phi(z | x_b) ]

is estimated by each estimator at equal sample counts, `reps` times, and the
total variance (trace of the covariance over all encoder weights) compared.
Inside the expectation the `log q` term is evaluated with the current weights
held fixed (`stop_gradient`); that leaves the gradient unchanged because
`E_q[grad_phi log q_phi(z)] = 0`, and it lets every estimator share one `f`:
the pathwise estimator is then the "sticking the landing" path-derivative
estimator (Roeder, Wu, Duvenaud, 2017), the score-function one is REINFORCE.

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

from keras_rt.estimators import (
    gradient_variance,
    pathwise,
    pathwise_antithetic,
    pathwise_qmc,
    score_function,
)
from keras_rt.experiments.digits_vae import elbo_problem, load_digits_pixels, train_vae

VAE_ESTIMATORS = (
    "score_function",
    "score_function_rloo",
    "pathwise",
    "pathwise_antithetic",
    "pathwise_qmc",
)
DEFAULT_VAE_SIZES = (16, 128, 1024)


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

    Example:

    >>> study = run_vae_study(
    ...     sizes=[8], reps=4, train_steps=5, batch_size=4, estimators=["pathwise", "pathwise_qmc"]
    ... )
    >>> [(r["estimator"], r["n"]) for r in study["results"]]
    [('pathwise', 8), ('pathwise_qmc', 8)]
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


def vae_variance_ratios(study: dict[str, Any]) -> list[dict[str, Any]]:
    """Variance ratios at equal `N` on the VAE: how many times lower the better estimator is.

    Returns one row per `N` with `score_function / pathwise`,
    `score_function_rloo / pathwise` and `pathwise / pathwise_qmc` (None where
    a cell was not run).
    """
    cells = {(r["estimator"], r["n"]): r["total_variance"] for r in study["results"]}

    def ratio(a: str, b: str, n: int) -> float | None:
        num, den = cells.get((a, n)), cells.get((b, n))
        return None if num is None or not den else num / den

    return [
        {
            "n": n,
            "score_function/pathwise": ratio("score_function", "pathwise", n),
            "score_function_rloo/pathwise": ratio("score_function_rloo", "pathwise", n),
            "pathwise/pathwise_qmc": ratio("pathwise", "pathwise_qmc", n),
        }
        for n in study["sizes"]
    ]


def format_vae_ratios(rows: list[dict[str, Any]]) -> str:
    """`vae_variance_ratios` rows as a Markdown-compatible table."""

    def cell(x: float | None) -> str:
        return "-" if x is None else f"{x:.4g}"

    lines = [
        "VAE ELBO gradient, variance ratios at equal N:",
        "| N | score_function / pathwise | score_function_rloo / pathwise | pathwise / qmc |",
        "|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['n']} | {cell(r['score_function/pathwise'])} "
        f"| {cell(r['score_function_rloo/pathwise'])} | {cell(r['pathwise/pathwise_qmc'])} |"
        for r in rows
    ]
    return "\n".join(lines)
