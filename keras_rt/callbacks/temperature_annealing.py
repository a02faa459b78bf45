"""Temperature annealing for every `GumbelSoftmaxSampling` layer of a model."""

from __future__ import annotations

import math

import keras

from keras_rt.api_export import keras_rt_export
from keras_rt.layers.gumbel_softmax import GumbelSoftmaxSampling, check_temperature


def annealed_temperature(step: int, *, initial: float, rate: float, minimum: float) -> float:
    """`max(minimum, initial * exp(-rate * step))` (Jang et al., 2017).

    Args:
        step: optimizer steps taken so far.
        initial: tau_0.
        rate: r, per step.
        minimum: tau_min.

    Returns:
        The temperature.

    Example:

    >>> annealed_temperature(1000, initial=1.0, rate=1e-3, minimum=0.5)
    0.5
    """
    return max(minimum, initial * math.exp(-rate * step))


@keras_rt_export()
class GumbelTemperatureAnnealing(keras.callbacks.Callback):
    """Anneals Gumbel-softmax temperatures: `tau = max(tau_min, tau_0 * exp(-r * step))`.

    Every `update_every` optimizer steps, the `temperature` variable of every
    `GumbelSoftmaxSampling` layer in the model is set from the schedule;
    the current value is logged as `temperature` in the epoch logs.

    Args:
        initial: tau_0 (default 1.0).
        rate: r, per optimizer step (Jang et al. used 1e-5 to 1e-4).
        minimum: tau_min (default 0.5).
        update_every: steps between updates (Jang et al.: 1000).

    Example:

    >>> model.fit(data, callbacks=[GumbelTemperatureAnnealing(rate=3e-5)])
    """

    def __init__(
        self,
        initial: float = 1.0,
        rate: float = 3e-5,
        minimum: float = 0.5,
        update_every: int = 1,
    ):
        super().__init__()
        self.initial = check_temperature(initial)
        self.minimum = check_temperature(minimum)
        if not rate >= 0:
            raise ValueError(f"`rate` must be >= 0. Received: rate={rate!r}")
        if not (isinstance(update_every, int) and update_every >= 1):
            raise ValueError(
                f"`update_every` must be an integer >= 1. Received: update_every={update_every!r}"
            )
        self.rate = rate
        self.update_every = update_every
        self._layers: list[GumbelSoftmaxSampling] = []
        self._temperature = self.initial
        self._period: int | None = None

    def get_config(self) -> dict:
        return {
            "initial": self.initial,
            "rate": self.rate,
            "minimum": self.minimum,
            "update_every": self.update_every,
        }

    def on_train_begin(self, logs=None):
        self._period = None
        self._layers = [
            layer
            for layer in self.model._flatten_layers()
            if isinstance(layer, GumbelSoftmaxSampling)
        ]
        if not self._layers:
            raise ValueError("GumbelTemperatureAnnealing found no GumbelSoftmaxSampling layer.")

    def on_train_batch_begin(self, batch, logs=None):
        step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        # With `steps_per_execution` > 1 the hook sees every n-th step only:
        # update on the first call of each new period of `update_every` steps.
        period = step // self.update_every
        if period == self._period:
            return
        self._period = period
        self._temperature = annealed_temperature(
            step, initial=self.initial, rate=self.rate, minimum=self.minimum
        )
        for layer in self._layers:
            layer.temperature.assign(self._temperature)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["temperature"] = self._temperature
