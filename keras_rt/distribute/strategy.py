"""`tf.distribute` strategies by name, with `TF_CONFIG` checked before TensorFlow sees it.

| name | strategy | for |
|---|---|---|
| `default` | the default (no-op) strategy | one CPU or one GPU |
| `mirrored` | `tf.distribute.MirroredStrategy` | all GPUs of one machine |
| `multi_worker` | `tf.distribute.MultiWorkerMirroredStrategy` | several machines, from `TF_CONFIG` |

`--batch-size` is the **global** batch: each of the N replicas gets
`batch_size / N` examples per step, as in TensorFlow's distributed-training
guide. The learning rate is left as given unless `scale_learning_rate` asks
for the linear scaling rule (`lr * N`).
"""

from __future__ import annotations

import dataclasses
import json
import os

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker")


@dataclasses.dataclass(frozen=True)
class WorkerInfo:
    """Where this process sits in the cluster."""

    task_type: str | None
    task_index: int
    num_workers: int

    @property
    def is_chief(self) -> bool:
        """The chief (or worker 0 when the cluster has no chief) writes plots and exports."""
        if self.task_type in (None, "chief"):
            return True
        return self.task_type == "worker" and self.task_index == 0 and not self._has_chief

    _has_chief: bool = False


def parse_tf_config(text: str | None = None) -> dict:
    """Parses and checks `TF_CONFIG` (default: the environment variable).

    Raises:
        ValueError: naming what is wrong (not JSON, no cluster, bad task).
    """
    text = os.environ.get("TF_CONFIG", "") if text is None else text
    if not text.strip():
        raise ValueError(
            "strategy='multi_worker' needs the TF_CONFIG environment variable, e.g. "
            'TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}\''
        )
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"TF_CONFIG is not valid JSON ({error}). Received: TF_CONFIG={text!r}"
        ) from None
    if not isinstance(config, dict):
        raise ValueError(f"TF_CONFIG must be a JSON object. Received: TF_CONFIG={text!r}")
    cluster, task = config.get("cluster"), config.get("task")
    if not isinstance(cluster, dict) or not cluster:
        raise ValueError(
            f"TF_CONFIG needs a non-empty 'cluster' object. Received: TF_CONFIG={text!r}"
        )
    for job, addresses in cluster.items():
        if not isinstance(addresses, list) or not all(
            isinstance(a, str) and ":" in a for a in addresses
        ):
            raise ValueError(
                f"TF_CONFIG cluster job {job!r} must be a list of 'host:port' strings. "
                f"Received: {addresses!r}"
            )
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise ValueError(
            f"TF_CONFIG needs a 'task' object with 'type' and 'index'. Received: TF_CONFIG={text!r}"
        )
    job, index = task["type"], task["index"]
    if job not in cluster:
        raise ValueError(
            f"TF_CONFIG task type {job!r} is not a job of the cluster {sorted(cluster)}."
        )
    if not isinstance(index, int) or not 0 <= index < len(cluster[job]):
        raise ValueError(
            f"TF_CONFIG task index must be an integer in [0, {len(cluster[job])}) for job {job!r}. "
            f"Received: index={index!r}"
        )
    return config


def worker_info(strategy_name: str) -> WorkerInfo:
    """This process's place in the cluster (a single worker unless multi_worker)."""
    if strategy_name != "multi_worker":
        return WorkerInfo(None, 0, 1)
    config = parse_tf_config()
    cluster, task = config["cluster"], config["task"]
    workers = len(cluster.get("worker", [])) + len(cluster.get("chief", []))
    return WorkerInfo(task["type"], task["index"], workers, _has_chief="chief" in cluster)


def make_strategy(name: str = "default") -> tf.distribute.Strategy:
    """Creates the named strategy; call it before any other TensorFlow work.

    Args:
        name: one of `STRATEGIES`.

    Returns:
        The strategy.

    Raises:
        ValueError: for an unknown name, a malformed `TF_CONFIG`, or a
            multi-worker cluster given to a single-machine strategy.

    Example:

    >>> strategy = make_strategy("mirrored")
    >>> with strategy.scope():
    ...     model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> strategy.num_replicas_in_sync  # one replica per GPU; on a machine without one, 1
    1
    """
    if name not in STRATEGIES:
        raise ValueError(
            f"Unknown strategy. Received: strategy={name!r}. Valid: {list(STRATEGIES)}"
        )
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if os.environ.get("TF_CONFIG", "").strip():
            raise ValueError(
                "TF_CONFIG describes a cluster, but strategy='mirrored' uses one machine: "
                "use --strategy multi_worker, or unset TF_CONFIG."
            )
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or ["/cpu:0"]
        return tf.distribute.MirroredStrategy(devices=devices)
    parse_tf_config()
    from keras_rt.distribute.keras_compat import install_multi_worker_metric_fix

    install_multi_worker_metric_fix()
    return tf.distribute.MultiWorkerMirroredStrategy()
