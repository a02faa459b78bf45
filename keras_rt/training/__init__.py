"""Training runs: config, `train`, evaluation of splits, plots, run-folder files.

Names are imported on first use (`keras_rt.lazy`), so `keras_rt.training.config`
imports without TensorFlow.
"""

from keras_rt.lazy import lazy_exports

_EXPORTS = {
    "TrainConfig": "config",
    "TrainResult": "run",
    "evaluate_splits": "evaluate",
    "load_splits": "data",
    "summary_table": "evaluate",
    "train": "run",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
