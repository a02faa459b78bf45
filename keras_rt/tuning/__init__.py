"""Hyperparameter search over zoo models with KerasTuner: latent sizes first, more through a config.

>>> from keras_rt.tuning import TuneConfig, run_search
>>> result = run_search(TuneConfig(model="mlp_vae", dataset="digits", latent_dims=[2, 4, 8], epochs=5))
>>> print(result.table)
"""

from keras_rt.tuning.config import TuneConfig, parse_latent_dims
from keras_rt.tuning.distributed import tuner_role
from keras_rt.tuning.grid_oracle import ResumableGridSearchOracle
from keras_rt.tuning.hypermodel import ZooHyperModel, trial_metrics
from keras_rt.tuning.iwae_metric import ValidationIWAE
from keras_rt.tuning.objectives import OBJECTIVES, get_objective, resolve_objective_name
from keras_rt.tuning.plots import plot_objective_vs_latent_dim
from keras_rt.tuning.results import collect_results, format_table
from keras_rt.tuning.search import SearchResult, export_best_model, run_search
from keras_rt.tuning.space import Dimension, SearchSpace
from keras_rt.tuning.tuners import TUNERS, make_tuner

__all__ = [
    "OBJECTIVES",
    "TUNERS",
    "Dimension",
    "ResumableGridSearchOracle",
    "SearchResult",
    "SearchSpace",
    "TuneConfig",
    "ValidationIWAE",
    "ZooHyperModel",
    "collect_results",
    "export_best_model",
    "format_table",
    "get_objective",
    "make_tuner",
    "parse_latent_dims",
    "plot_objective_vs_latent_dim",
    "resolve_objective_name",
    "run_search",
    "trial_metrics",
    "tuner_role",
]
