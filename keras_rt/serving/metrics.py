"""Prometheus metrics for one server (`/monitoring/prometheus/metrics`, on with `--metrics`).

Each server has its own `CollectorRegistry` (not `prometheus_client`'s global
one), so servers in one process (tests, notebooks) do not mix counts. With
`--workers N` each process counts its own requests: a scrape reaches one of them.

Labels are bounded: `model`, `version` and `signature` are only filled in once
the request resolved them to a served model (else `""`), so clients cannot
create series with made-up names.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

REQUEST_LABELS = ("api", "method", "model", "version", "signature", "status")
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0,
)  # fmt: skip


class ServingMetrics:
    """Request counts and latencies per model, version, signature, API and status; model loads."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "keras_rt_serving_requests",
            "Requests answered, by API (rest/grpc), method, model, version, signature and status",
            REQUEST_LABELS,
            registry=self.registry,
        )
        self.latency = Histogram(
            "keras_rt_serving_request_latency_seconds",
            "Time from a request's arrival to its answer, in seconds",
            REQUEST_LABELS,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.loads = Counter(
            "keras_rt_serving_model_loads",
            "Model version loads, by model and result (success/failure)",
            ("model", "result"),
            registry=self.registry,
        )

    def observe(
        self,
        api: str,
        method: str,
        status: str,
        seconds: float,
        model: str = "",
        version: str = "",
        signature: str = "",
    ) -> None:
        """Counts one answered request and records its latency."""
        labels = (api, method, model, version, signature, status)
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def model_loaded(self, name: str, version: int, ok: bool) -> None:
        """A `ModelStore` load listener."""
        self.loads.labels(name, "success" if ok else "failure").inc()

    def exposition(self) -> bytes:
        """The text exposition format of every metric."""
        return generate_latest(self.registry)
