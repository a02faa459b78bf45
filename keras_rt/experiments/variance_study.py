"""The seed experiment: score-function vs pathwise variance on `x ~ N(theta, 1)`, `f = x^2`.

`E[x^2] = theta^2 + 1`, so the true gradient is `2 theta`. Per sample:

- score function, `x^2 (x - theta)`: variance `theta^4 + 14 theta^2 + 15`
  (87 at `theta = 2`);
- score function with baseline `b`, `(x^2 - b)(x - theta)`: variance
  `(theta^2 - b)^2 + 6 (theta^2 - b) + 8 theta^2 + 15`, i.e.
  `8 theta^2 + 10` (42) for `b = E[x^2] = theta^2 + 1` and the minimum
  `8 theta^2 + 6` (38) for the best constant `b* = theta^2 + 3`;
- pathwise, `2 x`: variance 4.

An `N`-sample average of independent terms has variance `v / N`, so on log-log
axes every estimator is a line of slope -1, and the estimators differ by a
constant factor: the pathwise estimator needs `87 / 4 = 21.75` times fewer
samples than the plain score function for the same precision. Antithetic
pairs make the pathwise gradient exact here (it is linear in the noise), and
randomized QMC falls much faster than `1 / N`.

`run_toy_study` returns the results as a JSON-ready dict;
`keras_rt.experiments.variance_report` presents it (`format_table`,
`plot_variance`); `benchmark_ratios` and `time_estimators` give the benchmark
numbers.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import tensorflow as tf
import tensorflow_probability as tfp

from keras_rt.estimators import (
    average_gradient,
    gradient_variance,
    pathwise,
    pathwise_antithetic,
    pathwise_qmc,
    score_function,
)

tfd = tfp.distributions

DEFAULT_SIZES = (10, 100, 1000, 10000, 100000)


def _toy_estimators(theta: float) -> dict[str, tuple[Callable, dict[str, Any]]]:
    """Estimator name -> (estimator, options) for the toy problem."""
    return {
        "score_function": (score_function, {}),
        "score_function_baseline": (score_function, {"baseline": theta**2 + 1.0}),
        "score_function_rloo": (score_function, {"baseline": "rloo"}),
        "pathwise": (pathwise, {}),
        "pathwise_antithetic": (pathwise_antithetic, {}),
        "pathwise_qmc": (pathwise_qmc, {}),
    }


TOY_ESTIMATORS = tuple(_toy_estimators(2.0))


def analytic_per_sample_variances(theta: float) -> dict[str, float]:
    """Closed-form per-sample variances `N * Var[g_hat]` for the toy problem."""
    t2 = theta * theta
    return {
        "score_function": t2 * t2 + 14.0 * t2 + 15.0,
        "score_function_baseline": 8.0 * t2 + 10.0,
        "score_function_best_constant": 8.0 * t2 + 6.0,
        "pathwise": 4.0,
    }


def _seed_for(seed: int, name: str, n: int) -> tf.Tensor:
    """A stable, distinct stateless seed for every (estimator, N) cell."""
    return tf.constant([seed, zlib.crc32(f"{name}/{n}".encode()) & 0x7FFFFFFF], tf.int32)


def toy_problem(theta: float, dtype: tf.DType = tf.float64):
    """`(f, dist_fn, params)` of the seed experiment."""
    params = [tf.constant(theta, dtype)]

    def f(x: tf.Tensor) -> tf.Tensor:
        return tf.square(x)

    def dist_fn(loc: tf.Tensor) -> tfp.distributions.Distribution:
        return tfd.Normal(loc, tf.ones([], loc.dtype), name="toy_normal")

    return f, dist_fn, params


def _check_sizes(sizes: Sequence[int], reps: int) -> list[int]:
    sizes = [int(n) for n in sizes]
    if not sizes:
        raise ValueError("sizes is empty; Received: sizes=[]")
    bad = [n for n in sizes if n < 2]
    if bad:
        raise ValueError(f"every sample size must be >= 2 (RLOO needs 2); Received: sizes={sizes}")
    if reps < 2:
        raise ValueError(f"reps must be >= 2 to measure a variance; Received: reps={reps}")
    return sizes


def run_toy_study(
    theta: float = 2.0,
    sizes: Sequence[int] = DEFAULT_SIZES,
    reps: int = 100,
    seed: int = 0,
    estimators: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Runs the variance study and returns a JSON-ready dict.

    For every estimator and sample size `N`, `reps` independent `N`-sample
    gradient estimates are drawn (in one compiled graph per cell) and their
    mean and variance recorded. Computations are in float64.

    Args:
        theta: the mean of `N(theta, 1)`. Defaults to `2.0`.
        sizes: sample counts `N` (each >= 2). Defaults to `10 ... 100000`.
        reps: repetitions per cell (>= 2). Defaults to `100`.
        seed: integer seed; the whole study is reproducible from it.
            Defaults to `0`.
        estimators: names from `TOY_ESTIMATORS`. Defaults to all of them.

    Returns:
        `{"theta", "true_gradient", "reps", "seed", "sizes",
        "analytic_per_sample_variance", "results": [{"estimator", "n",
        "mean", "variance", "per_sample_variance", "snr"}, ...]}`.

    Raises:
        ValueError: for NaN/inf `theta`, sizes < 2, reps < 2, or unknown
            estimator names.

    Example:

    >>> study = run_toy_study(sizes=[10, 100], reps=20, estimators=["pathwise"])
    >>> study["true_gradient"], [(r["estimator"], r["n"]) for r in study["results"]]
    (4.0, [('pathwise', 10), ('pathwise', 100)])
    """
    theta = float(theta)
    if not math.isfinite(theta):
        raise ValueError(f"theta must be finite; Received: theta={theta}")
    sizes = _check_sizes(sizes, reps)
    table = _toy_estimators(theta)
    names = list(table) if estimators is None else list(estimators)
    unknown = [n for n in names if n not in table]
    if unknown:
        raise ValueError(f"unknown estimator(s) {unknown}; valid: {sorted(table)}")
    f, dist_fn, params = toy_problem(theta)
    results = []
    for name in names:
        estimator, options = table[name]
        for n in sizes:
            [stats] = gradient_variance(
                estimator,
                f,
                dist_fn,
                params,
                n,
                num_repeats=reps,
                seed=_seed_for(seed, name, n),
                **options,
            )
            variance = float(stats.variance)
            results.append(
                {
                    "estimator": name,
                    "n": n,
                    "mean": float(stats.mean),
                    "variance": variance,
                    "per_sample_variance": variance * n,
                    "snr": float(stats.snr) if variance > 0 else float("inf"),
                }
            )
    return {
        "theta": theta,
        "true_gradient": 2.0 * theta,
        "reps": int(reps),
        "seed": int(seed),
        "sizes": sizes,
        "analytic_per_sample_variance": analytic_per_sample_variances(theta),
        "results": results,
    }


def _lookup(study: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    return {(r["estimator"], r["n"]): r for r in study["results"]}


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    if b <= 0:
        return float("inf") if a > 0 else None
    return a / b


def benchmark_ratios(study: dict[str, Any]) -> list[dict[str, Any]]:
    """Variance ratios at equal `N`: how many times lower the better estimator is.

    Returns one row per `N` with `score_function / pathwise` (goal: the
    analytic 21.75 at `theta = 2`), `score_function / score_function_rloo`,
    `pathwise / pathwise_qmc` (goal >= 10) and
    `pathwise / pathwise_antithetic`.
    """
    cells = _lookup(study)

    def var(name: str, n: int) -> float | None:
        row = cells.get((name, n))
        return None if row is None else row["variance"]

    rows = []
    for n in study["sizes"]:
        rows.append(
            {
                "n": n,
                "score_function/pathwise": _ratio(var("score_function", n), var("pathwise", n)),
                "score_function/score_function_rloo": _ratio(
                    var("score_function", n), var("score_function_rloo", n)
                ),
                "pathwise/pathwise_qmc": _ratio(var("pathwise", n), var("pathwise_qmc", n)),
                "pathwise/pathwise_antithetic": _ratio(
                    var("pathwise", n), var("pathwise_antithetic", n)
                ),
            }
        )
    return rows


def time_estimators(
    theta: float = 2.0,
    num_samples: int = 1_000_000,
    repeats: int = 3,
    seed: int = 0,
    estimators: Sequence[str] | None = None,
) -> dict[str, float]:
    """Wall time of each toy estimator, in seconds per 10^6 samples.

    Each estimator's averaged gradient at `num_samples` samples is compiled
    once (`tf.function`), run once to warm up, then timed as the best of
    `repeats` runs and scaled to 10^6 samples.

    Args:
        theta: the toy problem's mean. Defaults to `2.0`.
        num_samples: samples per timed call. Defaults to `1_000_000`.
        repeats: timed runs per estimator (best is kept). Defaults to `3`.
        seed: seed of the draws. Defaults to `0`.
        estimators: names from `TOY_ESTIMATORS`. Defaults to all.

    Returns:
        `{estimator name: seconds per 10^6 samples}`.
    """
    if num_samples < 2:
        raise ValueError(f"num_samples must be >= 2; Received: num_samples={num_samples}")
    table = _toy_estimators(float(theta))
    names = list(table) if estimators is None else list(estimators)
    f, dist_fn, params = toy_problem(float(theta))
    timings = {}
    for name in names:
        estimator, options = table[name]

        @tf.function(autograph=False)
        def step(s, estimator=estimator, options=options):
            return average_gradient(estimator, f, dist_fn, params, num_samples, seed=s, **options)

        s = tf.constant([seed, 1], tf.int32)
        run = step.get_concrete_function(s)
        run(s)[0].numpy()
        best = float("inf")
        for r in range(max(1, repeats)):
            s = tf.constant([seed, r + 2], tf.int32)
            start = time.perf_counter()
            run(s)[0].numpy()
            best = min(best, time.perf_counter() - start)
        timings[name] = best * 1e6 / num_samples
    return timings
