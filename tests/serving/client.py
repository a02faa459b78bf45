"""A tiny HTTP client for the serving tests (standard library only)."""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any


def call(
    url: str,
    method: str = "GET",
    path: str = "",
    body: Any = None,
    *,
    raw: bool = False,
    timeout: float = 10.0,
    headers: dict | None = None,
) -> tuple[int, Any]:
    """Sends one request to `url + path`; returns (status, parsed JSON body or text).

    `path` is sent exactly as given (no normalization), so `..` and `%2F`
    reach the server as a client could send them.
    """
    assert url.startswith("http://")
    host, port = url[len("http://") :].split(":")
    data = body if raw else (None if body is None else json.dumps(body).encode())
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.request(
            method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})}
        )
        response = conn.getresponse()
        text = response.read().decode()
    finally:
        conn.close()
    try:
        return response.status, json.loads(text)
    except ValueError:
        return response.status, text


def predict(
    url: str, model: str, body: Any, version: int | str | None = None, **kwargs
) -> tuple[int, Any]:
    where = (
        f"/v1/models/{model}" + (f"/versions/{version}" if version is not None else "") + ":predict"
    )
    return call(url, "POST", where, body, **kwargs)
