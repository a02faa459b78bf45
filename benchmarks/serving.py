#!/usr/bin/env python
"""Benchmark of keras_rt.serving: single-instance predict over REST (and gRPC) vs. in-process.

Reports p50/p99 latency and requests/s with 1 and 8 (or --clients) concurrent
keep-alive clients against the real server (a subprocess), without and with
--batching, for each --workers count, over REST and with --grpc also gRPC,
next to the cost of calling the loaded SavedModel in-process.
Goal on a 2-core machine: p50 < 5 ms, p99 < 25 ms, >= 300 req/s.

Usage:
  python scripts/train.py --model mlp_vae --dataset digits --epochs 1 --latent-dim 2 \\
      --output-dir /tmp/bench_run --export-dir /tmp/bench_sm
  python benchmarks/serving.py --model-dir /tmp/bench_sm/mlp_vae [--requests 2000]
      [--json bench_results/serving.json]
  python benchmarks/serving.py --model-dir /tmp/bench_sm/mlp_vae --grpc --workers 1,2 \\
      --clients 1,8,32 --modes plain --seconds 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model-dir",
        default="saved_models/mlp_vae",
        help="model folder with version folders (default: saved_models/mlp_vae)",
    )
    parser.add_argument("--name", default="mlp_vae", help="model name to serve it as")
    parser.add_argument("--clients", default="1,8", help="concurrent clients (default: 1,8)")
    parser.add_argument(
        "--requests", type=int, default=2000, help="requests per cell (default: 2000)"
    )
    parser.add_argument(
        "--modes", default="plain,batching", help="server modes (default: plain,batching)"
    )
    parser.add_argument("--threads", type=int, default=4, help="server --threads (default: 4)")
    parser.add_argument(
        "--workers", default="1", help="server --workers counts to compare (default: 1)"
    )
    parser.add_argument("--grpc", action="store_true", help="also benchmark gRPC Predict")
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="run each cell this many seconds instead of --requests requests",
    )
    parser.add_argument("--json", type=Path, default=Path("bench_results/serving.json"))
    args = parser.parse_args(argv)

    from keras_rt.experiments.serving_benchmark import format_table, run_benchmark

    try:
        result = run_benchmark(
            args.model_dir,
            name=args.name,
            clients=[int(c) for c in args.clients.split(",")],
            requests=args.requests,
            modes=args.modes.split(","),
            threads=args.threads,
            workers=[int(w) for w in args.workers.split(",")],
            grpc=args.grpc,
            seconds=args.seconds,
        )
    except (FileNotFoundError, ValueError) as error:
        print(f"serving.py: error: {error}", file=sys.stderr)
        return 2
    from keras_rt.training.environment import cpu_description

    result["machine"] = {
        "cpu": cpu_description(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
    }
    result["command"] = "python benchmarks/serving.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    print(f"CPU: {result['machine']['cpu']}")
    print(format_table(result))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"JSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
