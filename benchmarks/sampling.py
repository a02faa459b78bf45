#!/usr/bin/env python
"""Benchmark `Sampling` against the inline expression: thin wrapper over `keras_rt.cli.benchmark_sampling`.

Usage: python benchmarks/sampling.py --json bench_results/sampling.json
"""

import sys

from keras_rt.cli.benchmark_sampling import main

if __name__ == "__main__":
    sys.exit(main())
