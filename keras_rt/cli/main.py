"""`keras-rt`: one console command over the library's CLIs.

Usage: keras-rt COMMAND [options]    (keras-rt COMMAND --help for each)
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from keras_rt.cli.common import quiet_tensorflow, run_command

# command name -> (module with add_arguments/run, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("keras_rt.cli.demo", "train the default zoo model, export it, show the results"),
    "train": ("keras_rt.cli.train", "train a zoo model on a dataset and export it"),
    "export": ("keras_rt.cli.export", "export a trained .keras model as a versioned SavedModel"),
    "tune": ("keras_rt.cli.tune", "search latent sizes (and more) with KerasTuner"),
    "serve": ("keras_rt.cli.serve", "serve exported SavedModels over the TF Serving REST API"),
    "estimator-variance": (
        "keras_rt.cli.estimator_variance",
        "score-function vs pathwise gradient variance study",
    ),
    "zoo-results": (
        "keras_rt.cli.zoo_results",
        "train every zoo model and tabulate honest metrics",
    ),
    "benchmark-zoo": (
        "keras_rt.cli.benchmark_zoo",
        "zoo VAEs under fit vs a hand-written GradientTape VAE: throughput and quality",
    ),
    "benchmark-estimators": (
        "keras_rt.cli.benchmark_estimators",
        "every zoo model with every estimator it accepts, at equal epochs and equal time",
    ),
    "benchmark-sampling": (
        "keras_rt.cli.benchmark_sampling",
        "time Sampling against the inline reparameterization expression",
    ),
}


def _load(command: str):
    module_name = COMMANDS[command][0]
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name:
            return None
        raise


def main(argv: Sequence[str] | None = None) -> int:
    """Runs `keras-rt COMMAND ...`; returns the process exit status."""
    quiet_tensorflow()
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="keras-rt",
        description="keras-rt: the reparameterization trick for Keras 3.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Only the chosen command's module is imported (TensorFlow is slow to import).
    chosen = argv[0] if argv and argv[0] in COMMANDS else None
    for name, (_, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            module = _load(name)
            if module is None:
                parser.error(f"command {name!r} is not available in this version")
            if module.__doc__:
                sub.description = module.__doc__
                sub.formatter_class = argparse.RawDescriptionHelpFormatter
            module.add_arguments(sub)
            sub.set_defaults(_run=module.run)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return run_command(args._run, args, f"keras-rt {args.command}")


if __name__ == "__main__":
    sys.exit(main())
