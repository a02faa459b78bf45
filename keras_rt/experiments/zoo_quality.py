"""Zoo benchmark, quality: test -ELBO and -IWAE-k of a zoo model and the reference after the same budget.

The reference and the zoo model in one configuration (by default the
fastest zoo variant of the throughput run,
`keras_rt.experiments.zoo_throughput`) are trained for the same number of
epochs on the full training split (same seed, data order and binarization
draws, Adam, same learning rate and batch size), then scored in float32 (a
float32 copy of a mixed-precision model carries the same weights) on the
fixed-binarized test split:

- the one-sample negative ELBO on all test examples, and
- the negative IWAE-k bound (`keras_rt.evaluation`) on the first
  `iwae_examples` test examples (k = 5000 costs about 0.1 s per example for
  the MLP and 0.6-1.3 s for the conv model on 2 CPU cores, so the full
  10,000-example test set would take 15 minutes and 2-3 hours per model),

each with its standard error, and the zoo-minus-reference differences with
paired standard errors (the same test examples and the same random streams
score both models, so the difference is much better resolved than either
value). Lower is better for both numbers. Training-seed variation is not
covered by these errors.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from keras_rt.experiments.zoo_harness import (
    build_model,
    build_zoo_model,
    concrete_variant,
    dtype_policy,
    fit_timed,
    load_splits,
)
from keras_rt.experiments.zoo_variants import (
    DEFAULT_IWAE_EXAMPLES,
    DEFAULT_QUALITY_EPOCHS,
    MODELS,
    VARIANTS,
    ZOO_VARIANTS,
    Variant,
    check_models,
    per_model,
)
from keras_rt.ops.validation import check_choice, check_int
from keras_rt.performance.step_timing import synthetic_batch


def default_zoo_variant() -> str:
    """Without throughput results: the zoo's default path (the measured training plan)."""
    return "zoo_default"


def _float32_copy(
    net: keras.Model, variant: Variant, model: str, dataset: str, input_shape, seed: int
):
    """`net` itself in float32, or a float32 model with `net`'s weights."""
    if variant.policy == "float32":
        return net
    with dtype_policy("float32"):
        copy = build_zoo_model(model, dataset, input_shape, seed=seed)
    copy.set_weights(net.get_weights())
    return copy


def per_example_neg_elbo(net, dataset) -> np.ndarray:
    """-ELBO (one posterior sample) of every example of `dataset`, as `net.elbo` computes it."""
    elbo = tf.function(net.elbo)
    return np.concatenate([-elbo(x).numpy() for x in dataset])


def per_example_neg_iwae(
    net, dataset, *, num_samples: int, max_examples: int, seed: int = 0
) -> np.ndarray:
    """-IWAE-k bound of the first `max_examples` examples (seeds as in `evaluate_iwae`)."""
    from keras_rt.evaluation import importance_weighted_log_likelihood

    values, seen = [], 0
    for i, x in enumerate(dataset):
        x = x[: max_examples - seen]
        if int(x.shape[0]) == 0:
            break
        bound = importance_weighted_log_likelihood(
            net, x, num_samples=num_samples, seed=seed * 100003 + i
        )
        values.append(-bound.numpy())
        seen += int(x.shape[0])
        if seen >= max_examples:
            break
    return np.concatenate(values)


def _mean_se(values: np.ndarray) -> tuple[float, float]:
    se = float(values.std(ddof=1) / math.sqrt(values.size)) if values.size > 1 else 0.0
    return float(values.mean()), se


def benchmark_quality(
    *,
    models: Sequence[str] = MODELS,
    dataset: str = "fashion_mnist",
    batch_size: int = 128,
    epochs: int | dict[str, int] | None = None,
    zoo_variant: str | dict[str, str] | None = None,
    iwae_samples: int = 5000,
    iwae_examples: int | dict[str, int] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    learning_rate: float = 1e-3,
) -> list[dict]:
    """Test negative ELBO and negative IWAE-k of the zoo model and the reference after a fixed budget.

    Args:
        models: zoo model names.
        dataset: data set name (dynamically binarized for training,
            fixed-binarized test split).
        batch_size: examples per step.
        epochs: training epochs (an int for all models, a dict per model,
            or None: `DEFAULT_QUALITY_EPOCHS`).
        zoo_variant: the zoo model's variant (a `VARIANTS` name, or a dict
            per model, e.g. from `fastest_zoo_variant`); None:
            `default_zoo_variant()`.
        iwae_samples: k of the IWAE-k bound.
        iwae_examples: test examples scored with IWAE-k (an int, a dict per
            model, or None: `DEFAULT_IWAE_EXAMPLES`).
        max_examples: cap per split (tests and quick runs; None: all).
        seed: data, initialization and noise seed (the same for both models).
        learning_rate: Adam learning rate.

    Returns:
        One dict per model and variant (the reference first): `{"model",
        "variant", "label", "epochs", "train_seconds", "final_train_loss",
        "test_neg_elbo", "test_neg_elbo_se", "test_examples",
        "test_neg_elbo_as_trained" (`evaluate` in the variant's own
        precision), "iwae_nll", "iwae_nll_se", "iwae_k", "iwae_examples",
        "iwae_seconds", "delta_neg_elbo", "delta_neg_elbo_se",
        "delta_iwae_nll", "delta_iwae_nll_se"}`; deltas are this row minus
        the reference (0 for the reference itself), lower is better, with
        paired standard errors. Values in nats per example.

    Example:

    >>> rows = benchmark_quality(  # doctest: +SKIP
    ...     models=["mlp_vae"], dataset="digits", epochs=5, zoo_variant="zoo_f32"
    ... )
    >>> print(format_quality_table(rows))  # doctest: +SKIP
    """
    models = check_models(models)
    check_int("batch_size", batch_size)
    check_int("iwae_samples", iwae_samples)
    rows = []
    for model in models:
        model_epochs = per_model("epochs", epochs, DEFAULT_QUALITY_EPOCHS, model)
        n_iwae = per_model("iwae_examples", iwae_examples, DEFAULT_IWAE_EXAMPLES, model)
        name = zoo_variant.get(model) if isinstance(zoo_variant, dict) else zoo_variant
        name = name or default_zoo_variant()
        check_choice("zoo_variant", name, ZOO_VARIANTS)
        splits = load_splits(model, dataset, batch_size, seed, max_examples)
        results = {}
        batch = synthetic_batch(splits.train.element_spec, batch_size)
        for variant in (VARIANTS["reference"], VARIANTS[name]):
            variant = concrete_variant(variant, model, dataset, splits.input_shape, batch=batch)
            net = build_model(
                variant, model, dataset, splits.input_shape, seed=seed, learning_rate=learning_rate
            )
            start = time.perf_counter()
            _, history = fit_timed(net, variant, splits.train, model_epochs)
            train_seconds = time.perf_counter() - start
            with dtype_policy(variant.policy):
                as_trained = net.evaluate(splits.test, verbose=0, return_dict=True)
            scored = _float32_copy(net, variant, model, dataset, splits.input_shape, seed)
            neg_elbo = per_example_neg_elbo(scored, splits.test)
            start = time.perf_counter()
            neg_iwae = per_example_neg_iwae(
                scored, splits.test, num_samples=iwae_samples, max_examples=n_iwae, seed=seed
            )
            iwae_seconds = time.perf_counter() - start
            results[variant.name] = (
                variant,
                model_epochs,
                train_seconds,
                history,
                as_trained,
                neg_elbo,
                neg_iwae,
                iwae_seconds,
            )
            keras.backend.clear_session()
        ref_elbo, ref_iwae = results["reference"][5], results["reference"][6]
        for (
            variant,
            n_epochs,
            train_seconds,
            history,
            as_trained,
            neg_elbo,
            neg_iwae,
            iwae_seconds,
        ) in results.values():
            elbo_mean, elbo_se = _mean_se(neg_elbo)
            iwae_mean, iwae_se = _mean_se(neg_iwae)
            d_elbo, d_elbo_se = _mean_se(neg_elbo - ref_elbo)
            d_iwae, d_iwae_se = _mean_se(neg_iwae - ref_iwae)
            rows.append(
                {
                    "model": model,
                    "variant": variant.name,
                    "label": variant.label,
                    "epochs": n_epochs,
                    "train_seconds": round(train_seconds, 1),
                    "final_train_loss": round(float(history["loss"][-1]), 3),
                    "test_neg_elbo": round(elbo_mean, 3),
                    "test_neg_elbo_se": round(elbo_se, 3),
                    "test_examples": int(neg_elbo.size),
                    "test_neg_elbo_as_trained": round(
                        float(as_trained.get("neg_elbo", as_trained["loss"])), 3
                    ),
                    "iwae_nll": round(iwae_mean, 3),
                    "iwae_nll_se": round(iwae_se, 3),
                    "iwae_k": iwae_samples,
                    "iwae_examples": int(neg_iwae.size),
                    "iwae_seconds": round(iwae_seconds, 1),
                    "delta_neg_elbo": round(d_elbo, 3),
                    "delta_neg_elbo_se": round(d_elbo_se, 3),
                    "delta_iwae_nll": round(d_iwae, 3),
                    "delta_iwae_nll_se": round(d_iwae_se, 3),
                }
            )
    return rows


def format_quality_table(rows: list[dict]) -> str:
    """A text table of `benchmark_quality` rows (nats per example, lower is better)."""
    lines = [
        f"{'model':<10}{'variant':<32}{'epochs':>7}{'test -ELBO':>18}{'Δ vs ref':>16}"
        f"{'-IWAE-k':>18}{'Δ vs ref':>16}{'IWAE n':>8}"
    ]
    for r in rows:
        ref = r["variant"] == "reference"
        d_elbo = "" if ref else f"{r['delta_neg_elbo']:+.2f} ± {r['delta_neg_elbo_se']:.2f}"
        d_iwae = "" if ref else f"{r['delta_iwae_nll']:+.2f} ± {r['delta_iwae_nll_se']:.2f}"
        lines.append(
            f"{r['model']:<10}{r['label']:<32}{r['epochs']:>7}"
            f"{r['test_neg_elbo']:>10.2f} ± {r['test_neg_elbo_se']:<5.2f}{d_elbo:>16}"
            f"{r['iwae_nll']:>10.2f} ± {r['iwae_nll_se']:<5.2f}{d_iwae:>16}{r['iwae_examples']:>8}"
        )
    if rows:
        lines.append(
            f"(IWAE k = {rows[0]['iwae_k']}; ± one standard error; Δ: paired difference, "
            "zoo minus reference)"
        )
    return "\n".join(lines)
