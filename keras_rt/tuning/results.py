"""A finished search as data: `results.json` and the trials table, read from KerasTuner's oracle."""

from __future__ import annotations

import math
from typing import Any

import keras_tuner

# Metrics the hypermodel reports besides Keras's own (see `trial_metrics`).
BOOKKEEPING = ("epochs", "best_epoch", "seconds")


def _number(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _trial_record(trial, objective: keras_tuner.Objective, space) -> dict[str, Any]:
    hyperparameters = space.decode(dict(trial.hyperparameters.values))
    metrics = {
        name: _number(trial.metrics.get_last_value(name))
        for name in sorted(trial.metrics.metrics)
        if name not in BOOKKEEPING
    }
    record = {
        "trial_id": trial.trial_id,
        "latent_dim": hyperparameters.get("latent_dim"),
        "value": _number(trial.score),
        "status": str(trial.status),
    }
    for name in ("epochs", "best_epoch"):
        value = _number(trial.metrics.get_last_value(name)) if trial.metrics.exists(name) else None
        record[name] = int(value) if value is not None else None
    seconds = trial.metrics.get_last_value("seconds") if trial.metrics.exists("seconds") else None
    record["seconds"] = round(float(seconds), 2) if seconds is not None else None
    record["hyperparameters"] = hyperparameters
    record["metrics"] = metrics
    if trial.message:
        record["message"] = trial.message.strip().splitlines()[-1]
    return record


def collect_results(oracle, *, space, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """`results.json` content from a (chief's or local) oracle.

    Returns:
        `{"objective", "direction", "trials": [completed trials, by trial id],
        "failed": [other trials], "best": the best completed trial or None,
        **extra}`. Each trial: `trial_id`, `latent_dim`, `value` (the
        objective, best epoch), `status`, `epochs`, `best_epoch`, `seconds`,
        `hyperparameters` (all, decoded), `metrics` (best epoch's logs).
    """
    objective = oracle.objective
    records = [_trial_record(t, objective, space) for t in oracle.trials.values()]
    records.sort(key=lambda r: (len(r["trial_id"]), r["trial_id"]))
    completed = [r for r in records if r["status"] == "COMPLETED" and r["value"] is not None]
    failed = [r for r in records if r not in completed]
    best = None
    best_trials = [t for t in oracle.get_best_trials(1) if t.status == "COMPLETED"]
    if best_trials:
        best = next((r for r in completed if r["trial_id"] == best_trials[0].trial_id), None)
    return {
        "objective": objective.name,
        "direction": objective.direction,
        **(extra or {}),
        "trials": completed,
        "failed": failed,
        "best": best,
    }


def format_table(results: dict[str, Any], *, space_names=()) -> str:
    """The trials table: trial, latent size, extra dimensions, objective, epochs, time."""
    objective = results["objective"]
    columns = ["trial", "latent_dim", *space_names, objective, "epochs", "seconds"]
    rows = []
    best_id = (results.get("best") or {}).get("trial_id")
    for record in results["trials"] + results.get("failed", []):
        hp = record["hyperparameters"]
        value = record["value"]
        rows.append(
            [
                record["trial_id"] + (" *" if record["trial_id"] == best_id else ""),
                str(record["latent_dim"]),
                *(_format_value(hp.get(name)) for name in space_names),
                f"{value:.3f}" if value is not None else record["status"].lower(),
                "" if record["epochs"] is None else str(record["epochs"]),
                "" if record["seconds"] is None else f"{record['seconds']:.1f}",
            ]
        )
    widths = [
        max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(columns)
    ]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in rows]
    best = results.get("best")
    if best:
        extras = ", ".join(
            f"{n}={_format_value(best['hyperparameters'].get(n))}" for n in space_names
        )
        lines.append(
            f"best: trial {best['trial_id']} (*), latent_dim={best['latent_dim']}"
            + (f", {extras}" if extras else "")
            + f", {objective}={best['value']:.3f} ({results['direction']})"
        )
    else:
        lines.append("no trial completed")
    return "\n".join(lines)


def _format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)
