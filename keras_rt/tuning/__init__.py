"""Hyperparameter search over zoo models with KerasTuner: latent sizes first, more through a config.

>>> from keras_rt.tuning import TuneConfig, run_search
>>> config = TuneConfig(model="mlp_vae", dataset="digits", latent_dims=[2, 4, 8], epochs=5)
>>> result = run_search(config)  # doctest: +SKIP
>>> print(result.table)  # doctest: +SKIP

Names are imported on first use (`keras_rt.lazy`), so `keras_rt.tuning.config`
imports without TensorFlow.
"""

from keras_rt.lazy import lazy_exports

_EXPORTS = {
    "TuneConfig": "config",
    "parse_latent_dims": "config",
    "tuner_role": "distributed",
    "ResumableGridSearchOracle": "grid_oracle",
    "ZooHyperModel": "hypermodel",
    "trial_metrics": "hypermodel",
    "ValidationIWAE": "iwae_metric",
    "OBJECTIVES": "objectives",
    "get_objective": "objectives",
    "resolve_objective_name": "objectives",
    "plot_objective_vs_latent_dim": "plots",
    "collect_results": "results",
    "format_table": "results",
    "SearchResult": "search",
    "export_best_model": "search",
    "run_search": "search",
    "Dimension": "space",
    "SearchSpace": "space",
    "TUNERS": "tuners",
    "make_tuner": "tuners",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
