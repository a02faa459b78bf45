"""Run the REST app on uvicorn: in the foreground (`serve`) or in a thread (`start_server`)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

import uvicorn

from keras_rt.serving.app import create_app
from keras_rt.serving.model_store import ModelStore
from keras_rt.serving.protocol import DEFAULT_READ_TIMEOUT, http_protocol

logger = logging.getLogger("keras_rt.serving")


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0: a free port); `ValueError` if it cannot bind."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say so.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise ValueError(f"Cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def warn_if_root() -> bool:
    """Logs a warning when the server runs as root (POSIX); returns whether it does.

    A SavedModel is a program: a server that loads one as root gives it the
    whole machine. Run it as an unprivileged user.
    """
    geteuid = getattr(os, "geteuid", None)
    if geteuid is None or geteuid() != 0:
        return False
    logger.warning(
        "Running as root: a SavedModel is a program, and this server runs it with root's "
        "rights; run it as an unprivileged user"
    )
    return True


def _uvicorn_server(
    store: ModelStore, log_level: str, access_log: bool, read_timeout: float, **app_options: Any
):
    app = create_app(store, **app_options)
    config = uvicorn.Config(
        app,
        http=http_protocol(read_timeout),
        log_level=log_level,
        access_log=access_log,
        log_config=None,  # keep the caller's logging set-up
        lifespan="on",
        timeout_keep_alive=30,
        server_header=False,
    )
    return uvicorn.Server(config)


def serve(
    store: ModelStore,
    *,
    host: str = "127.0.0.1",
    port: int = 8501,
    log_level: str = "info",
    access_log: bool = False,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    **app_options: Any,
) -> None:
    """Loads the store's models, starts polling and serves until interrupted.

    `read_timeout`: seconds for each request's headers and body to arrive
    (`protocol.http_protocol`). `app_options` go to `create_app`
    (`max_body_bytes`, `threads`, `batching`, `max_concurrent_requests`, ...).
    """
    warn_if_root()
    sock = bind_socket(host, port)  # before loading: a busy port fails fast
    store.refresh()
    if not store.names():
        logger.warning("No models found yet; new model folders are picked up while serving")
    store.start_polling()
    server = _uvicorn_server(store, log_level, access_log, read_timeout, **app_options)
    actual_host, actual_port = sock.getsockname()[:2]
    logger.info(
        "Serving %s on http://%s:%d/v1/models/",
        ", ".join(store.names()) or "(none)",
        actual_host,
        actual_port,
    )
    try:
        server.run(sockets=[sock])
    finally:
        store.stop_polling()
        sock.close()


class RunningServer:
    """A server running in a background thread (for tests, benchmarks, notebooks).

    Use as a context manager, or call `stop()`. `url` is `http://host:port`.
    """

    def __init__(
        self,
        server: uvicorn.Server,
        thread: threading.Thread,
        sock: socket.socket,
        store: ModelStore,
    ):
        self._server, self._thread, self._sock, self.store = server, thread, sock, store
        self.host, self.port = sock.getsockname()[:2]
        self.url = f"http://{self.host}:{self.port}"

    @property
    def app(self):
        return self._server.config.app

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self.store.stop_polling()
        self._sock.close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_server(
    store: ModelStore,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    log_level: str = "warning",
    start_timeout: float = 30.0,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    **app_options: Any,
) -> RunningServer:
    """Starts a server in a daemon thread on `host:port` (0: a free port).

    The store is refreshed first and polled while the server runs.
    `read_timeout` and `app_options` are as in `serve`.
    """
    sock = bind_socket(host, port)
    store.refresh()
    store.start_polling()
    server = _uvicorn_server(store, log_level, False, read_timeout, **app_options)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="keras-rt-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            store.stop_polling()
            sock.close()
            raise RuntimeError("The server thread did not start")
        time.sleep(0.01)
    return RunningServer(server, thread, sock, store)
