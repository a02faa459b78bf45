"""Benchmark: zoo VAEs under `fit` vs a VAE written the common way (GradientTape `train_step`).

Usage:
  python benchmarks/zoo.py --json bench_results/zoo.json
  python benchmarks/zoo.py --models mlp_vae --repeats 3 --skip-quality

Prints two tables and optionally writes them as JSON:

- throughput: median examples/s of `fit` on Fashion-MNIST (dynamically
  binarized, batch 128) for the reference (float32, no XLA) and the zoo
  model in float32 / mixed_bfloat16, whole-step XLA off (then partial XLA) /
  on; each zoo variant timed in a pair with the reference, warm-up epoch
  excluded, speed-up = median of per-round ratios (goal >= 1.5x);
- quality: test negative ELBO (all 10,000 test images) and negative
  IWAE-k bound (a prefix of the test set) of the reference and the fastest
  zoo variant after the same number of epochs (goal: no worse).

The defaults take about 10-15 minutes on 2 CPU cores (README, "Benchmarks"). `--models`, `--train-examples`, `--quality-epochs`
and `--iwae-examples` take one value for all models or `model=value` pairs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Sequence

from keras_rt.cli.common import main_for
from keras_rt.experiments.zoo_variants import MODELS, VARIANTS, ZOO_VARIANTS

VARIANT_NAMES = tuple(VARIANTS)


def per_model_value(text: str) -> int | dict[str, int]:
    """`"5"` -> 5; `"mlp_vae=10,conv_vae=3"` -> a dict (argparse type)."""
    if "=" not in text:
        return int(text)
    values = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        if name.strip() not in MODELS:
            raise argparse.ArgumentTypeError(
                f"unknown model {name.strip()!r}; valid: {', '.join(MODELS)}"
            )
        values[name.strip()] = int(value)
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the benchmark's flags."""
    parser.add_argument(
        "--models",
        default=",".join(MODELS),
        help=f"comma-separated zoo models (default {','.join(MODELS)})",
    )
    parser.add_argument(
        "--dataset", default="fashion_mnist", help="data set (default fashion_mnist)"
    )
    parser.add_argument("--batch-size", type=int, default=128, help="batch size (default 128)")
    parser.add_argument(
        "--epochs",
        type=int,
        default=1,
        help="timed epochs per variant per round, after one warm-up epoch (default 1)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="timing rounds per (reference, variant) pair (default 5)",
    )
    parser.add_argument(
        "--train-examples",
        type=per_model_value,
        default=None,
        help="examples per timed epoch (default mlp_vae=25600,conv_vae=3840)",
    )
    parser.add_argument(
        "--variants",
        default=",".join(VARIANT_NAMES),
        help=f"comma-separated throughput variants (default {','.join(VARIANT_NAMES)})",
    )
    parser.add_argument(
        "--quality-epochs",
        type=per_model_value,
        default=None,
        help="training epochs of the quality comparison (default mlp_vae=10,conv_vae=3)",
    )
    parser.add_argument(
        "--zoo-variant",
        choices=ZOO_VARIANTS,
        default=None,
        help="zoo variant of the quality comparison (default: the fastest measured)",
    )
    parser.add_argument(
        "--iwae-samples", type=int, default=5000, help="k of the IWAE-k bound (default 5000)"
    )
    parser.add_argument(
        "--iwae-examples",
        type=per_model_value,
        default=None,
        help="test examples scored with IWAE-k (default mlp_vae=500,conv_vae=64)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of data, initialization, noise (default 0)"
    )
    parser.add_argument(
        "--skip-throughput", action="store_true", help="only the quality comparison"
    )
    parser.add_argument("--skip-quality", action="store_true", help="only the throughput table")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")


def _names(text: str, valid: Sequence[str], flag: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in valid]
    if not names or bad:
        raise ValueError(f"{flag} must list names from {list(valid)}. Received: {text!r}")
    return names


def run(args: argparse.Namespace) -> int:
    """Runs the benchmarks and prints the tables."""
    import keras

    from keras_rt.experiments import zoo_quality, zoo_throughput
    from keras_rt.training.environment import package_versions

    models = _names(args.models, MODELS, "--models")
    variants = _names(args.variants, VARIANT_NAMES, "--variants")
    for name in ("batch_size", "epochs", "repeats", "iwae_samples"):
        if getattr(args, name) < 1:
            raise ValueError(
                f"--{name.replace('_', '-')} must be >= 1. Received: {getattr(args, name)}"
            )
    if args.skip_throughput and args.skip_quality:
        raise ValueError("--skip-throughput and --skip-quality leave nothing to run.")
    keras.utils.set_random_seed(args.seed)
    result: dict = {
        "benchmark": "zoo_vs_reference",
        "machine": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "versions": package_versions(),
        "settings": {k: v for k, v in vars(args).items() if k != "json"},
    }
    throughput: list[dict] = []
    start = time.perf_counter()
    if not args.skip_throughput:
        throughput = zoo_throughput.benchmark_throughput(
            models=models,
            dataset=args.dataset,
            batch_size=args.batch_size,
            train_examples=args.train_examples,
            epochs=args.epochs,
            repeats=args.repeats,
            variants=variants,
            seed=args.seed,
        )
        result["throughput"] = throughput
        result["throughput_seconds"] = round(time.perf_counter() - start, 1)
        print(
            "Training throughput (median examples/s of fit; speed-up: median of paired per-round ratios)"
        )
        print(zoo_throughput.format_throughput_table(throughput))
        print()
    if not args.skip_quality:
        zoo_variant = args.zoo_variant
        if zoo_variant is None and throughput:
            zoo_variant = {m: zoo_throughput.fastest_zoo_variant(throughput, m) for m in models}
        start_quality = time.perf_counter()
        quality = zoo_quality.benchmark_quality(
            models=models,
            dataset=args.dataset,
            batch_size=args.batch_size,
            epochs=args.quality_epochs,
            zoo_variant=zoo_variant,
            iwae_samples=args.iwae_samples,
            iwae_examples=args.iwae_examples,
            seed=args.seed,
        )
        result["quality"] = quality
        result["quality_seconds"] = round(time.perf_counter() - start_quality, 1)
        print("Quality on the test split (nats per example, lower is better)")
        print(zoo_quality.format_quality_table(quality))
    result["total_seconds"] = round(time.perf_counter() - start, 1)
    print(f"\nTotal: {result['total_seconds']:.0f} s")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2, default=str)
            f.write("\n")
        print(f"JSON: {args.json}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`benchmarks/zoo.py` entry point."""
    return main_for(add_arguments, run, argv, prog="zoo.py", description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
