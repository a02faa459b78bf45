"""Search objectives: names of metrics in a trial's Keras logs, each with a direction.

Every objective is a `keras_tuner.Objective(name, direction)` whose name is a
metric that `model.fit(..., validation_data=...)` logs: the zoo models' own
validation metrics, and `val_iwae_nll`, which `ValidationIWAE` adds to the
logs at the end of each epoch. All values are in nats per example.
"""

from __future__ import annotations

import keras_tuner

OBJECTIVES: dict[str, keras_tuner.Objective] = {
    "val_neg_elbo": keras_tuner.Objective("val_neg_elbo", "min"),
    "val_iwae_nll": keras_tuner.Objective("val_iwae_nll", "min"),
    "val_loss": keras_tuner.Objective("val_loss", "min"),
    "val_reconstruction": keras_tuner.Objective("val_reconstruction", "min"),
}

DESCRIPTIONS: dict[str, str] = {
    "val_neg_elbo": "validation negative ELBO (the default)",
    "val_iwae_nll": "validation negative IWAE-k bound (k = --iwae-samples)",
    "val_loss": "validation training objective (includes the KL weight beta)",
    "val_reconstruction": "validation -log p(x|z)",
}

# Shorter spellings accepted on the command line.
ALIASES: dict[str, str] = {
    "neg_elbo": "val_neg_elbo",
    "elbo": "val_neg_elbo",
    "iwae": "val_iwae_nll",
    "iwae_nll": "val_iwae_nll",
    "loss": "val_loss",
    "reconstruction": "val_reconstruction",
}

# Objectives that `ValidationIWAE` computes (the others come from `fit`).
IWAE_OBJECTIVES = frozenset({"val_iwae_nll"})


def resolve_objective_name(name: str) -> str:
    """An objective name or alias -> the registered name; unknown names list the valid ones."""
    if isinstance(name, str):
        name = ALIASES.get(name, name)
    if name not in OBJECTIVES:
        raise ValueError(
            f"Unknown objective. Received: objective={name!r}. "
            f"Valid objectives: {sorted(OBJECTIVES)} (aliases: {sorted(ALIASES)})"
        )
    return name


def get_objective(name: str) -> keras_tuner.Objective:
    """The `keras_tuner.Objective` registered as `name` (or an alias)."""
    return OBJECTIVES[resolve_objective_name(name)]
