"""Train a zoo model on a dataset with `model.fit`, evaluate it, plot it and export it.

Usage:
  python scripts/train.py --model mlp_vae --dataset digits --epochs 50
  keras-rt train --model conv_vae --dataset fashion_mnist --binarized --epochs 20

Flags given on the command line win over `--config FILE` (JSON with the same
keys, plus "model_config" for the model's own hyperparameters), which wins
over the defaults. Re-running with the same --output-dir resumes an
interrupted run. Writes into the run folder: config.json, metrics.json,
versions.json, history.csv, model.keras, checkpoints/, logs/ (TensorBoard)
and plots/*.png; exports a SavedModel to <export-dir>/<model>/<version>/.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from keras_rt.cli.common import main_for


def _positive_or_none(text: str):
    return None if text.lower() in ("none", "off", "") else int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the training flags to `parser`."""
    from keras_rt.datasets import DATASETS
    from keras_rt.zoo import ZOO

    parser.add_argument("--model", choices=sorted(ZOO), help="zoo model (default: mlp_vae)")
    parser.add_argument("--dataset", choices=sorted(DATASETS), help="dataset (default: digits)")
    parser.add_argument("--epochs", type=int, help="training epochs (default: 50)")
    parser.add_argument("--batch-size", type=int, help="examples per batch (default: 128)")
    parser.add_argument(
        "--latent-dim", type=int, help="latent dimensions (default: the model's preset)"
    )
    parser.add_argument("--learning-rate", type=float, help="Adam learning rate (default: 1e-3)")
    parser.add_argument("--seed", type=int, help="global seed (default: 0)")
    parser.add_argument("--output-dir", help="run folder (default: runs/<model>-<dataset>)")
    parser.add_argument("--export-dir", help="SavedModel base folder (default: saved_models)")
    parser.add_argument("--no-export", action="store_true", help="skip the SavedModel export")
    parser.add_argument("--config", metavar="FILE", help="JSON file with any of these settings")
    parser.add_argument(
        "--binarized",
        action="store_true",
        default=None,
        help="dynamically binarized training data, fixed binarization for validation/test",
    )
    parser.add_argument(
        "--data-dir", help="folder with the dataset's IDX files (Fashion-MNIST, MNIST)"
    )
    parser.add_argument("--max-examples", type=int, help="cap per split, for quick runs")
    parser.add_argument(
        "--iwae-samples", type=int, help="k of the test IWAE-k bound (default 5000; 0 skips)"
    )
    parser.add_argument(
        "--iwae-max-examples",
        type=_positive_or_none,
        help="test examples for the IWAE bound (default 1000; 'none' for all)",
    )
    parser.add_argument(
        "--early-stopping-patience", type=int, help="stop after N epochs without val_loss gain"
    )
    parser.add_argument(
        "--reduce-lr-patience", type=int, help="halve the LR after N epochs without gain"
    )
    parser.add_argument("--kl-warmup-epochs", type=float, help="linear KL warm-up over N epochs")
    parser.add_argument(
        "--no-tensorboard", action="store_true", help="do not write TensorBoard logs"
    )
    parser.add_argument("--no-plots", action="store_true", help="do not write PNG plots")
    parser.add_argument(
        "--verbose", type=int, choices=(0, 1, 2), help="Keras verbosity (default: auto)"
    )
    scale = parser.add_argument_group(
        "scale-out (see README: one GPU, several GPUs, several machines)"
    )
    scale.add_argument(
        "--strategy",
        choices=("default", "mirrored", "multi_worker"),
        help="tf.distribute strategy: mirrored = all GPUs of this machine, multi_worker = the "
        "machines in TF_CONFIG (default: default); --batch-size is the global batch",
    )
    scale.add_argument(
        "--mixed-precision",
        choices=("off", "mixed_float16", "mixed_bfloat16"),
        help="compute in 16-bit floats, variables and losses in float32 (default: off)",
    )
    scale.add_argument(
        "--jit-compile",
        choices=("auto", "on", "off"),
        help="XLA compilation: auto = on for GPUs; on CPUs on for Dense models, off for "
        "convolutional ones, as measured (default: auto)",
    )
    scale.add_argument(
        "--scale-learning-rate",
        action="store_true",
        default=None,
        help="multiply the learning rate by the number of replicas",
    )


def config_from_args(args: argparse.Namespace):
    """Defaults <- --config FILE <- explicit flags."""
    from keras_rt.training import TrainConfig

    flags = {
        name: getattr(args, name)
        for name in (
            "model",
            "dataset",
            "epochs",
            "batch_size",
            "latent_dim",
            "learning_rate",
            "seed",
            "output_dir",
            "export_dir",
            "binarized",
            "data_dir",
            "max_examples",
            "iwae_samples",
            "iwae_max_examples",
            "early_stopping_patience",
            "reduce_lr_patience",
            "kl_warmup_epochs",
            "verbose",
        )
        if getattr(args, name, None) is not None
    }
    if getattr(args, "no_tensorboard", False):
        flags["tensorboard"] = False
    if getattr(args, "no_plots", False):
        flags["plots"] = False
    if getattr(args, "no_export", False):
        flags["export_dir"] = None
    for name, value in _extra_flags(args).items():
        flags[name] = value
    if args.config:
        return TrainConfig.from_file(args.config, **flags)
    return TrainConfig.from_dict(flags)


def _extra_flags(args: argparse.Namespace) -> dict:
    """Scale-out flags, when given."""
    names = ("strategy", "mixed_precision", "jit_compile", "scale_learning_rate")
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def report(result) -> None:
    """Prints the summary table and where everything is."""
    from keras_rt.training import summary_table

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
    from keras_rt.training import train

    result = train(config_from_args(args))
    report(result)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`scripts/train.py` entry point."""
    return main_for(add_arguments, run, argv, prog="train.py", description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
