"""Pure tensor functions shared by layers, estimators and zoo models.

Names are imported on first use (`keras_rt.lazy`): `keras_rt.ops.validation`
imports without TensorFlow, so configs and `--help` stay light.
"""

from keras_rt.lazy import lazy_exports

_EXPORTS = {
    "check_scale_params_shape": "gaussian",
    "clamp_log_var": "gaussian",
    "fill_scale_tril": "gaussian",
    "fill_triangular": "gaussian",
    "latent_dim_for": "gaussian",
    "num_scale_params": "gaussian",
    "bias_gradient": "bias_gradient",
    "float32_bias_gradients": "bias_gradient",
    "conv2d_as_matmul": "conv_matmul",
    "conv2d_matmul_filter_gradient": "conv_matmul",
    "supports_conv_as_matmul": "conv_matmul",
    "categorical_kl_to_uniform": "kl",
    "diagonal_gaussian_kl": "kl",
    "tril_gaussian_kl": "kl",
    "antithetic_normal": "noise",
    "sobol_direction_numbers": "noise",
    "sobol_normal": "noise",
    "standard_normal_noise": "noise",
    "random_int32": "random_draws",
    "random_normal": "random_draws",
    "random_uniform": "random_draws",
    "check_backend": "validation",
    "check_bool": "validation",
    "check_choice": "validation",
    "check_float_dtype": "validation",
    "check_int": "validation",
    "check_number": "validation",
    "check_same_shape": "validation",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
