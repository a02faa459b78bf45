"""The main job: train the default zoo model (mlp_vae on the bundled digits), export it, show it.

Usage:
  ./scripts/demo.sh            (creates .venv, installs keras-rt, runs this)
  keras-rt demo [--epochs N] [--output-dir runs/demo] [--export-dir saved_models]

Works offline: the digits data ships inside scikit-learn.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from keras_rt.cli.common import main_for


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the demo's flags."""
    parser.add_argument("--epochs", type=int, default=50, help="training epochs (default: 50)")
    parser.add_argument("--output-dir", default="runs/demo", help="run folder (default: runs/demo)")
    parser.add_argument("--export-dir", default="saved_models", help="SavedModel base folder")
    parser.add_argument("--seed", type=int, default=0, help="global seed (default: 0)")


def show_export(path: str) -> None:
    """Loads the SavedModel the way a server would and calls two of its signatures."""
    import numpy as np
    import tensorflow as tf

    loaded = tf.saved_model.load(path)
    samples = loaded.signatures["sample"](num_samples=tf.constant(4))["x"].numpy()
    print(f"SavedModel signatures: {sorted(loaded.signatures)}")
    print(f"sample(num_samples=4) -> images of shape {samples.shape}, mean {np.mean(samples):.3f}")


def run(args: argparse.Namespace) -> int:
    """Trains, reports and shows the export."""
    from keras_rt.cli.train import report
    from keras_rt.training import TrainConfig, train

    config = TrainConfig(
        model="mlp_vae",
        dataset="digits",
        epochs=args.epochs,
        seed=args.seed,
        output_dir=args.output_dir,
        export_dir=args.export_dir,
        verbose=2,
    )
    print(f"Training mlp_vae on digits for {config.epochs} epochs (offline, bundled data)...")
    result = train(config)
    report(result)
    if result.export_path:
        show_export(result.export_path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`keras-rt demo` entry point."""
    return main_for(add_arguments, run, argv, prog="keras-rt demo", description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
