"""Zoo benchmark, throughput: examples/s of `fit` for each `Variant`, and the speed-up over the reference.

Each zoo variant is timed in a pair with a freshly built reference, one pair
at a time (with five models alive in one process, every model ran up to 8%
slower than in a pair, unevenly): both are built and given one warm-up epoch
(tracing, XLA compilation: excluded), then timed one `fit` call each,
alternating which goes first, for `repeats` rounds. An "epoch" is the first
`train_examples` examples of the training split, so that a round stays
short; an epoch's time runs from `on_epoch_begin` to `on_epoch_end`.
Reported: the median examples/s (the reference's over all its pairs) and the
median over rounds of the speed-up over the reference timed in the same
round (paired, so slow spells of a shared machine cancel).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

import keras

from keras_rt.experiments.zoo_harness import build_model, fit_timed, load_splits
from keras_rt.experiments.zoo_variants import (
    DEFAULT_TRAIN_EXAMPLES,
    MODELS,
    VARIANTS,
    check_models,
    per_model,
    resolve_variants,
)
from keras_rt.ops.validation import check_int


def benchmark_throughput(
    *,
    models: Sequence[str] = MODELS,
    dataset: str = "fashion_mnist",
    batch_size: int = 128,
    train_examples: int | dict[str, int] | None = None,
    epochs: int = 1,
    repeats: int = 5,
    variants: Sequence[str] = tuple(VARIANTS),
    seed: int = 0,
    learning_rate: float = 1e-3,
) -> list[dict]:
    """Examples per second of `fit` for each model and variant, and the speed-up over the reference.

    Args:
        models: zoo model names (`"mlp_vae"`, `"conv_vae"`).
        dataset: data set name; the zoo's preset for it sets the architecture.
        batch_size: examples per step, the same for every variant.
        train_examples: examples per timed epoch (an int for all models, a
            dict per model, or None: `DEFAULT_TRAIN_EXAMPLES`).
        epochs: timed epochs per variant per round (after the warm-up epoch).
        repeats: timed rounds per pair (reference, variant), the order
            alternating.
        variants: names from `VARIANTS` (the reference is always added).
        seed: data and initialization seed.
        learning_rate: Adam learning rate.

    Returns:
        One dict per model and variant: `{"model", "variant", "label",
        "policy", "jit_compile", "examples_per_epoch", "examples_per_second"
        (median), "examples_per_second_all" (every timed epoch),
        "speedup" (median over rounds of this variant's examples/s over the
        reference's in the same round and pair), "warmup_seconds"}`.

    Example:

    >>> rows = benchmark_throughput(  # doctest: +SKIP
    ...     models=["mlp_vae"], dataset="digits", train_examples=256, repeats=1
    ... )
    >>> print(format_throughput_table(rows))  # doctest: +SKIP
    """
    models = check_models(models)
    for name, value in (("batch_size", batch_size), ("epochs", epochs), ("repeats", repeats)):
        check_int(name, value)
    chosen = resolve_variants(variants)
    reference = chosen[0]
    rows = []
    for model in models:
        examples = per_model("train_examples", train_examples, DEFAULT_TRAIN_EXAMPLES, model)
        splits = load_splits(model, dataset, batch_size, seed, examples)
        n = splits.num_examples["train"]
        rates: dict[str, list[float]] = {v.name: [] for v in chosen}
        ratios: dict[str, list[float]] = {v.name: [] for v in chosen}
        warmup: dict[str, list[float]] = {v.name: [] for v in chosen}
        for variant in chosen[1:] or chosen:
            pair = (reference, variant) if variant is not reference else (reference,)
            nets = {}
            for member in pair:
                nets[member.name] = build_model(
                    member,
                    model,
                    dataset,
                    splits.input_shape,
                    seed=seed,
                    learning_rate=learning_rate,
                )
                start = time.perf_counter()
                fit_timed(nets[member.name], member, splits.train, 1)
                warmup[member.name].append(time.perf_counter() - start)
            for round_ in range(repeats):
                this_round = {}
                for member in pair if round_ % 2 == 0 else pair[::-1]:
                    seconds, _ = fit_timed(nets[member.name], member, splits.train, epochs)
                    this_round[member.name] = statistics.median(n / s for s in seconds)
                    rates[member.name] += [n / s for s in seconds]
                ratios[variant.name].append(this_round[variant.name] / this_round[reference.name])
            del nets
            keras.backend.clear_session(free_memory=True)
        ratios[reference.name] = [1.0]
        for variant in chosen:
            rows.append(
                {
                    "model": model,
                    "variant": variant.name,
                    "label": variant.label,
                    "policy": variant.policy,
                    "jit_compile": variant.jit_compile,
                    "examples_per_epoch": n,
                    "examples_per_second": round(statistics.median(rates[variant.name]), 1),
                    "examples_per_second_all": [round(r, 1) for r in rates[variant.name]],
                    "speedup": round(statistics.median(ratios[variant.name]), 3),
                    "warmup_seconds": round(statistics.median(warmup[variant.name]), 2),
                }
            )
    return rows


def fastest_zoo_variant(throughput_rows: list[dict], model: str) -> str | None:
    """The zoo variant with the highest median speed-up for `model` in `benchmark_throughput` rows.

    Example:

    >>> fastest_zoo_variant(
    ...     [
    ...         {"model": "mlp_vae", "variant": "reference", "speedup": 1.0},
    ...         {"model": "mlp_vae", "variant": "zoo_f32", "speedup": 1.4},
    ...         {"model": "mlp_vae", "variant": "zoo_bf16", "speedup": 1.9},
    ...     ],
    ...     "mlp_vae",
    ... )
    'zoo_bf16'
    """
    zoo_rows = [
        r for r in throughput_rows if r["model"] == model and VARIANTS[r["variant"]].kind == "zoo"
    ]
    return max(zoo_rows, key=lambda r: r["speedup"])["variant"] if zoo_rows else None


def format_throughput_table(rows: list[dict]) -> str:
    """A text table of `benchmark_throughput` rows."""
    lines = [f"{'model':<10}{'variant':<32}{'examples/s':>12}{'vs reference':>14}"]
    for r in rows:
        lines.append(
            f"{r['model']:<10}{r['label']:<32}{r['examples_per_second']:>12.0f}{r['speedup']:>13.2f}x"
        )
    return "\n".join(lines)
