"""One timing of the zoo benchmark, in a process of its own: build, warm up, time, print JSON.

`keras_rt.experiments.zoo_throughput` runs this module once per (variant,
round), so that no timing shares a process with another model (with several
models alive in one process every model ran up to 8% slower, unevenly):

    python -m keras_rt.experiments.zoo_timing_worker '{"model": "mlp_vae", "variant": "reference", ...}'

The last line of its output is a JSON object: `seconds` (each timed epoch),
`warmup_seconds`, `examples_per_epoch`, `flops_per_example` (training step,
`keras_rt.performance.flops`), the concrete `policy`, `jit_compile` and `label`.

With `"task": "kernel_time"` in the arguments it measures the model's
kernel time instead (`measure_kernel_time`), also in a process of its own.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence


def time_variant(
    *,
    model: str,
    variant: str,
    dataset: str,
    batch_size: int,
    train_examples: int,
    epochs: int,
    seed: int,
    learning_rate: float,
) -> dict:
    """Builds `variant` of `model`, warms it up for one epoch, then times `epochs` epochs."""
    from keras_rt.experiments.zoo_harness import (
        build_model,
        build_zoo_model,
        concrete_variant,
        fit_timed,
        load_splits,
    )
    from keras_rt.experiments.zoo_variants import VARIANTS
    from keras_rt.performance import training_flops_per_example
    from keras_rt.performance.step_timing import synthetic_batch

    splits = load_splits(model, dataset, batch_size, seed, train_examples)
    batch = synthetic_batch(splits.train.element_spec, batch_size)
    chosen = concrete_variant(VARIANTS[variant], model, dataset, splits.input_shape, batch=batch)
    net = build_model(
        chosen, model, dataset, splits.input_shape, seed=seed, learning_rate=learning_rate
    )
    start = time.perf_counter()
    fit_timed(net, chosen, splits.train, 1)
    warmup = time.perf_counter() - start
    seconds, _ = fit_timed(net, chosen, splits.train, epochs)
    return {
        "seconds": seconds,
        "warmup_seconds": warmup,
        "examples_per_epoch": splits.num_examples["train"],
        "flops_per_example": training_flops_per_example(
            build_zoo_model(model, dataset, splits.input_shape)
        ),
        "policy": chosen.policy,
        "jit_compile": chosen.jit_compile,
        "label": chosen.label,
    }


def measure_kernel_time(
    *,
    model: str,
    dataset: str,
    batch_size: int,
    dtype: str = "float32",
    seed: int = 0,
    budget_s: float = 0.2,
) -> dict:
    """`keras_rt.performance.kernel_time.kernel_time` of `model`'s preset for `dataset`.

    Example:

    >>> timed = measure_kernel_time(  # doctest: +SKIP
    ...     model="mlp_vae", dataset="fashion_mnist", batch_size=128
    ... )
    >>> timed["ms_per_step"]  # doctest: +SKIP
    13.2
    """
    from keras_rt.experiments.zoo_harness import build_zoo_model, load_splits
    from keras_rt.performance.kernel_time import kernel_time

    input_shape = load_splits(model, dataset, batch_size, seed, batch_size).input_shape
    net = build_zoo_model(model, dataset, input_shape, seed=seed)
    return kernel_time(net, input_shape, batch_size, dtype=dtype, budget_s=budget_s)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs `time_variant` (or, for `"task": "kernel_time"`, `measure_kernel_time`) on the
    JSON keyword arguments in `argv[0]`; prints the result as JSON."""
    args = json.loads((list(argv) if argv is not None else sys.argv[1:])[0])
    task = args.pop("task", "time")
    print(
        json.dumps(measure_kernel_time(**args) if task == "kernel_time" else time_variant(**args))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
