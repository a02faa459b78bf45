"""KL warm-up (linear or cyclical) for every KL layer (`BaseKL`) of a model."""

from __future__ import annotations

import keras

from keras_rt.api_export import keras_rt_export
from keras_rt.layers.base_kl import BaseKL
from keras_rt.ops.validation import check_choice, check_int, check_number

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
    """Anneals the `kl_weight` of every KL layer during `fit`.

    The layers driven are all those of the model that subclass
    `keras_rt.layers.BaseKL` (`GaussianKL`, `CategoricalKL`, and your own).

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

    A tiny Gaussian-latent model (2 batches per epoch):

    >>> from keras_rt.layers import GaussianKL, Sampling
    >>> x = keras.Input((4,))
    >>> z_mean, z_log_var = GaussianKL()([keras.layers.Dense(2)(x), keras.layers.Dense(2)(x)])
    >>> z = Sampling(seed=0)([z_mean, z_log_var])
    >>> model = keras.Model(x, keras.layers.Dense(4)(z))
    >>> model.compile(optimizer="adam", loss="mse")
    >>> data = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    >>> warmup = KLWarmup("linear", warmup_epochs=2)
    >>> history = model.fit(data, data, epochs=3, batch_size=16, verbose=0, callbacks=[warmup])
    >>> [round(w, 2) for w in history.history["kl_weight"]]  # the weight of each epoch's last step
    [0.25, 0.75, 1.0]
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
        check_choice("schedule", schedule, SCHEDULES)
        check_number("warmup_epochs", warmup_epochs, above=0)
        check_number("max_weight", max_weight, minimum=0)
        check_int("num_cycles", num_cycles)
        check_number("ratio", ratio, above=0, maximum=1)
        check_int("total_epochs", total_epochs, allow_none=True)
        check_int("steps_per_epoch", steps_per_epoch, allow_none=True)
        self.schedule = schedule
        self.warmup_epochs = warmup_epochs
        self.max_weight = max_weight
        self.num_cycles = num_cycles
        self.ratio = ratio
        self.total_epochs = total_epochs
        self.steps_per_epoch = steps_per_epoch
        self._layers: list[BaseKL] = []
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
            layer for layer in self.model._flatten_layers() if isinstance(layer, BaseKL)
        ]
        if not self._layers:
            raise ValueError(
                "KLWarmup found no KL layer in the model: add a `GaussianKL`, a `CategoricalKL` "
                "or another subclass of `keras_rt.layers.BaseKL`."
            )
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
