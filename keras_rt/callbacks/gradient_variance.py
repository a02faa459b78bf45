"""A callback that measures how noisy a model's gradients are during `fit`."""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from keras_rt.api_export import keras_rt_export
from keras_rt.estimators.variance import summarize_draws
from keras_rt.ops.validation import check_backend, check_int


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

    TensorFlow backend only: on another Keras backend the constructor raises
    a `RuntimeError` that names it.

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
        groups: optional names of sub-layers of the model (e.g. `("encoder",
            "decoder")`) whose gradients are also summarized on their own,
            logged as `<group>_<prefix>snr` and so on. Defaults to `()`.

    Example:

    A regression model whose gradient is noisy through `Dropout`:

    >>> x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    >>> y = x.sum(axis=1, keepdims=True)
    >>> model = keras.Sequential(
    ...     [keras.Input((4,)), keras.layers.Dropout(0.5), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> monitor = GradientVarianceMonitor(x[:32], y[:32], num_draws=8, every_n_epochs=2)
    >>> history = model.fit(x, y, epochs=4, verbose=0, callbacks=[monitor])
    >>> sorted(history.history)
    ['grad_norm', 'grad_snr', 'grad_variance', 'loss']
    >>> len(history.history["loss"]), len(history.history["grad_snr"])  # every 2nd epoch
    (4, 2)
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
        groups: tuple[str, ...] | list[str] = (),
    ):
        check_backend(
            "`GradientVarianceMonitor`",
            ("tensorflow",),
            why="it draws gradients with `tf.GradientTape`",
        )
        super().__init__()
        self.groups = tuple(str(g) for g in groups)
        num_draws = check_int("num_draws", num_draws, minimum=2, why=" to measure a variance")
        every_n_epochs = check_int("every_n_epochs", every_n_epochs)
        if x is None:
            raise ValueError("`x` must be a batch of inputs. Received: x=None")
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

    def _group_slices(self) -> dict[str, np.ndarray]:
        """For each group, the positions of its weights in a flattened gradient draw."""
        offsets, start = {}, 0
        for variable in self.model.trainable_variables:
            size = int(np.prod(variable.shape))
            offsets[id(variable)] = np.arange(start, start + size)
            start += size
        slices = {}
        for group in self.groups:
            try:
                layer = self.model.get_layer(group)
            except ValueError:
                raise ValueError(
                    f"`groups` names layers of the model; it has no layer {group!r}. "
                    f"Layers: {[layer.name for layer in self.model.layers]}"
                ) from None
            ids = [id(v) for v in layer.trainable_variables if id(v) in offsets]
            slices[group] = np.concatenate([offsets[i] for i in ids]) if ids else np.arange(0)
        return slices

    def _summary(self, draws: tf.Tensor, prefix: str) -> dict[str, float]:
        stats = summarize_draws(draws)
        total = float(tf.reduce_sum(stats.variance))
        norm = float(tf.norm(stats.mean))
        return {
            f"{prefix}variance": total / max(int(draws.shape[1]), 1),
            f"{prefix}snr": norm / math.sqrt(total) if total > 0 else float("inf"),
            f"{prefix}norm": norm,
        }

    def measure(self) -> dict[str, float]:
        """Draws the gradients now and returns `{prefix + "variance": ..., ...}` (and per group)."""
        if not self.model.trainable_variables:
            raise ValueError("the model has no trainable weights to measure")
        draws = tf.stack([self._one_draw() for _ in range(self.num_draws)])
        values = self._summary(draws, self.prefix)
        for group, positions in self._group_slices().items():
            if len(positions):
                values.update(
                    self._summary(tf.gather(draws, positions, axis=1), f"{group}_{self.prefix}")
                )
        return values

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
            "groups": list(self.groups),
        }
