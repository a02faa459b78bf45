"""Command-line entry points: `keras-rt <command>` and the thin `scripts/*.py`."""
