"""Serve exported SavedModels over TensorFlow Serving's REST (8501) and gRPC (8500) APIs.

Usage:
  python scripts/serve.py --model-base-path saved_models          # every model in it
  python scripts/serve.py --model mlp_vae=saved_models/mlp_vae --port 8501 --grpc-port 8500
  python scripts/serve.py --model-config-file models.config --metrics --workers 2
  keras-rt serve --model-base-path saved_models --batching

Then, as with TensorFlow Serving:
  curl http://127.0.0.1:8501/v1/models/mlp_vae
  curl http://127.0.0.1:8501/v1/models/mlp_vae/metadata
  curl -d '{"signature_name": "encode", "instances": [[0, 0.5, ...64 pixels]]}' \\
       http://127.0.0.1:8501/v1/models/mlp_vae:predict

The newest version of each model is served; a new version folder is picked
up without a restart (every --poll-seconds), and one that fails to load is
reported in the model's status while the previous version keeps serving.

Security: a SavedModel is a program, so the model folders must be as trusted
as code. Models whose graphs read or write files, run Python or reach the
network are refused unless --allow-file-ops. Run as an unprivileged user, and
keep the default --host 127.0.0.1 unless clients on other machines must reach
the server (then put it behind a proxy with TLS and authentication).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import signal
import sys
import time
from collections.abc import Sequence

from keras_rt.cli.common import main_for

DEFAULT_BASE_PATH = "saved_models"


def parse_model_flag(value: str) -> tuple[str, str]:
    """`NAME=PATH` -> (name, path); `ValueError` with the expected form otherwise."""
    name, sep, path = value.partition("=")
    if not sep or not name or not path:
        raise ValueError(
            f"--model takes NAME=PATH (a model folder holding version folders). Received: {value!r}"
        )
    return name, path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the serve flags to `parser`."""
    parser.add_argument(
        "--model-base-path",
        default=None,
        help=f"serve every model folder in it (default: {DEFAULT_BASE_PATH} "
        "when no --model is given)",
    )
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="serve the model folder PATH as NAME (repeatable)",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8501, help="port (default: 8501, as TF Serving's REST)"
    )
    parser.add_argument(
        "--grpc-port",
        type=int,
        default=8500,
        help="port for TF Serving's gRPC API, on the same --host (default: 8500); 0: no gRPC",
    )
    parser.add_argument(
        "--model-config-file",
        default=None,
        help="TF Serving's model config file (text proto model_config_list: names, base "
        "paths, version policies, version_labels); instead of --model-base-path/--model",
    )
    parser.add_argument(
        "--model-config-file-poll-seconds",
        type=float,
        default=60.0,
        help="how often to re-read --model-config-file; 0: never (default: 60)",
    )
    parser.add_argument(
        "--metrics",
        action="store_true",
        help="serve Prometheus metrics at /monitoring/prometheus/metrics (off by default)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="serve from N processes on the same ports (SO_REUSEPORT), each with its own "
        "models (default: 1)",
    )
    parser.add_argument(
        "--poll-seconds",
        type=float,
        default=2.0,
        help="how often to look for new versions; 0: never (default: 2)",
    )
    parser.add_argument(
        "--num-versions",
        type=int,
        default=1,
        help="serve the newest N loadable versions of each model (default: 1)",
    )
    parser.add_argument(
        "--threads", type=int, default=4, help="threads that run model calls (default: 4)"
    )
    parser.add_argument(
        "--batching",
        action="store_true",
        help="merge concurrent requests to one signature into one model call",
    )
    parser.add_argument(
        "--batch-max-rows",
        type=int,
        default=64,
        help="with --batching: the most rows in a merged call (default: 64)",
    )
    parser.add_argument(
        "--batch-timeout-ms",
        type=float,
        default=0.0,
        help="with --batching: wait this long for more requests (default: 0)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=8 * 1024 * 1024,
        help="larger request bodies get 413 (default: 8 MiB)",
    )
    parser.add_argument(
        "--max-batch-size",
        type=int,
        default=4096,
        help="the most examples (or samples) per request (default: 4096)",
    )
    parser.add_argument(
        "--read-timeout-seconds",
        type=float,
        default=30.0,
        help="close a connection whose request (headers and body) has not arrived this many "
        "seconds after its first byte, or after the connection opened (default: 30)",
    )
    parser.add_argument(
        "--max-concurrent-requests",
        type=int,
        default=64,
        help="requests in flight beyond this get 503 at once (default: 64)",
    )
    parser.add_argument(
        "--allow-file-ops",
        action="store_true",
        help="DANGEROUS: also load models whose graphs read or write files, run Python or "
        "reach the network (ReadFile, WriteFile, PyFunc, ...); refused by default. Only for "
        "models you trust as code",
    )
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    parser.add_argument("--access-log", action="store_true", help="log every request (slower)")


def check_flags(args: argparse.Namespace) -> None:
    """`ValueError` (one line) for flag values out of range."""
    for flag, value in (("--port", args.port), ("--grpc-port", args.grpc_port)):
        if not 0 <= value <= 65535:
            raise ValueError(f"{flag} must be in 0..65535. Received: {value}")
    if args.batch_max_rows < 1:
        raise ValueError(f"--batch-max-rows must be >= 1. Received: {args.batch_max_rows}")
    if args.batch_timeout_ms < 0:
        raise ValueError(f"--batch-timeout-ms must be >= 0. Received: {args.batch_timeout_ms}")
    if not args.read_timeout_seconds > 0:
        raise ValueError(
            f"--read-timeout-seconds must be > 0. Received: {args.read_timeout_seconds}"
        )
    if args.max_concurrent_requests < 1:
        raise ValueError(
            f"--max-concurrent-requests must be >= 1. Received: {args.max_concurrent_requests}"
        )
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1. Received: {args.workers}")
    if args.model_config_file_poll_seconds < 0:
        raise ValueError(
            "--model-config-file-poll-seconds must be >= 0. "
            f"Received: {args.model_config_file_poll_seconds}"
        )
    if args.model_config_file and (args.model or args.model_base_path):
        raise ValueError("Give --model-config-file or --model-base-path/--model, not both")
    if args.workers > 1 and args.port == 0:
        raise ValueError("--workers > 1 needs a fixed --port (not 0)")


def build_store(args: argparse.Namespace):
    """The `ModelStore` (and a config file watcher or None) the flags describe."""
    from keras_rt.serving import ModelStore

    if args.model_config_file:
        from keras_rt.serving.model_config import ConfigWatcher, load_model_config

        config = load_model_config(args.model_config_file)
        store = ModelStore(
            None,
            config.models,
            num_versions=args.num_versions,
            poll_seconds=args.poll_seconds,
            allow_file_ops=args.allow_file_ops,
            policies=config.policies,
            labels=config.labels,
        )
        watcher = ConfigWatcher(args.model_config_file, store, args.model_config_file_poll_seconds)
        return store, watcher
    models = dict(parse_model_flag(v) for v in args.model)
    base_path = args.model_base_path
    if base_path is None and not models:
        base_path = DEFAULT_BASE_PATH
    store = ModelStore(
        base_path,
        models,
        num_versions=args.num_versions,
        poll_seconds=args.poll_seconds,
        allow_file_ops=args.allow_file_ops,
    )
    return store, None


def run(args: argparse.Namespace) -> int:
    """Builds the model store from the flags and serves until interrupted."""
    worker = getattr(args, "reuse_port", False)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s"
        + ("[worker %(process)d]" if worker else "")
        + ": %(message)s",
    )
    check_flags(args)
    if args.workers > 1:
        return supervise(args)
    from keras_rt.serving import serve

    store, watcher = build_store(args)
    if args.allow_file_ops:
        logging.getLogger("keras_rt.serving").warning(
            "--allow-file-ops: models may read and write files, run Python and reach the network"
        )
    if watcher is not None:
        watcher.start()
    serve(
        store,
        host=args.host,
        port=args.port,
        grpc_port=args.grpc_port or None,
        metrics=args.metrics,
        reuse_port=worker,
        on_stop=None if watcher is None else watcher.stop,
        log_level=args.log_level,
        access_log=args.access_log,
        max_body_bytes=args.max_body_bytes,
        max_batch_size=args.max_batch_size,
        threads=args.threads,
        batching=args.batching,
        batch_max_rows=args.batch_max_rows,
        batch_timeout_ms=args.batch_timeout_ms,
        read_timeout=args.read_timeout_seconds,
        max_concurrent_requests=args.max_concurrent_requests,
    )
    return 0


def _worker(args: argparse.Namespace) -> None:
    """One `--workers` process: serves on the shared ports until SIGTERM/SIGINT."""
    from keras_rt.cli.common import import_tensorflow_quietly, quiet_tensorflow

    quiet_tensorflow()
    import_tensorflow_quietly()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops workers with SIGTERM
    args.workers, args.reuse_port = 1, True
    try:
        sys.exit(run(args))
    except (ValueError, FileNotFoundError) as error:
        print(f"serve.py worker: error: {error}", file=sys.stderr)
        sys.exit(2)


def supervise(args: argparse.Namespace, start_grace_s: float = 60.0) -> int:
    """Runs `args.workers` serving processes on the same ports and stops them on SIGTERM/SIGINT.

    A worker that exits is restarted, unless it exits within `start_grace_s` of
    its start (a startup error such as a busy port): then all stop and that
    exit status is returned.
    """
    logger = logging.getLogger("keras_rt.serving")
    # Check the config (one-line error, exit 2) before starting any process.
    build_store(args)
    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold TF
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}

    def start():
        process = context.Process(target=_worker, args=(args,), name="keras-rt-serve-worker")
        process.start()
        return process, time.monotonic()

    workers = [start() for _ in range(args.workers)]
    logger.info(
        "Started %d workers (pids %s) on port %d%s",
        args.workers,
        ", ".join(str(p.pid) for p, _ in workers),
        args.port,
        f" and gRPC port {args.grpc_port}" if args.grpc_port else "",
    )
    status = 0
    try:
        while not stopping:
            time.sleep(0.2)
            for i, (process, started) in enumerate(workers):
                if process.is_alive() or stopping:
                    continue
                code = process.exitcode or 0
                if time.monotonic() - started < start_grace_s:
                    logger.error(
                        "Worker %d exited with status %d at start; stopping", process.pid, code
                    )
                    status, stopping = (code if code > 0 else 1), True
                    break
                logger.warning("Worker %d exited with status %d; restarting it", process.pid, code)
                workers[i] = start()
    finally:
        for process, _ in workers:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn and gRPC shut down cleanly
        deadline = time.monotonic() + 15
        for process, _ in workers:
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for s, handler in previous.items():
            signal.signal(s, handler)
    logger.info("Workers stopped")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """`scripts/serve.py` entry point."""
    return main_for(add_arguments, run, argv, prog="serve.py", description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
