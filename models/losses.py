"""Small pieces shared by the zoo's objectives: sample weights refused, replica scaling, sums of metrics."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops


def reject_sample_weight(sample_weight) -> None:
    """Zoo objectives are per-example averages without weights: refuse weights clearly."""
    if sample_weight is not None:
        raise ValueError(
            "Zoo VAEs do not support `sample_weight` (their loss is the mean negative ELBO over "
            "the batch); pass the data without weights."
        )


def scale_loss_for_replicas(loss):
    """Divides a loss by the number of replicas, as Keras's own `compute_loss` does."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss / replicas if replicas > 1 else loss


def layer_losses(model: keras.Model):
    """The sum of `model.losses` (the weighted KL terms) in float32; 0 when there are none."""
    if not model.losses:
        return 0.0
    return ops.sum(ops.stack([ops.cast(v, "float32") for v in model.losses]))


class MetricSum(keras.metrics.Metric):
    """A metric whose result is the sum of other metrics' results (no state of its own)."""

    def __init__(self, name: str, components, **kwargs):
        super().__init__(name=name, **kwargs)
        # A callable hides the components from variable tracking: they are
        # updated and reset by their owners.
        self._components = lambda: tuple(components)

    def update_state(self, *args, **kwargs):
        return None

    def result(self):
        return ops.sum(ops.stack([ops.cast(m.result(), "float32") for m in self._components()]))

    def reset_state(self):
        return None


__all__ = ["MetricSum", "layer_losses", "reject_sample_weight", "scale_loss_for_replicas"]
