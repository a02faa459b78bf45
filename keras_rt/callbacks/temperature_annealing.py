"""Temperature annealing for every `GumbelSoftmaxSampling` layer of a model."""

from __future__ import annotations

import math

import keras

from keras_rt.api_export import keras_rt_export
from keras_rt.layers.gumbel_softmax import GumbelSoftmaxSampling, check_temperature
from keras_rt.ops.validation import check_int, check_number


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

    A tiny model with two 3-way categorical latents (2 batches per epoch):

    >>> from keras_rt.layers import GumbelSoftmaxSampling
    >>> x = keras.Input((6,))
    >>> logits = keras.layers.Reshape((2, 3))(keras.layers.Dense(6)(x))
    >>> y = GumbelSoftmaxSampling(temperature=1.0, seed=0)(logits)
    >>> model = keras.Model(x, keras.layers.Flatten()(y))
    >>> model.compile(optimizer="adam", loss="mse")
    >>> data = np.random.default_rng(0).uniform(size=(32, 6)).astype("float32")
    >>> annealing = GumbelTemperatureAnnealing(initial=1.0, rate=0.1, minimum=0.5)
    >>> history = model.fit(data, data, epochs=3, batch_size=16, verbose=0, callbacks=[annealing])
    >>> [round(t, 3) for t in history.history["temperature"]]  # exp(-0.1 * step) at steps 1, 3, 5
    [0.905, 0.741, 0.607]
    """

    def __init__(
        self,
        initial: float = 1.0,
        rate: float = 3e-5,
        minimum: float = 0.5,
        update_every: int = 1,
    ):
        super().__init__()
        self.initial = check_temperature(initial, "initial")
        self.minimum = check_temperature(minimum, "minimum")
        check_number("rate", rate, minimum=0)
        check_int("update_every", update_every)
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
