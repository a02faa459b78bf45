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
import sys
from collections.abc import Sequence
from pathlib import Path

from keras_rt.training.environment import cpu_description


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

    from keras_rt.experiments import vae_variance_study, variance_report, variance_study

    sizes = [int(v) for v in args.sizes.split(",")]
    vae_sizes = [int(v) for v in args.vae_sizes.split(",")]
    toy = variance_study.run_toy_study(
        theta=args.theta, sizes=sizes, reps=args.reps, seed=args.seed
    )
    timings = variance_study.time_estimators(
        theta=args.theta, num_samples=args.timing_samples, seed=args.seed
    )
    vae = vae_variance_study.run_vae_study(sizes=vae_sizes, reps=args.vae_reps, seed=args.seed)
    vae_rows = vae_variance_study.vae_variance_ratios(vae)
    analytic = variance_study.analytic_per_sample_variances(args.theta)
    report = {
        "device": f"CPU ({cpu_description()})",
        "tensorflow": tf.__version__,
        "toy": {
            "theta": args.theta,
            "reps": args.reps,
            "analytic_score_function_over_pathwise": analytic["score_function"]
            / analytic["pathwise"],
            "variance_ratios": variance_study.benchmark_ratios(toy),
        },
        "vae": {
            "latent_dim": vae["latent_dim"],
            "reps": args.vae_reps,
            "variance_ratios": vae_rows,
        },
        "seconds_per_million_samples": timings,
    }

    print(f"Machine: {cpu_description()}")
    print(variance_report.format_table(toy, timings))
    print()
    print(vae_variance_study.format_vae_table(vae))
    print()
    print(vae_variance_study.format_vae_ratios(vae_rows))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\nwritten to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
