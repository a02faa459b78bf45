"""Benchmark: zoo VAEs under `fit` vs a VAE written the common way (GradientTape `train_step`).

Usage:
  python benchmarks/zoo.py --json bench_results/zoo.json
  python benchmarks/zoo.py --quick                      # about 1 minute: a smoke run
  python benchmarks/zoo.py --device gpu --json bench_results/zoo_gpu.json

Prints the machine (CPU model and matrix features, GPUs, measured matmul
peaks) and two tables, and optionally writes them as JSON:

- throughput: median examples/s of `fit` on Fashion-MNIST (dynamically
  binarized, batch 128; 512 on GPUs) of the reference (float32, no XLA) and
  the zoo variants -- `zoo_default` is what `keras-rt train` chooses on this
  machine (the measured training plan); every timing in its own process,
  rounds interleaved, warm-up epoch excluded, speed-up = median of per-round
  ratios (goal >= 1.5x); roofline columns: achieved GFLOP/s of the training
  step, the measured matmul peak in the same dtype, the percentage, and
  the model's kernel time as a percentage of the step's (its matrix
  products and convolutions run alone, `keras_rt.performance.kernel_time`);
- quality: test negative ELBO (all 10,000 test images) and negative
  IWAE-k bound (a prefix of the test set) of the reference and the fastest
  zoo variant after the same number of epochs (goal: no worse).

The defaults take about 10-15 minutes on 2 CPU cores (README, "Benchmarks");
`--device gpu` about 5 minutes on one GPU. `--models`, `--train-examples`,
`--quality-epochs` and `--iwae-examples` take one value for all models or
`model=value` pairs.
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
from keras_rt.experiments.zoo_variants import DEVICE_VARIANTS, MODELS, VARIANTS, ZOO_VARIANTS

VARIANT_NAMES = tuple(VARIANTS)
# --quick: a smoke run of the whole benchmark (both models, the default path, tiny data).
QUICK = {
    "dataset": "digits",
    "batch_size": 32,
    "train_examples": 256,
    "repeats": 1,
    "variants": "zoo_default",
    "skip_quality": True,
    "kernel_time": False,
}


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
        "--dataset", default=None, help="data set (default fashion_mnist; digits with --quick)"
    )
    parser.add_argument(
        "--device",
        choices=("cpu", "gpu"),
        default="cpu",
        help="where to train: cpu (GPUs hidden) or gpu (fails clearly without one; default "
        "variants: XLA, bf16/f16 with XLA; batch 512) (default cpu)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run in about a minute: digits, batch 32, 256 examples, one round, "
        "the default path only, no quality comparison (flags given explicitly still apply)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=None, help="batch size (default 128; 512 on --device gpu)"
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=1,
        help="timed epochs per variant per round, after one warm-up epoch (default 1)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timing rounds; each times the reference and every variant once, each in its "
        "own process (default 3; 2 on --device gpu)",
    )
    parser.add_argument(
        "--train-examples",
        type=per_model_value,
        default=None,
        help="examples per timed epoch (default mlp_vae=25600,conv_vae=3840; on --device gpu "
        "mlp_vae=51200,conv_vae=25600)",
    )
    parser.add_argument(
        "--variants",
        default=None,
        help=f"comma-separated throughput variants from {','.join(VARIANT_NAMES)} (default "
        f"on cpu: {','.join(DEVICE_VARIANTS['cpu'])}; on gpu: {','.join(DEVICE_VARIANTS['gpu'])})",
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
        "--kernel-time",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="measure each model's kernel time (its matrix products and convolutions run "
        "alone, each layer at its fastest; about 10-20 s per model) and report it as a "
        "percentage of each step's time (default on; off with --quick)",
    )
    parser.add_argument(
        "--skip-throughput", action="store_true", help="only the quality comparison"
    )
    parser.add_argument(
        "--skip-quality", action="store_true", default=None, help="only the throughput table"
    )
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")


def _names(text: str, valid: Sequence[str], flag: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in valid]
    if not names or bad:
        raise ValueError(f"{flag} must list names from {list(valid)}. Received: {text!r}")
    return names


def apply_defaults(args: argparse.Namespace) -> argparse.Namespace:
    """Fills the flags left unset: `--quick`'s values, then the device's defaults."""
    if args.quick:
        for name, value in QUICK.items():
            if getattr(args, name) is None:
                setattr(args, name, value)
    gpu = args.device == "gpu"
    defaults = {
        "dataset": "fashion_mnist",
        "batch_size": 512 if gpu else 128,
        "variants": ",".join(DEVICE_VARIANTS[args.device]),
        # On a GPU an epoch of the CPU's size is too short to time; 2 rounds keep it under 10 min.
        "train_examples": {"mlp_vae": 51200, "conv_vae": 25600} if gpu else None,
        "repeats": 2 if gpu else 3,
        "skip_quality": False,
        "kernel_time": True,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def run(args: argparse.Namespace) -> int:
    """Runs the benchmarks and prints the tables."""
    import keras
    import tensorflow as tf

    from keras_rt.datasets import load_arrays
    from keras_rt.experiments import zoo_quality, zoo_throughput
    from keras_rt.performance import load_or_probe
    from keras_rt.training.environment import package_versions

    args = apply_defaults(args)
    models = _names(args.models, MODELS, "--models")
    variants = _names(args.variants, VARIANT_NAMES, "--variants")
    for name in ("batch_size", "epochs", "repeats", "iwae_samples"):
        if getattr(args, name) < 1:
            raise ValueError(
                f"--{name.replace('_', '-')} must be >= 1. Received: {getattr(args, name)}"
            )
    if args.skip_throughput and args.skip_quality:
        raise ValueError("--skip-throughput and --skip-quality leave nothing to run.")
    if args.device == "gpu" and not tf.config.list_physical_devices("GPU"):
        raise ValueError(
            "--device gpu: TensorFlow sees no GPU on this machine (check the driver and "
            "CUDA_VISIBLE_DEVICES); run without --device gpu to benchmark the CPU."
        )
    if args.device == "cpu":
        tf.config.set_visible_devices([], "GPU")
    # Read here, so that a missing data set is one line saying how to get it, not a worker's traceback.
    load_arrays(args.dataset)
    probe = load_or_probe()
    print(f"Machine: {probe['machine']['description']}")
    peaks = ", ".join(f"{d} {g:.0f}" for d, g in probe["matmul_gflops"].items())
    print(f"Measured matmul peak (GFLOP/s; the faster of 1024^3 and 2048^3): {peaks}\n")
    keras.utils.set_random_seed(args.seed)
    result: dict = {
        "benchmark": "zoo_vs_reference",
        "machine": probe["machine"],
        "matmul_peak_gflops": probe["matmul_gflops"],
        "probe": {"step_ms": probe["step_ms"], "cache": probe.get("cache")},
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "versions": package_versions(),
        "settings": {k: v for k, v in vars(args).items() if k != "json"},
    }
    quality_default = not args.skip_quality and args.zoo_variant in (None, "zoo_default")
    if ("zoo_default" in variants and not args.skip_throughput) or quality_default:
        result["plans"] = default_plans(models, args)
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
            device=args.device,
            peak_gflops=probe["matmul_gflops"],
            kernel_time=args.kernel_time,
            progress=print,
        )
        result["throughput"] = throughput
        result["throughput_seconds"] = round(time.perf_counter() - start, 1)
        print(
            "\nTraining throughput (median examples/s of fit; speed-up: median of per-round "
            "ratios; GFLOP/s of the training step vs the measured matmul peak; % kernels: the "
            "model's kernel time over the step's)"
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


def default_plans(models: Sequence[str], args: argparse.Namespace) -> dict[str, dict]:
    """Each model's training plan here (`zoo_default`), printed; made in this process, so that
    timing a model's step (`keras_rt.performance.step_timing`, cached) happens before any
    timed worker starts and says so here."""
    from keras_rt.experiments.zoo_harness import default_plan, load_splits
    from keras_rt.performance.step_timing import synthetic_batch

    plans = {}
    for model in models:
        splits = load_splits(model, args.dataset, args.batch_size, args.seed, args.batch_size)
        batch = synthetic_batch(splits.train.element_spec, args.batch_size)
        plan = default_plan(model, args.dataset, splits.input_shape, batch, notify=print)
        print(f"{model} default: {plan.mixed_precision}, {'; '.join(plan.reasons)}")
        plans[model] = plan.to_dict()
    print()
    return plans


def main(argv: Sequence[str] | None = None) -> int:
    """`benchmarks/zoo.py` entry point."""
    return main_for(add_arguments, run, argv, prog="zoo.py", description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
