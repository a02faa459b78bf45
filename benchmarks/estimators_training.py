#!/usr/bin/env python
"""The estimator shoot-out: thin wrapper over `keras_rt.cli.benchmark_estimators`.

Usage: python benchmarks/estimators_training.py --json bench_results/estimators.json
       python benchmarks/estimators_training.py --quick
"""

import sys

from keras_rt.cli.benchmark_estimators import main

if __name__ == "__main__":
    sys.exit(main())
