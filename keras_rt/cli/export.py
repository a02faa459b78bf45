"""Export a trained model (a `.keras` file or a run folder) as a versioned SavedModel.

Usage:
  python scripts/export.py --run-dir runs/mlp_vae-digits
  keras-rt export --model-path model.keras --name mlp_vae --export-dir saved_models

Writes <export-dir>/<name>/<next version>/ (TensorFlow Serving layout) with
the signatures serving_default, encode, decode, sample and log_likelihood;
the .keras file and config.json travel with it in assets.extra/. An export
identical to the newest version is not written again; one whose signatures
differ from the newest version's is refused (clients would break), unless
--allow-signature-change: export under another --name instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from keras_rt.cli.common import main_for


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the export flags to `parser`."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--run-dir", help="a training run folder (uses its model.keras and config.json)"
    )
    source.add_argument("--model-path", help="a .keras file saved from a zoo model")
    parser.add_argument(
        "--name",
        "--export-name",
        dest="name",
        help="model name under the export folder (default: the run's model)",
    )
    parser.add_argument(
        "--allow-signature-change",
        action="store_true",
        help="export even if the signatures differ from the newest version of that name "
        "(its clients must change too)",
    )
    parser.add_argument(
        "--export-dir", default="saved_models", help="base folder (default: saved_models)"
    )


def export_from_files(
    model_path: str,
    export_dir: str,
    name: str | None,
    config_path: str | None = None,
    *,
    allow_signature_change: bool = False,
) -> str:
    """Loads a `.keras` zoo model (safe mode) and exports it; returns the version folder."""
    import keras

    import keras_rt.zoo  # noqa: F401  (registers the zoo classes for loading)
    from keras_rt.export import export_model

    if not os.path.isfile(model_path):
        raise FileNotFoundError(f"Model file not found: {model_path!r}")
    config = None
    if config_path and os.path.isfile(config_path):
        with open(config_path) as f:
            config = json.load(f)
    model = keras.models.load_model(model_path, safe_mode=True)
    if not hasattr(model, "encode"):
        raise ValueError(
            f"{model_path!r} holds a {type(model).__name__}, not a keras-rt zoo model; "
            "only zoo models have the encode/decode/sample signatures."
        )
    name = name or (config or {}).get("model") or model.name
    return export_model(
        model, export_dir, name, config=config, allow_signature_change=allow_signature_change
    )


def run(args: argparse.Namespace) -> int:
    """Exports from parsed flags and prints the version folder."""
    if args.run_dir:
        if not os.path.isdir(args.run_dir):
            raise FileNotFoundError(f"Run folder not found: {args.run_dir!r}")
        model_path = os.path.join(args.run_dir, "model.keras")
        config_path = os.path.join(args.run_dir, "config.json")
    else:
        model_path, config_path = args.model_path, None
    path = export_from_files(
        model_path,
        args.export_dir,
        args.name,
        config_path,
        allow_signature_change=args.allow_signature_change,
    )
    print(f"SavedModel: {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`scripts/export.py` entry point."""
    return main_for(add_arguments, run, argv, prog="export.py", description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
