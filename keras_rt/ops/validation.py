"""Argument checks with messages that name the argument and what was received."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np


def check_float_dtype(name: str, tensor: Any, *, layer: Any = None) -> None:
    """Raises `ValueError` unless `tensor` has a floating-point dtype.

    Every floating-point dtype passes (float16, bfloat16, float32, float64),
    so mixed precision is unaffected; integer, boolean, complex and string
    tensors are refused.

    Args:
        name: the argument's name, used in the message.
        tensor: a tensor, a `KerasTensor` or a NumPy array.
        layer: optional layer whose class and name lead the message.

    Example:

    >>> check_float_dtype("z_mean", np.zeros(2, "float16"))
    >>> check_float_dtype("z_mean", np.zeros(2, "int32"))
    Traceback (most recent call last):
    ...
    ValueError: `z_mean` must have a floating-point dtype (e.g. float32, float16 or bfloat16); cast integer or boolean data first, e.g. `keras.ops.cast(x, "float32")`. Received: z_mean.dtype=int32
    """
    dtype = _dtype_name(tensor)
    if "float" not in dtype:
        where = f"{describe_layer(layer)}: " if layer is not None else ""
        raise ValueError(
            f"{where}`{name}` must have a floating-point dtype (e.g. float32, float16 or "
            "bfloat16); cast integer or boolean data first, e.g. "
            f'`keras.ops.cast(x, "float32")`. Received: {name}.dtype={dtype}'
        )


BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch", "numpy": "NumPy"}
"""How messages name Keras backends."""


def check_backend(what: str, backends: Sequence[str], *, why: str = "", instead: str = "") -> str:
    """Returns the Keras backend's name, or raises `RuntimeError` unless it is one of `backends`.

    The check of a keras-rt part that runs on some Keras backends only (the
    backend is chosen when Keras is first imported, by `KERAS_BACKEND`). The
    message names the part, the backends it supports, why, the backend in
    use, and how to switch.

    Args:
        what: the part, as messages name it, e.g. "`DistributionSampling`".
        backends: the backends it supports, e.g. `("tensorflow",)`.
        why: optional reason, e.g. "it builds TFP distributions".
        instead: optional alternative on other backends, for the message.

    Returns:
        `keras.backend.backend()`.

    Example:

    >>> check_backend("`GradientVarianceMonitor`", ("tensorflow",))
    'tensorflow'
    >>> check_backend("this part", ("jax",), why="it calls jax.jit")
    Traceback (most recent call last):
    ...
    RuntimeError: this part needs the JAX backend (it calls jax.jit); this Keras runs on 'tensorflow'. Set KERAS_BACKEND=jax before Keras is first imported.
    """
    import keras

    backend = keras.backend.backend()
    if backend in backends:
        return backend
    names = " or the ".join(BACKEND_NAMES.get(b, repr(b)) for b in backends)
    plural = "s" if len(backends) > 1 else ""
    reason = f" ({why})" if why else ""
    alternative = f", or {instead}" if instead else ""
    raise RuntimeError(
        f"{what} needs the {names} backend{plural}{reason}; this Keras runs on {backend!r}. "
        f"Set KERAS_BACKEND={backends[0]} before Keras is first imported{alternative}."
    )


def _dtype_name(tensor: Any) -> str:
    import keras  # here, not at the top: the other checks serve configs that import no TensorFlow

    try:
        return keras.backend.standardize_dtype(tensor.dtype)
    except (AttributeError, TypeError, ValueError):
        return str(getattr(tensor, "dtype", type(tensor).__name__))


def describe_layer(layer: Any) -> str:
    """ "`ClassName` (layer 'name')": how a layer is named in messages; a string passes through."""
    if isinstance(layer, str):
        return layer
    return f"`{type(layer).__name__}` (layer {getattr(layer, 'name', None)!r})"


def _is_tensor(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def _describe_item(value: Any) -> str:
    if _is_tensor(value):
        try:
            return str(_dims(value.shape))
        except (TypeError, ValueError):
            return str(value.shape)
    return "None" if value is None else f"a {type(value).__name__}"


def describe_inputs(inputs: Any) -> str:
    """Says what a layer was called on, for a message: its structure and shapes.

    Example:

    >>> describe_inputs([np.zeros((2, 3)), np.zeros((2, 4))])
    'a list of 2 tensors of shapes [(2, 3), (2, 4)]'
    >>> describe_inputs({"a": np.zeros(2)})
    "a dict with keys ['a']"
    """
    if isinstance(inputs, dict):
        return f"a dict with keys {list(inputs)}"
    if isinstance(inputs, (list, tuple)):
        kind = type(inputs).__name__ if type(inputs) in (list, tuple) else "sequence"
        noun = "tensor of shape" if len(inputs) == 1 else "tensors of shapes"
        items = ", ".join(_describe_item(x) for x in inputs)
        return f"a {kind} of {len(inputs)} {noun} [{items}]"
    if _is_tensor(inputs):
        return f"one tensor of shape {_describe_item(inputs)}"
    return _describe_item(inputs)


def check_float_inputs(layer: Any, inputs: Any, name: str = "inputs") -> None:
    """Raises `ValueError` unless every tensor in `inputs` (nested lists, tuples, dicts) is floating-point.

    The structure itself is not checked: this is the check for a layer that
    declares no input structure (see `check_layer_inputs`).

    Args:
        layer: the layer (its class and name lead the message), or a label.
        inputs: what the layer was called on.
        name: how `inputs` is named in the message; nested tensors are named
            `inputs[0]`, `inputs['key']`, ...

    Example:

    >>> check_float_inputs("`L`", [np.zeros(2, "float32"), {"b": np.zeros(2, "int8")}])
    Traceback (most recent call last):
    ...
    ValueError: `L`: `inputs[1]['b']` must have a floating-point dtype (e.g. float32, float16 or bfloat16); cast integer or boolean data first, e.g. `keras.ops.cast(x, "float32")`. Received: inputs[1]['b'].dtype=int8
    """
    if isinstance(inputs, dict):
        for key, value in inputs.items():
            check_float_inputs(layer, value, f"{name}[{key!r}]")
    elif isinstance(inputs, (list, tuple)):
        for i, value in enumerate(inputs):
            check_float_inputs(layer, value, f"{name}[{i}]")
    elif _is_tensor(inputs):
        check_float_dtype(name, inputs, layer=layer)


def check_layer_inputs(
    layer: Any,
    inputs: Any,
    names: Sequence[str] | None,
    *,
    shapes: str = "",
    packed: str | None = None,
    list_of_one: bool = False,
) -> list:
    """Returns a layer's call `inputs` as a list, or raises `ValueError` saying what it expects.

    The check a layer runs on what it is called on, before it is built:
    the structure (one tensor, or a list or tuple of `len(names)` tensors;
    a dict is never accepted), then the dtype of every tensor, which must be
    floating-point (`check_float_dtype`). It sees `KerasTensor`s too, so a
    functional model with integer inputs is refused when it is built, not at
    `predict`. Shapes are left to the layer's `build`.

    Args:
        layer: the layer (its class and name lead the message), or a label.
        inputs: what the layer was called on.
        names: the tensors the layer takes, in order. One name: one tensor;
            several: a list of them. `None`: any structure, only the dtypes
            are checked (`check_float_inputs`).
        shapes: how their shapes must relate, for the message (e.g.
            `"of the same shape"`).
        packed: with several names, a description of the one tensor the
            layer also accepts in place of the list (`None`: not accepted).
        list_of_one: with one name, whether a list of that one tensor is
            accepted too.

    Returns:
        The tensors as a list: `len(names)` of them, or one packed tensor
        (`inputs` unchanged when `names` is `None`).

    Example:

    >>> check_layer_inputs("`GaussianKL`", np.zeros((2, 3), "float32"), ["z_mean", "z_log_var"],
    ...                    shapes="of the same shape")
    Traceback (most recent call last):
    ...
    ValueError: `GaussianKL` expects a list of 2 floating-point tensors [z_mean, z_log_var] of the same shape. Received: one tensor of shape (2, 3).
    """
    if names is None:
        check_float_inputs(layer, inputs)
        return inputs
    names = list(names)
    shape_text = f" {shapes}" if shapes else ""
    if len(names) == 1:
        expects = f"one floating-point tensor `{names[0]}`{shape_text}"
        if list_of_one:
            expects += f" (or a list of it, [{names[0]}])"
    else:
        expects = f"a list of {len(names)} floating-point tensors [{', '.join(names)}]{shape_text}"
        if packed:
            expects += f", or {packed}"

    tensors: list | None = None
    tensor_names = names
    if isinstance(inputs, (list, tuple)):
        if (len(names) > 1 or list_of_one) and len(inputs) == len(names):
            tensors = list(inputs)
    elif not isinstance(inputs, dict) and _is_tensor(inputs):
        if len(names) == 1:
            tensors = [inputs]
        elif packed:
            tensors, tensor_names = [inputs], ["inputs"]
    if tensors is None or not all(_is_tensor(t) for t in tensors):
        hint = (
            " Keyed (dict) inputs are not supported: pass the tensors as a list, in that order."
            if isinstance(inputs, dict) and len(names) > 1
            else ""
        )
        raise ValueError(
            f"{describe_layer(layer)} expects {expects}. Received: {describe_inputs(inputs)}.{hint}"
        )
    for name, tensor in zip(tensor_names, tensors):
        check_float_dtype(name, tensor, layer=layer)
    return tensors


def _dims(shape: Sequence[Any]) -> tuple:
    return tuple(None if d is None else int(d) for d in shape)


def check_same_shape(
    names: Sequence[str], shapes: Sequence[Sequence[Any]], *, layer: Any = None
) -> None:
    """Raises `ValueError` unless all shapes agree (unknown dimensions match anything).

    Args:
        names: the arguments' names, used in the message.
        shapes: one shape per argument.
        layer: optional layer whose class and name lead the message.

    Example:

    >>> check_same_shape(["z_mean", "z_log_var"], [(None, 3), (2, 3)])
    >>> check_same_shape(["z_mean", "z_log_var"], [(2, 3), (2, 4)])
    Traceback (most recent call last):
    ...
    ValueError: `z_mean` and `z_log_var` must have the same shape. Received: z_mean.shape=(2, 3), z_log_var.shape=(2, 4)
    """
    first = _dims(shapes[0])
    for name, shape in zip(names[1:], shapes[1:]):
        other = _dims(shape)
        agree = len(other) == len(first) and all(
            a is None or b is None or a == b for a, b in zip(first, other)
        )
        if not agree:
            received = ", ".join(f"{n}.shape={_dims(s)}" for n, s in zip(names, shapes))
            where = f"{describe_layer(layer)}: " if layer is not None else ""
            raise ValueError(
                f"{where}`{names[0]}` and `{name}` must have the same shape. Received: {received}"
            )


def check_int(
    name: str, value: Any, *, minimum: int = 1, allow_none: bool = False, why: str = ""
) -> Any:
    """Returns `value` as an `int` or raises `ValueError` unless it is an integer >= `minimum`.

    Python and NumPy integers are accepted; booleans are refused (they are
    integers to Python, never meant as sizes), and so are floats, even `2.0`.

    Args:
        name: the argument's name, used in the message.
        value: the value to check.
        minimum: the smallest valid value.
        allow_none: whether `None` (meaning "off" or "all") is valid.
        why: optional text appended to the requirement in the message, e.g.
            `" with baseline='rloo'"`.

    Returns:
        `int(value)`, or `None`.

    Example:

    >>> check_int("num_samples", 4)
    4
    >>> check_int("num_samples", 0)
    Traceback (most recent call last):
    ...
    ValueError: `num_samples` must be an integer >= 1. Received: num_samples=0
    >>> check_int("seed", -1, minimum=0)
    Traceback (most recent call last):
    ...
    ValueError: `seed` must be an integer >= 0. Received: seed=-1
    """
    if value is None and allow_none:
        return value
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Integral)
        or value < minimum
    ):
        also = " or None" if allow_none else ""
        raise ValueError(
            f"`{name}` must be an integer >= {minimum}{also}{why}. Received: {name}={value!r}"
        )
    return int(value)


def check_number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
    below: float | None = None,
    allow_none: bool = False,
) -> Any:
    """Returns `value` as a float or raises `ValueError` unless it is a finite number in range.

    Args:
        name: the argument's name, used in the message.
        value: the value to check (a Python or NumPy int or float; booleans
            and strings are refused).
        minimum: the smallest valid value (inclusive), if any.
        above: a value that `value` must exceed (exclusive bound), if any.
        maximum: the largest valid value (inclusive), if any.
        below: a value that `value` must stay under (exclusive bound), if any.
        allow_none: whether `None` is valid (returned unchanged).

    Returns:
        `float(value)`, or `None`.

    Example:

    >>> check_number("beta", 4)
    4.0
    >>> check_number("temperature", 0.0, above=0)
    Traceback (most recent call last):
    ...
    ValueError: `temperature` must be a number > 0. Received: temperature=0.0
    >>> check_number("decay", 1.0, minimum=0, below=1)
    Traceback (most recent call last):
    ...
    ValueError: `decay` must be a number >= 0 and < 1. Received: decay=1.0
    """
    if value is None and allow_none:
        return value
    is_number = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    number = float(value) if is_number else math.nan
    valid = (
        math.isfinite(number)
        and (minimum is None or number >= minimum)
        and (above is None or number > above)
        and (maximum is None or number <= maximum)
        and (below is None or number < below)
    )
    if not valid:
        bounds = [
            f"{op} {bound}"
            for op, bound in ((">=", minimum), (">", above), ("<=", maximum), ("<", below))
            if bound is not None
        ]
        what = "a finite number" if not bounds else "a number " + " and ".join(bounds)
        also = " or None" if allow_none else ""
        raise ValueError(f"`{name}` must be {what}{also}. Received: {name}={value!r}")
    return number


def check_range(name: str, value: Any, *, allow_none: bool = False) -> Any:
    """Returns `value` as a `(low, high)` pair of floats, or raises `ValueError` naming it.

    `value` must be a list or tuple (or NumPy array) of two numbers with
    `low < high`; infinite bounds pass, NaN, booleans and strings do not.

    Args:
        name: the argument's name, used in the message.
        value: the value to check.
        allow_none: whether `None` (meaning "off") is valid (returned unchanged).

    Returns:
        `(float(low), float(high))`, or `None`.

    Example:

    >>> check_range("log_var_range", [-10, 10])
    (-10.0, 10.0)
    >>> check_range("log_var_range", "ab")
    Traceback (most recent call last):
    ...
    ValueError: `log_var_range` must be a pair (low, high) of numbers with low < high. Received: log_var_range='ab'
    """
    if value is None and allow_none:
        return value
    pair = list(value) if isinstance(value, (list, tuple, np.ndarray)) else []
    valid = (
        len(pair) == 2
        and all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in pair)
        and float(pair[0]) < float(pair[1])
    )
    if not valid:
        also = ", or None" if allow_none else ""
        raise ValueError(
            f"`{name}` must be a pair (low, high) of numbers with low < high{also}. "
            f"Received: {name}={value!r}"
        )
    return (float(pair[0]), float(pair[1]))


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    """Returns `value` or raises `ValueError` naming the valid choices.

    Args:
        name: the argument's name, used in the message.
        value: the value to check.
        choices: the valid values.

    Returns:
        `value`, unchanged.

    Example:

    >>> check_choice("likelihood", "poisson", ("bernoulli", "gaussian"))
    Traceback (most recent call last):
    ...
    ValueError: `likelihood` must be one of ['bernoulli', 'gaussian']. Received: likelihood='poisson'
    """
    if isinstance(value, bool) or value not in tuple(choices):
        raise ValueError(f"`{name}` must be one of {list(choices)}. Received: {name}={value!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Returns `value` as a `bool` or raises `ValueError` unless it is `True` or `False`.

    NumPy booleans are accepted; integers such as `1` are not.

    Args:
        name: the argument's name, used in the message.
        value: the value to check.

    Returns:
        `bool(value)`.

    Example:

    >>> check_bool("hard", True)
    True
    >>> check_bool("hard", "yes")
    Traceback (most recent call last):
    ...
    ValueError: `hard` must be True or False. Received: hard='yes'
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return bool(value)
