"""Search the latent size of a zoo VAE (and optionally beta, learning rate, width) with KerasTuner.

Usage:
  python scripts/tune.py --model mlp_vae --dataset digits --latent-dims 2,4,8,16,32 --tuner grid --epochs 20
  keras-rt tune --model mlp_vae --dataset digits --objective val_iwae_nll --export-best saved_models
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
exports the best trial's model to DIR/<model>/<version>/. Rerunning the same
command resumes an interrupted search; --overwrite starts fresh.

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
    """Adds the tuning flags to `parser`."""
    from keras_rt.datasets import DATASETS
    from keras_rt.tuning.tuners import TUNERS
    from keras_rt.zoo import ZOO

    parser.add_argument("--model", choices=sorted(ZOO), help="zoo model (default: mlp_vae)")
    parser.add_argument("--dataset", choices=sorted(DATASETS), help="dataset (default: digits)")
    parser.add_argument(
        "--latent-dims",
        metavar="LIST",
        help="comma-separated latent sizes to search (default: 2,4,8,16,32)",
    )
    parser.add_argument("--tuner", choices=sorted(TUNERS), help="search algorithm (default: grid)")
    parser.add_argument(
        "--max-trials",
        type=int,
        help="trials to run (default: the number of grid points; 10 with a continuous dimension)",
    )
    parser.add_argument(
        "--epochs", type=int, help="epochs per trial; Hyperband's max epochs (default: 10)"
    )
    parser.add_argument(
        "--objective", help="val_neg_elbo (default), val_iwae_nll, val_loss or val_reconstruction"
    )
    parser.add_argument("--output-dir", help="search folder (default: runs/tune-<model>-<dataset>)")
    parser.add_argument(
        "--export-best", metavar="DIR", help="export the best model as a SavedModel under DIR"
    )
    parser.add_argument(
        "--seed", type=int, help="seed of data, oracle and every trial (default: 0)"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        default=None,
        help="delete an earlier search in the folder",
    )
    parser.add_argument(
        "--config", metavar="FILE", help="JSON file with any of these settings, plus 'search'"
    )
    parser.add_argument("--batch-size", type=int, help="examples per batch (default: 128)")
    parser.add_argument(
        "--learning-rate", type=float, help="Adam learning rate unless searched (default: 1e-3)"
    )
    parser.add_argument("--binarized", action="store_true", default=None, help="binarized data")
    parser.add_argument(
        "--data-dir", help="folder with the dataset's IDX files (Fashion-MNIST, MNIST)"
    )
    parser.add_argument("--max-examples", type=int, help="cap per split, for quick runs")
    parser.add_argument(
        "--iwae-samples", type=int, help="k of the val_iwae_nll objective (default: 64)"
    )
    parser.add_argument(
        "--iwae-max-examples", type=int, help="validation examples for val_iwae_nll (default: 500)"
    )
    parser.add_argument(
        "--hyperband-factor", type=int, help="Hyperband's reduction factor (default: 3)"
    )
    parser.add_argument(
        "--executions-per-trial", type=int, help="models averaged per trial (default: 1)"
    )
    parser.add_argument(
        "--verbose", type=int, choices=(0, 1, 2), help="Keras/KerasTuner verbosity (default: 1)"
    )


FLAGS = (
    "model",
    "dataset",
    "latent_dims",
    "tuner",
    "max_trials",
    "epochs",
    "objective",
    "output_dir",
    "export_best",
    "seed",
    "overwrite",
    "batch_size",
    "learning_rate",
    "binarized",
    "data_dir",
    "max_examples",
    "iwae_samples",
    "iwae_max_examples",
    "hyperband_factor",
    "executions_per_trial",
    "verbose",
)


def config_from_args(args: argparse.Namespace):
    """Defaults <- --config FILE <- explicit flags; validated."""
    from keras_rt.tuning import TuneConfig

    flags = {name: getattr(args, name) for name in FLAGS if getattr(args, name, None) is not None}
    if args.config:
        config = TuneConfig.from_file(args.config, **flags)
    else:
        config = TuneConfig.from_dict(flags)
    return config.validate()


def run(args: argparse.Namespace) -> int:
    """Runs the search from parsed flags and reports it."""
    import keras

    from keras_rt.tuning import run_search

    config = config_from_args(args)
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
