"""A run folder's life cycle: new, interrupted (resumable) or complete — and what may change between.

`train` asks `run_folder_state` before it loads any data: a complete run is
reported and left alone (`--overwrite` trains it again), an interrupted run
resumes from its backup if its model is the same, and an interrupted run of
another model is refused before anything is written. `metrics.json` is the
last file a run writes, so its presence means complete.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from typing import Any

# Everything `train` writes into a run folder (what `--overwrite` removes; nothing else is touched).
RUN_FILES = (
    "config.json",
    "versions.json",
    "metrics.json",
    "history.csv",
    "history.csv.tmp",
    "model.keras",
    "checkpoints",
    "logs",
    "plots",
    "backup",
    "workers",
)
COMPLETE_MARKER = "metrics.json"
# What must match for a backup to be resumed: the same data and the same model.
RESUME_KEYS = ("model", "dataset", "model_config")
# Keras's own entries of a model's config that do not change its weights' layout.
IGNORED_MODEL_KEYS = frozenset({"name", "trainable", "dtype"})


@dataclasses.dataclass
class RunFolderState:
    """What a run folder holds.

    Attributes:
        status: "new" (nothing of a run), "interrupted" or "complete".
        config: the run's `config.json` (None if absent or unreadable).
        metrics: the complete run's `metrics.json` (None otherwise).
    """

    status: str
    config: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None


def _read_json(path: str) -> dict[str, Any] | None:
    try:
        with open(path) as f:
            value = json.load(f)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def run_folder_state(run_dir: str) -> RunFolderState:
    """Reads what `run_dir` holds, without changing it.

    Example:

    >>> run_folder_state("runs/never-trained").status
    'new'
    """
    if not os.path.isdir(run_dir):
        return RunFolderState("new")
    config = _read_json(os.path.join(run_dir, "config.json"))
    metrics = _read_json(os.path.join(run_dir, COMPLETE_MARKER))
    if metrics is not None and config is not None:
        return RunFolderState("complete", config, metrics)
    if config is None and not os.path.isdir(os.path.join(run_dir, "backup")):
        return RunFolderState("new")
    return RunFolderState("interrupted", config)


def setting_differences(
    saved: dict[str, Any], new: dict[str, Any], keys: tuple[str, ...]
) -> list[str]:
    """`key: old -> new` for each of `keys` (and each model_config entry) that differs."""
    saved = json.loads(json.dumps(saved, default=str))
    new = json.loads(json.dumps(new, default=str))
    changes = []
    for key in keys:
        before, after = saved.get(key), new.get(key)
        if isinstance(before, dict) and isinstance(after, dict):
            for sub in sorted(set(before) | set(after)):
                if sub not in IGNORED_MODEL_KEYS and before.get(sub) != after.get(sub):
                    changes.append(f"{sub}: {before.get(sub)!r} -> {after.get(sub)!r}")
        elif before != after:
            changes.append(f"{key}: {before!r} -> {after!r}")
    return changes


def check_resumable(run_dir: str, state: RunFolderState, new_config: dict[str, Any]) -> None:
    """Raises `ValueError` if the interrupted run in `run_dir` trained another model or data."""
    if state.status != "interrupted" or state.config is None:
        return
    changes = setting_differences(state.config, new_config, RESUME_KEYS)
    if changes:
        shown = "; ".join(changes[:5]) + ("; ..." if len(changes) > 5 else "")
        raise ValueError(
            f"{run_dir!r} holds an interrupted run of another model or dataset ({shown}). Rerun "
            "with its settings to resume it, --overwrite to start afresh there, or choose another "
            "--output-dir."
        )


def clear_run_folder(run_dir: str) -> None:
    """Removes what an earlier run wrote into `run_dir` (only `RUN_FILES`; other files stay)."""
    for name in RUN_FILES:
        path = os.path.join(run_dir, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.remove(path)


def complete_run_message(run_dir: str, state: RunFolderState, train_config: dict[str, Any]) -> str:
    """The one line a rerun of a complete run prints: what is there, and how to train again."""
    saved = (state.config or {}).get("train_config") or {}
    ignore = {"output_dir", "verbose", "overwrite"}
    changed = [
        f"{key} {saved.get(key)!r} -> {value!r}"
        for key, value in json.loads(json.dumps(train_config, default=str)).items()
        if key not in ignore and key in saved and saved.get(key) != value
    ]
    epochs = ((state.metrics or {}).get("training") or {}).get("epochs")
    done = f" after {epochs} epoch{'s' * (epochs != 1)}" if epochs else ""
    note = f" Settings that differ now: {', '.join(changed[:5])}." if changed else ""
    return (
        f"The run in {run_dir} is complete{done}: nothing to do.{note} --overwrite trains it again; "
        "another --output-dir starts a new run."
    )


__all__ = [
    "RUN_FILES",
    "RunFolderState",
    "check_resumable",
    "clear_run_folder",
    "complete_run_message",
    "run_folder_state",
    "setting_differences",
]
