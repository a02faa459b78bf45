"""Cost of the `Sampling` layer against the inline reparameterization expression.

The same small encoder/decoder is run forward and backward with
`z = Sampling()([mean, log_var])` and with the hand-written
`z = mean + exp(0.5 * log_var) * eps`, eagerly, as a `tf.function` graph and
under XLA. Variants are interleaved in one process and medians reported
(run-to-run noise on shared machines is about 10%).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import keras
import tensorflow as tf

from keras_rt.layers import Sampling

MODES = ("eager", "graph", "xla")


def _make_step(kind: str, mode: str, batch: int, dim: int, hidden: int, latent: int) -> Callable:
    keras.utils.set_random_seed(0)
    encoder = keras.Sequential(
        [
            keras.Input((dim,)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(2 * latent),
        ]
    )
    decoder = keras.Sequential(
        [
            keras.Input((latent,)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(dim),
        ]
    )
    sampling = Sampling(seed=0)
    generator = keras.random.SeedGenerator(0)
    variables = encoder.trainable_variables + decoder.trainable_variables

    def step(x):
        with tf.GradientTape() as tape:
            mean, log_var = tf.split(encoder(x), 2, axis=-1)
            if kind == "layer":
                z = sampling([mean, log_var])
            else:
                eps = keras.random.normal(tf.shape(mean), seed=generator)
                z = mean + tf.exp(0.5 * log_var) * eps
            loss = tf.reduce_mean(tf.square(decoder(z) - x))
        return tape.gradient(loss, variables)

    if mode == "graph":
        step = tf.function(step)
    elif mode == "xla":
        step = tf.function(step, jit_compile=True)
    return step


def benchmark_sampling(
    *,
    batch: int = 256,
    dim: int = 784,
    hidden: int = 256,
    latent: int = 32,
    steps: int = 50,
    repeats: int = 7,
    modes: tuple[str, ...] = MODES,
) -> list[dict]:
    """Median milliseconds per forward+backward step of each variant, and the ratio.

    Args:
        batch: batch size.
        dim: input width.
        hidden: hidden width.
        latent: latent dimensions.
        steps: steps per timing.
        repeats: interleaved timings per variant (the median is reported).
        modes: any of "eager", "graph", "xla".

    Returns:
        One dict per mode: `{"mode", "layer_ms", "inline_ms", "ratio"}`.

    Example:

    >>> rows = benchmark_sampling(
    ...     batch=8, dim=16, hidden=8, latent=2, steps=2, repeats=1, modes=("graph",)
    ... )
    >>> [sorted(row) for row in rows]
    [['inline_ms', 'layer_ms', 'mode', 'ratio']]
    """
    x = tf.random.stateless_uniform((batch, dim), seed=(1, 2))
    rows = []
    for mode in modes:
        steps_by_kind = {
            k: _make_step(k, mode, batch, dim, hidden, latent) for k in ("layer", "inline")
        }
        for step in steps_by_kind.values():  # warm up / trace
            for _ in range(3):
                tf.nest.map_structure(lambda t: t.numpy(), step(x))
        times: dict[str, list[float]] = {"layer": [], "inline": []}
        for _ in range(repeats):
            for kind, step in steps_by_kind.items():
                start = time.perf_counter()
                for _ in range(steps):
                    grads = step(x)
                grads[-1].numpy()
                times[kind].append((time.perf_counter() - start) / steps * 1e3)
        layer_ms, inline_ms = statistics.median(times["layer"]), statistics.median(times["inline"])
        rows.append(
            {
                "mode": mode,
                "layer_ms": round(layer_ms, 4),
                "inline_ms": round(inline_ms, 4),
                "ratio": round(layer_ms / inline_ms, 3),
            }
        )
    return rows


def format_table(rows: list[dict]) -> str:
    """A text table of `benchmark_sampling` rows."""
    lines = [f"{'mode':<8}{'Sampling (ms)':>16}{'inline (ms)':>14}{'ratio':>8}"]
    lines += [
        f"{r['mode']:<8}{r['layer_ms']:>16.3f}{r['inline_ms']:>14.3f}{r['ratio']:>8.3f}"
        for r in rows
    ]
    return "\n".join(lines)
