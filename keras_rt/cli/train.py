"""Train a zoo model on a dataset with `model.fit`, evaluate it, plot it and export it.

Usage:
  python scripts/train.py --model mlp_vae --dataset digits --epochs 50
  keras-rt train --model conv_vae --dataset fashion_mnist --binarized --epochs 20

Flags given on the command line win over `--config FILE` (JSON with the same
keys, plus "model_config" for the model's own hyperparameters), which wins
over the defaults. Re-running with the same --output-dir resumes an
interrupted run (killed at any moment: it loses at most the epoch in
progress); a complete run is left as it is (--overwrite trains it again).
Writes into the run folder: config.json, versions.json, history.csv (one row
per epoch), backup/ (while training), model.keras, checkpoints/, logs/
(TensorBoard), plots/*.png, and last metrics.json; exports a SavedModel to
<export-dir>/<export-name or model>/<version>/ unless its signatures differ
from that name's newest version (--allow-signature-change) or it is identical
to it (no new version).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from keras_rt.cli.common import main_for


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the training flags to `parser` (generated from `TrainConfig`; no TensorFlow import)."""
    from keras_rt.cli.choices import dataset_names, zoo_model_names
    from keras_rt.cli.config_flags import add_config_arguments
    from keras_rt.training.config import TrainConfig

    choices = {"model": zoo_model_names(), "dataset": dataset_names()}
    add_config_arguments(parser, TrainConfig, choices=choices)


def config_from_args(args: argparse.Namespace):
    """Defaults <- --config FILE <- explicit flags."""
    from keras_rt.cli.config_flags import config_from_args as from_args
    from keras_rt.training.config import TrainConfig

    return from_args(TrainConfig, args)


def report(result) -> None:
    """Prints the summary table and where everything is."""
    from keras_rt.training.evaluate import summary_table

    print()
    print(summary_table(result.metrics))
    print()
    print(f"run folder:   {result.run_dir}  (config.json, metrics.json, history.csv, model.keras)")
    for path in result.plots.values():
        print(f"plot:         {path}")
    if result.export_path:
        print(
            f"SavedModel:   {result.export_path}  (signatures: serving_default, encode, decode, sample, log_likelihood)"
        )


def run(args: argparse.Namespace) -> int:
    """Runs training from parsed flags."""
    config = config_from_args(args).validate()  # bad settings fail before TensorFlow is imported
    from keras_rt.training.run import train

    result = train(config)
    report(result)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`scripts/train.py` entry point."""
    return main_for(add_arguments, run, argv, prog="train.py", description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
