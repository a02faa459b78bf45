"""Read timeouts close half-open connections; a concurrency limit answers 503; disconnects log one line."""

import json
import logging
import socket
import time

import pytest

from tests.serving.client import call, predict
from tests.serving.conftest import INPUT_DIM

READ_TIMEOUT = 1.0
MAX_REQUESTS = 4
ROW = [0.5] * INPUT_DIM
PREDICT_HEAD = (
    "POST /v1/models/mlp_vae:predict HTTP/1.1\r\nHost: test\r\n"
    "Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
)


@pytest.fixture(scope="module")
def limited(exported):
    """A server with a short read timeout and a small concurrency limit."""
    from keras_rt.serving import ModelStore, start_server

    with start_server(
        ModelStore(str(exported), poll_seconds=0),
        read_timeout=READ_TIMEOUT,
        max_concurrent_requests=MAX_REQUESTS,
    ) as running:
        yield running


def connect(server, data=b""):
    sock = socket.create_connection((server.host, server.port), timeout=10)
    if data:
        sock.sendall(data)
    return sock


def limiter(server):
    """The app's `ConcurrencyLimit` middleware instance."""
    from keras_rt.serving import ConcurrencyLimit

    layer = server.app.middleware_stack
    while not isinstance(layer, ConcurrencyLimit):
        layer = layer.app
    return layer


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def read_until_closed(sock, deadline):
    """Everything the server sends until it closes; `None` if still open at `deadline`."""
    chunks = []
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return None
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    else:
        return None
    return b"".join(chunks)


def test_half_open_connections_are_closed_within_the_read_timeout(limited):
    partial = [
        b"",  # connects and sends nothing
        b"POST /v1/models/mlp_vae:predict HTTP/1.1\r\nHost: te",  # half the headers
        PREDICT_HEAD.format(length=1000).encode() + b'{"instances": [',  # half the body
    ]
    start = time.monotonic()
    sockets = [connect(limited, partial[i % 3]) for i in range(50)]
    try:
        deadline = start + READ_TIMEOUT + 5.0
        answers = [read_until_closed(s, deadline) for s in sockets]
        elapsed = time.monotonic() - start
    finally:
        for s in sockets:
            s.close()
    assert all(a is not None for a in answers), "some connections were left open"
    assert elapsed >= READ_TIMEOUT * 0.9
    for i, answer in enumerate(answers):
        head, _, body = answer.partition(b"\r\n\r\n")
        if i % 3 == 0:  # nothing was sent: closed without an answer
            assert answer == b""
        elif i % 3 == 1 or head.startswith(b"HTTP/1.1 408"):  # 408 with a JSON error
            assert head.startswith(b"HTTP/1.1 408"), answer
            assert "not received in full" in json.loads(body)["error"]
        else:  # a whole header over the concurrency limit: 503 at once
            assert head.startswith(b"HTTP/1.1 503"), answer
    # The server still answers.
    assert predict(limited.url, "mlp_vae", {"instances": [ROW]})[0] == 200


def test_requests_beyond_the_limit_get_503_in_tf_serving_shape(limited):
    # Requests whose bodies are still arriving hold their slots.
    holders = [
        connect(limited, PREDICT_HEAD.format(length=1000).encode() + b"{")
        for _ in range(MAX_REQUESTS)
    ]
    try:
        wait_for(lambda: limiter(limited).active == MAX_REQUESTS)
        refused = limiter(limited).refused
        code, body = predict(limited.url, "mlp_vae", {"instances": [ROW]})
        assert code == 503, body
        assert set(body) == {"error"} and f"limit of {MAX_REQUESTS} concurrent" in body["error"]
        assert call(limited.url, "GET", "/v1/models/mlp_vae")[0] == 503
        assert limiter(limited).refused == refused + 2
    finally:
        for s in holders:
            s.close()
    wait_for(lambda: limiter(limited).active == 0)
    assert predict(limited.url, "mlp_vae", {"instances": [ROW]})[0] == 200


def test_a_client_that_disconnects_mid_upload_is_logged_in_one_line(limited, caplog):
    caplog.set_level(logging.INFO)
    sock = connect(limited, PREDICT_HEAD.format(length=5000).encode() + b'{"instances": [[0.5,')
    wait_for(lambda: limiter(limited).active == 1)  # the app is now reading the body
    sock.close()
    deadline = time.monotonic() + 5
    while not any("disconnected" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, "the disconnect was not logged"
        time.sleep(0.02)
    time.sleep(0.1)
    records = [r for r in caplog.records if r.name.startswith(("keras_rt", "uvicorn"))]
    assert [r.levelno for r in records] == [logging.WARNING], [r.getMessage() for r in records]
    assert records[0].exc_info is None and "\n" not in records[0].getMessage()
    assert "mlp_vae" in records[0].getMessage()


def test_a_read_timeout_mid_upload_is_logged_in_one_line(limited, caplog):
    caplog.set_level(logging.INFO)
    sock = connect(limited, PREDICT_HEAD.format(length=5000).encode() + b"{")
    try:
        answer = read_until_closed(sock, time.monotonic() + READ_TIMEOUT + 5)
    finally:
        sock.close()
    assert answer is not None and answer.startswith(b"HTTP/1.1 408")
    time.sleep(0.1)
    records = [r for r in caplog.records if r.name.startswith(("keras_rt", "uvicorn"))]
    assert [r.levelno for r in records] == [logging.WARNING], [r.getMessage() for r in records]
    assert "--read-timeout-seconds" in records[0].getMessage() and records[0].exc_info is None


def test_slow_but_steady_uploads_within_the_timeout_succeed(limited):
    body = json.dumps({"instances": [ROW]}).encode()
    sock = connect(limited, PREDICT_HEAD.format(length=len(body)).encode())
    try:
        for i in range(0, len(body), len(body) // 3 + 1):
            time.sleep(READ_TIMEOUT / 6)
            sock.sendall(body[i : i + len(body) // 3 + 1])
        sock.settimeout(10)
        answer = sock.recv(65536)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer


def test_options_are_validated():
    from keras_rt.serving import ConcurrencyLimit, http_protocol

    with pytest.raises(ValueError, match="read_timeout"):
        http_protocol(0)
    with pytest.raises(ValueError, match="max_requests"):
        ConcurrencyLimit(None, max_requests=0)
