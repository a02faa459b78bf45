"""A callback that measures how noisy a model's gradients are during `fit`."""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from keras_rt.api_export import keras_rt_export
from keras_rt.estimators.variance import summarize_draws


@keras_rt_export()
class GradientVarianceMonitor(keras.callbacks.Callback):
    """Logs the variance and signal-to-noise ratio of a model's gradients.

    Every `every_n_epochs` epochs, on one fixed batch `(x, y)`, the gradient
    of the model's training loss (compiled loss plus `add_loss` terms, with
    `training=True`) with respect to its trainable weights is drawn
    `num_draws` times. A model with stochastic layers (a reparameterized
    sampler, dropout, ...) draws fresh noise each time, so the draws differ
    only through that noise: their spread is the variance of the model's
    gradient estimator on that batch. Logged under these keys (in the epoch
    `logs`, hence in `History`, and, with `log_dir`, as TensorBoard scalars):

    - `grad_variance`: mean over all weight coordinates of the variance of
      the gradient across draws;
    - `grad_snr`: `||mean gradient|| / sqrt(sum of the variances)`, the
      signal-to-noise ratio of one draw (higher is better);
    - `grad_norm`: `||mean gradient||`.

    As with Keras's `validation_freq`, the keys appear only in the epochs
    where they are measured. The measurement runs the model `num_draws`
    extra times in training mode; layers with training-time state updates
    (e.g. `BatchNormalization` moving statistics) will see those calls.

    Args:
        x: the input batch (array, tensor or dict of them).
        y: targets for the compiled loss, or `None` for models whose loss is
            only `add_loss` terms (e.g. a VAE). Defaults to `None`.
        sample_weight: optional per-example weights. Defaults to `None`.
        num_draws: gradient draws per measurement (>= 2). Defaults to `8`.
        every_n_epochs: measure after every this many epochs (>= 1).
            Defaults to `1`.
        log_dir: a TensorBoard log folder to write the scalars to, or `None`.
            Defaults to `None`.
        prefix: prefix of the logged keys. Defaults to `"grad_"`.

    Example:

    >>> monitor = GradientVarianceMonitor(x_train[:128], num_draws=8,
    ...                                   every_n_epochs=2, log_dir="logs/grads")
    >>> history = model.fit(x_train, epochs=10, callbacks=[monitor])
    >>> history.history["grad_snr"]
    """

    def __init__(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        num_draws: int = 8,
        every_n_epochs: int = 1,
        log_dir: str | None = None,
        prefix: str = "grad_",
    ):
        super().__init__()
        if int(num_draws) < 2:
            raise ValueError(
                f"num_draws must be >= 2 to measure a variance; Received: num_draws={num_draws}"
            )
        if int(every_n_epochs) < 1:
            raise ValueError(
                f"every_n_epochs must be >= 1; Received: every_n_epochs={every_n_epochs}"
            )
        if x is None:
            raise ValueError("x must be a batch of inputs; Received: x=None")
        self.x = x
        self.y = y
        self.sample_weight = sample_weight
        self.num_draws = int(num_draws)
        self.every_n_epochs = int(every_n_epochs)
        self.log_dir = None if log_dir is None else str(log_dir)
        self.prefix = prefix
        self.records: list[dict[str, float]] = []
        self._writer: tf.summary.SummaryWriter | None = None

    def _one_draw(self) -> tf.Tensor:
        model = self.model
        variables = model.trainable_variables
        with tf.GradientTape() as tape:
            y_pred = model(self.x, training=True)
            loss = model.compute_loss(
                x=self.x,
                y=self.y,
                y_pred=y_pred,
                sample_weight=self.sample_weight,
                training=True,
            )
        grads = tape.gradient(loss, variables)
        return tf.concat(
            [
                tf.reshape(tf.zeros_like(v) if g is None else tf.convert_to_tensor(g), [-1])
                for g, v in zip(grads, variables)
            ],
            axis=0,
        )

    def measure(self) -> dict[str, float]:
        """Draws the gradients now and returns `{prefix + "variance": ..., ...}`."""
        if not self.model.trainable_variables:
            raise ValueError("the model has no trainable weights to measure")
        draws = tf.stack([self._one_draw() for _ in range(self.num_draws)])
        stats = summarize_draws(draws)
        total = float(tf.reduce_sum(stats.variance))
        norm = float(tf.norm(stats.mean))
        return {
            f"{self.prefix}variance": total / int(draws.shape[1]),
            f"{self.prefix}snr": norm / math.sqrt(total) if total > 0 else float("inf"),
            f"{self.prefix}norm": norm,
        }

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if (epoch + 1) % self.every_n_epochs != 0:
            return
        values = self.measure()
        if logs is not None:
            logs.update(values)
        self.records.append({"epoch": epoch, **values})
        if self.log_dir is not None:
            if self._writer is None:
                self._writer = tf.summary.create_file_writer(self.log_dir)
            with self._writer.as_default():
                for key, value in values.items():
                    if np.isfinite(value):
                        tf.summary.scalar(key, value, step=epoch)
            self._writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def get_config(self) -> dict:
        # The batch itself is data, not configuration.
        return {
            "num_draws": self.num_draws,
            "every_n_epochs": self.every_n_epochs,
            "log_dir": self.log_dir,
            "prefix": self.prefix,
        }
