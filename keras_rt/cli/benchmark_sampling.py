"""Benchmark: `Sampling` vs the inline reparameterization expression (forward + backward).

Usage:
  python benchmarks/sampling.py --json bench_results/sampling.json
  keras-rt benchmark-sampling --steps 100 --repeats 9

Prints a table of median ms/step eagerly, as a tf.function graph and under
XLA, and the ratio (goal: <= 1.10).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from keras_rt.cli.common import main_for


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the benchmark's flags."""
    parser.add_argument("--batch", type=int, default=256, help="batch size (default 256)")
    parser.add_argument("--steps", type=int, default=50, help="steps per timing (default 50)")
    parser.add_argument(
        "--repeats", type=int, default=7, help="interleaved timings per variant (default 7)"
    )
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")


def run(args: argparse.Namespace) -> int:
    """Runs the benchmark and prints the table."""
    from keras_rt.experiments.sampling_benchmark import benchmark_sampling, format_table

    for name in ("batch", "steps", "repeats"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name} must be >= 1. Received: {getattr(args, name)}")
    from keras_rt.training.environment import cpu_description

    rows = benchmark_sampling(batch=args.batch, steps=args.steps, repeats=args.repeats)
    print(f"Machine: {cpu_description()}")
    print(format_table(rows))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(
                {
                    "benchmark": "sampling_vs_inline",
                    "machine": cpu_description(),
                    "cpu_count": os.cpu_count(),
                    "results": rows,
                },
                f,
                indent=2,
            )
        print(f"JSON: {args.json}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`benchmarks/sampling.py` entry point."""
    return main_for(add_arguments, run, argv, prog="sampling.py", description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
