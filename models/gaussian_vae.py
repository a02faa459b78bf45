"""`GaussianVAE`: the diagonal-Gaussian latent family of the zoo.

    x -> encoder -> [z_mean, z_log_var] -> GaussianKL -> Sampling -> decoder -> params

Zoo models with a Gaussian latent subclass it and choose their networks
(`build_networks`); see `keras_rt.zoo.vae.VAE` for the hooks.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

from keras_rt.estimator_names import GAUSSIAN
from keras_rt.layers import GaussianKL, Sampling
from keras_rt.ops.gaussian import clamp_log_var
from keras_rt.ops.validation import check_number
from keras_rt.zoo.vae import VAE

tfd = tfp.distributions


def check_estimator(model_cls: type, estimator: str) -> str:
    """`estimator`, or a `ValueError` naming the model and the estimators it accepts."""
    valid = model_cls.estimators  # type: ignore[attr-defined]
    if estimator not in valid:
        raise ValueError(
            f"{model_cls.__name__} does not accept estimator={estimator!r}. "
            f"Valid estimators: {list(valid)}"
        )
    return estimator


def sample_with_kl(parts: dict, posterior, *, stl: bool):
    """z from the sampler, with the KL layer before it (closed form) or after it (STL's sample)."""
    if stl:
        z = parts["sampling"](posterior)
        return parts["kl_layer"]([*posterior, z])[-1]
    return parts["sampling"](parts["kl_layer"](posterior))


class GaussianVAE(VAE):
    """A VAE with a diagonal-Gaussian posterior and a N(0, I) prior.

    Args:
        free_bits: nats per latent dimension (0: off).
        estimator: the gradient estimator of the ELBO, one of `estimators`:
            `"pathwise"` (reparameterized Monte Carlo, the default),
            `"antithetic"` (pairs of opposite noise `eps, -eps`: with one
            sample per example, the batch is paired), `"qmc"` (randomized
            quasi-Monte Carlo noise over the batch) or `"stl"` (sticking the
            landing, Roeder et al. 2017: a Monte Carlo KL whose score term is
            dropped from the gradient). See `keras_rt.layers.Sampling` and
            `keras_rt.layers.GaussianKL`.
        **kwargs: the arguments of `VAE` (`input_shape`, `latent_dim`,
            `likelihood`, `beta`, `seed`) and Keras's `name`, `trainable`, `dtype`.

    Example:

    >>> from keras_rt.zoo import MLPVAE
    >>> model = MLPVAE(input_shape=(64,), latent_dim=2, hidden_units=(8,), seed=0)
    >>> isinstance(model, GaussianVAE)
    True
    >>> q = model.posterior(np.zeros((3, 64), "float32"))
    >>> q.batch_shape, q.event_shape
    (TensorShape([3]), TensorShape([2]))
    """

    # The gradient estimators this latent accepts (`estimator`); the first is the default.
    estimators: tuple[str, ...] = GAUSSIAN
    # Whether the objective holds the KL through the KL layer's loss (IWAE's bound holds it
    # itself: its KL layer only tracks the metric).
    kl_in_objective = True

    def __init__(self, free_bits: float = 0.0, estimator: str = "pathwise", **kwargs):
        self.free_bits = check_number("free_bits", free_bits, minimum=0.0)
        self.estimator = check_estimator(type(self), estimator)
        super().__init__(**kwargs)

    def kl_estimator(self) -> str:
        """The KL layer's estimator: STL's sampled KL, or the closed form."""
        return "stl" if self.estimator == "stl" else "analytic"

    def sampler_noise(self) -> str:
        """The sampler's noise for this estimator: antithetic pairs, randomized QMC, or plain."""
        return self.estimator if self.estimator in ("antithetic", "qmc") else "normal"

    def build_latent(self, inputs, body) -> dict:
        """The encoder (heads `z_mean`, `z_log_var`), the KL layer and the sampler."""
        d = self.latent_dim
        return {
            "encoder": self.build_encoder(inputs, body, {"z_mean": d, "z_log_var": d}),
            "kl_layer": GaussianKL(
                weight=self.beta if self.kl_in_objective else 0.0,
                free_bits=self.free_bits,
                estimator=self.kl_estimator(),
                name="kl",
            ),
            "sampling": Sampling(
                seed=self.seed, noise=self.sampler_noise(), name="sampling", dtype="float32"
            ),
        }

    def build_graph(self, inputs, body, decoder) -> dict:
        parts = self.build_latent(inputs, body)
        z = sample_with_kl(parts, parts["encoder"](inputs), stl=self.estimator == "stl")
        return {"outputs": decoder(z), **parts}

    def posterior(self, x) -> tfp.distributions.Distribution:
        z_mean, z_log_var = self.encode(x)
        z_log_var = clamp_log_var(z_log_var, self.sampling.log_var_range)
        return tfd.MultivariateNormalDiag(z_mean, ops.exp(0.5 * z_log_var))

    def prior(self) -> tfp.distributions.Distribution:
        """p(z) = N(0, I)."""
        return tfd.MultivariateNormalDiag(tf.zeros(self.latent_dim), tf.ones(self.latent_dim))

    def encode_outputs(self, x) -> dict:
        z_mean, z_log_var = self.encode(x)
        return {"z_mean": z_mean, "z_log_var": z_log_var}


__all__ = ["GaussianVAE", "check_estimator", "sample_with_kl"]
