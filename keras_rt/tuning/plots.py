"""PNG of a search: the objective against the latent size."""

from __future__ import annotations

from typing import Any


def plot_objective_vs_latent_dim(
    results: dict[str, Any], path: str, *, title: str | None = None
) -> str:
    """Every completed trial as a dot, the best value per latent size as a line, the best trial starred.

    Args:
        results: what `collect_results` returns (`results.json`).
        path: the PNG to write.
        title: the plot title (default: the objective).

    Returns:
        `path`.
    """
    from keras_rt.training.plots import pyplot
    from keras_rt.tuning.objectives import DESCRIPTIONS

    plt = pyplot()

    trials = [t for t in results["trials"] if t["value"] is not None]
    better = min if results["direction"] == "min" else max
    fig, ax = plt.subplots(figsize=(6, 4))
    if trials:
        dims = [t["latent_dim"] for t in trials]
        values = [t["value"] for t in trials]
        ax.scatter(dims, values, alpha=0.5, label="trials")
        best_per_dim = {
            d: better(v for dd, v in zip(dims, values) if dd == d) for d in sorted(set(dims))
        }
        ax.plot(list(best_per_dim), list(best_per_dim.values()), "-o", label="best per latent size")
        best = results.get("best")
        if best:
            ax.scatter(
                [best["latent_dim"]],
                [best["value"]],
                marker="*",
                s=250,
                color="C3",
                zorder=3,
                label=f"best: latent_dim={best['latent_dim']}",
            )
        ax.set_xscale("log", base=2)
        ax.set_xticks(sorted(set(dims)))
        ax.set_xticklabels([str(d) for d in sorted(set(dims))])
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no completed trial", ha="center", va="center", transform=ax.transAxes)
    objective = results["objective"]
    ax.set_xlabel("latent size")
    ax.set_ylabel(f"{objective} (nats)")
    ax.set_title(title or DESCRIPTIONS.get(objective, objective))
    ax.grid(True, alpha=0.3)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path
