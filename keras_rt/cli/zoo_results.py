"""Regenerate the README's zoo results table: every zoo model, the same epoch budget, honest metrics.

Usage:
  python scripts/zoo_results.py --datasets digits --epochs 30 --markdown results.md
  python scripts/zoo_results.py --datasets digits,fashion_mnist --epochs 5 --json results.json

For each model and dataset (Fashion-MNIST and MNIST are dynamically
binarized, digits is not), trains with `keras_rt.training.train` and reports
test negative ELBO, the IWAE-k negative log-likelihood bound, KL, active
latent units and training time, in nats per example.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from keras_rt.cli.common import main_for


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the flags."""
    from keras_rt.training.config import JIT_CHOICES

    parser.add_argument("--models", default="all", help="comma-separated zoo models (default: all)")
    parser.add_argument(
        "--datasets", default="digits", help="comma-separated datasets (default: digits)"
    )
    parser.add_argument(
        "--epochs", type=int, default=30, help="epoch budget for every model (default 30)"
    )
    parser.add_argument("--batch-size", type=int, default=128, help="batch size (default 128)")
    parser.add_argument(
        "--iwae-samples", type=int, default=5000, help="k of the IWAE bound (default 5000)"
    )
    parser.add_argument(
        "--iwae-max-examples", type=int, default=500, help="test examples for IWAE (default 500)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument(
        "--output-dir", default="runs/zoo-results", help="run folders (default runs/zoo-results)"
    )
    parser.add_argument("--data-dir", help="folder with Fashion-MNIST/MNIST IDX files")
    parser.add_argument(
        "--compare",
        metavar="A,B",
        help="also report model A's IWAE NLL minus model B's, paired on the same test images",
    )
    parser.add_argument(
        "--jit-compile",
        choices=JIT_CHOICES,
        default="auto",
        help="XLA compilation of each run's whole step, as train's --jit-compile (default auto)",
    )
    parser.add_argument("--json", metavar="PATH", help="write the rows as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="write the Markdown table")


def _split(text: str | None) -> list[str] | None:
    """`"a,b"` -> `["a", "b"]`; `"all"` or no value -> None (every name)."""
    if text is None or text == "all":
        return None
    return [n.strip() for n in text.split(",") if n.strip()]


def run(args: argparse.Namespace) -> int:
    """Runs the study and prints the table."""
    from keras_rt.experiments.zoo_results import format_comparison, format_markdown, zoo_results

    rows, comparisons = zoo_results(
        models=_split(args.models),
        datasets=_split(args.datasets),
        epochs=args.epochs,
        batch_size=args.batch_size,
        iwae_samples=args.iwae_samples,
        iwae_max_examples=args.iwae_max_examples,
        seed=args.seed,
        output_dir=args.output_dir,
        data_dir=args.data_dir,
        compare=_split(args.compare),
        jit_compile=args.jit_compile,
    )
    table = format_markdown(rows)
    lines = [format_comparison(c) for c in comparisons]
    print("\n".join([table, *lines]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"rows": rows, "comparisons": comparisons, "command": " ".join(sys.argv)},
                f,
                indent=2,
            )
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join([table, "", *lines]) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`scripts/zoo_results.py` entry point."""
    return main_for(add_arguments, run, argv, prog="zoo_results.py", description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
