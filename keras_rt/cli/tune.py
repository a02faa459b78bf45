"""Search the latent size of a zoo VAE (and optionally beta, learning rate, width) with KerasTuner.

Usage:
  python scripts/tune.py --model mlp_vae --dataset digits --latent-dims 2,4,8,16,32 --tuner grid --epochs 20
  keras-rt tune --model mlp_vae --dataset digits --objective val_iwae_nll \
      --export-best saved_models --export-name mlp_vae_tuned
  keras-rt tune --config search.json --tuner bayesian --max-trials 20

Objectives (--objective, all minimized, nats per example): val_neg_elbo (the
default), val_iwae_nll (the IWAE-k bound, k = --iwae-samples), val_loss,
val_reconstruction. Extra search dimensions come from --config FILE (JSON):
  {"search": {"beta": [0.5, 1.0, 2.0],
              "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
              "hidden_units": [[64, 32], [128, 64]]},
   "model_config": {"likelihood": "bernoulli"}, "batch_size": 64}
Flags given on the command line win over the file.

Writes into --output-dir (default runs/tune-<model>-<dataset>): config.json,
search/ (KerasTuner's project: oracle and one folder per trial), results.json
and objective_vs_latent_dim.png; prints the trials table. --export-best DIR
exports the best trial's model to DIR/<export-name or model>/<version>/ (not
again if identical to the newest version; refused if its signatures differ from
it, unless --allow-signature-change). Rerunning the same command resumes an
interrupted search, and a finished one exports nothing new; --overwrite starts
fresh.

Distributed: run the same command in a chief and in workers with
KERASTUNER_TUNER_ID (chief, tuner0, tuner1, ...), KERASTUNER_ORACLE_IP and
KERASTUNER_ORACLE_PORT set; the chief serves the oracle and writes the results.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from keras_rt.cli.common import main_for


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the tuning flags to `parser` (generated from `TuneConfig`; no TensorFlow import)."""
    from keras_rt.cli.choices import dataset_names, zoo_model_names
    from keras_rt.cli.config_flags import add_config_arguments
    from keras_rt.tuning.config import TuneConfig

    choices = {"model": zoo_model_names(), "dataset": dataset_names()}
    add_config_arguments(parser, TuneConfig, choices=choices)


def config_from_args(args: argparse.Namespace):
    """Defaults <- --config FILE <- explicit flags; validated."""
    from keras_rt.cli.config_flags import config_from_args as from_args
    from keras_rt.tuning.config import TuneConfig

    return from_args(TuneConfig, args).validate()


def run(args: argparse.Namespace) -> int:
    """Runs the search from parsed flags and reports it."""
    config = config_from_args(args).validate()  # bad settings fail before TensorFlow is imported
    import keras

    from keras_rt.tuning.search import run_search

    keras.utils.set_random_seed(config.seed)
    result = run_search(config)
    if result.role == "worker":
        tuner_id = os.environ.get("KERASTUNER_TUNER_ID")
        print(
            f"worker {tuner_id}: trained {result.trials_fitted} trial(s); the chief writes results.json"
        )
        return 0
    assert result.results is not None, "the chief's search result has results"
    print()
    print(result.table)
    print()
    print(f"search folder: {result.search_dir}  (config.json, search/)")
    print(f"results:       {result.results_path}")
    print(f"plot:          {result.plot_path}")
    if result.export_path:
        print(f"SavedModel:    {result.export_path}  (best trial)")
    return 0 if result.results["best"] is not None else 1


def main(argv: Sequence[str] | None = None) -> int:
    """`scripts/tune.py` entry point."""
    return main_for(add_arguments, run, argv, prog="tune.py", description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
