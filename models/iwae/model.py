"""`IWAE`: importance-weighted autoencoder (Burda et al., 2016)."""

from __future__ import annotations

import math

import keras
from keras import ops

from keras_rt.api_export import keras_rt_export
from keras_rt.estimator_names import IMPORTANCE_WEIGHTED
from keras_rt.layers import Sampling
from keras_rt.ops.validation import check_int
from keras_rt.zoo.iwae.layers import DReGSurrogate, ImportanceLogWeights
from keras_rt.zoo.losses import layer_losses, reject_sample_weight, scale_loss_for_replicas
from keras_rt.zoo.mlp_vae.model import MLPVAE


@keras_rt_export()
class IWAE(MLPVAE):
    """An `MLPVAE` trained on the IWAE-k bound instead of the ELBO.

    Each example draws k posterior samples through `Sampling(num_samples=k)`;
    the objective is the importance-weighted bound

        L_k = E[ log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x) ],

    which equals the ELBO for k = 1 and tightens towards log p(x) as k grows.
    Training is still plain `compile()` + `fit()`. `predict(x)` returns the
    `(batch, k)` log importance weights; `reconstruct`, `elbo`, `sample` and
    the export signatures work as for every zoo model.

    Metrics: `loss` (-L_k), `neg_elbo` (a k-sample Monte Carlo estimate of the
    negative ELBO) and `kl` (closed form, tracked only: the bound contains it).

    Gradient estimators (`estimator`): `"pathwise"` (the IWAE gradient,
    default), `"stl"` (the posterior's parameters stopped inside log q, Roeder
    et al. 2017; for k > 1 this drops a term whose expectation is not zero, so
    it is biased, Tucker et al. 2019) and `"dreg"` (doubly reparameterized, Tucker et al. 2019:
    the encoder gets sum_i w_i^2 d log w_i / d z_i dz_i/dphi with normalized
    weights w_i, whose signal-to-noise ratio does not fall as k grows; the
    decoder the IWAE gradient; it costs one more decoder pass).

    Args:
        num_samples: k >= 1.
        **kwargs: the arguments of `MLPVAE` (`input_shape`, `latent_dim`,
            `hidden_units`, `likelihood`, `seed`; not `beta` or `free_bits`:
            the bound has no KL weight) and Keras's `name`, `trainable`, `dtype`.

    Example:

    Burda et al. used `IWAE(input_shape=(784,), latent_dim=50, num_samples=50)` on
    binarized MNIST; a tiny one here:

    >>> model = IWAE(input_shape=(8,), latent_dim=2, hidden_units=(8,), num_samples=5, seed=0)
    >>> model.compile()
    >>> x = (np.random.default_rng(0).uniform(size=(32, 8)) > 0.5).astype("float32")
    >>> history = model.fit(x, epochs=1, batch_size=16, verbose=0)
    >>> sorted(history.history)
    ['kl', 'loss', 'neg_elbo']
    >>> model.predict(x[:4], verbose=0).shape  # log importance weights, (batch, k)
    (4, 5)

    References:
        - [Burda, Grosse & Salakhutdinov, 2016](https://arxiv.org/abs/1509.00519)
    """

    description = "importance-weighted autoencoder (k samples per example, IWAE-k objective)"
    kl_in_objective = False  # the bound holds the KL; the KL layer only tracks it
    estimators = IMPORTANCE_WEIGHTED
    excluded_arguments = ("beta", "free_bits")

    def __init__(self, num_samples: int = 10, **kwargs):
        self.num_samples = check_int("num_samples", num_samples)
        super().__init__(**kwargs)

    def kl_estimator(self) -> str:
        return "analytic"  # the KL layer only tracks the metric

    def build_graph(self, inputs, body, decoder) -> dict:
        latent_dim, k = self.latent_dim, self.num_samples
        parts = self.build_latent(inputs, body)
        k_sampling = Sampling(seed=self.seed, num_samples=k, name="k_sampling", dtype="float32")
        z_mean, z_log_var = parts["kl_layer"](parts["encoder"](inputs))
        z = k_sampling([z_mean, z_log_var])  # (batch, k, d)

        def decode_k(z):
            params = decoder(ops.reshape(z, (-1, latent_dim)))
            return ops.reshape(params, (-1, k) + tuple(params.shape[1:]))

        weights = ImportanceLogWeights(
            self.likelihood_name,
            log_var_range=parts["sampling"].log_var_range,
            # STL and DReG: the posterior's parameters are stopped inside log q.
            stop_posterior_gradient=self.estimator != "pathwise",
            name="log_weights",
        )
        log_weights = weights([inputs, z, z_mean, z_log_var, decode_k(z)])
        if self.estimator == "dreg":
            z_fixed = ops.stop_gradient(z)
            fixed = weights([inputs, z_fixed, z_mean, z_log_var, decode_k(z_fixed)])
            log_weights = DReGSurrogate(name="dreg")([log_weights, fixed])
        return {"outputs": log_weights, "k_sampling": k_sampling, **parts}

    def build_metrics(self) -> None:
        self.neg_elbo_tracker = keras.metrics.Mean(name="neg_elbo")

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """-L_k: minus the log of the mean importance weight, averaged over the batch."""
        reject_sample_weight(sample_weight)
        log_weights = ops.cast(y_pred, "float32")
        bound = ops.logsumexp(log_weights, axis=1) - math.log(self.num_samples)
        self.neg_elbo_tracker.update_state(-ops.mean(log_weights, axis=1))
        if self.estimator == "dreg":  # the gradient comes from the surrogate's zero-valued loss
            bound = ops.stop_gradient(bound)
        return scale_loss_for_replicas(-ops.mean(bound) + layer_losses(self))
