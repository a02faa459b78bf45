"""Bounded concurrent load: several keep-alive clients, hundreds of requests, zero failures."""

import http.client
import json
import socket
import threading

import numpy as np
import pytest

from tests.serving.client import call
from tests.serving.conftest import INPUT_DIM, LATENT_DIM

CLIENTS, REQUESTS = 4, 100


def run_clients(server, make_request, check, clients=CLIENTS, requests=REQUESTS, timeout=60.0):
    """Each client thread sends `requests` POSTs on one keep-alive connection."""
    failures, done = [], []
    host, port = server.host, server.port

    def client(i):
        conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for j in range(requests):
                path, body, expected = make_request(i, j)
                try:
                    conn.request(
                        "POST",
                        path,
                        json.dumps(body).encode(),
                        {"Content-Type": "application/json"},
                    )
                    response = conn.getresponse()
                    answer = json.loads(response.read())
                    if response.status != 200:
                        failures.append((i, j, response.status, answer))
                    else:
                        check(answer, expected)
                        done.append(1)
                except Exception as error:  # noqa: BLE001 - every failure is counted
                    failures.append((i, j, repr(error)))
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=10)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "clients did not finish in time"
    assert failures == []
    assert len(done) == clients * requests


def mixed_request(server):
    """Requests that cycle through every signature and both formats."""
    decode = server.store.get("mlp_vae").signatures["decode"]
    rng = np.random.RandomState(0)

    def make(i, j):
        rows = 1 + (i + j) % 3
        kind = j % 5
        if kind == 0:
            return (
                "/v1/models/mlp_vae:predict",
                {"instances": rng.rand(rows, INPUT_DIM).tolist()},
                ("predictions", rows),
            )
        if kind == 1:
            return (
                "/v1/models/mlp_vae/versions/1:predict",
                {"signature_name": "encode", "inputs": {"x": rng.rand(rows, INPUT_DIM).tolist()}},
                ("outputs", rows),
            )
        if kind == 2:
            z = np.full((rows, LATENT_DIM), (i * REQUESTS + j) / 100.0, np.float32)
            return (
                "/v1/models/mlp_vae:predict",
                {"signature_name": "decode", "instances": z.tolist()},
                ("decode", decode({"z": z})["x"]),
            )
        if kind == 3:
            return (
                "/v1/models/mlp_vae:predict",
                {"signature_name": "sample", "inputs": {"num_samples": rows}},
                ("outputs", rows),
            )
        return (
            "/v1/models/mlp_vae:predict",
            {"signature_name": "log_likelihood", "instances": rng.rand(rows, INPUT_DIM).tolist()},
            ("predictions", rows),
        )

    return make


def check_mixed(answer, expected):
    key, value = expected
    if key == "decode":
        np.testing.assert_allclose(answer["predictions"], value, rtol=1e-5, atol=1e-6)
    else:
        out = answer[key]
        assert len(out if not isinstance(out, dict) else out["z_mean"]) == value


def test_concurrent_mixed_load_has_no_failures(server):
    run_clients(server, mixed_request(server), check_mixed)
    assert call(server.url, "GET", "/v1/models/mlp_vae")[0] == 200


@pytest.fixture(scope="module")
def batching_server(exported):
    from keras_rt.serving import ModelStore, start_server

    with start_server(
        ModelStore(str(exported), poll_seconds=0),
        batching=True,
        batch_max_rows=16,
        batch_timeout_ms=1.0,
    ) as running:
        yield running


def test_batching_merges_requests_and_returns_each_its_own_rows(batching_server):
    run_clients(batching_server, mixed_request(batching_server), check_mixed)
    batcher = batching_server.app.state.batcher
    assert batcher.requests > 0
    assert batcher.batches < batcher.requests  # some requests shared a model call


def test_a_bad_request_in_a_batch_fails_alone(batching_server):
    from keras_rt.serving.batching import _Item, _run_batch

    signature = batching_server.store.get("mlp_vae").signatures["decode"]
    good = np.zeros((2, LATENT_DIM), np.float32)
    bad = np.zeros((1, LATENT_DIM + 1), np.float32)  # cannot be concatenated with the others
    results = _run_batch(
        [
            _Item(signature, {"z": good}, 2, None),
            _Item(signature, {"z": bad}, 1, None),
            _Item(signature, {"z": good}, 2, None),
        ]
    )
    assert [ok for ok, _ in results] == [True, False, True]
    assert results[0][1]["x"].shape == (2, INPUT_DIM)
