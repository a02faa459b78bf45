"""A narrow fix for Keras 3 `fit` under `MultiWorkerMirroredStrategy`.

Keras 3 (checked on 3.15.1) reduces each metric result across workers with
`strategy.reduce("MEAN", value, axis=0)`; metric results are scalars, so every
multi-worker `fit` fails with "Invalid reduction dimension 0 for input with 0
dimensions" (tensorflow/tensorflow#72388). The wrapper below reduces scalars
with `axis=None` (the mean over replicas) and leaves everything else to
Keras. It is installed only when a multi-worker strategy is made.
"""

from __future__ import annotations

import functools

import tensorflow as tf

_INSTALLED = False


def install_multi_worker_metric_fix() -> None:
    """Wraps Keras's `reduce_per_replica` once (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    from keras.src.backend.tensorflow import trainer

    original = trainer.reduce_per_replica

    @functools.wraps(original)
    def reduce_per_replica(values, strategy, reduction):
        multi_worker = strategy.extended._in_multi_worker_mode()
        if not multi_worker or reduction not in ("auto", "mean"):
            return original(values, strategy, reduction)

        def _reduce(value):
            if value.shape.rank == 0:
                return strategy.reduce("MEAN", value, axis=None)
            return original(value, strategy, reduction)

        return tf.nest.map_structure(_reduce, values)

    trainer.reduce_per_replica = reduce_per_replica
    _INSTALLED = True
