"""TF Serving's REST predict format <-> NumPy arrays, with validation and clear 400 messages.

Row format: `{"signature_name": S, "instances": [...]}`, one example per
instance; an instance is the value itself when the signature has one input,
else an object `{input_name: value}`. The answer is `{"predictions": [...]}`:
per-instance values with one output, per-instance objects with several.

Columnar format: `{"signature_name": S, "inputs": value}` (one input) or
`{"inputs": {input_name: value}}`; the answer is `{"outputs": value}` or
`{"outputs": {output_name: value}}`. Inputs without a batch dimension (a
scalar such as a sample count) only fit the columnar format.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from keras_rt.serving.errors import BadRequest
from keras_rt.serving.servable import Servable, SignatureInfo, TensorInfo

DEFAULT_SIGNATURE = "serving_default"
REQUEST_KEYS = frozenset({"signature_name", "instances", "inputs"})

_KIND_NAMES = {
    "f": "non-integer numbers",
    "i": "integers",
    "u": "integers",
    "b": "booleans",
    "U": "strings",
    "S": "strings",
    "O": "mixed or ragged values",
}


@dataclasses.dataclass
class PredictRequest:
    """A decoded predict request: the signature, its input arrays and the format."""

    signature: SignatureInfo
    arrays: dict[str, np.ndarray]
    row_format: bool
    rows: int | None  # batch size (None: some input has no batch dimension)


def error_body(message: str) -> bytes:
    """TF Serving's error body: `{"error": "..."}`."""
    return json.dumps({"error": message}).encode()


def parse_json(body: bytes) -> dict:
    """Parses a request body that must be one JSON object."""
    if not body:
        raise BadRequest(
            'The request body is empty; send a JSON object such as {"instances": [...]}'
        )
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as error:  # JSONDecodeError, bad UTF-8, deep nesting
        raise BadRequest(f"Malformed JSON in the request body: {error}"[:500]) from None
    if not isinstance(value, dict):
        raise BadRequest(
            f"The request body must be a JSON object; received a JSON {_json_type(value)}"
        )
    return value


def _json_type(value: Any) -> str:
    return {
        list: "array",
        str: "string",
        bool: "boolean",
        int: "number",
        float: "number",
        type(None): "null",
        dict: "object",
    }.get(type(value), type(value).__name__)


def decode_predict(
    request: Mapping[str, Any], servable: Servable, *, max_batch_size: int
) -> PredictRequest:
    """Validates a parsed predict body against the servable's signature.

    Raises:
        BadRequest: missing/extra keys, unknown signature, wrong shapes or dtypes,
            or a batch over `max_batch_size`.
    """
    unknown = sorted(set(request) - REQUEST_KEYS)
    if unknown:
        raise BadRequest(
            f"Unknown key(s) {', '.join(map(repr, unknown))} in the request; "
            "expected 'signature_name' and one of 'instances' or 'inputs'"
        )
    name = request.get("signature_name", DEFAULT_SIGNATURE)
    if not isinstance(name, str):
        raise BadRequest(f"'signature_name' must be a string; received a JSON {_json_type(name)}")
    signature = servable.signature(name or DEFAULT_SIGNATURE)
    has_instances, has_inputs = "instances" in request, "inputs" in request
    if has_instances and has_inputs:
        raise BadRequest(
            "The request has both 'instances' and 'inputs'; send only one "
            "('instances': row format, 'inputs': columnar format)"
        )
    if has_instances:
        return _decode_rows(request["instances"], signature, max_batch_size)
    if has_inputs:
        return _decode_columns(request["inputs"], signature, max_batch_size)
    raise BadRequest(
        "Missing 'inputs' or 'instances' key in the request; e.g. "
        '{"instances": [example, ...]} or {"inputs": {"name": value}}'
    )


def _decode_rows(instances: Any, signature: SignatureInfo, max_batch_size: int) -> PredictRequest:
    if not isinstance(instances, list) or not instances:
        raise BadRequest(
            "'instances' must be a non-empty JSON array with one element per example; "
            f"received {_describe(instances)}"
        )
    for info in signature.inputs.values():
        if not info.batched:
            raise BadRequest(
                f"Input {info.name!r} of signature {signature.name!r} has shape {info.shape_text()} "
                "with no batch dimension, so it does not fit the row format ('instances'); use the "
                f'columnar format: {{"signature_name": "{signature.name}", '
                f'"inputs": {{"{info.name}": value}}}}'
            )
    rows = len(instances)
    if rows > max_batch_size:
        raise BadRequest(
            f"{rows} instances are over the server's limit of {max_batch_size} per request"
        )
    names = list(signature.inputs)
    if len(names) == 1 and not isinstance(instances[0], dict):
        columns = {names[0]: instances}
    else:
        columns = {n: [] for n in names}
        for i, instance in enumerate(instances):
            if not isinstance(instance, dict):
                raise BadRequest(
                    f"Instance {i} must be a JSON object with the inputs {names} of signature "
                    f"{signature.name!r}; received {_describe(instance)}"
                )
            if instance.keys() != columns.keys():
                raise BadRequest(
                    f"Instance {i} has keys {sorted(instance)}; signature "
                    f"{signature.name!r} needs exactly {names}"
                )
            for n in names:
                columns[n].append(instance[n])
    arrays = {
        n: _to_array(columns[n], signature.inputs[n], signature, max_batch_size, rows=True)
        for n in names
    }
    return PredictRequest(signature, arrays, row_format=True, rows=rows)


def _decode_columns(inputs: Any, signature: SignatureInfo, max_batch_size: int) -> PredictRequest:
    names = list(signature.inputs)
    if isinstance(inputs, dict):
        missing = [n for n in names if n not in inputs]
        extra = sorted(k for k in inputs if k not in signature.inputs)
        if missing or extra:
            raise BadRequest(
                f"Signature {signature.name!r} needs the inputs {names}; "
                + (f"missing {missing}" if missing else "")
                + ("; " if missing and extra else "")
                + (f"unknown {extra}" if extra else "")
            )
        columns = dict(inputs)
    elif len(names) == 1:
        columns = {names[0]: inputs}
    else:
        raise BadRequest(
            f"Signature {signature.name!r} has several inputs {names}: send "
            '"inputs" as an object {"name": value, ...}'
        )
    arrays = {
        n: _to_array(columns[n], signature.inputs[n], signature, max_batch_size, rows=False)
        for n in names
    }
    sizes = {a.shape[0] for n, a in arrays.items() if signature.inputs[n].batched}
    rows = (
        sizes.pop()
        if len(sizes) == 1 and all(i.batched for i in signature.inputs.values())
        else None
    )
    return PredictRequest(signature, arrays, row_format=False, rows=rows)


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return f"a JSON array of length {len(value)}"
    return f"a JSON {_json_type(value)}"


def _to_array(
    value: Any, info: TensorInfo, signature: SignatureInfo, max_batch_size: int, *, rows: bool
) -> np.ndarray:
    """One input's JSON value as an array of the signature's dtype and shape."""
    where = f"Input {info.name!r} of signature {signature.name!r}"
    dtype = info.dtype
    if isinstance(value, dict):
        raise BadRequest(
            f"{where}: expected a number or nested arrays of numbers; received a JSON "
            "object (base64 {'b64': ...} values are only for string tensors)"
        )
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        array = None
    kind = "O" if array is None else array.dtype.kind
    if dtype.is_floating:
        ok = kind in "fiu"
    elif dtype.is_integer:
        ok = kind in "iu"
    elif dtype.is_bool:
        ok = kind == "b"
    elif dtype.name == "string":
        ok = kind in "US"
    else:
        raise BadRequest(f"{where} has dtype {dtype.name}, which the REST server does not support")
    if not ok:
        raise BadRequest(
            f"{where} needs {dtype.name} values in a rectangular array; received "
            f"{_KIND_NAMES.get(kind, kind)}"
            + (" (check that every row has the same length)" if kind == "O" else "")
        )
    assert array is not None, (
        "a value that did not convert to an array has kind 'O' (rejected above)"
    )
    if info.shape is not None:
        shape = array.shape
        expected = info.shape
        if len(shape) != len(expected) or any(
            e is not None and e != s for e, s in zip(expected, shape)
        ):
            if rows:
                each = "[" + ", ".join("-1" if d is None else str(d) for d in expected[1:]) + "]"
                got = list(shape[1:]) if len(shape) >= 1 else list(shape)
                raise BadRequest(f"{where}: each instance needs shape {each}; received shape {got}")
            raise BadRequest(
                f"{where} needs shape {info.shape_text()} (-1: any size); "
                f"received shape {list(shape)}"
            )
        if info.batched and shape[0] > max_batch_size:
            raise BadRequest(
                f"{where}: a batch of {shape[0]} is over the server's limit of "
                f"{max_batch_size} per request"
            )
    if dtype.is_integer:
        limits = np.iinfo(dtype.as_numpy_dtype)
        if array.size and (array.min() < limits.min or array.max() > limits.max):
            raise BadRequest(f"{where}: values must fit {dtype.name} [{limits.min}, {limits.max}]")
        if array.ndim == 0 and int(array) > max_batch_size:
            # A scalar integer input is a count (e.g. how many samples to draw):
            # bounded like a batch so one request cannot exhaust memory.
            raise BadRequest(
                f"{where}: {int(array)} is over the server's limit of {max_batch_size} per request"
            )
    if dtype.name == "string":
        return np.char.encode(array.astype(str), "utf-8") if kind == "U" else array
    return array.astype(dtype.as_numpy_dtype, copy=False)


def encode_predictions(outputs: Mapping[str, np.ndarray], request: PredictRequest) -> bytes:
    """The JSON answer in the request's format (`predictions` or `outputs`)."""
    names = list(request.signature.outputs) or sorted(outputs)
    if not request.row_format:
        if len(names) == 1:
            return json.dumps({"outputs": _tolist(outputs[names[0]])}).encode()
        return json.dumps({"outputs": {n: _tolist(outputs[n]) for n in names}}).encode()
    for n in names:
        array = outputs[n]
        if array.ndim == 0 or array.shape[0] != request.rows:
            raise BadRequest(
                f"Output {n!r} of signature {request.signature.name!r} has shape {list(array.shape)}, "
                f"not one row per instance ({request.rows}); use the columnar format ('inputs')"
            )
    if len(names) == 1:
        return json.dumps({"predictions": _tolist(outputs[names[0]])}).encode()
    columns = [_tolist(outputs[n]) for n in names]
    return json.dumps({"predictions": [dict(zip(names, row)) for row in zip(*columns)]}).encode()


def _tolist(array: np.ndarray) -> Any:
    if array.dtype.kind in "SO":  # string tensors come back as bytes
        return np.vectorize(
            lambda b: b.decode("utf-8", "replace") if isinstance(b, bytes) else b, otypes=[object]
        )(array).tolist()
    return array.tolist()
