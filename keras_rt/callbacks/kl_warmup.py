"""KL warm-up (linear or cyclical) for every `GaussianKL` layer of a model."""

from __future__ import annotations

import keras

from keras_rt.api_export import keras_rt_export
from keras_rt.layers.categorical_kl import CategoricalKL
from keras_rt.layers.gaussian_kl import GaussianKL

SCHEDULES = ("linear", "cyclical")


def kl_weight_at(
    step: int,
    *,
    schedule: str,
    warmup_steps: int,
    max_weight: float = 1.0,
    num_cycles: int = 4,
    ratio: float = 0.5,
    total_steps: int | None = None,
) -> float:
    """The KL weight after `step` optimizer steps.

    - `linear`: rises from 0 to `max_weight` over `warmup_steps`, then stays.
    - `cyclical` (Fu et al., 2019): `total_steps` split into `num_cycles`
      cycles; in each, the weight rises linearly over the first `ratio` of
      the cycle and stays at `max_weight` for the rest.

    Args:
        step: optimizer steps taken so far.
        schedule: `"linear"` or `"cyclical"`.
        warmup_steps: length of the linear ramp (linear schedule).
        max_weight: the weight reached (1.0 for the true ELBO).
        num_cycles: number of cycles (cyclical schedule).
        ratio: fraction of each cycle spent rising (cyclical schedule).
        total_steps: steps covered by the cycles (cyclical schedule).

    Returns:
        The weight, a float in `[0, max_weight]`.

    Example:

    >>> kl_weight_at(500, schedule="linear", warmup_steps=1000)
    0.5
    """
    if schedule == "linear":
        return max_weight * min(1.0, step / max(1, warmup_steps))
    cycle_length = max(1.0, (total_steps or warmup_steps) / num_cycles)
    position = (step % cycle_length) / cycle_length
    return max_weight * min(1.0, position / ratio)


@keras_rt_export()
class KLWarmup(keras.callbacks.Callback):
    """Anneals the `kl_weight` of every `GaussianKL` layer during `fit`.

    Updated before each training batch; the current weight is logged as
    `kl_weight` in the epoch logs (History, TensorBoard).

    Args:
        schedule: `"linear"` (0 -> `max_weight` over `warmup_epochs`) or
            `"cyclical"` (`num_cycles` ramps over `total_epochs`).
        warmup_epochs: epochs of the linear ramp.
        max_weight: the final weight (beta of a beta-VAE; 1.0 for the ELBO).
        num_cycles: cycles of the cyclical schedule.
        ratio: rising fraction of each cycle.
        total_epochs: epochs covered by the cycles (default: the `epochs`
            passed to `fit`).
        steps_per_epoch: optimizer steps per epoch (default: read from `fit`).

    Example:

    >>> model.fit(data, epochs=20, callbacks=[KLWarmup("linear", warmup_epochs=5)])
    """

    def __init__(
        self,
        schedule: str = "linear",
        warmup_epochs: float = 10.0,
        max_weight: float = 1.0,
        num_cycles: int = 4,
        ratio: float = 0.5,
        total_epochs: int | None = None,
        steps_per_epoch: int | None = None,
    ):
        super().__init__()
        if schedule not in SCHEDULES:
            raise ValueError(
                f"`schedule` must be one of {SCHEDULES}. Received: schedule={schedule!r}"
            )
        if not warmup_epochs > 0:
            raise ValueError(
                f"`warmup_epochs` must be > 0. Received: warmup_epochs={warmup_epochs!r}"
            )
        if not 0 < ratio <= 1:
            raise ValueError(f"`ratio` must be in (0, 1]. Received: ratio={ratio!r}")
        if not (isinstance(num_cycles, int) and num_cycles >= 1):
            raise ValueError(
                f"`num_cycles` must be an integer >= 1. Received: num_cycles={num_cycles!r}"
            )
        self.schedule = schedule
        self.warmup_epochs = warmup_epochs
        self.max_weight = max_weight
        self.num_cycles = num_cycles
        self.ratio = ratio
        self.total_epochs = total_epochs
        self.steps_per_epoch = steps_per_epoch
        self._layers: list[GaussianKL] = []
        self._weight = 0.0

    def get_config(self) -> dict:
        return {
            "schedule": self.schedule,
            "warmup_epochs": self.warmup_epochs,
            "max_weight": self.max_weight,
            "num_cycles": self.num_cycles,
            "ratio": self.ratio,
            "total_epochs": self.total_epochs,
            "steps_per_epoch": self.steps_per_epoch,
        }

    def on_train_begin(self, logs=None):
        self._layers = [
            layer
            for layer in self.model._flatten_layers()
            if isinstance(layer, (GaussianKL, CategoricalKL))
        ]
        if not self._layers:
            raise ValueError("KLWarmup found no GaussianKL or CategoricalKL layer in the model.")
        self._steps = self.steps_per_epoch or self.params.get("steps") or 1
        self._epochs = self.total_epochs or self.params.get("epochs") or 1

    def _step(self) -> int:
        return int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def on_train_batch_begin(self, batch, logs=None):
        self._weight = kl_weight_at(
            self._step(),
            schedule=self.schedule,
            warmup_steps=int(self.warmup_epochs * self._steps),
            max_weight=self.max_weight,
            num_cycles=self.num_cycles,
            ratio=self.ratio,
            total_steps=self._epochs * self._steps,
        )
        for layer in self._layers:
            layer.kl_weight.assign(self._weight)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["kl_weight"] = self._weight
