"""`MLPVAE`: a VAE with fully connected encoder and decoder (Kingma & Welling, 2014)."""

from __future__ import annotations

from collections.abc import Sequence

from keras_rt.api_export import keras_rt_export
from keras_rt.zoo.gaussian_vae import GaussianVAE
from keras_rt.zoo.networks import MLPNetworks, check_units


@keras_rt_export()
class MLPVAE(MLPNetworks, GaussianVAE):
    """A VAE whose encoder and decoder are Dense + ReLU stacks.

    Args:
        input_shape: shape of one example; flat `(D,)` is the usual form.
        latent_dim: latent dimensions.
        hidden_units: widths of the encoder's hidden layers (the decoder
            mirrors them).
        **kwargs: the arguments of `GaussianVAE` (`likelihood`, `beta`,
            `free_bits`, `seed`) and Keras's `name`, `trainable`, `dtype`.

    Example:

    >>> model = MLPVAE(input_shape=(64,), latent_dim=2, hidden_units=(16,), seed=0)
    >>> model.compile(optimizer="adam")
    >>> images = np.random.default_rng(0).uniform(size=(32, 64)).astype("float32")
    >>> history = model.fit(images, epochs=1, verbose=0)
    >>> sorted(history.history)
    ['kl', 'loss', 'neg_elbo', 'reconstruction']
    """

    description = "VAE with Dense encoder/decoder and a diagonal-Gaussian latent"

    def __init__(
        self,
        input_shape: Sequence[int] = (64,),
        latent_dim: int = 2,
        hidden_units: Sequence[int] = (256, 128),
        **kwargs,
    ):
        self.hidden_units = check_units("hidden_units", hidden_units)
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, **kwargs)
