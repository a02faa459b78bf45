"""Layer errors that name the problem: the layer, what it expects, and what it received.

Table-driven: each row is a layer, a wrong input or argument, and the pieces the `ValueError`
message must contain. Inputs are checked when a layer is called, before it is built, on
tensors and on `KerasTensor`s alike, so a functional model with wrong inputs is refused while
it is being built, not at `predict`.
"""

import re

import keras
import numpy as np
import pytest

from keras_rt.layers import (
    BaseKL,
    BaseSampler,
    CategoricalKL,
    DistributionSampling,
    GaussianKL,
    GumbelSoftmaxSampling,
    MultivariateNormalTriLSampling,
    Sampling,
)


def f32(*shape):
    return np.zeros(shape, "float32")


def sym(*shape, dtype="float32"):
    """A symbolic input of `shape` (batch dimension excluded)."""
    return keras.Input(shape, dtype=dtype)


def assert_message(error, *pieces):
    message = str(error.value)
    for piece in pieces:
        assert piece in message, f"{piece!r} not in {message!r}"


# -- what the layer is called on: structure --------------------------------------------------

DIAGONAL = "a list of 2 floating-point tensors [z_mean, z_log_var] of the same shape"
# (layer factory, inputs, pieces the message must contain)
STRUCTURE_CASES = {
    "gaussian_kl-one-tensor": (
        GaussianKL,
        f32(2, 3),
        ["`GaussianKL`", DIAGONAL, "Received: one tensor of shape (2, 3)"],
    ),
    "gaussian_kl-one-keras-tensor": (
        GaussianKL,
        sym(3),
        ["`GaussianKL`", DIAGONAL, "Received: one tensor of shape (None, 3)"],
    ),
    "gaussian_kl-three-tensors": (
        GaussianKL,
        [f32(2, 3)] * 3,
        [
            "`GaussianKL`",
            DIAGONAL,
            "Received: a list of 3 tensors of shapes [(2, 3), (2, 3), (2, 3)]",
        ],
    ),
    "gaussian_kl-dict": (
        GaussianKL,
        {"mean": f32(2, 3), "log_var": f32(2, 3)},
        ["`GaussianKL`", DIAGONAL, "Received: a dict with keys ['mean', 'log_var']", "as a list"],
    ),
    "gaussian_kl-stl-two-tensors": (
        lambda: GaussianKL(estimator="stl"),
        [f32(2, 3)] * 2,
        ["`GaussianKL`", "3 floating-point tensors [z_mean, z_log_var, z]", "estimator='stl'"],
    ),
    "gaussian_kl-full-one-tensor": (
        lambda: GaussianKL(covariance="full"),
        f32(2, 3),
        ["`GaussianKL`", "[mean, scale_params]", "(batch, d (d + 1) / 2)", "one tensor"],
    ),
    "sampling-dict": (
        Sampling,
        {"a": f32(2, 3), "b": f32(2, 3)},
        ["`Sampling`", DIAGONAL, "or one tensor (..., 2 * latent)", "a dict with keys ['a', 'b']"],
    ),
    "sampling-dict-of-keras-tensors": (
        Sampling,
        {"a": sym(3), "b": sym(3)},
        ["`Sampling`", DIAGONAL, "a dict with keys ['a', 'b']", "as a list"],
    ),
    "sampling-three-tensors": (
        Sampling,
        [f32(2, 3)] * 3,
        ["`Sampling`", DIAGONAL, "Received: a list of 3 tensors"],
    ),
    "sampling-list-of-one": (
        Sampling,
        [f32(2, 4)],
        ["`Sampling`", DIAGONAL, "Received: a list of 1 tensor of shape [(2, 4)]"],
    ),
    "sampling-none-in-list": (
        Sampling,
        [f32(2, 3), None],
        ["`Sampling`", "Received: a list of 2 tensors of shapes [(2, 3), None]"],
    ),
    "mvn-one-tensor": (
        MultivariateNormalTriLSampling,
        f32(2, 3),
        [
            "`MultivariateNormalTriLSampling`",
            "2 floating-point tensors [mean, scale_params]",
            "one tensor of shape (2, 3)",
        ],
    ),
    "mvn-dict": (
        MultivariateNormalTriLSampling,
        {"mean": f32(2, 3), "scale_params": f32(2, 6)},
        ["`MultivariateNormalTriLSampling`", "[mean, scale_params]", "a dict with keys"],
    ),
    "gumbel-list": (
        GumbelSoftmaxSampling,
        [f32(2, 3)] * 2,
        ["`GumbelSoftmaxSampling`", "one floating-point tensor `logits`", "a list of 2 tensors"],
    ),
    "gumbel-dict": (
        GumbelSoftmaxSampling,
        {"logits": f32(2, 3)},
        [
            "`GumbelSoftmaxSampling`",
            "one floating-point tensor `logits`",
            "a dict with keys ['logits']",
        ],
    ),
    "categorical_kl-list": (
        CategoricalKL,
        [f32(2, 3)] * 2,
        ["`CategoricalKL`", "one floating-point tensor `logits`", "a list of 2 tensors"],
    ),
    "categorical_kl-dict": (
        CategoricalKL,
        {"logits": sym(3)},
        ["`CategoricalKL`", "one floating-point tensor `logits`", "a dict with keys ['logits']"],
    ),
    "distribution-dict": (
        lambda: DistributionSampling("normal"),
        {"loc": f32(2, 3), "scale": f32(2, 3)},
        ["family='normal'", "2 floating-point tensors [loc, scale] of the same shape", "a dict"],
    ),
    "distribution-three-tensors": (
        lambda: DistributionSampling("gamma"),
        [f32(2, 3)] * 3,
        ["family='gamma'", "[concentration, rate]", "a list of 3 tensors"],
    ),
    "distribution-one-tensor-for-two": (
        lambda: DistributionSampling("beta"),
        f32(2, 3),
        ["family='beta'", "[concentration1, concentration0]", "one tensor of shape (2, 3)"],
    ),
}


@pytest.mark.parametrize("make,inputs,pieces", STRUCTURE_CASES.values(), ids=list(STRUCTURE_CASES))
def test_wrong_structure_names_layer_expectation_and_what_was_received(make, inputs, pieces):
    with pytest.raises(ValueError) as error:
        make()(inputs)
    assert_message(error, "expects", *pieces)


# -- what the layer is called on: dtype --------------------------------------------------------

# (layer factory, input shapes (batch excluded; a list: a list of inputs), the first name)
LAYERS = {
    "sampling": (Sampling, [(2,), (2,)], "z_mean"),
    "sampling-packed": (Sampling, (4,), "inputs"),
    "mvn": (MultivariateNormalTriLSampling, [(2,), (3,)], "mean"),
    "gumbel": (GumbelSoftmaxSampling, (3,), "logits"),
    "distribution-normal": (lambda: DistributionSampling("normal"), [(2,), (2,)], "loc"),
    "distribution-exponential": (lambda: DistributionSampling("exponential"), (2,), "rate"),
    "gaussian_kl": (GaussianKL, [(2,), (2,)], "z_mean"),
    "gaussian_kl-full": (lambda: GaussianKL(covariance="full"), [(2,), (3,)], "mean"),
    "categorical_kl": (CategoricalKL, (3,), "logits"),
}


def _symbolic(shapes, dtype):
    if isinstance(shapes, list):
        return [sym(*s, dtype=dtype) for s in shapes]
    return sym(*shapes, dtype=dtype)


def _eager(shapes, dtype):
    if isinstance(shapes, list):
        return [np.zeros((2,) + s, dtype) for s in shapes]
    return np.zeros((2,) + shapes, dtype)


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool"])
@pytest.mark.parametrize("make,shapes,name", LAYERS.values(), ids=list(LAYERS))
def test_non_float_keras_inputs_fail_when_the_model_is_built(make, shapes, name, dtype):
    layer = make()
    with pytest.raises(ValueError) as error:
        inputs = _symbolic(shapes, dtype)
        keras.Model(inputs, layer(inputs))
    assert_message(
        error, f"`{type(layer).__name__}", "floating-point", f"Received: {name}.dtype={dtype}"
    )


@pytest.mark.parametrize("make,shapes,name", LAYERS.values(), ids=list(LAYERS))
def test_integer_arrays_fail_eagerly_with_the_same_message(make, shapes, name):
    layer = make()
    with pytest.raises(ValueError) as error:
        layer(_eager(shapes, "int32"))
    assert_message(error, f"`{type(layer).__name__}", "floating-point", f"{name}.dtype=int32")


def test_integer_input_to_sampling_is_refused_before_predict():
    x = keras.Input((2,), dtype="int32")
    with pytest.raises(ValueError, match=r"`Sampling`.*floating-point.*dtype=int32"):
        Sampling()([x, x])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("make,shapes,name", LAYERS.values(), ids=list(LAYERS))
def test_every_float_dtype_is_accepted(make, shapes, name, dtype):
    inputs = _symbolic(shapes, dtype)
    outputs = make()(inputs)
    assert keras.Model(inputs, outputs) is not None


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_layers_still_run(policy):
    mean = keras.ops.zeros((2, 3), dtype="float16" if policy == "mixed_float16" else "bfloat16")
    z_mean, z_log_var = GaussianKL(dtype=policy)([mean, mean])
    z = Sampling(seed=0, dtype=policy)([z_mean, z_log_var])
    assert keras.backend.standardize_dtype(z.dtype) == policy.split("_")[1]
    logits = CategoricalKL(dtype=policy)(keras.ops.zeros((2, 4, 3), dtype="float32"))
    y = GumbelSoftmaxSampling(seed=0, dtype=policy)(logits)
    assert keras.backend.standardize_dtype(y.dtype) == policy.split("_")[1]


# -- shapes ----------------------------------------------------------------------------------

MISMATCHED_SHAPES = {
    "sampling": (Sampling, ["`Sampling`", "`z_mean` and `z_log_var` must have the same shape"]),
    "gaussian_kl": (GaussianKL, ["`GaussianKL`", "`z_mean` and `z_log_var` must have the same"]),
    "distribution": (
        lambda: DistributionSampling("normal"),
        ["`DistributionSampling`", "`loc` and `scale` must have the same shape"],
    ),
}


@pytest.mark.parametrize("make,pieces", MISMATCHED_SHAPES.values(), ids=list(MISMATCHED_SHAPES))
def test_mismatched_shapes_name_the_layer_and_both_shapes(make, pieces):
    with pytest.raises(ValueError) as error:
        make()([f32(2, 3), f32(2, 4)])
    assert_message(error, *pieces, ".shape=(2, 3)", ".shape=(2, 4)")


def test_nan_parameters_still_propagate():
    z = Sampling(seed=0)([np.full((1, 2), np.nan, "float32"), f32(1, 2)])
    assert np.all(np.isnan(z))
    layer = GaussianKL()
    layer([np.full((1, 2), np.nan, "float32"), f32(1, 2)])
    assert np.isnan(float(layer.losses[0]))


# -- constructor arguments ---------------------------------------------------------------------

# (layer class, constructor arguments, the argument the message must name with its value)
ARGUMENT_CASES = {
    "sampling-log_var_range-string": (Sampling, {"log_var_range": "ab"}, "log_var_range"),
    "sampling-log_var_range-number": (Sampling, {"log_var_range": 1}, "log_var_range"),
    "sampling-log_var_range-strings": (Sampling, {"log_var_range": ("a", "b")}, "log_var_range"),
    "sampling-log_var_range-triple": (Sampling, {"log_var_range": (1, 2, 3)}, "log_var_range"),
    "sampling-log_var_range-reversed": (Sampling, {"log_var_range": (3, 1)}, "log_var_range"),
    "sampling-log_var_range-nan": (Sampling, {"log_var_range": (np.nan, 1)}, "log_var_range"),
    "sampling-log_var_range-bools": (Sampling, {"log_var_range": (False, True)}, "log_var_range"),
    "sampling-num_samples": (Sampling, {"num_samples": "2"}, "num_samples"),
    "mvn-diag_shift": (MultivariateNormalTriLSampling, {"diag_shift": "ab"}, "diag_shift"),
    "mvn-num_samples": (MultivariateNormalTriLSampling, {"num_samples": 1.5}, "num_samples"),
    "gumbel-temperature-string": (GumbelSoftmaxSampling, {"temperature": "ab"}, "temperature"),
    "gumbel-temperature-none": (GumbelSoftmaxSampling, {"temperature": None}, "temperature"),
    "gumbel-temperature-nan": (GumbelSoftmaxSampling, {"temperature": np.nan}, "temperature"),
    "gumbel-hard": (GumbelSoftmaxSampling, {"hard": "yes"}, "hard"),
    "gaussian_kl-weight": (GaussianKL, {"weight": "ab"}, "weight"),
    "gaussian_kl-free_bits": (GaussianKL, {"free_bits": "ab"}, "free_bits"),
    "gaussian_kl-free_bits-full": (
        GaussianKL,
        {"free_bits": "ab", "covariance": "full"},
        "free_bits",
    ),
    "gaussian_kl-diag_shift": (GaussianKL, {"diag_shift": "ab"}, "diag_shift"),
    "categorical_kl-weight": (CategoricalKL, {"weight": "ab"}, "weight"),
    "categorical_kl-weight-bool": (CategoricalKL, {"weight": True}, "weight"),
    "distribution-num_samples": (
        DistributionSampling,
        {"family": "normal", "num_samples": "3"},
        "num_samples",
    ),
}


@pytest.mark.parametrize("cls,kwargs,name", ARGUMENT_CASES.values(), ids=list(ARGUMENT_CASES))
def test_bad_argument_names_the_argument_and_the_value(cls, kwargs, name):
    with pytest.raises(ValueError) as error:
        cls(**kwargs)
    assert_message(error, f"`{name}` must be", f"Received: {name}={kwargs[name]!r}")


@pytest.mark.parametrize("cls", [Sampling, GumbelSoftmaxSampling, DistributionSampling])
def test_non_integer_seed_names_the_argument(cls):
    kwargs = {"family": "normal"} if cls is DistributionSampling else {}
    with pytest.raises(ValueError, match=re.escape("`seed` must be an integer. Received: seed=ab")):
        cls(seed="ab", **kwargs)


@pytest.mark.parametrize(
    "value,expected",
    [
        ((-20.0, 20.0), (-20.0, 20.0)),
        ([-10, 10], (-10.0, 10.0)),  # as a config read from JSON holds it
        (np.array([-5.0, 5.0], "float32"), (-5.0, 5.0)),
        (None, None),
    ],
)
def test_log_var_range_accepted_forms(value, expected):
    layer = Sampling(log_var_range=value)
    assert layer.log_var_range == expected
    assert Sampling.from_config(layer.get_config()).log_var_range == expected


# -- custom subclasses of the bases ------------------------------------------------------------


class PairKL(BaseKL):
    """A custom KL layer on a list [a, b] that declares no `INPUT_NAMES`."""

    def kl_per_example(self, inputs):
        a, b = inputs
        return keras.ops.sum(keras.ops.square(a - b), axis=-1)


class Shift(BaseSampler):
    """A custom sampler on one tensor that declares no `INPUT_NAMES`."""

    def draw(self, loc):
        return loc + self.standard_normal(keras.ops.shape(loc))


def test_custom_subclasses_keep_their_structure_but_refuse_integers():
    # no INPUT_NAMES: any structure passes, only the dtypes are checked
    assert len(PairKL()([f32(2, 3), f32(2, 3)])) == 2
    assert Shift(seed=0)(f32(2, 3)).shape == (2, 3)
    with pytest.raises(ValueError) as error:
        PairKL()([sym(3), sym(3, dtype="int32")])
    assert_message(error, "`PairKL`", "floating-point", "Received: inputs[1].dtype=int32")
    with pytest.raises(ValueError) as error:
        Shift()(sym(3, dtype="bool"))
    assert_message(error, "`Shift`", "floating-point", "Received: inputs.dtype=bool")
