#!/usr/bin/env python
"""Search latent sizes (and more) with KerasTuner: a thin wrapper over `keras_rt.cli.tune` (see --help).

Usage: python scripts/tune.py --model mlp_vae --dataset digits --latent-dims 2,4,8,16,32 --tuner grid
"""

import sys

from keras_rt.cli.tune import main

if __name__ == "__main__":
    sys.exit(main())
