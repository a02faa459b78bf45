#!/usr/bin/env python
"""Regenerate the README's zoo results table: thin wrapper over `keras_rt.cli.zoo_results`.

Usage: python scripts/zoo_results.py --datasets digits,fashion_mnist --epochs 5
"""

import sys

from keras_rt.cli.zoo_results import main

if __name__ == "__main__":
    sys.exit(main())
