"""Benchmark: every zoo model with every gradient estimator it accepts, at equal epochs and equal time.

Trains each (model, estimator) pair on dynamically binarized Fashion-MNIST
with the same seed, under an equal epoch budget and an equal wall-clock
budget (the time the model's default estimator took for those epochs), and
prints per run: test -ELBO on the whole test set, the IWAE-k NLL on the first
--iwae-examples test images with its paired difference (± standard error)
against the model's default estimator, seconds per epoch and the final
encoder gradient SNR. --json writes {"dataset", "budget", "cpu", "results":
[{"model", "estimator", "budget", "test_neg_elbo", "test_iwae_nll",
"iwae_nll_diff_vs_default", "diff_se", "seconds_per_epoch", "encoder_snr",
...}]}.

The defaults (every pair, 2 epochs) took 67 minutes on 2 CPU cores, half of it
conv_vae's (--models without it: about 35 minutes); --models and --estimators
narrow it. --quick is a smoke run on the bundled digits (1
epoch, the first two estimators of mlp_vae, iwae and gumbel_vae, k = 10 on 100
test images), about a minute.

Usage:
  python benchmarks/estimators_training.py --json bench_results/estimators.json
  keras-rt benchmark-estimators --models mlp_vae,iwae --epochs 2
  keras-rt benchmark-estimators --quick
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from keras_rt.cli.common import main_for

QUICK_MODELS = ("mlp_vae", "iwae", "gumbel_vae")


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the benchmark's flags."""
    from keras_rt.training.config import JIT_CHOICES

    parser.add_argument(
        "--models", type=_names, default=None, help="comma-separated zoo models (default: all)"
    )
    parser.add_argument(
        "--estimators",
        type=_names,
        default=None,
        help="comma-separated estimators to run, where a model accepts them (default: all; "
        "each model's default estimator always runs, as the reference)",
    )
    parser.add_argument(
        "--dataset", default="fashion_mnist", help="data set (default: fashion_mnist)"
    )
    parser.add_argument("--epochs", type=int, default=2, help="the epoch budget (default: 2)")
    parser.add_argument("--batch-size", type=int, default=128, help="batch size (default: 128)")
    parser.add_argument(
        "--iwae-samples", type=int, default=100, help="k of the IWAE-k NLL (default: 100)"
    )
    parser.add_argument(
        "--iwae-examples",
        type=int,
        default=1000,
        help="test images scored with IWAE-k (default: 1000)",
    )
    parser.add_argument(
        "--max-examples",
        type=int,
        default=None,
        help="cap per split, for quick runs (default: the whole data set)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of every run (default: 0)")
    parser.add_argument(
        "--jit-compile",
        choices=JIT_CHOICES,
        default="auto",
        help="XLA compilation of each run's whole step, as train's --jit-compile (default: auto)",
    )
    parser.add_argument(
        "--data-dir", default=None, help="folder with the Fashion-MNIST / MNIST IDX files"
    )
    parser.add_argument(
        "--output-dir",
        default="runs/estimators-training",
        help="parent folder of the run folders (default: runs/estimators-training)",
    )
    parser.add_argument(
        "--json", type=Path, default=None, metavar="PATH", help="write the report as JSON to PATH"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run on digits: 1 epoch, 2 estimators of mlp_vae, iwae and gumbel_vae",
    )


def run(args: argparse.Namespace) -> int:
    """Runs the benchmark described by `args`; returns the exit status."""
    from keras_rt.experiments import estimators_training

    models = args.models or (list(QUICK_MODELS) if args.quick else None)
    pairs = estimators_training.all_pairs(models)
    if args.estimators is not None:
        pairs = [p for p in pairs if p[1] in args.estimators]
    elif args.quick:  # each model's default and its next estimator
        pairs = [p for i, p in enumerate(pairs) if i < 2 or pairs[i - 2][0] != p[0]]
    options: dict[str, Any]
    if args.quick:
        options = dict(dataset="digits", epochs=1, iwae_samples=10, iwae_examples=100)
    else:
        options = dict(
            dataset=args.dataset,
            epochs=args.epochs,
            iwae_samples=args.iwae_samples,
            iwae_examples=args.iwae_examples,
        )
    if args.estimators is not None and not pairs:
        raise ValueError(
            f"no model of {args.models or 'the zoo'} accepts any of --estimators {args.estimators}"
        )
    report = estimators_training.run_shootout(
        pairs=pairs,
        batch_size=args.batch_size,
        max_examples=args.max_examples,
        seed=args.seed,
        data_dir=args.data_dir,
        output_dir=args.output_dir,
        jit_compile=args.jit_compile,
        **options,
    )
    print()
    print(estimators_training.format_shootout(report))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nreport written to {args.json}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `benchmarks/estimators_training.py`."""
    return main_for(add_arguments, run, argv, prog="estimators_training.py", description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
