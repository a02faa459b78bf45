"""`ImportanceLogWeights`: per-sample log importance weights of a Gaussian-latent VAE."""

from __future__ import annotations

import math

import keras
from keras import ops

from keras_rt.api_export import keras_rt_export
from keras_rt.likelihoods import get_likelihood

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@keras_rt_export()
class ImportanceLogWeights(keras.layers.Layer):
    """log w = log p(x|z) + log p(z) - log q(z|x) for each of k samples per example.

    Args:
        likelihood: the decoder's likelihood name.
        log_var_range: the sampler's `z_log_var` clamp, so `q` matches the
            distribution the samples were drawn from.
        **kwargs: base layer keyword arguments.

    Call arguments:
        inputs: `[x (batch, ...), z (batch, k, d), z_mean (batch, d),
            z_log_var (batch, d), params (batch, k, ...)]`.

    Output shape:
        `(batch, k)`, float32.
    """

    def __init__(self, likelihood: str = "bernoulli", log_var_range=(-20.0, 20.0), **kwargs):
        super().__init__(**kwargs)
        self.likelihood_name = likelihood
        self.likelihood = get_likelihood(likelihood)
        self.log_var_range = (
            None if log_var_range is None else tuple(float(v) for v in log_var_range)
        )

    def call(self, inputs):
        x, z, z_mean, z_log_var, params = [ops.cast(t, "float32") for t in inputs]
        log_px = self.likelihood.distribution(params).log_prob(ops.expand_dims(x, 1))
        log_px = ops.sum(ops.reshape(log_px, (ops.shape(log_px)[0], ops.shape(log_px)[1], -1)), -1)
        if self.log_var_range is not None:
            z_log_var = ops.clip(z_log_var, *self.log_var_range)
        mean, log_var = ops.expand_dims(z_mean, 1), ops.expand_dims(z_log_var, 1)
        log_pz = ops.sum(-0.5 * ops.square(z) - HALF_LOG_2PI, -1)
        log_qz = ops.sum(
            -0.5 * ops.square(z - mean) * ops.exp(-log_var) - 0.5 * log_var - HALF_LOG_2PI, -1
        )
        return log_px + log_pz - log_qz

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[1][:2])

    def get_config(self):
        config = super().get_config()
        config.update({"likelihood": self.likelihood_name, "log_var_range": self.log_var_range})
        return config
