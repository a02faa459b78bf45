"""The README's zoo results table: every zoo model, the same epoch budget, honest metrics.

For each model and dataset (Fashion-MNIST and MNIST are dynamically
binarized, digits is not), `zoo_results` trains with `keras_rt.training.train`
and reports test negative ELBO, the IWAE-k negative log-likelihood bound, KL,
active latent units and training time, in nats per example; optionally the
paired IWAE-k difference of two of the models on the same test images.
`format_markdown` and `format_comparison` present the results.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any


def check_names(names: Iterable[str] | None, valid: Iterable[str], what: str) -> list[str]:
    """`names` (None: all of `valid`, sorted), or a `ValueError` naming the valid ones.

    Example:

    >>> check_names(None, {"b", "a"}, "models")
    ['a', 'b']
    >>> check_names(["c"], {"b", "a"}, "models")
    Traceback (most recent call last):
    ...
    ValueError: Unknown or empty models: ['c']. Valid: ['a', 'b']
    """
    valid = sorted(valid)
    if names is None:
        return valid
    names = list(names)
    unknown = [n for n in names if n not in valid]
    if not names or unknown:
        raise ValueError(f"Unknown or empty {what}: {unknown or names!r}. Valid: {valid}")
    return names


def zoo_results(
    *,
    models: Sequence[str] | None = None,
    datasets: Sequence[str] | None = ("digits",),
    epochs: int = 30,
    batch_size: int = 128,
    iwae_samples: int = 5000,
    iwae_max_examples: int = 500,
    seed: int = 0,
    output_dir: str = "runs/zoo-results",
    data_dir: str | None = None,
    compare: Sequence[str] | None = None,
    jit_compile: str = "auto",
    echo: bool = True,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Trains each (model, dataset) pair; returns one row of metrics per pair and the comparisons.

    Args:
        models: zoo model names (None: every zoo model).
        datasets: dataset names (None: every dataset).
        epochs: the epoch budget of every model.
        batch_size: examples per step.
        iwae_samples: k of the IWAE-k bound.
        iwae_max_examples: test examples scored with IWAE-k.
        seed: the seed of every run.
        output_dir: parent folder of the run folders (`<model>-<dataset>`).
        data_dir: folder with the Fashion-MNIST / MNIST IDX files.
        compare: two of `models` whose IWAE-k NLLs are compared, paired on
            the same test images, for each dataset (None: no comparison).
        jit_compile: XLA compilation of every run's whole step, `"auto"`,
            `"on"` or `"off"` (`TrainConfig.jit_compile`).
        echo: print each row (and comparison) as soon as it is measured.

    Returns:
        `(rows, comparisons)`: rows `{"model", "dataset", "epochs",
        "neg_elbo", "iwae_nll", "iwae_std_error", "iwae_k", "iwae_examples",
        "kl", "active_units", "train_seconds"}`; comparisons as
        `keras_rt.evaluation.paired_iwae_difference` returns them, plus
        `model_a`, `model_b` and `dataset`.

    Example:

    >>> rows, _ = zoo_results(  # doctest: +SKIP
    ...     models=["mlp_vae"], datasets=["digits"], epochs=30, output_dir="/tmp/zoo"
    ... )
    >>> print(format_markdown(rows))  # doctest: +SKIP
    """
    from keras_rt.datasets import DATASETS
    from keras_rt.training.config import TrainConfig
    from keras_rt.training.run import train
    from keras_rt.zoo import ZOO

    if epochs < 1:
        raise ValueError(f"epochs must be >= 1. Received: epochs={epochs}")
    if iwae_samples < 1 or iwae_max_examples < 1:
        raise ValueError(
            "iwae_samples and iwae_max_examples must be >= 1. "
            f"Received: {iwae_samples}, {iwae_max_examples}"
        )
    models = check_names(models, ZOO, "models")
    datasets = check_names(datasets, DATASETS, "datasets")
    compare = check_names(compare, ZOO, "compare models") if compare else []
    if compare and (len(compare) != 2 or not set(compare) <= set(models)):
        raise ValueError(
            f"compare needs two of the trained models. Received: compare={compare}, models={models}"
        )
    if compare and len({(ZOO[m].flat_input, ZOO[m].needs_labels) for m in compare}) > 1:
        raise ValueError(f"compare needs two models with the same inputs. Received: {compare}")
    rows, comparisons = [], []
    for dataset in datasets:
        trained = {}
        for model in models:
            if echo:
                print(f"== {model} on {dataset} ({epochs} epochs)", flush=True)
            result = train(
                TrainConfig(
                    model=model,
                    dataset=dataset,
                    epochs=epochs,
                    batch_size=batch_size,
                    binarized=dataset != "digits",
                    seed=seed,
                    data_dir=data_dir,
                    output_dir=os.path.join(output_dir, f"{model}-{dataset}"),
                    export_dir=None,
                    plots=False,
                    tensorboard=False,
                    iwae_samples=iwae_samples,
                    iwae_max_examples=iwae_max_examples,
                    jit_compile=jit_compile,
                    verbose=0,
                )
            )
            test = result.metrics["test"]
            rows.append(
                {
                    "model": model,
                    "dataset": dataset,
                    "epochs": epochs,
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
            if echo:
                print(format_markdown(rows[-1:]), flush=True)
            if model in compare:
                trained[model] = (result.model, test.get("examples") or iwae_max_examples)
        if compare:
            comparison = _compare(trained, compare, dataset, iwae_samples, seed, data_dir)
            comparisons.append(comparison)
            if echo:
                print(format_comparison(comparison), flush=True)
    return rows, comparisons


def _compare(
    trained: dict, names: list[str], dataset: str, iwae_samples: int, seed: int, data_dir
) -> dict[str, Any]:
    from keras_rt.datasets import load_dataset
    from keras_rt.evaluation import paired_iwae_difference
    from keras_rt.training.plots import model_inputs
    from keras_rt.zoo import get_zoo_entry

    (a, n), (b, _) = trained[names[0]], trained[names[1]]
    splits = load_dataset(
        dataset,
        binarized=dataset != "digits",
        flatten=get_zoo_entry(names[0]).flat_input,
        seed=seed,
        data_dir=data_dir,
    )
    x, y = splits.test_arrays()
    result = paired_iwae_difference(
        a, b, model_inputs(a, x[:n], y[:n]), num_samples=iwae_samples, seed=seed
    )
    result.update(model_a=names[0], model_b=names[1], dataset=dataset)
    return result


def format_comparison(c: dict[str, Any]) -> str:
    """One line: A's IWAE NLL minus B's, paired."""
    return (
        f"{c['dataset']}: IWAE-{c['iwae_k']} NLL {c['model_a']} {c['nll_a']:.2f} - "
        f"{c['model_b']} {c['nll_b']:.2f} = {c['difference']:+.2f} ± "
        f"{c['difference_std_error']:.2f} nats (paired, {c['examples']} test images)"
    )


def format_markdown(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table.

    Example:

    >>> row = dict(model="mlp_vae", dataset="digits", neg_elbo=30.0, iwae_nll=None, kl=4.0,
    ...            active_units=2, train_seconds=12.0)
    >>> print(format_markdown([row]).splitlines()[-1])
    | mlp_vae | digits | 30.00 | - | 4.00 | 2 | 12 |
    """
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
