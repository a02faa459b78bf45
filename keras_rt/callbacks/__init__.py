"""Keras callbacks: KL warm-up, Gumbel temperature annealing, gradient-variance monitor, and a
run's crash-safe backup, resumable CSV history and step-exact progress bar."""

from keras_rt.callbacks.crash_safe_backup import CrashSafeBackup
from keras_rt.callbacks.gradient_variance import GradientVarianceMonitor
from keras_rt.callbacks.kl_warmup import KLWarmup, kl_weight_at
from keras_rt.callbacks.resumable_csv_logger import ResumableCSVLogger
from keras_rt.callbacks.step_progbar import StepProgbarLogger
from keras_rt.callbacks.temperature_annealing import (
    GumbelTemperatureAnnealing,
    annealed_temperature,
)

__all__ = [
    "CrashSafeBackup",
    "ResumableCSVLogger",
    "StepProgbarLogger",
    "GradientVarianceMonitor",
    "GumbelTemperatureAnnealing",
    "KLWarmup",
    "annealed_temperature",
    "kl_weight_at",
]
