#!/usr/bin/env python
"""Benchmark the zoo VAEs against a GradientTape reference: thin wrapper over `keras_rt.cli.benchmark_zoo`.

Usage: python benchmarks/zoo.py --json bench_results/zoo.json
"""

import sys

from keras_rt.cli.benchmark_zoo import main

if __name__ == "__main__":
    sys.exit(main())
