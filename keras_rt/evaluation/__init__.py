"""Honest metrics for trained models: the importance-weighted log-likelihood bound."""

from keras_rt.evaluation.active_units import active_units
from keras_rt.evaluation.iwae import (
    evaluate_iwae,
    importance_weighted_log_likelihood,
    paired_iwae_difference,
)

__all__ = [
    "active_units",
    "evaluate_iwae",
    "importance_weighted_log_likelihood",
    "paired_iwae_difference",
]
