"""Observation models p(x | z) for the zoo's decoders, built on TFP distributions.

A likelihood turns the decoder's output tensor ("params") into a TFP
distribution over images. Everything is computed in float32 and every
log-probability is **summed over pixels** (nats per example).

| name | decoder output channels | distribution |
|---|---|---|
| `bernoulli` | 1 (logits) | `Bernoulli(logits)` per pixel; data in [0, 1] (binarized or not) |
| `gaussian` | 2 (location, raw scale) | `Normal(loc, softplus(raw) + 1e-3)` per pixel |
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

tfd = tfp.distributions

MIN_SCALE = 1e-3


@dataclasses.dataclass(frozen=True)
class Likelihood:
    """How to read a decoder output as a distribution over the data.

    Attributes:
        name: registry name.
        channels: decoder outputs per data value.
    """

    name: str
    channels: int

    def distribution(self, params) -> tfp.distributions.Distribution:
        """The per-pixel distribution for decoder outputs `params`."""
        params = ops.cast(params, "float32")
        if self.name == "bernoulli":
            return tfd.Bernoulli(logits=params, dtype=tf.float32)
        loc, raw_scale = ops.split(params, 2, axis=-1)
        return tfd.Normal(loc=loc, scale=ops.softplus(raw_scale) + MIN_SCALE)

    def log_prob(self, x, params):
        """log p(x | params), summed over all non-batch axes of `x`: shape `(batch,)`.

        `params` may carry extra leading sample axes: `(..., batch, *x.shape[1:])`.
        """
        x = ops.cast(x, "float32")
        event_axes = tuple(range(-(len(x.shape) - 1), 0))
        if self.name == "bernoulli":
            # Bernoulli(logits).log_prob(x), the same value for any x in [0, 1],
            # as one cross-entropy op instead of TFP's two softplus terms.
            params = ops.cast(params, "float32")
            x = ops.broadcast_to(x, ops.shape(params))
            log_prob = -ops.binary_crossentropy(x, params, from_logits=True)
        else:
            log_prob = self.distribution(params).log_prob(x)
        return ops.sum(log_prob, axis=event_axes)

    def mean(self, params):
        """The expected image (probabilities for Bernoulli, location for Gaussian)."""
        params = ops.cast(params, "float32")
        if self.name == "bernoulli":
            return ops.sigmoid(params)
        return ops.split(params, 2, axis=-1)[0]


LIKELIHOODS: dict[str, Likelihood] = {
    "bernoulli": Likelihood("bernoulli", channels=1),
    "gaussian": Likelihood("gaussian", channels=2),
}


def get_likelihood(name: str) -> Likelihood:
    """Looks a likelihood up by name; unknown names list the valid ones."""
    if name not in LIKELIHOODS:
        raise ValueError(
            f"Unknown likelihood. Received: likelihood={name!r}. Valid: {sorted(LIKELIHOODS)}"
        )
    return LIKELIHOODS[name]
