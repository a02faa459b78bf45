"""The FastAPI app: TensorFlow Serving's REST API over a `ModelStore`.

Routes (as in TF Serving):

    GET  /v1/models/{name}                              model status
    GET  /v1/models/{name}/versions/{version}           one version's status
    GET  /v1/models/{name}/labels/{label}                the labelled version's status
    GET  /v1/models/{name}[/versions/{version}]/metadata signatures: names, dtypes, shapes
    POST /v1/models/{name}[/versions/{version}]:predict  row ("instances") or columnar ("inputs")
    (/labels/{label} works wherever /versions/{version} does)
    GET  /monitoring/prometheus/metrics                  with `metrics` (else 404)

Every refusal is a 4xx answer with the body `{"error": "..."}`; an unexpected
failure is a 500 with the same body shape (file-system paths replaced; the
full error goes to the log), and the server keeps running. Beyond
`max_concurrent_requests` requests in flight the answer is a 503
(`limits.ConcurrencyLimit`). A client that disconnects mid-upload is logged
in one line.
TensorFlow calls (and JSON decoding/encoding around them) run in a thread
pool, so the event loop stays free to accept connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from keras_rt.serving import rest
from keras_rt.serving.batching import Batcher
from keras_rt.serving.errors import BadRequest, PayloadTooLarge, ServingError
from keras_rt.serving.limits import DEFAULT_MAX_CONCURRENT_REQUESTS, ConcurrencyLimit
from keras_rt.serving.metrics import ServingMetrics
from keras_rt.serving.model_store import ModelStore
from keras_rt.serving.protocol import READ_TIMED_OUT
from keras_rt.serving.redact import redact_paths
from keras_rt.serving.servable import Servable

logger = logging.getLogger("keras_rt.serving")

DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
DEFAULT_MAX_BATCH_SIZE = 4096
DEFAULT_THREADS = 4
JSON = "application/json"


def json_response(value: object, status: int = 200) -> Response:
    return Response(json.dumps(value).encode(), status_code=status, media_type=JSON)


def error_response(status: int, message: str) -> Response:
    return Response(rest.error_body(message), status_code=status, media_type=JSON)


def predict_sync(
    servable: Servable, body: bytes, max_batch_size: int, labels: dict | None = None
) -> bytes:
    """Parse, validate, call and encode one predict request (runs in the thread pool).

    `labels` (metrics) gets the signature's name once it is known.
    """
    request = rest.decode_predict(rest.parse_json(body), servable, max_batch_size=max_batch_size)
    if labels is not None:
        labels["signature"] = request.signature.name
    return rest.encode_predictions(request.signature(request.arrays), request)


def create_app(
    store: ModelStore,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    threads: int = DEFAULT_THREADS,
    batching: bool = False,
    batch_max_rows: int = 64,
    batch_timeout_ms: float = 0.0,
    max_concurrent_requests: int = DEFAULT_MAX_CONCURRENT_REQUESTS,
    metrics: ServingMetrics | None = None,
) -> FastAPI:
    """Builds the REST app over `store` (which the caller loads and polls).

    Args:
        store: the models to serve.
        max_body_bytes: larger request bodies get 413.
        max_batch_size: the most examples in one request (and the largest
            scalar integer count, such as `sample`'s `num_samples`).
        threads: size of the thread pool that runs the model calls.
        batching: merge concurrent requests to one signature into one call.
        batch_max_rows: the most rows in a merged call.
        batch_timeout_ms: how long a merged call waits for more requests.
        max_concurrent_requests: requests in flight beyond it get 503.
        metrics: count requests and serve them at `/monitoring/prometheus/metrics`.
    """
    for name, value, low in (
        ("max_body_bytes", max_body_bytes, 1),
        ("max_batch_size", max_batch_size, 1),
        ("threads", threads, 1),
        ("max_concurrent_requests", max_concurrent_requests, 1),
    ):
        if value < low:
            raise ValueError(f"`{name}` must be >= {low}. Received: {name}={value}")
    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="keras-rt-predict")
    batcher = (
        Batcher(executor, max_rows=batch_max_rows, timeout_s=batch_timeout_ms / 1000.0)
        if batching
        else None
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        if batcher is not None:
            await batcher.close()
        executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="keras-rt serving", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.store = store
    app.state.batcher = batcher
    app.add_middleware(ConcurrencyLimit, max_requests=max_concurrent_requests)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404:
            message = (
                f"Malformed request: {request.method} {request.url.path}; expected "
                "/v1/models/NAME[/versions/N|/labels/L][/metadata] or "
                "/v1/models/NAME[/versions/N|/labels/L]:predict"
            )
        elif error.status_code == 405:
            message = f"Method {request.method} is not allowed on {request.url.path}"
        else:
            message = str(error.detail)
        return error_response(error.status_code, message)

    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and not declared.strip().isdigit():
            raise BadRequest(f"Invalid Content-Length header: {declared[:40]!r}")
        chunks, size = [], 0
        drain_limit = max(4 * max_body_bytes, 64 * 1024 * 1024)
        async for chunk in request.stream():
            size += len(chunk)
            if size <= max_body_bytes:
                chunks.append(chunk)
            elif size > drain_limit:
                break  # stop reading; the connection is closed after the answer
        if size > max_body_bytes:
            # The body was read (up to a bound) so the client sees this answer.
            raise PayloadTooLarge(
                f"The request body is over the server's limit of {max_body_bytes} bytes"
            )
        return b"".join(chunks)

    async def predict(
        request: Request, name: str, version: str | None, label: str | None = None
    ) -> Response:
        start = time.perf_counter()
        labels: dict[str, str] = {}
        response = await predict_answer(request, name, version, label, labels)
        if metrics is not None:
            metrics.observe(
                "rest",
                "predict",
                str(response.status_code),
                time.perf_counter() - start,
                **labels,
            )
        return response

    async def predict_answer(
        request: Request, name: str, version: str | None, label: str | None, labels: dict
    ) -> Response:
        try:
            body = await read_body(request)
            servable = store.get(name, version, label)
            labels.update(model=servable.name, version=str(servable.version))
            loop = asyncio.get_running_loop()
            if batcher is None:
                payload = await loop.run_in_executor(
                    executor, predict_sync, servable, body, max_batch_size, labels
                )
            else:
                decoded = rest.decode_predict(
                    rest.parse_json(body), servable, max_batch_size=max_batch_size
                )
                signature = decoded.signature
                labels["signature"] = signature.name
                if signature.batchable and decoded.rows:
                    outputs = await batcher.call(
                        (name, signature.name), signature, decoded.arrays, decoded.rows
                    )
                else:
                    outputs = await loop.run_in_executor(executor, signature, decoded.arrays)
                payload = rest.encode_predictions(outputs, decoded)
            return Response(payload, media_type=JSON)
        except ServingError as error:
            return error_response(error.status, error.message)
        except ClientDisconnect:
            # Nobody to answer: one line, no traceback (a read timeout was logged already).
            if not request.scope.get(READ_TIMED_OUT):
                logger.warning(
                    "Predict on model %r: the client disconnected before sending the whole body",
                    name,
                )
            return Response(status_code=499)
        except Exception as error:  # noqa: BLE001 - answer, log, keep serving
            logger.exception("Predict on model %r failed", name)
            message = redact_paths(f"{type(error).__name__}: {error}".splitlines()[0])
            return error_response(500, f"Internal error: {message}"[:1000])

    @app.post("/v1/models/{name}:predict")
    async def predict_latest(request: Request, name: str) -> Response:
        return await predict(request, name, None)

    @app.post("/v1/models/{name}/versions/{version}:predict")
    async def predict_version(request: Request, name: str, version: str) -> Response:
        return await predict(request, name, version)

    @app.post("/v1/models/{name}/labels/{label}:predict")
    async def predict_label(request: Request, name: str, label: str) -> Response:
        return await predict(request, name, None, label)

    @app.post("/v1/models/{name}:{method}")
    @app.post("/v1/models/{name}/versions/{version}:{method}")
    @app.post("/v1/models/{name}/labels/{label}:{method}")
    async def other_method(
        name: str, method: str, version: str | None = None, label: str | None = None
    ) -> Response:
        return error_response(
            400,
            f"Unsupported method ':{method[:40]}'; keras-rt signatures are "
            "predict signatures: use ':predict'",
        )

    def answer(make, method: str = "status") -> Response:
        start = time.perf_counter()
        try:
            response = json_response(make())
        except ServingError as error:
            response = error_response(error.status, error.message)
        if metrics is not None:
            metrics.observe("rest", method, str(response.status_code), time.perf_counter() - start)
        return response

    @app.get("/v1/models/{name}")
    async def model_status(name: str) -> Response:
        return answer(lambda: store.status_json(name))

    @app.get("/v1/models/{name}/versions/{version}")
    async def version_status(name: str, version: str) -> Response:
        return answer(lambda: store.status_json(name, version))

    @app.get("/v1/models/{name}/labels/{label}")
    async def label_status(name: str, label: str) -> Response:
        return answer(lambda: store.status_json(name, label=label))

    @app.get("/v1/models/{name}/metadata")
    async def model_metadata(name: str) -> Response:
        return answer(lambda: store.get(name).metadata_json(), "metadata")

    @app.get("/v1/models/{name}/versions/{version}/metadata")
    async def version_metadata(name: str, version: str) -> Response:
        return answer(lambda: store.get(name, version).metadata_json(), "metadata")

    @app.get("/v1/models/{name}/labels/{label}/metadata")
    async def label_metadata(name: str, label: str) -> Response:
        return answer(lambda: store.get(name, label=label).metadata_json(), "metadata")

    if metrics is not None:

        @app.get("/monitoring/prometheus/metrics")
        async def prometheus_metrics() -> Response:
            return Response(metrics.exposition(), media_type=metrics.content_type)

    return app
