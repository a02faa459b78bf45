"""Scale-out on TensorFlow's own engines: strategies by name, mixed precision."""

from keras_rt.distribute.precision import POLICIES, set_mixed_precision
from keras_rt.distribute.strategy import (
    STRATEGIES,
    WorkerInfo,
    make_strategy,
    parse_tf_config,
    worker_info,
)

__all__ = [
    "POLICIES",
    "STRATEGIES",
    "WorkerInfo",
    "make_strategy",
    "parse_tf_config",
    "set_mixed_precision",
    "worker_info",
]
