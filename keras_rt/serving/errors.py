"""Errors that the REST server answers with a 4xx status and TF Serving's `{"error": ...}` body."""

from __future__ import annotations


class ServingError(Exception):
    """A request the server refuses; `status` is the HTTP status to answer with."""

    status: int = 400

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class BadRequest(ServingError):
    """The request is malformed or does not fit the signature (HTTP 400)."""

    status = 400


class NotFound(ServingError):
    """Unknown model, version or route (HTTP 404)."""

    status = 404


class PayloadTooLarge(ServingError):
    """The request body is over the server's size limit (HTTP 413)."""

    status = 413


class Unavailable(ServingError):
    """The model is configured but not loaded yet (HTTP 503)."""

    status = 503


# gRPC status code names for the HTTP statuses above (TF Serving's mapping).
GRPC_CODES = {
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    413: "RESOURCE_EXHAUSTED",
    503: "UNAVAILABLE",
}
