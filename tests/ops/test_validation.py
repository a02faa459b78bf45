"""The shared argument validators: what they accept, and messages that name the argument."""

import numpy as np
import pytest

from keras_rt.ops.validation import check_bool, check_choice, check_int, check_number


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
