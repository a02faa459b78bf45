"""Serve exported SavedModels over TensorFlow Serving's REST API (FastAPI on uvicorn).

Usage:
  python scripts/serve.py --model-base-path saved_models          # every model in it
  python scripts/serve.py --model mlp_vae=saved_models/mlp_vae --port 8501
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
import sys
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


def run(args: argparse.Namespace) -> int:
    """Builds the model store from the flags and serves until interrupted."""
    from keras_rt.serving import ModelStore, serve

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be in 0..65535. Received: {args.port}")
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
    if args.allow_file_ops:
        logging.getLogger("keras_rt.serving").warning(
            "--allow-file-ops: models may read and write files, run Python and reach the network"
        )
    serve(
        store,
        host=args.host,
        port=args.port,
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


def main(argv: Sequence[str] | None = None) -> int:
    """`scripts/serve.py` entry point."""
    return main_for(add_arguments, run, argv, prog="serve.py", description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
