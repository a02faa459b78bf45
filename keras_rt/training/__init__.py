"""Training runs: config, `train`, evaluation of splits, plots, run-folder files."""

from keras_rt.training.config import TrainConfig
from keras_rt.training.train import TrainResult, evaluate_splits, summary_table, train

__all__ = ["TrainConfig", "TrainResult", "evaluate_splits", "summary_table", "train"]
