#!/usr/bin/env python
"""Serve exported SavedModels over TF Serving's REST API: thin wrapper over `keras_rt.cli.serve`.

Usage: python scripts/serve.py --model-base-path saved_models --port 8501
"""

import sys

from keras_rt.cli.serve import main

if __name__ == "__main__":
    sys.exit(main())
