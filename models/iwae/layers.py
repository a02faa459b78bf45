"""`ImportanceLogWeights`: per-sample log importance weights of a Gaussian-latent VAE."""

from __future__ import annotations

import math

import keras
from keras import ops

from keras_rt.api_export import keras_rt_export
from keras_rt.likelihoods import get_likelihood
from keras_rt.ops.validation import check_bool

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@keras_rt_export()
class ImportanceLogWeights(keras.layers.Layer):
    """log w = log p(x|z) + log p(z) - log q(z|x) for each of k samples per example.

    Args:
        likelihood: the decoder's likelihood name.
        log_var_range: the sampler's `z_log_var` clamp, so `q` matches the
            distribution the samples were drawn from.
        stop_posterior_gradient: stop the gradient of `z_mean` and
            `z_log_var` inside log q (STL and DReG); `z` keeps its path.
        **kwargs: base layer keyword arguments.

    Call arguments:
        inputs: `[x (batch, ...), z (batch, k, d), z_mean (batch, d),
            z_log_var (batch, d), params (batch, k, ...)]`.

    Output shape:
        `(batch, k)`, float32.
    """

    def __init__(
        self,
        likelihood: str = "bernoulli",
        log_var_range=(-20.0, 20.0),
        stop_posterior_gradient: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.stop_posterior_gradient = check_bool(
            "stop_posterior_gradient", stop_posterior_gradient
        )
        self.likelihood_name = likelihood
        self.likelihood = get_likelihood(likelihood)
        self.log_var_range = (
            None if log_var_range is None else tuple(float(v) for v in log_var_range)
        )

    def call(self, inputs):
        x, z, z_mean, z_log_var, params = [ops.cast(t, "float32") for t in inputs]
        if self.stop_posterior_gradient:
            z_mean, z_log_var = ops.stop_gradient(z_mean), ops.stop_gradient(z_log_var)
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
        config.update(
            {
                "likelihood": self.likelihood_name,
                "log_var_range": self.log_var_range,
                "stop_posterior_gradient": self.stop_posterior_gradient,
            }
        )
        return config


@keras_rt_export()
class DReGSurrogate(keras.layers.Layer):
    """Adds a zero-valued loss whose gradient is the DReG estimator of the IWAE bound's gradient.

    With normalized weights `w_i = softmax(log w)_i` (held constant), the
    surrogate `sum_i w_i^2 log w_i + w_i log w'_i - w_i^2 log w'_i` has the
    doubly reparameterized gradient (Tucker et al., 2019): the encoder gets
    `sum_i w_i^2 d log w_i` through the samples `z_i` (the posterior's
    parameters stopped inside log q), the decoder `sum_i w_i d log p(x|z_i)`.
    `log w'` are the same weights with the samples stopped too, so they carry
    only the decoder's gradient, and the last term cancels what the first
    gives the decoder. The loss added is `-(S - stop_gradient(S))` averaged
    over the batch: zero in value, DReG in gradient.

    Call arguments:
        inputs: `[log_weights, log_weights_fixed_z]`, both `(batch, k)`.

    Output shape:
        `log_weights`, unchanged.

    Example:

    >>> layer = DReGSurrogate()
    >>> log_w = np.log(np.array([[0.2, 0.8]], "float32"))
    >>> out = layer([log_w, log_w])
    >>> float(layer.losses[0]) == 0.0  # zero in value; DReG's gradient
    True

    References:
        - [Tucker, Lawson, Gu & Maddison, 2019](https://arxiv.org/abs/1810.04152)
    """

    def call(self, inputs):
        log_w, log_w_fixed_z = (ops.cast(t, "float32") for t in inputs)
        # softmax over the k samples, written out: Keras warns about a softmax over one entry (k = 1).
        w = ops.stop_gradient(ops.exp(log_w - ops.logsumexp(log_w, axis=1, keepdims=True)))
        surrogate = ops.mean(
            ops.sum(w * w * log_w + w * log_w_fixed_z - w * w * log_w_fixed_z, axis=1)
        )
        self.add_loss(-(surrogate - ops.stop_gradient(surrogate)))
        return log_w

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])
