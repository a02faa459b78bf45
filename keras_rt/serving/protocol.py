"""The HTTP connection protocol: uvicorn's httptools protocol, low latency, and read deadlines.

A request's headers and body must arrive within `read_timeout` seconds of its
first byte, and a new connection must send its first request within that
time too; otherwise the connection is closed (a request that was partly sent
gets a 408 with TF Serving's `{"error": ...}` body first). So connections that
send half a request and stall (slowloris) cannot hold the server's sockets and
request slots. Idle keep-alive connections between requests are closed by
uvicorn's own keep-alive timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger("keras_rt.serving")

DEFAULT_READ_TIMEOUT = 30.0
# Set in the request's ASGI scope when its body did not arrive in time (the app logs nothing more).
READ_TIMED_OUT = "keras_rt.read_timed_out"


def http_protocol(read_timeout: float = DEFAULT_READ_TIMEOUT) -> type:
    """uvicorn's HTTP protocol with TCP_NODELAY, quick ACKs (Linux) and read deadlines.

    uvicorn writes a response's headers and body separately: without
    TCP_NODELAY the body waits ~40 ms for the client's delayed ACK. Python's
    `http.client` (and so `urllib`) likewise writes a POST's headers and body
    in two sends; a quick ACK of each read lets its body through at once.

    Args:
        read_timeout: seconds for a request's headers and body to arrive,
            counted from its first byte (or from the connection's opening).

    Returns:
        A protocol class for `uvicorn.Config(http=...)`.
    """
    if not read_timeout > 0:
        raise ValueError(f"`read_timeout` must be > 0. Received: read_timeout={read_timeout}")
    quick_ack = getattr(socket, "TCP_QUICKACK", None)

    class KerasRtHTTPProtocol(HttpToolsProtocol):
        _read_timer: asyncio.TimerHandle | None
        _cycle_before: Any  # uvicorn's RequestResponseCycle, or None

        def connection_made(self, transport) -> None:
            self._raw_socket = transport.get_extra_info("socket")
            try:
                self._raw_socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except (AttributeError, OSError):
                pass
            if quick_ack is None:
                self._raw_socket = None
            self._read_timer = None
            self._mid_request = False
            self._cycle_before = None  # the previous request's cycle, while a new one is read
            super().connection_made(transport)
            self._arm_read_timer()

        def data_received(self, data: bytes) -> None:
            if self._raw_socket is not None:
                try:
                    self._raw_socket.setsockopt(socket.IPPROTO_TCP, quick_ack, 1)
                except OSError:
                    self._raw_socket = None
            super().data_received(data)

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_read_timer()
            super().connection_lost(exc)

        # Parser callbacks: a request starts at its first byte and ends with its body.
        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._mid_request = True
            self._cycle_before = self.cycle
            if self._read_timer is None:
                self._arm_read_timer()

        def on_message_complete(self) -> None:
            self._mid_request = False
            self._cancel_read_timer()
            super().on_message_complete()

        def _arm_read_timer(self) -> None:
            self._cancel_read_timer()
            self._read_timer = self.loop.call_later(read_timeout, self._read_timed_out)

        def _cancel_read_timer(self) -> None:
            if self._read_timer is not None:
                self._read_timer.cancel()
                self._read_timer = None

        def _read_timed_out(self) -> None:
            self._read_timer = None
            if self.transport.is_closing():
                return
            if self.flow.read_paused:
                # The server holds the read back (a pipelined request, or back-pressure):
                # not the client's delay.
                self._arm_read_timer()
                return
            if not self._mid_request:
                logger.debug("Closed an idle connection from %s", _peer(self.client))
                self.transport.close()
                return
            logger.warning(
                "Closed the connection from %s: the request was not received in full "
                "within %g s (--read-timeout-seconds)",
                _peer(self.client),
                read_timeout,
            )
            # This request's cycle, if its headers were complete.
            cycle = self.cycle if self.cycle is not self._cycle_before else None
            answer = cycle is None or not cycle.response_started
            if cycle is not None and not cycle.response_complete:
                # The app sees the client as gone (its answer is dropped): ours goes out instead.
                cycle.scope[READ_TIMED_OUT] = True  # type: ignore[literal-required]
                cycle.disconnected = True
                cycle.message_event.set()
            if answer:
                self.transport.write(_timeout_response(read_timeout))
            self.transport.close()

    return KerasRtHTTPProtocol


def _peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "a client"


def _timeout_response(read_timeout: float) -> bytes:
    body = json.dumps(
        {"error": f"The request was not received in full within {read_timeout:g} s"}
    ).encode()
    return (
        b"HTTP/1.1 408 Request Timeout\r\n"
        b"content-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"connection: close\r\n\r\n" + body
    )
