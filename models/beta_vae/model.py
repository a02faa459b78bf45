"""`BetaVAE`: a VAE with a KL weight beta, KL warm-up (linear or cyclical) and free bits."""

from __future__ import annotations

from collections.abc import Sequence

from keras_rt.api_export import keras_rt_export
from keras_rt.callbacks import KLWarmup
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
        input_shape: shape of one (flattened) example.
        latent_dim: latent dimensions.
        hidden_units: encoder widths (the decoder mirrors them).
        likelihood: `"bernoulli"` or `"gaussian"`.
        beta: the KL weight reached after warm-up.
        free_bits: nats per latent dimension (0: off).
        warmup: `"linear"`, `"cyclical"` or `"none"`.
        warmup_epochs: length of the linear ramp (epochs).
        num_cycles: cycles over the run (cyclical schedule).
        seed: seed of the sampling noise.
        **kwargs: `name`, `trainable`, `dtype`.

    Example:

    >>> model = BetaVAE(input_shape=(64,), latent_dim=8, beta=4.0, warmup="cyclical")
    >>> model.compile()
    >>> model.fit(data, epochs=40, callbacks=model.training_callbacks())
    """

    def __init__(
        self,
        input_shape: Sequence[int] = (64,),
        latent_dim: int = 8,
        hidden_units: Sequence[int] = (256, 128),
        likelihood: str = "bernoulli",
        beta: float = 4.0,
        free_bits: float = 0.0,
        warmup: str = "linear",
        warmup_epochs: float = 10.0,
        num_cycles: int = 4,
        seed: int | None = None,
        **kwargs,
    ):
        if warmup not in WARMUPS:
            raise ValueError(f"`warmup` must be one of {WARMUPS}. Received: warmup={warmup!r}")
        if not warmup_epochs > 0:
            raise ValueError(
                f"`warmup_epochs` must be > 0. Received: warmup_epochs={warmup_epochs!r}"
            )
        super().__init__(
            input_shape=input_shape,
            latent_dim=latent_dim,
            hidden_units=hidden_units,
            likelihood=likelihood,
            beta=beta,
            free_bits=free_bits,
            seed=seed,
            **kwargs,
        )
        self.warmup = warmup
        self.warmup_epochs = float(warmup_epochs)
        self.num_cycles = int(num_cycles)

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

    def get_config(self):
        return {
            **super().get_config(),
            "warmup": self.warmup,
            "warmup_epochs": self.warmup_epochs,
            "num_cycles": self.num_cycles,
        }
