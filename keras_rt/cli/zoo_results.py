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
import os
import sys
from collections.abc import Sequence

from keras_rt.cli.common import main_for

COLUMNS = ("model", "dataset", "neg_elbo", "iwae_nll", "kl", "active_units", "train_seconds")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the flags."""
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
    parser.add_argument("--json", metavar="PATH", help="write the rows as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="write the Markdown table")


def _names(text: str, valid, what: str) -> list[str]:
    if text == "all":
        return sorted(valid)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in valid]
    if not names or unknown:
        raise ValueError(f"Unknown or empty {what}: {unknown or text!r}. Valid: {sorted(valid)}")
    return names


def zoo_results(args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """Trains each (model, dataset) pair; returns one row of metrics per pair and the comparisons."""
    from keras_rt.datasets import DATASETS
    from keras_rt.training import TrainConfig, train
    from keras_rt.zoo import ZOO

    models = _names(args.models, ZOO, "models")
    datasets = _names(args.datasets, DATASETS, "datasets")
    compare = _names(args.compare, ZOO, "--compare models") if args.compare else []
    if compare and (len(compare) != 2 or not set(compare) <= set(models)):
        raise ValueError(f"--compare needs two of the trained models. Received: {args.compare!r}")
    if compare and len({(ZOO[m].flat_input, ZOO[m].needs_labels) for m in compare}) > 1:
        raise ValueError(f"--compare needs two models with the same inputs. Received: {compare}")
    rows, comparisons = [], []
    for dataset in datasets:
        trained = {}
        for model in models:
            print(f"== {model} on {dataset} ({args.epochs} epochs)", flush=True)
            result = train(
                TrainConfig(
                    model=model,
                    dataset=dataset,
                    epochs=args.epochs,
                    batch_size=args.batch_size,
                    binarized=dataset != "digits",
                    seed=args.seed,
                    data_dir=args.data_dir,
                    output_dir=os.path.join(args.output_dir, f"{model}-{dataset}"),
                    export_dir=None,
                    plots=False,
                    tensorboard=False,
                    iwae_samples=args.iwae_samples,
                    iwae_max_examples=args.iwae_max_examples,
                    verbose=0,
                )
            )
            test = result.metrics["test"]
            rows.append(
                {
                    "model": model,
                    "dataset": dataset,
                    "epochs": args.epochs,
                    "neg_elbo": test["neg_elbo"],
                    "iwae_nll": test.get("iwae_nll"),
                    "iwae_std_error": test.get("iwae_std_error"),
                    "iwae_k": test.get("iwae_k"),
                    "iwae_examples": test.get("examples"),
                    "kl": test["kl"],
                    "active_units": test.get("active_units"),
                    "train_seconds": result.metrics["training"]["seconds"],
                }
            )
            print(format_markdown(rows[-1:]), flush=True)
            if model in compare:
                trained[model] = (result.model, test.get("examples") or args.iwae_max_examples)
        if compare:
            comparisons.append(_compare(trained, compare, dataset, args))
    return rows, comparisons


def _compare(trained: dict, names: list[str], dataset: str, args: argparse.Namespace) -> dict:
    from keras_rt.datasets import load_dataset
    from keras_rt.evaluation import paired_iwae_difference
    from keras_rt.training.plots import model_inputs

    (a, n), (b, _) = trained[names[0]], trained[names[1]]
    from keras_rt.zoo import get_zoo_entry

    splits = load_dataset(
        dataset,
        binarized=dataset != "digits",
        flatten=get_zoo_entry(names[0]).flat_input,
        seed=args.seed,
        data_dir=args.data_dir,
    )
    x, y = splits.test_arrays()
    result = paired_iwae_difference(
        a, b, model_inputs(a, x[:n], y[:n]), num_samples=args.iwae_samples, seed=args.seed
    )
    result.update(model_a=names[0], model_b=names[1], dataset=dataset)
    print(format_comparison(result), flush=True)
    return result


def format_comparison(c: dict) -> str:
    """One line: A's IWAE NLL minus B's, paired."""
    return (
        f"{c['dataset']}: IWAE-{c['iwae_k']} NLL {c['model_a']} {c['nll_a']:.2f} - "
        f"{c['model_b']} {c['nll_b']:.2f} = {c['difference']:+.2f} ± "
        f"{c['difference_std_error']:.2f} nats (paired, {c['examples']} test images)"
    )


def format_markdown(rows: list[dict]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| model | dataset | test −ELBO | test IWAE NLL (± s.e.) | KL | active units | train time (s) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        iwae = "-" if r["iwae_nll"] is None else f"{r['iwae_nll']:.2f} ± {r['iwae_std_error']:.2f}"
        lines.append(
            f"| {r['model']} | {r['dataset']} | {r['neg_elbo']:.2f} | {iwae} | {r['kl']:.2f} | "
            f"{r['active_units']} | {r['train_seconds']:.0f} |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Runs the study and prints the table."""
    if args.epochs < 1:
        raise ValueError(f"--epochs must be >= 1. Received: {args.epochs}")
    if args.iwae_samples < 1 or args.iwae_max_examples < 1:
        raise ValueError(
            "--iwae-samples and --iwae-max-examples must be >= 1. "
            f"Received: {args.iwae_samples}, {args.iwae_max_examples}"
        )
    rows, comparisons = zoo_results(args)
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
