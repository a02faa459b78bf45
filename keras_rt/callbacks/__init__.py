"""Keras callbacks: KL warm-up, Gumbel temperature annealing, gradient-variance monitor."""

from keras_rt.callbacks.gradient_variance import GradientVarianceMonitor
from keras_rt.callbacks.kl_warmup import KLWarmup, kl_weight_at
from keras_rt.callbacks.temperature_annealing import (
    GumbelTemperatureAnnealing,
    annealed_temperature,
)

__all__ = [
    "GradientVarianceMonitor",
    "GumbelTemperatureAnnealing",
    "KLWarmup",
    "annealed_temperature",
    "kl_weight_at",
]
