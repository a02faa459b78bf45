"""One loaded model version: its signatures as read from the SavedModel, callable on NumPy arrays.

Nothing here knows keras-rt's signature names: inputs and outputs (names,
dtypes, shapes) come from `loaded.signatures[name].structured_input_signature`
and `.structured_outputs`, so any TF Serving SavedModel can be served.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from keras_rt.serving.errors import BadRequest
from keras_rt.serving.graph_check import check_saved_model
from keras_rt.serving.redact import redact_paths

PREDICT_METHOD = "tensorflow/serving/predict"


@dataclasses.dataclass(frozen=True)
class TensorInfo:
    """Name, dtype and shape of one signature input or output.

    `shape` is a tuple with `None` for unknown dimensions, or `None` when
    even the rank is unknown.
    """

    name: str
    dtype: tf.DType
    shape: tuple[int | None, ...] | None

    @classmethod
    def from_spec(cls, name: str, spec: tf.TensorSpec) -> TensorInfo:
        shape = None if spec.shape.rank is None else tuple(spec.shape.as_list())
        return cls(name=name, dtype=spec.dtype, shape=shape)

    @property
    def batched(self) -> bool:
        """True when the leading dimension is a free batch dimension."""
        return self.shape is not None and len(self.shape) >= 1 and self.shape[0] is None

    def shape_text(self) -> str:
        if self.shape is None:
            return "unknown rank"
        return "[" + ", ".join("-1" if d is None else str(d) for d in self.shape) + "]"

    def to_json(self) -> dict[str, Any]:
        """TF Serving's `TensorInfo` JSON (as in its metadata answer)."""
        if self.shape is None:
            tensor_shape: dict[str, Any] = {"dim": [], "unknown_rank": True}
        else:
            tensor_shape = {
                "dim": [{"size": str(-1 if d is None else d), "name": ""} for d in self.shape],
                "unknown_rank": False,
            }
        return {
            "dtype": _dtype_enum_name(self.dtype),
            "tensor_shape": tensor_shape,
            "name": self.name,
        }


def _dtype_enum_name(dtype: tf.DType) -> str:
    from tensorflow.core.framework import types_pb2

    return types_pb2.DataType.Name(dtype.as_datatype_enum)


def _tf_message(error: tf.errors.OpError) -> str:
    """The first line of a TensorFlow error without its `{{function_node ...}}` prefixes."""
    lines = (error.message or "").strip().splitlines() or [type(error).__name__]
    text = re.sub(r"\{\{[^}]*\}\}\s*", "", lines[0]).strip() or type(error).__name__
    return redact_paths(text)


class SignatureInfo:
    """A callable signature of a loaded SavedModel, with its input/output infos.

    Call it with a dict of NumPy arrays (already validated against
    `inputs`); it returns a dict of NumPy arrays keyed by output name.
    """

    def __init__(self, name: str, function: Any):
        self.name = name
        self._function = function
        args, kwargs = function.structured_input_signature
        if args:
            raise ValueError(
                f"Signature {name!r} has positional inputs; TF Serving signatures are named."
            )
        self.inputs: dict[str, TensorInfo] = {
            key: TensorInfo.from_spec(key, spec) for key, spec in sorted(kwargs.items())
        }
        outputs = function.structured_outputs
        if not isinstance(outputs, Mapping):
            raise ValueError(
                f"Signature {name!r} has unnamed outputs; TF Serving signatures are named."
            )
        self.outputs: dict[str, TensorInfo] = {
            key: TensorInfo.from_spec(key, spec) for key, spec in sorted(outputs.items())
        }
        # Requests to a batchable signature can be concatenated along axis 0.
        self.batchable = bool(self.inputs) and all(
            info.batched for info in (*self.inputs.values(), *self.outputs.values())
        )
        self._single_input = next(iter(self.inputs)) if len(self.inputs) == 1 else None

    def __call__(self, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        try:
            result = self._function(**{k: tf.constant(v) for k, v in arrays.items()})
        except tf.errors.InvalidArgumentError as error:
            # e.g. a negative count: the model itself refused the values.
            raise BadRequest(
                f"Signature {self.name!r} refused the input: {_tf_message(error)}"
            ) from None
        return {key: value.numpy() for key, value in result.items()}

    def to_json(self) -> dict[str, Any]:
        """TF Serving's `SignatureDef` JSON."""
        return {
            "inputs": {k: v.to_json() for k, v in self.inputs.items()},
            "outputs": {k: v.to_json() for k, v in self.outputs.items()},
            "method_name": PREDICT_METHOD,
        }


class Servable:
    """One loaded version of a model: `name`, `version`, `path` and `signatures`.

    Args:
        name: the model's name.
        version: the integer version.
        path: the version folder.
        loaded: the object returned by `tf.saved_model.load` (kept alive here).
    """

    def __init__(self, name: str, version: int, path: str, loaded: Any):
        self.name = name
        self.version = version
        self.path = path
        self._loaded = loaded
        self.signatures: dict[str, SignatureInfo] = {
            key: SignatureInfo(key, fn) for key, fn in sorted(loaded.signatures.items())
        }
        if not self.signatures:
            raise ValueError(f"The SavedModel of {name!r} version {version} has no signatures.")

    @classmethod
    def load(cls, name: str, version: int, path: str, *, allow_file_ops: bool = False) -> Servable:
        """Loads a SavedModel version folder with the `serve` tag.

        Args:
            name: the model's name.
            version: the integer version.
            path: the version folder.
            allow_file_ops: skip the check that refuses graphs with file-system,
                process or network ops (`graph_check.check_saved_model`), which
                runs before anything is loaded. Only for trusted models.

        Raises:
            graph_check.UnsafeModelError: the graphs use a forbidden op.
        """
        if not allow_file_ops:
            check_saved_model(path)
        return cls(name, version, path, tf.saved_model.load(path, tags=["serve"]))

    def signature(self, signature_name: str) -> SignatureInfo:
        """The named signature; `BadRequest` listing the valid names if unknown."""
        try:
            return self.signatures[signature_name]
        except KeyError:
            raise BadRequest(
                f"Serving signature name: {signature_name!r} not found in signature def of "
                f"model {self.name!r} version {self.version}; "
                f"valid names: {', '.join(sorted(self.signatures))}"
            ) from None

    def metadata_json(self) -> dict[str, Any]:
        """TF Serving's `GET /v1/models/{name}/metadata` answer."""
        return {
            "model_spec": {"name": self.name, "signature_name": "", "version": str(self.version)},
            "metadata": {
                "signature_def": {
                    "signature_def": {k: s.to_json() for k, s in self.signatures.items()}
                }
            },
        }
