"""Zoo benchmark, throughput: examples/s of `fit` for each `Variant`, the speed-up over the
reference, and how far each is from this machine's limit.

Every timing runs in a process of its own (`keras_rt.experiments.zoo_timing_worker`):
the model is built, given one warm-up epoch (tracing, XLA compilation:
excluded), then timed for `epochs` epochs. A round times the reference and
every variant once, in an order that rotates from round to round; the
speed-up of a variant is the median over rounds of its examples/s over the
reference's in the same round (paired, so slow spells of a shared machine
cancel). An "epoch" is the first `train_examples` examples of the training
split, so that a round stays short.

The roofline columns: achieved GFLOP/s = examples/s x the training step's
FLOPs per example (`keras_rt.performance.flops`: 6 per forward multiply-add of
the matrix products and convolutions), next to the machine's measured peak
of a 1024^3 or 2048^3 matrix product (the faster) in the variant's compute dtype
(`keras_rt.performance.probe`). Small shapes never reach that peak, so with
`kernel_time=True` each model's kernel time is measured too, in a process
of its own (`keras_rt.performance.kernel_time`: the step's matrix products
and convolutions run alone, each layer the fastest way this machine ran it,
summed), and each row gets it as a percentage of the row's step time.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence

from keras_rt.experiments.zoo_variants import (
    DEFAULT_TRAIN_EXAMPLES,
    MODELS,
    VARIANTS,
    check_models,
    per_model,
    resolve_variants,
)
from keras_rt.ops.validation import check_choice, check_int

DEVICES = ("cpu", "gpu")
COMPUTE_DTYPES = {"float32": "float32", "mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}


def run_worker(arguments: dict, device: str = "cpu") -> dict:
    """Runs one `zoo_timing_worker` process; returns its JSON result.

    Raises:
        RuntimeError: the process failed (its last output lines are in the message).
    """
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = "-1"
    process = subprocess.run(
        [sys.executable, "-m", "keras_rt.experiments.zoo_timing_worker", json.dumps(arguments)],
        capture_output=True,
        text=True,
        env=env,
    )
    lines = process.stdout.strip().splitlines()
    if process.returncode != 0 or not lines:
        tail = "\n".join((process.stdout + process.stderr).strip().splitlines()[-5:])
        raise RuntimeError(
            f"Timing {arguments.get('variant', 'the kernel time')} of {arguments['model']} failed "
            f"(exit {process.returncode}):\n{tail}"
        )
    return json.loads(lines[-1])


def benchmark_throughput(
    *,
    models: Sequence[str] = MODELS,
    dataset: str = "fashion_mnist",
    batch_size: int = 128,
    train_examples: int | dict[str, int] | None = None,
    epochs: int = 1,
    repeats: int = 3,
    variants: Sequence[str] = ("zoo_default",),
    seed: int = 0,
    learning_rate: float = 1e-3,
    device: str = "cpu",
    peak_gflops: dict[str, float] | None = None,
    kernel_time: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[dict]:
    """Examples per second of `fit` for each model and variant, and the speed-up over the reference.

    Args:
        models: zoo model names (`"mlp_vae"`, `"conv_vae"`).
        dataset: data set name; the zoo's preset for it sets the architecture.
        batch_size: examples per step, the same for every variant.
        train_examples: examples per timed epoch (an int for all models, a
            dict per model, or None: `DEFAULT_TRAIN_EXAMPLES`).
        epochs: timed epochs per variant per round (after the warm-up epoch).
        repeats: rounds; each times the reference and every variant once,
            each in its own process.
        variants: names from `VARIANTS` (the reference is always added).
        seed: data and initialization seed.
        learning_rate: Adam learning rate.
        device: `"cpu"` (GPUs hidden from the workers) or `"gpu"`.
        peak_gflops: the machine's measured matmul peak per compute dtype
            (`probe["matmul_gflops"]`); None leaves the roofline columns empty.
        kernel_time: also measure each model's kernel time in each compute
            dtype timed (one more process per model and dtype).
        progress: called with one line per finished timing (None: quiet).

    Returns:
        One dict per model and variant: `{"model", "variant", "label",
        "policy", "jit_compile", "examples_per_epoch", "examples_per_second"
        (median), "examples_per_second_all", "speedup" (median of per-round
        ratios), "speedup_all", "warmup_seconds", "flops_per_example",
        "gflops" (achieved, at the median examples/s), "peak_gflops",
        "percent_of_peak", "kernel_ms" (per step, None unless measured),
        "percent_kernels", "kernel_layers" (each layer's timings)}`.

    Example:

    >>> rows = benchmark_throughput(  # doctest: +SKIP
    ...     models=["mlp_vae"], dataset="digits", train_examples=256, repeats=1
    ... )
    >>> print(format_throughput_table(rows))  # doctest: +SKIP
    """
    models = check_models(models)
    for name, value in (("batch_size", batch_size), ("epochs", epochs), ("repeats", repeats)):
        check_int(name, value)
    check_choice("device", device, DEVICES)
    chosen = resolve_variants(variants)
    rows = []
    for model in models:
        examples = per_model("train_examples", train_examples, DEFAULT_TRAIN_EXAMPLES, model)
        arguments = {
            "model": model,
            "dataset": dataset,
            "batch_size": batch_size,
            "train_examples": examples,
            "epochs": epochs,
            "seed": seed,
            "learning_rate": learning_rate,
        }
        results: dict[str, list[dict]] = {v.name: [] for v in chosen}
        ratios: dict[str, list[float]] = {v.name: [] for v in chosen}
        for round_ in range(repeats):
            shift = round_ % len(chosen)
            order = chosen[shift:] + chosen[:shift]
            rate = {}
            for variant in order if round_ % 2 == 0 else order[::-1]:
                result = run_worker({**arguments, "variant": variant.name}, device)
                rate[variant.name] = statistics.median(
                    result["examples_per_epoch"] / s for s in result["seconds"]
                )
                results[variant.name].append(result)
                if progress:
                    progress(
                        f"  {model} round {round_ + 1}/{repeats}: {result['label']}: "
                        f"{rate[variant.name]:.0f} examples/s"
                    )
            for variant in chosen:
                ratios[variant.name].append(rate[variant.name] / rate["reference"])
        kernels: dict[str, dict] = {}
        if kernel_time:
            for dtype in sorted({_compute_dtype(results[v.name][0]["policy"]) for v in chosen}):
                task = {"task": "kernel_time", "dtype": dtype}
                keys = ("model", "dataset", "batch_size", "seed")
                try:
                    timed = run_worker({**task, **{k: arguments[k] for k in keys}}, device)
                except RuntimeError as error:  # an extra column: the timings above stand
                    message = f"  {model} kernel time ({dtype}) not measured: {error}"
                else:
                    kernels[dtype] = timed
                    message = (
                        f"  {model} kernel time ({dtype}): {timed['ms_per_step']:.1f} ms per step "
                        f"of {batch_size} ({timed['examples_per_second']:.0f} examples/s)"
                    )
                if progress:
                    progress(message)
        for variant in chosen:
            rows.append(
                _row(
                    model,
                    variant.name,
                    results[variant.name],
                    ratios,
                    peak_gflops,
                    kernels,
                    batch_size,
                )
            )
    return rows


def _compute_dtype(policy: str) -> str:
    return COMPUTE_DTYPES.get(policy, policy)


def _row(
    model: str,
    name: str,
    results: list[dict],
    ratios,
    peak_gflops,
    kernels: dict[str, dict],
    batch_size: int,
) -> dict:
    first = results[0]
    rates = [r["examples_per_epoch"] / s for r in results for s in r["seconds"]]
    median = statistics.median(rates)
    gflops = median * first["flops_per_example"] / 1e9
    dtype = _compute_dtype(first["policy"])
    peak = (peak_gflops or {}).get(dtype)
    timed = kernels.get(dtype)
    kernel_ms = timed["ms_per_step"] if timed else None
    step_ms = 1000 * batch_size / median
    return {
        "model": model,
        "variant": name,
        "label": first["label"] if VARIANTS[name].kind == "zoo" else VARIANTS[name].label,
        "policy": first["policy"],
        "jit_compile": first["jit_compile"],
        "examples_per_epoch": first["examples_per_epoch"],
        "examples_per_second": round(median, 1),
        "examples_per_second_all": [round(r, 1) for r in rates],
        "speedup": round(statistics.median(ratios[name]), 3),
        "speedup_all": [round(r, 3) for r in ratios[name]],
        "warmup_seconds": round(statistics.median(r["warmup_seconds"] for r in results), 2),
        "flops_per_example": first["flops_per_example"],
        "gflops": round(gflops, 1),
        "peak_gflops": peak,
        "percent_of_peak": round(100 * gflops / peak, 1) if peak else None,
        "kernel_ms": kernel_ms,
        "percent_kernels": round(100 * kernel_ms / step_ms, 1) if kernel_ms else None,
        "kernel_layers": timed["layers"] if timed else None,
    }


def fastest_zoo_variant(throughput_rows: list[dict], model: str) -> str | None:
    """The zoo variant with the highest median speed-up for `model` in `benchmark_throughput` rows.

    Example:

    >>> fastest_zoo_variant(
    ...     [
    ...         {"model": "mlp_vae", "variant": "reference", "speedup": 1.0},
    ...         {"model": "mlp_vae", "variant": "zoo_f32", "speedup": 1.4},
    ...         {"model": "mlp_vae", "variant": "zoo_bf16", "speedup": 1.9},
    ...     ],
    ...     "mlp_vae",
    ... )
    'zoo_bf16'
    """
    zoo_rows = [
        r for r in throughput_rows if r["model"] == model and VARIANTS[r["variant"]].kind == "zoo"
    ]
    return max(zoo_rows, key=lambda r: r["speedup"])["variant"] if zoo_rows else None


def format_throughput_table(rows: list[dict]) -> str:
    """A text table of `benchmark_throughput` rows (with the roofline columns)."""
    lines = [
        f"{'model':<10}{'variant':<36}{'examples/s':>11}{'vs reference':>14}"
        f"{'GFLOP/s':>9}{'peak':>7}{'% peak':>8}"
        + (f"{'% kernels':>10}" if any(r.get("percent_kernels") for r in rows) else "")
    ]
    for r in rows:
        peak = f"{r['peak_gflops']:>7.0f}{r['percent_of_peak']:>7.0f}%" if r["peak_gflops"] else ""
        if r.get("percent_kernels"):
            peak = f"{peak or ' ' * 15}{r['percent_kernels']:>9.0f}%"
        lines.append(
            f"{r['model']:<10}{r['label']:<36}{r['examples_per_second']:>11.0f}"
            f"{r['speedup']:>13.2f}x{r['gflops']:>9.1f}{peak}"
        )
    return "\n".join(lines)
