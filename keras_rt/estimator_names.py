"""The gradient estimators each latent family of the zoo accepts: one vocabulary, no TensorFlow.

The zoo's model classes take their `estimators` from here (`estimators =
GAUSSIAN`), and `--estimator`'s `--help` lists each model's without importing
TensorFlow (`keras_rt.cli.choices.estimator_help`); the benchmarks, the
tuner's search space and the README use the same names.
"""

from __future__ import annotations

# Diagonal- and full-covariance Gaussian latents (mlp_vae, conv_vae, beta_vae, cvae, fullcov_vae).
GAUSSIAN = ("pathwise", "antithetic", "qmc", "stl")
# The importance-weighted autoencoder (iwae).
IMPORTANCE_WEIGHTED = ("pathwise", "dreg", "stl")
# Categorical latents (gumbel_vae).
CATEGORICAL = ("gumbel_softmax", "st_gumbel", "score_function", "vimco")

FAMILIES = {
    "Gaussian latents": GAUSSIAN,
    "iwae": IMPORTANCE_WEIGHTED,
    "gumbel_vae": CATEGORICAL,
}


__all__ = ["CATEGORICAL", "FAMILIES", "GAUSSIAN", "IMPORTANCE_WEIGHTED"]
