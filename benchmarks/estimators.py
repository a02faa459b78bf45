#!/usr/bin/env python
"""Benchmark of keras_rt.estimators: variance ratios at equal N and wall time.

Reports, at equal sample counts N:
  - score function / pathwise variance on x ~ N(theta, 1), f = x^2 (goal: the
    analytic (theta^4 + 14 theta^2 + 15) / 4 = 21.75 at theta = 2);
  - pathwise / pathwise-QMC variance on that toy and on the ELBO gradient of a
    2-D-latent VAE encoder on the bundled digits (goal: >= 10x);
and the wall time of each estimator per 10^6 samples.

Usage: python benchmarks/estimators.py [--reps 200] [--seed 0]
           [--json bench_results/estimators.json]
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
    parser.add_argument("--theta", type=float, default=2.0)
    parser.add_argument(
        "--sizes", default="100,1000,10000", help="toy sample counts (default: 100,1000,10000)"
    )
    parser.add_argument("--reps", type=int, default=200, help="toy repetitions (default: 200)")
    parser.add_argument(
        "--vae-sizes", default="128,1024", help="VAE sample counts (default: 128,1024)"
    )
    parser.add_argument("--vae-reps", type=int, default=50)
    parser.add_argument("--timing-samples", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=Path("bench_results/estimators.json"))
    args = parser.parse_args(argv)

    import tensorflow as tf

    from keras_rt.estimators import study, vae_study

    sizes = [int(v) for v in args.sizes.split(",")]
    vae_sizes = [int(v) for v in args.vae_sizes.split(",")]
    toy = study.run_toy_study(theta=args.theta, sizes=sizes, reps=args.reps, seed=args.seed)
    timings = study.time_estimators(
        theta=args.theta, num_samples=args.timing_samples, seed=args.seed
    )
    vae = vae_study.run_vae_study(sizes=vae_sizes, reps=args.vae_reps, seed=args.seed)

    vae_cells = {(r["estimator"], r["n"]): r for r in vae["results"]}
    vae_rows = []
    for n in vae_sizes:
        pw = vae_cells[("pathwise", n)]["total_variance"]
        vae_rows.append(
            {
                "n": n,
                "score_function_rloo/pathwise": vae_cells[("score_function_rloo", n)][
                    "total_variance"
                ]
                / pw,
                "score_function/pathwise": vae_cells[("score_function", n)]["total_variance"] / pw,
                "pathwise/pathwise_qmc": pw / vae_cells[("pathwise_qmc", n)]["total_variance"],
            }
        )
    t2 = args.theta**2
    report = {
        "device": f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)",
        "tensorflow": tf.__version__,
        "toy": {
            "theta": args.theta,
            "reps": args.reps,
            "analytic_score_function_over_pathwise": (t2 * t2 + 14 * t2 + 15) / 4.0,
            "variance_ratios": study.benchmark_ratios(toy),
        },
        "vae": {
            "latent_dim": vae["latent_dim"],
            "reps": args.vae_reps,
            "variance_ratios": vae_rows,
        },
        "seconds_per_million_samples": timings,
    }

    print(study.format_table(toy, timings))
    print()
    print(vae_study.format_vae_table(vae))
    print()
    print("VAE ELBO gradient, variance ratios at equal N:")
    print("| N | score_function / pathwise | score_function_rloo / pathwise | pathwise / qmc |")
    print("|---:|---:|---:|---:|")
    for row in vae_rows:
        print(
            f"| {row['n']} | {row['score_function/pathwise']:.4g} "
            f"| {row['score_function_rloo/pathwise']:.4g} | {row['pathwise/pathwise_qmc']:.4g} |"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\nwritten to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
