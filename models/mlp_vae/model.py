"""`MLPVAE`: a VAE with fully connected encoder and decoder (Kingma & Welling, 2014)."""

from __future__ import annotations

from collections.abc import Sequence

from keras_rt.api_export import keras_rt_export
from keras_rt.zoo.gaussian_vae import GaussianVAE
from keras_rt.zoo.networks import mlp_decoder, mlp_encoder


@keras_rt_export()
class MLPVAE(GaussianVAE):
    """A VAE whose encoder and decoder are Dense + ReLU stacks.

    Args:
        input_shape: shape of one example; flat `(D,)` is the usual form.
        latent_dim: latent dimensions.
        hidden_units: widths of the encoder's hidden layers (the decoder
            mirrors them).
        likelihood: `"bernoulli"` or `"gaussian"`.
        beta: initial KL weight.
        free_bits: nats per latent dimension (0: off).
        seed: seed of the sampling noise.
        **kwargs: `name`, `trainable`, `dtype`.

    Example:

    >>> model = MLPVAE(input_shape=(64,), latent_dim=2, hidden_units=(128,), seed=0)
    >>> model.compile(optimizer="adam")
    >>> model.fit(train_images, epochs=5)
    """

    def __init__(
        self,
        input_shape: Sequence[int] = (64,),
        latent_dim: int = 2,
        hidden_units: Sequence[int] = (256, 128),
        likelihood: str = "bernoulli",
        beta: float = 1.0,
        free_bits: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        hidden_units = tuple(int(u) for u in hidden_units)
        if not hidden_units or min(hidden_units) < 1:
            raise ValueError(
                f"`hidden_units` must be a non-empty list of positive integers. "
                f"Received: hidden_units={hidden_units!r}"
            )
        self._hidden_units = hidden_units
        super().__init__(
            input_shape=input_shape,
            latent_dim=latent_dim,
            likelihood=likelihood,
            beta=beta,
            free_bits=free_bits,
            seed=seed,
            **kwargs,
        )
        self.hidden_units = hidden_units

    def build_networks(self, input_shape, latent_dim, channels):
        body = mlp_encoder(input_shape, self._hidden_units, name="encoder_body")
        decoder = mlp_decoder(
            (latent_dim,),
            tuple(reversed(self._hidden_units)),
            input_shape,
            channels,
            name="decoder",
        )
        return body, decoder

    def get_config(self):
        return {**super().get_config(), "hidden_units": list(self.hidden_units)}
