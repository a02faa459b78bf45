"""Zoo benchmarks: `fit` throughput and test quality of the zoo VAEs against a "common way" reference.

The reference (`keras_rt.benchmarks.reference_vae.ReferenceVAE`) has the same
encoder/decoder layers and objective as the zoo model, a hand-written
`train_step` with `tf.GradientTape`, inline sampling, float32 and no XLA.
Both are fed from the same `tf.data` pipeline (`keras_rt.datasets.load_dataset`
with dynamic binarization: cached, shuffled, batched, prefetched).

**Throughput** (`benchmark_throughput`): examples/s of `model.fit` for each
variant in `VARIANTS` -- the reference, and the zoo model in float32 and under
`mixed_bfloat16`, each with XLA for the whole step off and on. The zoo model
is compiled as `keras-rt train` compiles it: `steps_per_execution` from
`TrainConfig`, and, when the step is not XLA-compiled, its element-wise parts
compiled with XLA (`keras_rt.distribute.partial_xla`); the reference is
compiled as tutorials compile it (`compile(optimizer)` only).

Each zoo variant is timed in a pair with a freshly built reference, one pair
at a time (with five models alive in one process, every model ran up to 8%
slower than in a pair, unevenly): both are built and given one warm-up epoch
(tracing, XLA compilation: excluded), then timed one `fit` call each,
alternating which goes first, for `repeats` rounds. An "epoch" is the first
`train_examples` examples of the training split, so that a round stays
short; an epoch's time runs from `on_epoch_begin` to `on_epoch_end`.
Reported: the median examples/s (the reference's over all its pairs) and the
median over rounds of the speed-up over the reference timed in the same
round (paired, so slow spells of a shared machine cancel).

**Quality** (`benchmark_quality`): the reference and the zoo model in one
configuration (by default the fastest zoo variant of the throughput run)
are trained for the same number of epochs on the full training split
(same seed, data order and binarization draws, Adam, same learning rate and
batch size), then scored in float32 (a float32 copy of a mixed-precision
model carries the same weights) on the fixed-binarized test split:

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

import contextlib
import dataclasses
import math
import statistics
import time
from collections.abc import Iterable, Sequence

import keras
import numpy as np
import tensorflow as tf

from keras_rt.benchmarks.reference_vae import ReferenceVAE

MODELS = ("mlp_vae", "conv_vae")


@dataclasses.dataclass(frozen=True)
class Variant:
    """One way of training a model.

    Attributes:
        name: key in `VARIANTS` and in results.
        kind: `"reference"` or `"zoo"`.
        policy: Keras dtype policy (`"float32"` or `"mixed_bfloat16"`).
        jit_compile: XLA on or off.
        label: what the tables print.
    """

    name: str
    kind: str
    policy: str
    jit_compile: bool
    label: str


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("reference", "reference", "float32", False, "reference: GradientTape, f32"),
        Variant("zoo_f32", "zoo", "float32", False, "zoo fit, f32, partial XLA"),
        Variant("zoo_bf16", "zoo", "mixed_bfloat16", False, "zoo fit, bf16, partial XLA"),
        Variant("zoo_f32_xla", "zoo", "float32", True, "zoo fit, f32, XLA"),
        Variant("zoo_bf16_xla", "zoo", "mixed_bfloat16", True, "zoo fit, bf16, XLA"),
    )
}

# Examples per timed epoch (a prefix of the training split): about 1-3 s per
# epoch on 2 CPU cores.
DEFAULT_TRAIN_EXAMPLES = {"mlp_vae": 25600, "conv_vae": 3840}
# Quality budget: epochs on the full 55,000-example training split.
DEFAULT_QUALITY_EPOCHS = {"mlp_vae": 10, "conv_vae": 3}
# Test examples scored with IWAE-5000 (its cost: see the module docstring).
DEFAULT_IWAE_EXAMPLES = {"mlp_vae": 500, "conv_vae": 64}


def _check_models(models: Sequence[str]) -> tuple[str, ...]:
    models = tuple(models)
    unknown = [m for m in models if m not in MODELS]
    if not models or unknown:
        raise ValueError(
            f"`models` must be a non-empty subset of {list(MODELS)}. Received: models={list(models)}"
        )
    return models


def _check_positive(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{name}` must be an integer >= 1. Received: {name}={value!r}")
    return value


def _per_model(name: str, value, defaults: dict[str, int], model: str) -> int:
    """`value` if an int, `value[model]` if a mapping, else the default."""
    if value is None:
        return defaults[model]
    if isinstance(value, dict):
        return _check_positive(f"{name}[{model!r}]", value.get(model, defaults[model]))
    return _check_positive(name, value)


@contextlib.contextmanager
def dtype_policy(name: str):
    """Sets Keras's global dtype policy inside the block, restores it after."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _zoo_config(model: str, dataset: str):
    from keras_rt.zoo import get_zoo_entry

    entry = get_zoo_entry(model)
    return entry, entry.config_for(dataset)


def build_model(
    variant: Variant,
    model: str,
    dataset: str,
    input_shape,
    *,
    seed: int = 0,
    learning_rate: float = 1e-3,
) -> keras.Model:
    """Builds and compiles `model` (a zoo name) as `variant` trains it.

    The zoo model is compiled as `keras-rt train` compiles it (its default
    `steps_per_execution`, partial XLA when the step is not compiled), the
    reference as a tutorial would (`steps_per_execution=1`). Weights are initialized from `keras.utils.set_random_seed(seed)`, so the
    reference and the zoo model start from the same global seed (their layers
    are created in the same order).
    """
    entry, config = _zoo_config(model, dataset)
    keras.utils.set_random_seed(seed)
    with dtype_policy(variant.policy):
        if variant.kind == "reference":
            values = dataclasses.asdict(config)
            architecture = {k: values[k] for k in ("hidden_units", "filters") if k in values}
            net = ReferenceVAE(model, input_shape, values["latent_dim"], seed=seed, **architecture)
        else:
            net = entry.build(config, input_shape=input_shape, seed=seed)
        options = {} if variant.kind == "reference" else {"steps_per_execution": _zoo_steps()}
        net.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            jit_compile=variant.jit_compile,
            **options,
        )
    return net


def _zoo_steps() -> int:
    from keras_rt.training.config import TrainConfig

    return TrainConfig().steps_per_execution


def _load(model: str, dataset: str, batch_size: int, seed: int, max_examples: int | None):
    from keras_rt.datasets import load_dataset

    entry, _ = _zoo_config(model, dataset)
    return load_dataset(
        dataset,
        batch_size=batch_size,
        binarized=True,
        flatten=entry.flat_input,
        seed=seed,
        max_examples=max_examples,
    )


class EpochTimer(keras.callbacks.Callback):
    """Records the wall-clock seconds of each epoch (begin to end)."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def _fit(net: keras.Model, variant: Variant, data, epochs: int) -> tuple[list[float], dict]:
    timer = EpochTimer()
    with dtype_policy(variant.policy):
        history = net.fit(data, epochs=epochs, verbose=0, shuffle=False, callbacks=[timer])
    return timer.seconds, history.history


def _resolve_variants(variants: Iterable[str]) -> tuple[Variant, ...]:
    names = tuple(variants)
    unknown = [v for v in names if v not in VARIANTS]
    if not names or unknown:
        raise ValueError(
            f"`variants` must be a non-empty subset of {list(VARIANTS)}. Received: {list(names)}"
        )
    if "reference" not in names:
        names = ("reference",) + names  # speed-ups are relative to it
    return tuple(VARIANTS[v] for v in names)


def benchmark_throughput(
    *,
    models: Sequence[str] = MODELS,
    dataset: str = "fashion_mnist",
    batch_size: int = 128,
    train_examples: int | dict[str, int] | None = None,
    epochs: int = 1,
    repeats: int = 5,
    variants: Sequence[str] = tuple(VARIANTS),
    seed: int = 0,
    learning_rate: float = 1e-3,
) -> list[dict]:
    """Examples per second of `fit` for each model and variant, and the speed-up over the reference.

    Args:
        models: zoo model names (`"mlp_vae"`, `"conv_vae"`).
        dataset: data set name; the zoo's preset for it sets the architecture.
        batch_size: examples per step, the same for every variant.
        train_examples: examples per timed epoch (an int for all models, a
            dict per model, or None: `DEFAULT_TRAIN_EXAMPLES`).
        epochs: timed epochs per variant per round (after the warm-up epoch).
        repeats: timed rounds per pair (reference, variant), the order
            alternating.
        variants: names from `VARIANTS` (the reference is always added).
        seed: data and initialization seed.
        learning_rate: Adam learning rate.

    Returns:
        One dict per model and variant: `{"model", "variant", "label",
        "policy", "jit_compile", "examples_per_epoch", "examples_per_second"
        (median), "examples_per_second_all" (every timed epoch),
        "speedup" (median over rounds of this variant's examples/s over the
        reference's in the same round and pair), "warmup_seconds"}`.
    """
    models = _check_models(models)
    for name, value in (("batch_size", batch_size), ("epochs", epochs), ("repeats", repeats)):
        _check_positive(name, value)
    chosen = _resolve_variants(variants)
    reference = chosen[0]
    rows = []
    for model in models:
        examples = _per_model("train_examples", train_examples, DEFAULT_TRAIN_EXAMPLES, model)
        splits = _load(model, dataset, batch_size, seed, examples)
        n = splits.num_examples["train"]
        rates: dict[str, list[float]] = {v.name: [] for v in chosen}
        ratios: dict[str, list[float]] = {v.name: [] for v in chosen}
        warmup: dict[str, list[float]] = {v.name: [] for v in chosen}
        for variant in chosen[1:] or chosen:
            pair = (reference, variant) if variant is not reference else (reference,)
            nets = {}
            for member in pair:
                nets[member.name] = build_model(
                    member,
                    model,
                    dataset,
                    splits.input_shape,
                    seed=seed,
                    learning_rate=learning_rate,
                )
                start = time.perf_counter()
                _fit(nets[member.name], member, splits.train, 1)
                warmup[member.name].append(time.perf_counter() - start)
            for round_ in range(repeats):
                this_round = {}
                for member in pair if round_ % 2 == 0 else pair[::-1]:
                    seconds, _ = _fit(nets[member.name], member, splits.train, epochs)
                    this_round[member.name] = statistics.median(n / s for s in seconds)
                    rates[member.name] += [n / s for s in seconds]
                ratios[variant.name].append(this_round[variant.name] / this_round[reference.name])
            del nets
            keras.backend.clear_session(free_memory=True)
        ratios[reference.name] = [1.0]
        for variant in chosen:
            rows.append(
                {
                    "model": model,
                    "variant": variant.name,
                    "label": variant.label,
                    "policy": variant.policy,
                    "jit_compile": variant.jit_compile,
                    "examples_per_epoch": n,
                    "examples_per_second": round(statistics.median(rates[variant.name]), 1),
                    "examples_per_second_all": [round(r, 1) for r in rates[variant.name]],
                    "speedup": round(statistics.median(ratios[variant.name]), 3),
                    "warmup_seconds": round(statistics.median(warmup[variant.name]), 2),
                }
            )
    return rows


def fastest_zoo_variant(throughput_rows: list[dict], model: str) -> str | None:
    """The zoo variant with the highest median speed-up for `model` in `benchmark_throughput` rows."""
    zoo_rows = [
        r for r in throughput_rows if r["model"] == model and VARIANTS[r["variant"]].kind == "zoo"
    ]
    return max(zoo_rows, key=lambda r: r["speedup"])["variant"] if zoo_rows else None


def default_zoo_variant() -> str:
    """Without throughput results: XLA on GPUs, mixed_bfloat16 on CPUs (see PERF_NOTES)."""
    return "zoo_bf16_xla" if tf.config.list_physical_devices("GPU") else "zoo_bf16"


def _float32_copy(
    net: keras.Model, variant: Variant, model: str, dataset: str, input_shape, seed: int
):
    """`net` itself in float32, or a float32 model with `net`'s weights."""
    if variant.policy == "float32":
        return net
    entry, config = _zoo_config(model, dataset)
    with dtype_policy("float32"):
        copy = entry.build(config, input_shape=input_shape, seed=seed)
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
    """
    models = _check_models(models)
    _check_positive("batch_size", batch_size)
    _check_positive("iwae_samples", iwae_samples)
    rows = []
    for model in models:
        model_epochs = _per_model("epochs", epochs, DEFAULT_QUALITY_EPOCHS, model)
        n_iwae = _per_model("iwae_examples", iwae_examples, DEFAULT_IWAE_EXAMPLES, model)
        name = zoo_variant.get(model) if isinstance(zoo_variant, dict) else zoo_variant
        name = name or default_zoo_variant()
        if name not in VARIANTS or VARIANTS[name].kind != "zoo":
            zoo_names = [v for v in VARIANTS if VARIANTS[v].kind == "zoo"]
            raise ValueError(
                f"`zoo_variant` must be one of {zoo_names}. Received: zoo_variant={name!r}"
            )
        splits = _load(model, dataset, batch_size, seed, max_examples)
        results = {}
        for variant in (VARIANTS["reference"], VARIANTS[name]):
            net = build_model(
                variant, model, dataset, splits.input_shape, seed=seed, learning_rate=learning_rate
            )
            start = time.perf_counter()
            _, history = _fit(net, variant, splits.train, model_epochs)
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


def format_throughput_table(rows: list[dict]) -> str:
    """A text table of `benchmark_throughput` rows."""
    lines = [f"{'model':<10}{'variant':<32}{'examples/s':>12}{'vs reference':>14}"]
    for r in rows:
        lines.append(
            f"{r['model']:<10}{r['label']:<32}{r['examples_per_second']:>12.0f}{r['speedup']:>13.2f}x"
        )
    return "\n".join(lines)


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
