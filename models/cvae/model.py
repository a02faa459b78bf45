"""`CVAE`: conditional VAE, encoder and decoder conditioned on a class label."""

from __future__ import annotations

import math

import keras
import tensorflow as tf
from keras import ops

from keras_rt.api_export import keras_rt_export
from keras_rt.ops.validation import check_int
from keras_rt.zoo.mlp_vae.model import MLPVAE


def _dense_stack(h, hidden_units, prefix: str):
    for i, units in enumerate(hidden_units):
        h = keras.layers.Dense(units, activation="relu", name=f"{prefix}_{i}")(h)
    return h


@keras_rt_export()
class CVAE(MLPVAE):
    """A conditional VAE: q(z | x, y) and p(x | z, y) for a class label y (Sohn et al., 2015).

    Inputs are a dict `{"x": images (batch, D), "label": int labels (batch,)}`;
    the label enters both networks as a one-hot vector. The `sample`
    signature takes labels and returns one image of each requested class.
    Labels outside `[0, num_classes)` are rejected.

    Args:
        num_classes: number of label classes.
        **kwargs: the arguments of `MLPVAE` (`input_shape`, `latent_dim`,
            `hidden_units`, `likelihood`, `beta`, `free_bits`, `seed`) and
            Keras's `name`, `trainable`, `dtype`.

    Example:

    >>> model = CVAE(input_shape=(64,), latent_dim=2, num_classes=10, hidden_units=(16,))
    >>> model.compile()
    >>> inputs = {"x": np.zeros((8, 64), "float32"), "label": np.arange(8) % 10}
    >>> history = model.fit(inputs, epochs=1, verbose=0)
    >>> images = model.sample(tf.constant([0, 1, 2]))
    >>> tuple(images.shape)
    (3, 64)

    References:
        - [Sohn, Lee & Yan, 2015](https://papers.nips.cc/paper/5775)
    """

    description = "conditional VAE: encoder and decoder see the class label"
    needs_labels = True

    def __init__(self, num_classes: int = 10, **kwargs):
        self.num_classes = check_int("num_classes", num_classes)
        super().__init__(**kwargs)

    def build_inputs(self, input_shape):
        return {
            "x": keras.Input(input_shape, name="x"),
            "label": keras.Input((), dtype="int32", name="label"),
        }

    def _one_hot(self, label):
        return keras.layers.CategoryEncoding(self.num_classes, output_mode="one_hot")(label)

    def build_networks(self, input_shape, latent_dim, channels):
        inputs = self.build_inputs(input_shape)
        x = keras.layers.Flatten()(inputs["x"]) if len(input_shape) > 1 else inputs["x"]
        h = keras.layers.Concatenate()([x, self._one_hot(inputs["label"])])
        body = keras.Model(inputs, _dense_stack(h, self.hidden_units, "dense"), name="encoder_body")
        z = keras.Input((latent_dim,), name="z")
        label = keras.Input((), dtype="int32", name="label")
        h = keras.layers.Concatenate()([z, self._one_hot(label)])
        h = _dense_stack(h, tuple(reversed(self.hidden_units)), "dense")
        params = keras.layers.Dense(
            math.prod(input_shape) * channels, name="params", dtype="float32"
        )(h)
        decoder = keras.Model({"z": z, "label": label}, params, name="decoder")
        return body, decoder

    def build_graph(self, inputs, body, decoder) -> dict:
        parts = super().build_graph(
            inputs, body, lambda z: decoder({"z": z, "label": inputs["label"]})
        )
        return parts

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The base objective, after checking the labels are in [0, num_classes)."""
        self.data(x)
        with tf.control_dependencies([self.check_labels(x["label"])]):
            loss = super().compute_loss(x, y, y_pred, sample_weight, training)
        return loss

    def data(self, x):
        if not isinstance(x, dict) or "x" not in x or "label" not in x:
            raise ValueError(
                "cvae needs inputs {'x': images, 'label': integer labels}. "
                f"Received: {type(x).__name__} {list(x) if isinstance(x, dict) else ''}"
            )
        return x["x"]

    def check_labels(self, label):
        """Raises a clear error for labels outside [0, num_classes)."""
        label = ops.cast(ops.convert_to_tensor(label), "int32")
        tf.debugging.assert_less(
            label, self.num_classes, message=f"cvae labels must be < num_classes={self.num_classes}"
        )
        tf.debugging.assert_non_negative(label, message="cvae labels must be >= 0")
        return label

    def decode(self, z, x=None):
        if x is None:
            raise ValueError("cvae decodes with labels: decode(z, {'label': labels}).")
        label = self.check_labels(x["label"])
        z = ops.convert_to_tensor(z)
        lead = ops.shape(z)[:-1]
        flat = ops.reshape(z, (-1, self.latent_dim))
        repeats = ops.shape(flat)[0] // ops.shape(label)[0]
        labels = ops.reshape(ops.tile(ops.expand_dims(label, 0), (repeats, 1)), (-1,))
        params = self.decoder({"z": flat, "label": labels}, training=False)
        return ops.reshape(params, tuple(lead) + tuple(params.shape[1:]))

    def encode(self, x):
        self.data(x)
        inputs = {
            "x": ops.convert_to_tensor(x["x"], "float32"),
            "label": self.check_labels(x["label"]),
        }
        return tuple(self.encoder(inputs, training=False))

    def data_specs(self) -> list[tf.TensorSpec]:
        return super().data_specs() + [tf.TensorSpec((None,), tf.int32, name="label")]

    def pack_inputs(self, tensors):
        return {"x": tensors[0], "label": tensors[1]}

    def decode_specs(self) -> list[tf.TensorSpec]:
        return super().decode_specs() + [tf.TensorSpec((None,), tf.int32, name="label")]

    def decode_images(self, z, label):
        return self.likelihood.mean(self.decode(z, {"label": label}))

    def sample_specs(self) -> list[tf.TensorSpec]:
        return [tf.TensorSpec((None,), tf.int32, name="label")]

    def sample(self, label):
        """One image decoded from a prior draw for each requested label."""
        label = ops.convert_to_tensor(label, "int32")
        z = self.prior().sample(ops.shape(label)[0], seed=self._seed())
        return self.likelihood.mean(self.decode(z, {"label": label}))
