"""`BetaVAE`: a VAE with a KL weight beta, KL warm-up (linear or cyclical) and free bits."""

from __future__ import annotations

from keras_rt.api_export import keras_rt_export
from keras_rt.callbacks import KLWarmup
from keras_rt.ops.validation import check_choice, check_int, check_number
from keras_rt.zoo.mlp_vae.model import MLPVAE

WARMUPS = ("none", "linear", "cyclical")


@keras_rt_export()
class BetaVAE(MLPVAE):
    """An `MLPVAE` whose objective is `reconstruction + beta * KL`, with warm-up and free bits.

    beta > 1 pushes towards disentangled, more factorized codes (Higgins et
    al., 2017); beta < 1 towards sharper reconstructions. The KL weight
    starts at 0 and rises to `beta` by the `warmup` schedule (Bowman et al.,
    2016; cyclical: Fu et al., 2019), through `keras_rt.callbacks.KLWarmup`,
    which `fit` receives from `training_callbacks()`. Free bits (Kingma et
    al., 2016) floor each latent dimension's KL at `free_bits` nats, against
    posterior collapse. `neg_elbo` stays the true negative ELBO (beta = 1).

    Args:
        latent_dim: latent dimensions.
        beta: the KL weight reached after warm-up.
        warmup: `"linear"`, `"cyclical"` or `"none"`.
        warmup_epochs: length of the linear ramp (epochs).
        num_cycles: cycles over the run (cyclical schedule).
        **kwargs: the arguments of `MLPVAE` (`input_shape`, `hidden_units`,
            `likelihood`, `free_bits`, `seed`) and Keras's `name`, `trainable`,
            `dtype`.

    Example:

    >>> model = BetaVAE(input_shape=(64,), latent_dim=8, beta=4.0, warmup="cyclical")
    >>> model.compile()
    >>> images = np.random.default_rng(0).uniform(size=(32, 64)).astype("float32")
    >>> history = model.fit(images, epochs=2, callbacks=model.training_callbacks(), verbose=0)
    >>> sorted(history.history)
    ['kl', 'kl_weight', 'loss', 'neg_elbo', 'reconstruction']
    """

    description = "beta-VAE with KL warm-up (linear/cyclical) and free bits"

    def __init__(
        self,
        latent_dim: int = 8,
        beta: float = 4.0,
        warmup: str = "linear",
        warmup_epochs: float = 10.0,
        num_cycles: int = 4,
        **kwargs,
    ):
        self.warmup = check_choice("warmup", warmup, WARMUPS)
        self.warmup_epochs = check_number("warmup_epochs", warmup_epochs, above=0.0)
        self.num_cycles = check_int("num_cycles", num_cycles)
        super().__init__(latent_dim=latent_dim, beta=beta, **kwargs)

    def training_callbacks(self) -> list:
        if self.warmup == "none":
            return []
        return [
            KLWarmup(
                self.warmup,
                warmup_epochs=self.warmup_epochs,
                max_weight=self.beta,
                num_cycles=self.num_cycles,
            )
        ]
