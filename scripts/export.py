#!/usr/bin/env python
"""Export a trained zoo model as a versioned SavedModel: thin wrapper over `keras_rt.cli.export`.

Usage: python scripts/export.py --run-dir runs/mlp_vae-digits --export-dir saved_models
"""

import sys

from keras_rt.cli.export import main

if __name__ == "__main__":
    sys.exit(main())
