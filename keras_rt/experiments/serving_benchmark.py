"""Serving benchmark: predict latency and throughput over REST and gRPC vs. the in-process call.

`run_benchmark` starts the real server (`python -m keras_rt.cli.serve`) in a
subprocess for each mode (plain, and with `--batching`) and each `--workers`
count, drives it with 1, 8, ... concurrent keep-alive clients (threads using
`http.client`, and with `grpc=True` also the official gRPC stubs, one channel
per client) sending single-instance predict requests, and measures the same
signature called in-process on the loaded SavedModel (with and without the
JSON round trip). Clients and server share the machine, as they would on one
host, so client threads compete with the server for the same cores.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, cast

import numpy as np

from keras_rt.serving.model_store import version_folders


def percentile_ms(seconds: Sequence[float], q: float) -> float:
    """The `q`-th percentile of `seconds`, in milliseconds (NaN for no values)."""
    return float(np.percentile(np.asarray(seconds) * 1000.0, q)) if len(seconds) else float("nan")


def _summary(latencies: list[float], wall: float, failures: int) -> dict[str, float]:
    return {
        "requests": len(latencies) + failures,
        "failures": failures,
        "p50_ms": percentile_ms(latencies, 50),
        "p99_ms": percentile_ms(latencies, 99),
        "mean_ms": float(np.mean(latencies) * 1000.0) if latencies else float("nan"),
        "req_per_s": (len(latencies) / wall) if wall > 0 else float("nan"),
    }


def example_body(
    num_features: int = 64, *, seed: int = 0, signature: str = "serving_default"
) -> bytes:
    """One single-instance row-format request body (random pixels in [0, 1]).

    Example:

    >>> example_body(2)
    b'{"signature_name": "serving_default", "instances": [[0.5488, 0.7152]]}'
    """
    x = np.random.RandomState(seed).rand(1, num_features).round(4).tolist()
    return json.dumps({"signature_name": signature, "instances": x}).encode()


def time_in_process(
    version_dir: str,
    body: bytes,
    *,
    signature: str = "serving_default",
    calls: int = 2000,
    warmup: int = 100,
) -> dict[str, dict[str, float]]:
    """Times the loaded SavedModel's signature called directly, and with the JSON round trip."""
    from keras_rt.serving.app import DEFAULT_MAX_BATCH_SIZE, predict_sync
    from keras_rt.serving.rest import decode_predict, parse_json
    from keras_rt.serving.servable import Servable

    servable = Servable.load("bench", 0, version_dir)
    arrays = decode_predict(
        parse_json(body), servable, max_batch_size=DEFAULT_MAX_BATCH_SIZE
    ).arrays
    fn = servable.signature(signature)
    results = {}
    for label, call in (
        ("signature call", lambda: fn(arrays)),
        ("JSON + call", lambda: predict_sync(servable, body, DEFAULT_MAX_BATCH_SIZE)),
    ):
        for _ in range(warmup):
            call()
        latencies = []
        start = time.perf_counter()
        for _ in range(calls):
            t0 = time.perf_counter()
            call()
            latencies.append(time.perf_counter() - t0)
        results[label] = _summary(latencies, time.perf_counter() - start, 0)
    return results


def http_load(
    host: str,
    port: int,
    path: str,
    body: bytes,
    *,
    clients: int,
    requests: int,
    warmup: int = 20,
    timeout: float = 10.0,
    seconds: float | None = None,
) -> dict[str, float]:
    """`requests` POSTs in total (or as many as fit in `seconds`) from `clients` keep-alive
    connections; latency and req/s.

    A request fails when it raises, times out or answers anything but 200.
    """
    per_client = max(1, requests // clients)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures = [0] * clients
    barrier = threading.Barrier(clients + 1)
    headers = {"Content-Type": "application/json"}

    def connect() -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as curl and requests do
        return conn

    def client(i: int) -> None:
        conn = connect()
        try:
            for _ in range(warmup):
                conn.request("POST", path, body, headers)
                conn.getresponse().read()
            barrier.wait()
            sent, end = 0, time.perf_counter() + (seconds or 0)
            while (time.perf_counter() < end) if seconds else (sent < per_client):
                sent += 1
                t0 = time.perf_counter()
                try:
                    conn.request("POST", path, body, headers)
                    response = conn.getresponse()
                    response.read()
                    ok = response.status == 200
                except (OSError, http.client.HTTPException):
                    ok = False
                    conn.close()
                    conn = connect()
                if ok:
                    latencies[i].append(time.perf_counter() - t0)
                else:
                    failures[i] += 1
        finally:
            conn.close()

    return _run_clients(client, clients, barrier, latencies, failures)


def _run_clients(client, clients: int, barrier, latencies, failures) -> dict[str, float]:
    """Runs `client(i)` in `clients` threads, timing from the barrier (after warm-up) to the end."""
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return _summary([x for xs in latencies for x in xs], wall, sum(failures))


def grpc_load(
    target: str,
    request: Any,
    *,
    clients: int,
    seconds: float,
    warmup: int = 20,
    timeout: float = 10.0,
) -> dict[str, float]:
    """gRPC `Predict` calls of `request` for `seconds` from `clients` channels; latency and req/s.

    Each client has its own channel and connection (a local subchannel pool),
    so with several workers the kernel spreads clients over them.
    """
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures = [0] * clients
    barrier = threading.Barrier(clients + 1)

    def client(i: int) -> None:
        options = [("grpc.use_local_subchannel_pool", 1)]
        with grpc.insecure_channel(target, options=options) as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            for _ in range(warmup):
                stub.Predict(request, timeout=timeout, wait_for_ready=True)
            barrier.wait()
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                t0 = time.perf_counter()
                try:
                    stub.Predict(request, timeout=timeout)
                    latencies[i].append(time.perf_counter() - t0)
                except grpc.RpcError:
                    failures[i] += 1

    return _run_clients(client, clients, barrier, latencies, failures)


def grpc_request(name: str, signature: str, body: bytes) -> Any:
    """The gRPC `PredictRequest` equivalent to a single-input row-format REST body."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    request.model_spec.signature_name = signature
    x = np.asarray(json.loads(body)["instances"], dtype=np.float32)
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(x))
    return request


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that is free now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server_process(
    model_dir: str,
    name: str,
    *,
    port: int,
    extra_args: Sequence[str] = (),
    start_timeout: float = 120.0,
    ready_in_a_row: int = 1,
) -> Iterator[subprocess.Popen]:
    """Runs `python -m keras_rt.cli.serve --model NAME=DIR` until the block ends.

    It is up once `ready_in_a_row` status requests on fresh connections in a
    row answer 200 (with several workers: more than one, so all have loaded).
    """
    command = [
        sys.executable,
        "-m",
        "keras_rt.cli.serve",
        "--model",
        f"{name}={model_dir}",
        "--port",
        str(port),
        "--poll-seconds",
        "0",
        "--log-level",
        "warning",
        *extra_args,
    ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + start_timeout
        ready = 0
        while ready < ready_in_a_row:
            if process.poll() is not None:
                assert process.stderr is not None, "stderr is a pipe"
                raise RuntimeError("The server exited: " + process.stderr.read().decode()[-2000:])
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", f"/v1/models/{name}")
                ready = ready + 1 if conn.getresponse().status == 200 else 0
                conn.close()
            except OSError:
                ready = 0
            if time.monotonic() > deadline:
                raise RuntimeError("The server did not come up")
            time.sleep(0.05 if ready else 0.25)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_benchmark(
    model_dir: str,
    *,
    name: str = "mlp_vae",
    clients: Sequence[int] = (1, 8),
    requests: int = 2000,
    modes: Sequence[str] = ("plain", "batching"),
    signature: str = "serving_default",
    threads: int = 4,
    workers: Sequence[int] = (1,),
    grpc: bool = False,
    seconds: float | None = None,
) -> dict[str, Any]:
    """Benchmarks predict on the newest version in `model_dir` (e.g. `saved_models/mlp_vae`).

    `workers`: server `--workers` counts to run; `grpc`: also drive gRPC
    `Predict`; `seconds`: run each cell this long instead of `requests` requests.

    Returns a JSON-ready dict: `in_process` (per-call cost) and `http` rows
    (api, mode, workers, clients, p50_ms, p99_ms, req_per_s, failures).
    """
    versions = version_folders(model_dir)
    if not versions:
        raise FileNotFoundError(
            f"No version folders in {model_dir!r}; export a model first "
            "(python scripts/train.py --model mlp_vae --dataset digits ...)"
        )
    version_dir = versions[max(versions)]
    from keras_rt.serving.servable import Servable

    inputs = Servable.load(name, 0, version_dir).signature(signature).inputs
    if len(inputs) != 1 or not next(iter(inputs.values())).batched:
        raise ValueError(
            f"Benchmark a signature with one batched input; {signature!r} has {list(inputs)}"
        )
    shape = next(iter(inputs.values())).shape
    assert shape is not None, "a batched input has a known shape"
    # Only the batch dimension is unknown in the zoo's exported inputs.
    instance_dims = cast(tuple[int, ...], shape[1:])
    body = example_body(int(np.prod(instance_dims)), signature=signature)
    result: dict[str, Any] = {
        "model_dir": os.path.abspath(model_dir),
        "version": max(versions),
        "signature": signature,
        "request_bytes": len(body),
        "cpu_count": os.cpu_count(),
        "in_process": time_in_process(version_dir, body, signature=signature),
        "http": [],
    }
    path = f"/v1/models/{name}:predict"
    grpc_message = grpc_request(name, signature, body) if grpc else None
    for n_workers in workers:
        for mode in modes:
            port, grpc_port = free_port(), free_port()
            extra = ["--threads", str(threads), "--workers", str(n_workers)]
            extra += ["--grpc-port", str(grpc_port if grpc else 0)]
            extra += ["--batching"] if mode == "batching" else []
            with server_process(
                model_dir, name, port=port, extra_args=extra, ready_in_a_row=4 * n_workers
            ):
                for n in clients:
                    row = http_load(
                        "127.0.0.1", port, path, body, clients=n, requests=requests, seconds=seconds
                    )
                    result["http"].append(
                        {"api": "rest", "mode": mode, "workers": n_workers, "clients": n, **row}
                    )
                    if grpc_message is not None:
                        row = grpc_load(
                            f"127.0.0.1:{grpc_port}",
                            grpc_message,
                            clients=n,
                            seconds=seconds or 5.0,
                        )
                        result["http"].append(
                            {"api": "grpc", "mode": mode, "workers": n_workers, "clients": n, **row}
                        )
    return result


def format_table(result: dict[str, Any]) -> str:
    """A Markdown table of `run_benchmark`'s result."""
    lines = [
        "| path | workers | clients | p50 ms | p99 ms | req/s | failed |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, row in result["in_process"].items():
        lines.append(
            f"| in-process: {label} | - | 1 | {row['p50_ms']:.3f} | {row['p99_ms']:.3f} | "
            f"{row['req_per_s']:.0f} | - |"
        )
    for row in result["http"]:
        api = "gRPC Predict" if row.get("api") == "grpc" else "REST predict"
        label = api + (" --batching" if row["mode"] == "batching" else "")
        lines.append(
            f"| {label} | {row.get('workers', 1)} | {row['clients']} | {row['p50_ms']:.2f} | "
            f"{row['p99_ms']:.2f} | {row['req_per_s']:.0f} | {row['failures']} |"
        )
    return "\n".join(lines)
