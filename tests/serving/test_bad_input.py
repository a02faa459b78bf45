"""Bad requests get a 4xx answer with TF Serving's {"error": ...} body; the server keeps serving."""

import json

import pytest

from tests.serving.client import call, predict
from tests.serving.conftest import INPUT_DIM

ROW = [0.5] * INPUT_DIM
PREDICT = "/v1/models/mlp_vae:predict"


def assert_refused(code, body, status=None, words=()):
    assert 400 <= code < 500, (code, body)
    if status is not None:
        assert code == status, (code, body)
    assert isinstance(body, dict) and set(body) == {"error"} and body["error"], body
    for word in words:
        assert word in body["error"], (word, body["error"])


@pytest.mark.parametrize(
    "raw, words",
    [
        (b"{not json", ["Malformed JSON"]),
        (b"", ["empty"]),
        (b"[1, 2]", ["JSON object", "array"]),
        (b'"instances"', ["JSON object"]),
        (b"\xff\xfe\x00garbage", ["Malformed JSON"]),
        (b"[" * 100000 + b"]" * 100000, []),  # deep nesting
    ],
)
def test_malformed_bodies(server, raw, words):
    assert_refused(*call(server.url, "POST", PREDICT, raw, raw=True), status=400, words=words)


@pytest.mark.parametrize(
    "body, words",
    [
        ({"foo": 1}, ["'foo'"]),
        ({}, ["Missing 'inputs' or 'instances'"]),
        ({"signature_name": "encode"}, ["Missing"]),
        ({"instances": [ROW], "inputs": [ROW]}, ["both"]),
        ({"instances": ROW[0]}, ["non-empty JSON array"]),
        ({"instances": []}, ["non-empty JSON array"]),
        ({"instances": [[1, 2]]}, ["shape [64]", "[2]"]),
        ({"instances": [ROW, ROW[:10]]}, ["rectangular", "same length"]),
        ({"instances": [["a"] * INPUT_DIM]}, ["float32", "strings"]),
        ({"instances": [[None] * INPUT_DIM]}, ["float32"]),
        ({"instances": [[True] * INPUT_DIM]}, ["booleans"]),
        ({"instances": [{"x": ROW, "y": 1}]}, ["needs exactly ['x']"]),
        ({"instances": [{"y": ROW}]}, ["needs exactly ['x']"]),
        ({"instances": [ROW, {"x": ROW}]}, ["float32"]),
        ({"inputs": ROW}, ["needs shape [-1, 64]", "received shape [64]"]),
        ({"inputs": {"x": [ROW], "y": [ROW]}}, ["unknown ['y']"]),
        ({"inputs": {"b64": "AAAA"}}, ["missing ['x']"]),
        ({"inputs": {"x": {"b64": "AAAA"}}}, ["JSON object"]),
        ({"instances": [ROW] * 513}, ["513", "limit of 512"]),
        ({"signature_name": 3, "instances": [ROW]}, ["must be a string"]),
        ({"signature_name": "nope", "instances": [ROW]}, ["'nope'", "serving_default", "encode"]),
        ({"signature_name": "decode", "instances": [ROW]}, ["shape [2]"]),
        ({"signature_name": "decode", "inputs": {"x": [[0, 0]]}}, ["missing ['z']"]),
        ({"signature_name": "sample", "instances": [4]}, ["columnar"]),
        ({"signature_name": "sample", "inputs": {"num_samples": 2.5}}, ["int32", "non-integer"]),
        ({"signature_name": "sample", "inputs": {"num_samples": [4]}}, ["shape []"]),
        ({"signature_name": "sample", "inputs": {"num_samples": -3}}, ["refused", ">= 0"]),
        ({"signature_name": "sample", "inputs": {"num_samples": 10**9}}, ["limit of 512"]),
        ({"signature_name": "sample", "inputs": {"num_samples": 10**30}}, ["int32"]),
        ({"signature_name": "sample", "inputs": {"num_samples": 2**40}}, ["fit int32"]),
    ],
)
def test_bodies_that_do_not_fit_the_signature(server, body, words):
    assert_refused(*predict(server.url, "mlp_vae", body), status=400, words=words)


def test_body_over_the_size_limit(server):
    body = json.dumps({"instances": [[0.123456789] * INPUT_DIM] * 400}).encode()
    assert len(body) > 256 * 1024
    assert_refused(*call(server.url, "POST", PREDICT, body, raw=True), status=413, words=["limit"])
    # A chunked upload (no Content-Length: http.client chunks an iterable body).
    chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
    assert_refused(*call(server.url, "POST", PREDICT, chunks, raw=True), status=413)


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("POST", "/v1/models/nope:predict", 404),
        ("GET", "/v1/models/nope", 404),
        ("GET", "/v1/models/nope/metadata", 404),
        ("POST", "/v1/models/mlp_vae/versions/7:predict", 404),
        ("GET", "/v1/models/mlp_vae/versions/7", 404),
        ("GET", "/v1/models/mlp_vae/versions/7/metadata", 404),
        ("POST", "/v1/models/mlp_vae/versions/abc:predict", 404),
        ("POST", "/v1/models/mlp_vae/versions/-1:predict", 404),
        ("POST", "/v1/models/mlp_vae:classify", 400),
        ("POST", "/v1/models/mlp_vae/versions/1:regress", 400),
        ("GET", "/v1/models/mlp_vae/labels/stable", 404),
        ("GET", "/v2/anything", 404),
        ("GET", "/", 404),
        ("GET", PREDICT, 404),
        ("DELETE", "/v1/models/mlp_vae", 405),
    ],
)
def test_unknown_models_versions_and_routes(server, method, path, status):
    body = {"instances": [ROW]} if method == "POST" else None
    assert_refused(*call(server.url, method, path, body), status=status)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/models/..%2F..:predict",
        "/v1/models/..%2F..%2Fetc%2Fpasswd:predict",
        "/v1/models/../../etc:predict",
        "/v1/models/..:predict",
        "/v1/models/.:predict",
        "/v1/models/%2E%2E:predict",
        "/v1/models/mlp_vae/versions/../1:predict",
        "/v1/models/mlp_vae/versions/..%2F1:predict",
        "/v1/models/mlp_vae/versions/1%2F..%2F..:predict",
        "/v1/models/mlp_vae%2F1:predict",
        "/v1/models/mlp_vae%00:predict",
        "/v1/models/%2Ftmp:predict",
    ],
)
def test_paths_cannot_reach_outside_the_base_path(server, path):
    assert_refused(*call(server.url, "POST", path, {"instances": [ROW]}))
    get_path = path.replace(":predict", "")
    assert_refused(*call(server.url, "GET", get_path))


def test_server_is_healthy_after_bad_input(server):
    assert call(server.url, "GET", "/v1/models/mlp_vae")[0] == 200
    code, body = predict(server.url, "mlp_vae", {"instances": [ROW]})
    assert code == 200 and len(body["predictions"]) == 1
