"""`ValidationIWAE`: logs the validation IWAE-k bound as the metric `val_iwae_nll`."""

from __future__ import annotations

import keras

from keras_rt.evaluation import evaluate_iwae


class ValidationIWAE(keras.callbacks.Callback):
    """Adds `val_iwae_nll` (minus the IWAE-k bound, nats per example) to each epoch's logs.

    The value is written into the epoch's `logs`, so callbacks placed after
    this one (KerasTuner's checkpointing, `History`) see it like any metric
    that `fit` computes, and a tuner can use it as its objective.

    Args:
        validation_data: a `tf.data.Dataset` of `x` or `(x, ...)` batches.
        num_samples: k, importance samples per example.
        max_examples: validation examples used (None: all).
        seed: seed of the importance samples (the same every epoch, so
            epochs and trials are compared on the same draws).
        name: the metric name written into the logs.

    Example:

    >>> from keras_rt.zoo import MLPVAE
    >>> x = (np.random.default_rng(0).uniform(size=(32, 8)) > 0.5).astype("float32")
    >>> val = tf.data.Dataset.from_tensor_slices(x).batch(16)
    >>> model = MLPVAE(input_shape=(8,), latent_dim=2, hidden_units=(8,), seed=0)
    >>> model.compile()
    >>> history = model.fit(x, epochs=2, batch_size=16, verbose=0, validation_data=val,
    ...                     callbacks=[ValidationIWAE(val, num_samples=8)])
    >>> len(history.history["val_iwae_nll"])  # one value per epoch
    2
    """

    def __init__(
        self,
        validation_data,
        *,
        num_samples: int = 64,
        max_examples: int | None = 500,
        seed: int = 0,
        name: str = "val_iwae_nll",
    ):
        super().__init__()
        self.validation_data = validation_data
        self.num_samples = num_samples
        self.max_examples = max_examples
        self.seed = seed
        self.name = name

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        result = evaluate_iwae(
            self.model,
            self.validation_data,
            num_samples=self.num_samples,
            max_examples=self.max_examples,
            seed=self.seed,
        )
        logs[self.name] = -float(result["iwae_log_likelihood"])
