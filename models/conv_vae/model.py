"""`ConvVAE`: a VAE with a convolutional encoder and a transposed-convolution decoder."""

from __future__ import annotations

from collections.abc import Sequence

from keras_rt.api_export import keras_rt_export
from keras_rt.ops.validation import check_int
from keras_rt.zoo.gaussian_vae import GaussianVAE
from keras_rt.zoo.networks import check_conv_shape, check_units, conv_decoder, conv_encoder


@keras_rt_export()
class ConvVAE(GaussianVAE):
    """A VAE with stride-2 convolutions in the encoder and their mirror in the decoder.

    Args:
        input_shape: image shape `(height, width, channels)`; height and width
            divisible by `2 ** len(filters)`.
        latent_dim: latent dimensions.
        filters: channels of each stride-2 convolution.
        hidden_units: width of the Dense layer between convolutions and latent.
        **kwargs: the arguments of `GaussianVAE` (`likelihood`, `beta`,
            `free_bits`, `seed`) and Keras's `name`, `trainable`, `dtype`.

    Example:

    >>> model = ConvVAE(input_shape=(8, 8, 1), latent_dim=2, filters=(4, 8), hidden_units=16)
    >>> model.predict(np.zeros((2, 8, 8, 1)), verbose=0).shape
    (2, 8, 8, 1)
    """

    description = "VAE with a convolutional encoder and a transposed-convolution decoder"
    flat_input = False

    def __init__(
        self,
        input_shape: Sequence[int] = (28, 28, 1),
        latent_dim: int = 16,
        filters: Sequence[int] = (32, 64),
        hidden_units: int = 256,
        **kwargs,
    ):
        self.filters = check_units("filters", filters)
        self.hidden_units = check_int("hidden_units", hidden_units)
        check_conv_shape(tuple(input_shape), len(self.filters))
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, **kwargs)

    def build_networks(self, input_shape, latent_dim, channels):
        body = conv_encoder(input_shape, self.filters, self.hidden_units, name="encoder_body")
        decoder = conv_decoder(
            latent_dim, self.filters, self.hidden_units, input_shape, channels, name="decoder"
        )
        return body, decoder
