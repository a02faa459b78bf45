"""Evaluation of a trained run: metrics per split, the IWAE bound, the summary table."""

from __future__ import annotations

import math
from typing import Any

from keras_rt.training.config import TrainConfig


def test_iwae(model, splits, config: TrainConfig) -> dict[str, Any]:
    """The IWAE-k bound on the test split, with `iwae_nll` = its negative."""
    from keras_rt.evaluation import evaluate_iwae

    result = evaluate_iwae(
        model,
        splits.test,
        num_samples=config.iwae_samples,
        max_examples=config.iwae_max_examples,
        seed=config.seed,
    )
    result["iwae_nll"] = -result["iwae_log_likelihood"]
    return result


def check_finite_metrics(metrics: dict[str, Any], run_dir: str) -> None:
    """Refuses to save or export a model whose evaluation is NaN/inf (it diverged)."""
    bad = [
        f"{split}.{name}"
        for split in ("train", "validation", "test")
        for name, value in metrics.get(split, {}).items()
        if isinstance(value, float) and not math.isfinite(value)
    ]
    if bad:
        raise FloatingPointError(
            f"Training diverged: {', '.join(bad)} are not finite; nothing was saved or exported. "
            f"Try a lower --learning-rate. Logs are in {run_dir}."
        )


def evaluate_splits(model, splits, config: TrainConfig, *, iwae: bool = True) -> dict[str, Any]:
    """Negative ELBO, reconstruction and KL on each split, IWAE-k on test (nats per example)."""
    metrics: dict[str, Any] = {}
    for name in ("train", "validation", "test"):
        data = getattr(splits, name)
        metrics[name] = {
            k: float(v) for k, v in model.evaluate(data, verbose=0, return_dict=True).items()
        }
    if hasattr(splits, "test_arrays"):
        from keras_rt.evaluation import active_units
        from keras_rt.training.plots import model_inputs

        x_test, y_test = splits.test_arrays()
        metrics["test"]["active_units"] = active_units(model, model_inputs(model, x_test, y_test))
    if config.iwae_samples and iwae:
        metrics["test"].update(test_iwae(model, splits, config))
    return metrics


COLLAPSE_KL_NATS = 0.1  # a test KL below this means the latents carry (almost) nothing


def posterior_collapse(metrics: dict[str, Any]) -> str | None:
    """A warning if the posterior collapsed (no active units, or test KL < 0.1 nats), else None.

    Example:

    >>> posterior_collapse({"test": {"kl": 0.02, "active_units": 0}})[:44]
    'Posterior collapse: no latent unit is active'
    >>> posterior_collapse({"test": {"kl": 12.5, "active_units": 8}}) is None
    True
    """
    test = metrics.get("test", {})
    units, kl = test.get("active_units"), test.get("kl")
    if units != 0 and not (isinstance(kl, float) and kl < COLLAPSE_KL_NATS):
        return None
    low_kl = isinstance(kl, float) and kl < COLLAPSE_KL_NATS
    if units == 0:
        what = "no latent unit is active" + (f" and the test KL is {kl:.3f} nats" if low_kl else "")
    else:
        active = f" ({units} units nominally active)" if units is not None else ""
        what = f"the test KL is only {kl:.3f} nats (below {COLLAPSE_KL_NATS}){active}"
    return (
        f"Posterior collapse: {what}, so the latent code carries almost no information. "
        "Remedies: a KL warm-up (--kl-warmup-epochs 10), free bits "
        '(--config with {"model_config": {"free_bits": 0.5}}), or more epochs.'
    )


def summary_table(metrics: dict[str, Any]) -> str:
    """A short text table of the final metrics."""
    keys = ("neg_elbo", "reconstruction", "kl")
    lines = [f"{'split':<12}" + "".join(f"{k:>16}" for k in keys)]
    for split in ("train", "validation", "test"):
        row = metrics.get(split, {})
        cells = (f"{row[k]:>16.3f}" if k in row else f"{'-':>16}" for k in keys)
        lines.append(f"{split:<12}" + "".join(cells))
    test = metrics.get("test", {})
    if "iwae_nll" in test:
        lines.append(
            f"test IWAE-{test['iwae_k']} negative log-likelihood: {test['iwae_nll']:.3f} "
            f"± {test['iwae_std_error']:.3f} nats ({test['examples']} examples)"
        )
    lines += [f"warning: {w}" for w in metrics.get("warnings", [])]
    return "\n".join(lines)


__all__ = [
    "check_finite_metrics",
    "evaluate_splits",
    "posterior_collapse",
    "summary_table",
    "test_iwae",
]
