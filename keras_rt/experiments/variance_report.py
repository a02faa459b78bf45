"""Presenting the toy variance study (`keras_rt.experiments.variance_study`): a table and a plot.

`format_table` writes the study, its variance ratios and optional timings as
a Markdown-compatible table; `plot_variance` draws variance against `N` on
log-log axes next to the analytic `v / N` lines.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from keras_rt.experiments.variance_study import benchmark_ratios


def _fmt(x: float | None, spec: str = ".3g") -> str:
    if x is None:
        return "-"
    if math.isinf(x):
        return "inf"
    return format(x, spec)


def _fmt_ratio(x: float | None, spec: str = ".4g") -> str:
    """A variance ratio; a second estimator at rounding-error variance reads "exact"."""
    if x is not None and x > 1e12:
        return "exact (variance ~ 0)"
    return _fmt(x, spec)


def format_table(study: dict[str, Any], timings: dict[str, float] | None = None) -> str:
    """The study as a plain-text table, plus ratios and timings.

    Args:
        study: the dict returned by `run_toy_study`.
        timings: optional output of `time_estimators`.

    Returns:
        A multi-line string (Markdown-compatible table).

    Example:

    >>> from keras_rt.experiments.variance_study import run_toy_study
    >>> study = run_toy_study(sizes=[10], reps=10, estimators=["pathwise"])
    >>> print(format_table(study).splitlines()[0])
    x ~ N(2, 1), f(x) = x^2, true gradient 4, 10 repetitions per cell
    """
    analytic = study["analytic_per_sample_variance"]
    lines = [
        f"x ~ N({study['theta']:g}, 1), f(x) = x^2, true gradient "
        f"{study['true_gradient']:g}, {study['reps']} repetitions per cell",
        "",
        "| estimator | N | mean | variance | variance x N | analytic variance x N |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in study["results"]:
        a = analytic.get(r["estimator"])
        if r["estimator"] == "score_function_rloo":
            a_text = f"~{_fmt(analytic['score_function_baseline'])}"
        else:
            a_text = _fmt(a)
        lines.append(
            f"| {r['estimator']} | {r['n']} | {r['mean']:.4f} | {_fmt(r['variance'], '.4g')} "
            f"| {_fmt(r['per_sample_variance'], '.4g')} | {a_text} |"
        )
    ratio_rows = benchmark_ratios(study)
    lines += [
        "",
        "Variance ratios at equal N (higher = the second estimator is better; "
        f"analytic score_function/pathwise = {analytic['score_function'] / analytic['pathwise']:.4g}):",
        "",
        "| N | score_function / pathwise | score_function / rloo | pathwise / qmc | pathwise / antithetic |",
        "|---:|---:|---:|---:|---:|",
    ]
    for row in ratio_rows:
        lines.append(
            f"| {row['n']} | {_fmt_ratio(row['score_function/pathwise'])} "
            f"| {_fmt_ratio(row['score_function/score_function_rloo'])} "
            f"| {_fmt_ratio(row['pathwise/pathwise_qmc'])} "
            f"| {_fmt_ratio(row['pathwise/pathwise_antithetic'])} |"
        )
    if timings:
        lines += [
            "",
            "Wall time per 10^6 samples (best of 3, compiled, CPU):",
            "",
            "| estimator | seconds |",
            "|---|---:|",
        ]
        lines += [f"| {k} | {v:.4f} |" for k, v in timings.items()]
    return "\n".join(lines)


_STYLES = {
    "score_function": ("tab:red", "o"),
    "score_function_baseline": ("tab:orange", "s"),
    "score_function_rloo": ("tab:brown", "^"),
    "pathwise": ("tab:blue", "o"),
    "pathwise_antithetic": ("tab:cyan", "D"),
    "pathwise_qmc": ("tab:green", "v"),
}


def plot_variance(study: dict[str, Any], path: str | Path) -> Path:
    """Plots variance vs `N` on log-log axes, with the analytic `v / N` lines dashed.

    Variances at rounding-error level (below 1e-20, e.g. antithetic pairs on
    the linear toy gradient) cannot be drawn usefully on a log axis; they are
    left out and noted in the legend.

    Args:
        study: the dict returned by `run_toy_study`.
        path: where to write the PNG (parent folders are created).

    Returns:
        The path written.
    """
    from keras_rt.training.plots import pyplot

    plt = pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sizes = sorted(set(study["sizes"]))
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    names = list(dict.fromkeys(r["estimator"] for r in study["results"]))
    for name in names:
        rows = sorted((r for r in study["results"] if r["estimator"] == name), key=lambda r: r["n"])
        pts = [(r["n"], r["variance"]) for r in rows if r["variance"] > 1e-20]
        color, marker = _STYLES.get(name, (None, "o"))
        if pts:
            ax.plot(*zip(*pts), marker=marker, color=color, label=name)
        if len(pts) < len(rows):
            ax.plot(
                [],
                [],
                marker=marker,
                color=color,
                linestyle="none",
                label=f"{name}: variance ~ 0 (exact), not drawn",
            )
    analytic = study["analytic_per_sample_variance"]
    labels = {
        "score_function": "score function",
        "score_function_baseline": "baseline E[x^2]",
        "score_function_best_constant": "best constant baseline",
        "pathwise": "pathwise",
    }
    colors = {"score_function_best_constant": "tab:gray"}
    for key, v in analytic.items():
        color = colors.get(key, _STYLES.get(key, ("k", ""))[0])
        ax.plot(
            sizes,
            [v / n for n in sizes],
            "--",
            color=color,
            alpha=0.6,
            label=f"analytic {labels.get(key, key)}: {v:g}/N",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of samples N")
    ax.set_ylabel("variance of the gradient estimate")
    ax.set_title(
        f"Gradient estimator variance, x ~ N({study['theta']:g}, 1), f(x) = x^2 "
        f"({study['reps']} reps)"
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
