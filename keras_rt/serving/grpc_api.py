"""TensorFlow Serving's gRPC API over a `ModelStore`: `PredictionService` and `ModelService`.

Implemented: `Predict`, `GetModelMetadata` (the `signature_def` field) and
`GetModelStatus`; `Classify`, `Regress`, `MultiInference` and
`HandleReloadConfigRequest` answer UNIMPLEMENTED (keras-rt's signatures are
predict signatures; reload the config by editing the file).

Requests are validated exactly as REST's columnar format (`rest.decode_predict`)
after a stricter dtype check (a `TensorProto`'s dtype must be the signature's),
so both APIs accept and refuse the same inputs. Refusals map to gRPC codes as
TF Serving's do (`errors.GRPC_CODES`): NOT_FOUND for unknown models, versions
and labels, INVALID_ARGUMENT for bad signatures, shapes and dtypes,
RESOURCE_EXHAUSTED for messages over `max_body_bytes` (gRPC's own receive
limit) and for more than `max_concurrent_requests` calls in flight, UNAVAILABLE
for a configured model that is not loaded yet.
"""

from __future__ import annotations

import logging
import time
from concurrent import futures
from typing import Any

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_shape_pb2, types_pb2
from tensorflow.core.protobuf import error_codes_pb2, meta_graph_pb2
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from keras_rt.serving import rest
from keras_rt.serving.errors import GRPC_CODES, BadRequest, ServingError
from keras_rt.serving.metrics import ServingMetrics
from keras_rt.serving.model_store import ModelStore
from keras_rt.serving.redact import redact_paths
from keras_rt.serving.servable import Servable, TensorInfo

logger = logging.getLogger("keras_rt.serving")

SIGNATURE_DEF = "signature_def"


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _code(error: ServingError) -> grpc.StatusCode:
    return getattr(grpc.StatusCode, GRPC_CODES.get(error.status, "UNKNOWN"))


def _servable(store: ModelStore, spec: Any) -> Servable:
    """The servable a `ModelSpec` names (version, version_label or the newest)."""
    if not spec.name:
        raise BadRequest("Missing ModelSpec.name in the request")
    choice = spec.WhichOneof("version_choice")
    if choice == "version":
        return store.get(spec.name, spec.version.value)
    if choice == "version_label":
        return store.get(spec.name, label=spec.version_label)
    return store.get(spec.name)


def _tensor_info_proto(info: TensorInfo) -> meta_graph_pb2.TensorInfo:
    shape = tensor_shape_pb2.TensorShapeProto(unknown_rank=info.shape is None)
    for d in info.shape or ():
        shape.dim.add(size=-1 if d is None else d)
    return meta_graph_pb2.TensorInfo(
        name=info.name, dtype=info.dtype.as_datatype_enum, tensor_shape=shape
    )


def signature_def_map(servable: Servable) -> get_model_metadata_pb2.SignatureDefMap:
    """The servable's signatures as TF Serving's `SignatureDefMap`."""
    result = get_model_metadata_pb2.SignatureDefMap()
    for name, signature in servable.signatures.items():
        sig = result.signature_def[name]
        sig.method_name = "tensorflow/serving/predict"
        for key, info in signature.inputs.items():
            sig.inputs[key].CopyFrom(_tensor_info_proto(info))
        for key, info in signature.outputs.items():
            sig.outputs[key].CopyFrom(_tensor_info_proto(info))
    return result


def decode_tensors(
    request: predict_pb2.PredictRequest, servable: Servable, max_batch_size: int
) -> rest.PredictRequest:
    """A `PredictRequest`'s inputs as validated arrays (REST's columnar validation)."""
    signature = servable.signature(request.model_spec.signature_name or rest.DEFAULT_SIGNATURE)
    arrays: dict[str, np.ndarray] = {}
    for key, proto in request.inputs.items():
        info = signature.inputs.get(key)
        if info is not None and proto.dtype != info.dtype.as_datatype_enum:
            raise BadRequest(
                f"Input {key!r} of signature {signature.name!r} needs dtype {info.dtype.name}; "
                f"received {types_pb2.DataType.Name(proto.dtype)}"
            )
        try:
            array = tf.make_ndarray(proto)
        except (TypeError, ValueError) as error:
            raise BadRequest(f"Input {key!r}: malformed TensorProto: {error}"[:500]) from None
        if array.dtype == object:
            array = array.astype(np.bytes_)
        arrays[key] = array
    return rest.decode_predict(
        {"signature_name": signature.name, "inputs": arrays},
        servable,
        max_batch_size=max_batch_size,
    )


class _Service(
    prediction_service_pb2_grpc.PredictionServiceServicer,
    model_service_pb2_grpc.ModelServiceServicer,
):
    def __init__(self, store: ModelStore, max_batch_size: int, metrics: ServingMetrics | None):
        self.store, self.max_batch_size, self.metrics = store, max_batch_size, metrics

    def _call(self, method: str, context: grpc.ServicerContext, work) -> Any:
        """Runs `work(labels)`, maps refusals to gRPC status codes and records metrics."""
        start = time.perf_counter()
        labels: dict[str, str] = {}
        code = grpc.StatusCode.OK
        try:
            return work(labels)
        except ServingError as error:
            code, message = _code(error), error.message
        except _Abort as error:
            code, message = error.code, error.message
        except Exception as error:  # noqa: BLE001 - answer, log, keep serving
            logger.exception("gRPC %s failed", method)
            code = grpc.StatusCode.INTERNAL
            message = redact_paths(f"{type(error).__name__}: {error}".splitlines()[0])[:1000]
        finally:
            if self.metrics is not None:
                self.metrics.observe(
                    "grpc", method, code.name, time.perf_counter() - start, **labels
                )
        context.abort(code, message)

    @staticmethod
    def _resolved(labels: dict[str, str], servable: Servable) -> None:
        labels.update(model=servable.name, version=str(servable.version))

    def Predict(self, request, context):
        def work(labels):
            servable = _servable(self.store, request.model_spec)
            self._resolved(labels, servable)
            decoded = decode_tensors(request, servable, self.max_batch_size)
            labels["signature"] = decoded.signature.name
            outputs = decoded.signature(decoded.arrays)
            wanted = list(request.output_filter) or list(outputs)
            unknown = [n for n in wanted if n not in outputs]
            if unknown:
                raise BadRequest(
                    f"output_filter names unknown outputs {unknown} of signature "
                    f"{decoded.signature.name!r}; outputs: {sorted(outputs)}"
                )
            response = predict_pb2.PredictResponse()
            response.model_spec.name = servable.name
            response.model_spec.version.value = servable.version
            response.model_spec.signature_name = decoded.signature.name
            for name in wanted:
                response.outputs[name].CopyFrom(tf.make_tensor_proto(outputs[name]))
            return response

        return self._call("Predict", context, work)

    def GetModelMetadata(self, request, context):
        def work(labels):
            servable = _servable(self.store, request.model_spec)
            self._resolved(labels, servable)
            fields = list(request.metadata_field)
            if fields != [SIGNATURE_DEF]:
                raise BadRequest(
                    f"Metadata field(s) {fields or '(none)'} not supported; "
                    f"ask for exactly [{SIGNATURE_DEF!r}]"
                )
            response = get_model_metadata_pb2.GetModelMetadataResponse()
            response.model_spec.name = servable.name
            response.model_spec.version.value = servable.version
            response.metadata[SIGNATURE_DEF].Pack(signature_def_map(servable))
            return response

        return self._call("GetModelMetadata", context, work)

    def GetModelStatus(self, request, context):
        def work(labels):
            spec = request.model_spec
            if not spec.name:
                raise BadRequest("Missing ModelSpec.name in the request")
            choice = spec.WhichOneof("version_choice")
            status = self.store.status_json(
                spec.name,
                spec.version.value if choice == "version" else None,
                spec.version_label if choice == "version_label" else None,
            )
            labels["model"] = spec.name
            response = get_model_status_pb2.GetModelStatusResponse()
            for item in status["model_version_status"]:
                vs = response.model_version_status.add()
                vs.version = int(item["version"])
                vs.state = get_model_status_pb2.ModelVersionStatus.State.Value(item["state"])
                code = item["status"]["error_code"]
                if code in error_codes_pb2.Code.keys():
                    vs.status.error_code = error_codes_pb2.Code.Value(code)
                else:
                    vs.status.error_code = error_codes_pb2.UNKNOWN
                vs.status.error_message = item["status"]["error_message"]
            return response

        return self._call("GetModelStatus", context, work)

    def _unimplemented(self, method: str, context, hint: str):
        def work(labels):
            raise _Abort(
                grpc.StatusCode.UNIMPLEMENTED, f"{method} is not supported by keras-rt; {hint}"
            )

        return self._call(method, context, work)

    def Classify(self, request, context):
        return self._unimplemented("Classify", context, "its signatures are predict signatures")

    def Regress(self, request, context):
        return self._unimplemented("Regress", context, "its signatures are predict signatures")

    def MultiInference(self, request, context):
        return self._unimplemented("MultiInference", context, "send one Predict per signature")

    def HandleReloadConfigRequest(self, request, context):
        return self._unimplemented(
            "HandleReloadConfigRequest", context, "edit the --model-config-file; it is polled"
        )


def create_grpc_server(
    store: ModelStore,
    *,
    host: str = "127.0.0.1",
    port: int = 8500,
    max_body_bytes: int = 8 * 1024 * 1024,
    max_batch_size: int = 4096,
    threads: int = 4,
    max_concurrent_requests: int = 64,
    reuse_port: bool = False,
    metrics: ServingMetrics | None = None,
) -> tuple[grpc.Server, int]:
    """A (not yet started) gRPC server bound to `host:port` and the port it got.

    Raises:
        ValueError: the port cannot be bound.
    """
    options = [
        ("grpc.max_receive_message_length", max_body_bytes),
        ("grpc.max_send_message_length", -1),
        ("grpc.so_reuseport", 1 if reuse_port else 0),
    ]
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="keras-rt-grpc"),
        options=options,
        maximum_concurrent_rpcs=max_concurrent_requests,
    )
    service = _Service(store, max_batch_size, metrics)
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(service, server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(service, server)
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError as error:
        raise ValueError(f"Cannot listen for gRPC on {address}: {error}") from None
    if not bound:
        raise ValueError(f"Cannot listen for gRPC on {address}: the port is in use or not allowed")
    return server, bound
