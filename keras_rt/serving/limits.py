"""A bound on the HTTP requests in flight: beyond it, an immediate 503 in TF Serving's error shape.

Every request in flight holds memory (its body, decoded arrays, results), so
the server answers at most `max_requests` at a time (reading their bodies,
queued for or running the model) and refuses the rest at once with
`503 {"error": ...}`, `Retry-After: 1` and `Connection: close`, instead of
queueing without bound.
"""

from __future__ import annotations

import json
import logging
from typing import Any

logger = logging.getLogger("keras_rt.serving")

DEFAULT_MAX_CONCURRENT_REQUESTS = 64


class ConcurrencyLimit:
    """ASGI middleware: at most `max_requests` HTTP requests in flight, 503 beyond.

    Args:
        app: the ASGI app to guard.
        max_requests: the most requests in flight at once.

    Attributes:
        active: requests in flight now.
        refused: requests answered 503 so far.

    Example:

    >>> from fastapi import FastAPI
    >>> app = FastAPI()
    >>> app.add_middleware(ConcurrencyLimit, max_requests=64)
    """

    def __init__(self, app: Any, max_requests: int = DEFAULT_MAX_CONCURRENT_REQUESTS):
        if max_requests < 1:
            raise ValueError(f"`max_requests` must be >= 1. Received: max_requests={max_requests}")
        self.app = app
        self.max_requests = max_requests
        self.active = 0
        self.refused = 0
        self._refusing_since: int | None = None  # `refused` when the current overload began

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.active >= self.max_requests:
            await self._refuse(send)
            return
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1
            if self._refusing_since is not None and self.active < self.max_requests:
                logger.warning(
                    "Below the limit of %d concurrent requests again; %d were refused (503)",
                    self.max_requests,
                    self.refused - self._refusing_since,
                )
                self._refusing_since = None

    async def _refuse(self, send: Any) -> None:
        if self._refusing_since is None:
            # One line per overload, not one per request.
            logger.warning(
                "At the limit of %d concurrent requests (--max-concurrent-requests): "
                "answering 503 until some finish",
                self.max_requests,
            )
            self._refusing_since = self.refused
        self.refused += 1
        body = json.dumps(
            {
                "error": f"The server is at its limit of {self.max_requests} concurrent "
                "requests; retry later"
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", b"1"),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body, "more_body": False})
