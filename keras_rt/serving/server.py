"""Run the REST app on uvicorn and the gRPC API beside it: in the foreground (`serve`) or in a
thread (`start_server`)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

import uvicorn

from keras_rt.serving.app import create_app
from keras_rt.serving.metrics import ServingMetrics
from keras_rt.serving.model_store import ModelStore
from keras_rt.serving.protocol import DEFAULT_READ_TIMEOUT, http_protocol

logger = logging.getLogger("keras_rt.serving")


def bind_socket(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A listening TCP socket (port 0: a free port); `ValueError` if it cannot bind.

    `reuse_port`: set SO_REUSEPORT, so several processes (`--workers`) listen
    on one port and the kernel spreads connections among them.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say so.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
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


def _grpc_server(store, host, grpc_port, reuse_port, metrics, app_options):
    from keras_rt.serving.grpc_api import create_grpc_server

    keys = ("max_body_bytes", "max_batch_size", "threads", "max_concurrent_requests")
    return create_grpc_server(
        store,
        host=host,
        port=grpc_port,
        reuse_port=reuse_port,
        metrics=metrics,
        **{k: app_options[k] for k in keys if k in app_options},
    )


def serve(
    store: ModelStore,
    *,
    host: str = "127.0.0.1",
    port: int = 8501,
    grpc_port: int | None = None,
    metrics: bool = False,
    reuse_port: bool = False,
    log_level: str = "info",
    access_log: bool = False,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    on_stop: Any = None,
    **app_options: Any,
) -> None:
    """Loads the store's models, starts polling and serves until interrupted.

    `grpc_port`: also serve TF Serving's gRPC API there (None: no gRPC).
    `metrics`: serve Prometheus metrics at `/monitoring/prometheus/metrics`.
    `reuse_port`: bind with SO_REUSEPORT (several worker processes).
    `read_timeout`: seconds for each request's headers and body to arrive
    (`protocol.http_protocol`). `on_stop`: called when serving ends.
    `app_options` go to `create_app` (`max_body_bytes`, `threads`, `batching`,
    `max_concurrent_requests`, ...).
    """
    warn_if_root()
    sock = bind_socket(host, port, reuse_port)  # before loading: a busy port fails fast
    grpc_server = None
    collector = ServingMetrics() if metrics else None
    try:
        if grpc_port is not None:
            grpc_server, grpc_port = _grpc_server(
                store, host, grpc_port, reuse_port, collector, app_options
            )
        if collector is not None:
            store.load_listeners.append(collector.model_loaded)
        store.refresh()
        if not store.names():
            logger.warning("No models found yet; new model folders are picked up while serving")
        store.start_polling()
        server = _uvicorn_server(
            store, log_level, access_log, read_timeout, metrics=collector, **app_options
        )
        actual_host, actual_port = sock.getsockname()[:2]
        if grpc_server is not None:
            grpc_server.start()
        logger.info(
            "Serving %s on http://%s:%d/v1/models/%s",
            ", ".join(store.names()) or "(none)",
            actual_host,
            actual_port,
            f" and gRPC on {host}:{grpc_port}" if grpc_server is not None else "",
        )
        server.run(sockets=[sock])
    finally:
        if grpc_server is not None:
            grpc_server.stop(grace=2).wait(5)
        store.stop_polling()
        if on_stop is not None:
            on_stop()
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
        grpc_server: Any = None,
        grpc_port: int | None = None,
    ):
        self._server, self._thread, self._sock, self.store = server, thread, sock, store
        self.host, self.port = sock.getsockname()[:2]
        self.url = f"http://{self.host}:{self.port}"
        self._grpc_server, self.grpc_port = grpc_server, grpc_port
        self.grpc_target = None if grpc_port is None else f"{self.host}:{grpc_port}"

    @property
    def app(self):
        return self._server.config.app

    def stop(self, timeout: float = 10.0) -> None:
        if self._grpc_server is not None:
            self._grpc_server.stop(grace=None)
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
    grpc_port: int | None = None,
    metrics: bool = False,
    **app_options: Any,
) -> RunningServer:
    """Starts a server in a daemon thread on `host:port` (0: a free port).

    The store is refreshed first and polled while the server runs.
    `grpc_port` (0: a free port), `metrics`, `read_timeout` and `app_options`
    are as in `serve`.
    """
    sock = bind_socket(host, port)
    collector = ServingMetrics() if metrics else None
    grpc_server = None
    if grpc_port is not None:
        grpc_server, grpc_port = _grpc_server(store, host, grpc_port, False, collector, app_options)
    if collector is not None:
        store.load_listeners.append(collector.model_loaded)
    store.refresh()
    store.start_polling()
    server = _uvicorn_server(
        store, log_level, False, read_timeout, metrics=collector, **app_options
    )
    if grpc_server is not None:
        grpc_server.start()
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
    return RunningServer(server, thread, sock, store, grpc_server, grpc_port)
