"""Gradient estimators for `grad_theta E_{p_theta(x)}[f(x)]`, built on TFP.

Every estimator shares one signature and returns per-sample gradients:

    estimator(f, dist_fn, params, num_samples, *, seed=None, **options)
        -> [per-sample gradient of shape [num_samples, *p.shape] for p in params]

- `pathwise` (reparameterization trick), with `pathwise_antithetic` and
  `pathwise_qmc` (randomized quasi-Monte Carlo) for lower variance;
- `score_function` (REINFORCE) with baselines: a constant,
  `MovingAverageBaseline`, `"rloo"` (leave-one-out), `"optimal"`;
- `straight_through_gumbel_softmax` for one-hot categorical / Bernoulli
  latents (biased).

`average_gradient` turns per-sample gradients into the estimate;
`gradient_variance` measures mean, variance and signal-to-noise ratio.
"""

from keras_rt.estimators.antithetic import antithetic_uniform
from keras_rt.estimators.baselines import (
    MovingAverageBaseline,
    leave_one_out_baseline,
    optimal_constant_baseline,
)
from keras_rt.estimators.core import average_gradient
from keras_rt.estimators.gumbel import straight_through_gumbel_softmax
from keras_rt.estimators.pathwise import pathwise, pathwise_antithetic, pathwise_qmc
from keras_rt.estimators.qmc import randomized_sobol_normal, randomized_sobol_uniform
from keras_rt.estimators.score_function import score_function
from keras_rt.estimators.variance import GradientStats, gradient_variance, summarize_draws

__all__ = [
    "GradientStats",
    "MovingAverageBaseline",
    "antithetic_uniform",
    "average_gradient",
    "gradient_variance",
    "leave_one_out_baseline",
    "optimal_constant_baseline",
    "pathwise",
    "pathwise_antithetic",
    "pathwise_qmc",
    "randomized_sobol_normal",
    "randomized_sobol_uniform",
    "score_function",
    "straight_through_gumbel_softmax",
    "summarize_draws",
]
