"""Run the REST app on uvicorn: in the foreground (`serve`) or in a thread (`start_server`)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import uvicorn

from keras_rt.serving.app import create_app
from keras_rt.serving.model_store import ModelStore

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


def _low_latency_protocol() -> type:
    """uvicorn's HTTP protocol with TCP_NODELAY, and a quick ACK after each read (Linux).

    uvicorn writes a response's headers and body separately: without
    TCP_NODELAY the body waits ~40 ms for the client's delayed ACK. Python's
    `http.client` (and so `urllib`) likewise writes a POST's headers and body
    in two sends; a quick ACK of each read lets its body through at once.
    """
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    quick_ack = getattr(socket, "TCP_QUICKACK", None)

    class LowLatencyHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
        def connection_made(self, transport) -> None:
            self._raw_socket = transport.get_extra_info("socket")
            try:
                self._raw_socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except (AttributeError, OSError):
                pass
            if quick_ack is None:
                self._raw_socket = None
            super().connection_made(transport)

        def data_received(self, data: bytes) -> None:
            if self._raw_socket is not None:
                try:
                    self._raw_socket.setsockopt(socket.IPPROTO_TCP, quick_ack, 1)
                except OSError:
                    self._raw_socket = None
            super().data_received(data)

    return LowLatencyHTTPProtocol


def _uvicorn_server(store: ModelStore, log_level: str, access_log: bool, **app_options: Any):
    app = create_app(store, **app_options)
    config = uvicorn.Config(
        app,
        http=_low_latency_protocol(),
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
    **app_options: Any,
) -> None:
    """Loads the store's models, starts polling and serves until interrupted.

    `app_options` go to `create_app` (`max_body_bytes`, `threads`, `batching`, ...).
    """
    sock = bind_socket(host, port)  # before loading: a busy port fails fast
    store.refresh()
    if not store.names():
        logger.warning("No models found yet; new model folders are picked up while serving")
    store.start_polling()
    server = _uvicorn_server(store, log_level, access_log, **app_options)
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
    **app_options: Any,
) -> RunningServer:
    """Starts a server in a daemon thread on `host:port` (0: a free port).

    The store is refreshed first and polled while the server runs.
    """
    sock = bind_socket(host, port)
    store.refresh()
    store.start_polling()
    server = _uvicorn_server(store, log_level, False, **app_options)
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
