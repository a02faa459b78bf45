#!/usr/bin/env python
"""Train a zoo model: a thin wrapper over `keras_rt.cli.train` (see --help).

Usage: python scripts/train.py --model mlp_vae --dataset digits --epochs 50
"""

import sys

from keras_rt.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
