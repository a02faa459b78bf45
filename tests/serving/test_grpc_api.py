"""TF Serving's gRPC API, spoken by the official `tensorflow-serving-api` client stubs."""

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from tests.serving.client import call
from tests.serving.conftest import INPUT_DIM, LATENT_DIM

MAX_BODY = 64 * 1024


@pytest.fixture(scope="module")
def running(exported):
    from keras_rt.serving import ModelStore, start_server

    store = ModelStore(
        str(exported), poll_seconds=0, labels={"mlp_vae": {"stable": 1, "canary": 7}}
    )
    with start_server(store, grpc_port=0, max_body_bytes=MAX_BODY, metrics=True) as server:
        yield server


@pytest.fixture(scope="module")
def stubs(running):
    channel = grpc.insecure_channel(running.grpc_target)
    yield (
        prediction_service_pb2_grpc.PredictionServiceStub(channel),
        model_service_pb2_grpc.ModelServiceStub(channel),
    )
    channel.close()


def request(x, signature="", **spec):
    r = predict_pb2.PredictRequest()
    r.model_spec.name = spec.pop("name", "mlp_vae")
    r.model_spec.signature_name = signature
    if "version" in spec:
        r.model_spec.version.value = spec.pop("version")
    if "label" in spec:
        r.model_spec.version_label = spec.pop("label")
    if x is not None:
        r.inputs["x"].CopyFrom(tf.make_tensor_proto(x))
    return r


def refused(call_, req):
    with pytest.raises(grpc.RpcError) as info:
        call_(req, timeout=10)
    return info.value.code(), info.value.details()


def test_predict_matches_rest(running, stubs, x):
    pred, _ = stubs
    out = pred.Predict(request(x, "encode"), timeout=10)
    z_mean = tf.make_ndarray(out.outputs["z_mean"])
    assert z_mean.shape == (3, LATENT_DIM)
    assert out.model_spec.version.value == 1 and out.model_spec.signature_name == "encode"
    status, body = call(
        running.url,
        "POST",
        "/v1/models/mlp_vae:predict",
        {"signature_name": "encode", "inputs": x.tolist()},
    )
    assert status == 200
    np.testing.assert_allclose(z_mean, np.asarray(body["outputs"]["z_mean"]), rtol=1e-5)
    by_version = pred.Predict(request(x, "encode", version=1), timeout=10)
    by_label = pred.Predict(request(x, "encode", label="stable"), timeout=10)
    for out in (by_version, by_label):
        np.testing.assert_allclose(tf.make_ndarray(out.outputs["z_mean"]), z_mean, rtol=1e-6)
    filtered = request(x, "encode")
    filtered.output_filter.append("z_mean")
    assert list(pred.Predict(filtered, timeout=10).outputs) == ["z_mean"]


def test_metadata_and_status(stubs):
    pred, models = stubs
    m = get_model_metadata_pb2.GetModelMetadataRequest()
    m.model_spec.name = "mlp_vae"
    m.metadata_field.append("signature_def")
    md = pred.GetModelMetadata(m, timeout=10)
    defs = get_model_metadata_pb2.SignatureDefMap()
    md.metadata["signature_def"].Unpack(defs)
    assert {"serving_default", "encode"} <= set(defs.signature_def)
    x_info = defs.signature_def["encode"].inputs["x"]
    assert [d.size for d in x_info.tensor_shape.dim] == [-1, INPUT_DIM]
    assert x_info.dtype == tf.float32.as_datatype_enum
    s = get_model_status_pb2.GetModelStatusRequest()
    s.model_spec.name = "mlp_vae"
    st = models.GetModelStatus(s, timeout=10)
    assert st.model_version_status[0].version == 1
    assert st.model_version_status[0].state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
    s.model_spec.version_label = "stable"
    assert models.GetModelStatus(s, timeout=10).model_version_status[0].version == 1


@pytest.mark.parametrize(
    "make, code, words",
    [
        (lambda x: request(x, name="nope"), "NOT_FOUND", "nope"),
        (lambda x: request(x, version=9), "NOT_FOUND", "9"),
        (lambda x: request(x, label="nope"), "NOT_FOUND", "stable"),
        (lambda x: request(x, label="canary"), "NOT_FOUND", "version 7"),
        (lambda x: request(x, "nope"), "INVALID_ARGUMENT", "valid names"),
        (lambda x: request(x[:, :5]), "INVALID_ARGUMENT", "shape"),
        (lambda x: request(x.astype(np.float64)), "INVALID_ARGUMENT", "float32"),
        (lambda x: request(None), "INVALID_ARGUMENT", "missing"),
        (lambda x: request(np.zeros((300, INPUT_DIM), np.float32)), "RESOURCE_EXHAUSTED", ""),
    ],
    ids=["model", "version", "label", "label-unloaded", "signature", "shape", "dtype",
         "no-input", "oversize"],
)  # fmt: skip
def test_bad_requests_get_grpc_codes(running, stubs, x, make, code, words):
    pred, _ = stubs
    got, details = refused(pred.Predict, make(x))
    assert got == getattr(grpc.StatusCode, code), details
    assert words in details
    assert call(running.url, "GET", "/v1/models/mlp_vae")[0] == 200  # still serving


def test_unsupported_methods_say_so(stubs):
    from tensorflow_serving.apis import classification_pb2

    pred, _ = stubs
    req = classification_pb2.ClassificationRequest()
    req.model_spec.name = "mlp_vae"
    code, details = refused(pred.Classify, req)
    assert code == grpc.StatusCode.UNIMPLEMENTED and "not supported" in details


def test_rest_labels_and_metrics(running, x):
    status, body = call(running.url, "GET", "/v1/models/mlp_vae/labels/stable")
    assert status == 200 and body["model_version_status"][0]["version"] == "1"
    status, body = call(
        running.url, "POST", "/v1/models/mlp_vae/labels/stable:predict", {"instances": x.tolist()}
    )
    assert status == 200 and len(body["predictions"]) == 3
    assert call(running.url, "GET", "/v1/models/mlp_vae/labels/stable/metadata")[0] == 200
    status, body = call(running.url, "GET", "/v1/models/mlp_vae/labels/canary")
    assert status == 404
    status, body = call(
        running.url, "POST", "/v1/models/mlp_vae/labels/canary:predict", {"instances": x.tolist()}
    )
    assert status == 404 and "version 7" in body["error"]
    status, text = call(running.url, "GET", "/monitoring/prometheus/metrics")
    assert status == 200
    assert "# TYPE keras_rt_serving_requests_total counter" in text
    assert (
        'api="rest",method="predict",model="mlp_vae",signature="serving_default",status="200"'
        in text
    )
    assert 'api="grpc",method="Predict",model="mlp_vae",signature="encode",status="OK"' in text
    assert 'keras_rt_serving_model_loads_total{model="mlp_vae",result="success"} 1.0' in text
    assert "keras_rt_serving_request_latency_seconds_bucket" in text


def test_metrics_are_off_by_default(server):
    assert call(server.url, "GET", "/monitoring/prometheus/metrics")[0] == 404


def test_a_configured_model_not_loaded_yet_is_unavailable(exported, x):
    from keras_rt.serving import ModelStore, Unavailable, create_grpc_server

    store = ModelStore(None, {"mlp_vae": str(exported / "mlp_vae")}, poll_seconds=0)
    with pytest.raises(Unavailable):
        store.get("mlp_vae")
    server, port = create_grpc_server(store, port=0)
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            code, details = refused(stub.Predict, request(x))
        assert code == grpc.StatusCode.UNAVAILABLE and "not loaded yet" in details
    finally:
        server.stop(None)
