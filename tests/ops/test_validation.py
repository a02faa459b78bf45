"""The shared argument validators: what they accept, and messages that name the argument."""

import re

import keras
import numpy as np
import pytest

from keras_rt.ops.validation import (
    check_bool,
    check_choice,
    check_float_dtype,
    check_float_inputs,
    check_int,
    check_layer_inputs,
    check_number,
    check_range,
    check_same_shape,
    describe_inputs,
)


@pytest.mark.parametrize(
    "value,kwargs,expected",
    [(3, {}, 3), (np.int64(3), {}, 3), (0, {"minimum": 0}, 0), (None, {"allow_none": True}, None)],
)
def test_check_int_accepts(value, kwargs, expected):
    result = check_int("n", value, **kwargs)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    "value,kwargs,message",
    [
        (0, {}, "`n` must be an integer >= 1. Received: n=0"),
        (2.0, {}, "`n` must be an integer >= 1. Received: n=2.0"),
        (True, {}, "`n` must be an integer >= 1. Received: n=True"),
        ("3", {}, "`n` must be an integer >= 1. Received: n='3'"),
        (None, {}, "`n` must be an integer >= 1. Received: n=None"),
        (-1, {"minimum": 0, "allow_none": True}, "`n` must be an integer >= 0 or None."),
        (1, {"minimum": 2, "why": " for RLOO"}, "`n` must be an integer >= 2 for RLOO."),
    ],
)
def test_check_int_refuses(value, kwargs, message):
    with pytest.raises(ValueError) as info:
        check_int("n", value, **kwargs)
    assert str(info.value).startswith(message)


def test_check_number_accepts_and_returns_float():
    assert check_number("x", 2) == 2.0 and isinstance(check_number("x", 2), float)
    assert check_number("x", np.float32(0.5), above=0, maximum=1) == 0.5
    assert check_number("x", None, allow_none=True) is None
    assert check_number("x", 0, minimum=0, below=1) == 0.0


@pytest.mark.parametrize(
    "value,kwargs,message",
    [
        (0, {"above": 0}, "`x` must be a number > 0. Received: x=0"),
        (-1, {"minimum": 0}, "`x` must be a number >= 0. Received: x=-1"),
        (1.5, {"above": 0, "maximum": 1}, "`x` must be a number > 0 and <= 1. Received: x=1.5"),
        (1, {"minimum": 0, "below": 1}, "`x` must be a number >= 0 and < 1. Received: x=1"),
        (float("nan"), {}, "`x` must be a finite number. Received: x=nan"),
        (float("inf"), {"above": 0}, "`x` must be a number > 0. Received: x=inf"),
        (True, {}, "`x` must be a finite number. Received: x=True"),
        ("1", {}, "`x` must be a finite number. Received: x='1'"),
        (None, {"minimum": 0}, "`x` must be a number >= 0. Received: x=None"),
    ],
)
def test_check_number_refuses(value, kwargs, message):
    with pytest.raises(ValueError) as info:
        check_number("x", value, **kwargs)
    assert str(info.value) == message


def test_check_choice():
    assert check_choice("mode", "a", ("a", "b")) == "a"
    with pytest.raises(ValueError, match=r"`mode` must be one of \['a', 'b'\]. Received: mode='c'"):
        check_choice("mode", "c", ("a", "b"))
    with pytest.raises(ValueError, match="Received: mode=True"):
        check_choice("mode", True, (1, 2))


def test_check_bool():
    assert check_bool("flag", True) is True
    assert check_bool("flag", np.bool_(False)) is False
    for bad in (1, 0, "yes", None):
        with pytest.raises(
            ValueError, match=f"`flag` must be True or False. Received: flag={bad!r}"
        ):
            check_bool("flag", bad)


# -- layer inputs: what a layer was called on ---------------------------------------------------


def test_check_range_accepts_pairs_and_returns_floats():
    assert check_range("r", (-1, 2)) == (-1.0, 2.0)
    assert check_range("r", [np.float32(-1), np.inf]) == (-1.0, np.inf)
    assert check_range("r", None, allow_none=True) is None


@pytest.mark.parametrize(
    "value", ["ab", 1, None, ("a", "b"), (1, 2, 3), (2, 1), (1, 1), (np.nan, 1), (False, True)]
)
def test_check_range_refuses(value):
    with pytest.raises(ValueError) as info:
        check_range("r", value)
    assert str(info.value) == (
        f"`r` must be a pair (low, high) of numbers with low < high. Received: r={value!r}"
    )


class Named:
    name = "enc_sampling"


def test_check_float_dtype_names_the_layer_and_the_dtype():
    for dtype in ("float16", "bfloat16", "float32", "float64"):
        check_float_dtype("x", keras.ops.zeros(2, dtype=dtype))
    with pytest.raises(ValueError) as info:
        check_float_dtype("z_mean", np.zeros(2, "int64"), layer=Named())
    message = str(info.value)
    assert message.startswith("`Named` (layer 'enc_sampling'): `z_mean` must have a floating-point")
    assert message.endswith("Received: z_mean.dtype=int64")


@pytest.mark.parametrize(
    "inputs,received",
    [
        (np.zeros((2, 3)), "one tensor of shape (2, 3)"),
        ([np.zeros((2, 3))], "a list of 1 tensor of shape [(2, 3)]"),
        ((np.zeros(2), None), "a tuple of 2 tensors of shapes [(2,), None]"),
        ({"a": np.zeros(2)}, "a dict with keys ['a']"),
        ("text", "a str"),
    ],
)
def test_describe_inputs(inputs, received):
    assert describe_inputs(inputs) == received


NAMES = ["z_mean", "z_log_var"]
EXPECTS = "`L` expects a list of 2 floating-point tensors [z_mean, z_log_var] of the same shape"


@pytest.mark.parametrize(
    "inputs,kwargs,message",
    [
        (np.zeros((2, 3), "float32"), {}, f"{EXPECTS}. Received: one tensor of shape (2, 3)."),
        (
            [np.zeros((2, 3), "float32")] * 3,
            {"packed": "one packed tensor"},
            f"{EXPECTS}, or one packed tensor. Received: a list of 3 tensors of shapes "
            "[(2, 3), (2, 3), (2, 3)].",
        ),
        (
            {"a": np.zeros(2, "float32"), "b": np.zeros(2, "float32")},
            {},
            f"{EXPECTS}. Received: a dict with keys ['a', 'b']. Keyed (dict) inputs are not "
            "supported: pass the tensors as a list, in that order.",
        ),
    ],
)
def test_check_layer_inputs_refuses_structures(inputs, kwargs, message):
    with pytest.raises(ValueError) as info:
        check_layer_inputs("`L`", inputs, NAMES, shapes="of the same shape", **kwargs)
    assert str(info.value) == message


def test_check_layer_inputs_returns_a_list_and_checks_dtypes():
    x = np.zeros((2, 3), "float32")
    assert len(check_layer_inputs("`L`", (x, x), NAMES)) == 2
    assert len(check_layer_inputs("`L`", x, NAMES, packed="one packed tensor")) == 1
    assert len(check_layer_inputs("`L`", x, ["logits"])) == 1
    assert len(check_layer_inputs("`L`", [x], ["rate"], list_of_one=True)) == 1
    with pytest.raises(ValueError, match=r"one floating-point tensor `logits`\. Received: a list"):
        check_layer_inputs("`L`", [x], ["logits"])
    with pytest.raises(ValueError, match=r"^`L`: `z_log_var` must .*z_log_var\.dtype=int32$"):
        check_layer_inputs("`L`", [x, x.astype("int32")], NAMES)


def test_check_same_shape_names_the_layer():
    check_same_shape(NAMES, [(None, 3), (2, 3)])
    with pytest.raises(ValueError) as info:
        check_same_shape(NAMES, [(2, 3), (2, 4)], layer=Named())
    assert str(info.value) == (
        "`Named` (layer 'enc_sampling'): `z_mean` and `z_log_var` must have the same shape. "
        "Received: z_mean.shape=(2, 3), z_log_var.shape=(2, 4)"
    )


def test_check_layer_inputs_without_names_checks_only_dtypes():
    x = np.zeros((2, 3), "float32")
    nested = {"a": x, "b": [x, x]}
    assert check_layer_inputs("`L`", nested, None) is nested
    check_float_inputs("`L`", (x, [x, None]))  # None and non-tensors are left alone
    with pytest.raises(ValueError, match=re.escape("Received: inputs['b'][1].dtype=bool")):
        check_layer_inputs("`L`", {"a": x, "b": [x, x.astype(bool)]}, None)
