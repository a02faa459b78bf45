"""One timing of the zoo benchmark, in a process of its own: build, warm up, time, print JSON.

`keras_rt.experiments.zoo_throughput` runs this module once per (variant,
round), so that no timing shares a process with another model (with several
models alive in one process every model ran up to 8% slower, unevenly):

    python -m keras_rt.experiments.zoo_timing_worker '{"model": "mlp_vae", "variant": "reference", ...}'

The last line of its output is a JSON object: `seconds` (each timed epoch),
`warmup_seconds`, `examples_per_epoch`, `flops_per_example` (training step,
`keras_rt.performance.flops`), the concrete `policy`, `jit_compile` and `label`.
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

    splits = load_splits(model, dataset, batch_size, seed, train_examples)
    chosen = concrete_variant(VARIANTS[variant], model, dataset, splits.input_shape)
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


def main(argv: Sequence[str] | None = None) -> int:
    """Runs `time_variant` on the JSON keyword arguments in `argv[0]`; prints the result as JSON."""
    args = json.loads((list(argv) if argv is not None else sys.argv[1:])[0])
    print(json.dumps(time_variant(**args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
