"""Pure tensor functions shared by layers, estimators and zoo models."""

from keras_rt.ops.kl import diagonal_gaussian_kl, tril_gaussian_kl
from keras_rt.ops.validation import check_float_dtype, check_same_shape

__all__ = [
    "check_float_dtype",
    "check_same_shape",
    "diagonal_gaussian_kl",
    "tril_gaussian_kl",
]
