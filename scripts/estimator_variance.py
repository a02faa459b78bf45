#!/usr/bin/env python
"""Score-function vs pathwise gradient variance study (x ~ N(theta, 1), f = x^2).

Usage: python scripts/estimator_variance.py [--theta 2.0] [--sizes 10,100,1000]
           [--reps 100] [--seed 0] [--json PATH] [--plot PATH] [--vae]

See `python scripts/estimator_variance.py --help`; the same command is
`keras-rt estimator-variance`.
"""

import sys

from keras_rt.cli.estimator_variance import main

if __name__ == "__main__":
    sys.exit(main())
