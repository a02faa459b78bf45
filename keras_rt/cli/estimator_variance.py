"""Score-function vs pathwise gradient variance: the reparameterization-trick study.

Reproduces the classic experiment: x ~ N(theta, 1), f(x) = x^2, true gradient
2 theta. For each estimator (score function with no baseline, with the constant
baseline E[x^2], with leave-one-out; pathwise; pathwise with antithetic pairs;
pathwise with randomized quasi-Monte Carlo) and each sample count N it draws
--reps independent N-sample gradient estimates and reports their mean and
variance next to the analytic per-sample variances (87, 42 and 4 at theta = 2),
the variance ratios at equal N, and the wall time per 10^6 samples.
With --vae it also runs the same comparison on the ELBO gradient of a small
2-D-latent VAE encoder trained on the bundled digits.

With --iwae-snr it runs, instead, the IWAE study: on a small IWAE trained on the
bundled digits, the signal-to-noise ratio of the encoder's and the decoder's
gradients for the IWAE estimator and for DReG at each k of --ks (--reps draws
per cell); --json then holds {"iwae_snr": [{"estimator", "k", "encoder_snr",
"decoder_snr", ...}]} and --plot draws SNR against k.

Usage:
  python scripts/estimator_variance.py [--theta 2.0] [--sizes 10,100,1000,10000,100000]
      [--reps 100] [--seed 0] [--json results.json] [--plot variance.png] [--vae]
  python scripts/estimator_variance.py --iwae-snr [--ks 1,5,10,50] [--reps 100] [--seed 0]
      [--json snr.json] [--plot snr.png]
  keras-rt estimator-variance [same options]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from keras_rt.cli.common import main_for


def _int_list(text: str, minimum: int, what: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, e.g. 10,100,1000; got {text!r}"
        ) from None
    if not values or min(values) < minimum:
        raise argparse.ArgumentTypeError(
            f"every {what} must be an integer >= {minimum}; got {text!r}"
        )
    return values


def _positive_int_list(text: str) -> list[int]:
    return _int_list(text, 2, "sample size")


def _k_list(text: str) -> list[int]:
    return _int_list(text, 1, "k")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the study's flags to `parser`."""
    parser.add_argument(
        "--theta", type=float, default=2.0, help="mean of N(theta, 1) (default: 2.0)"
    )
    parser.add_argument(
        "--sizes",
        type=_positive_int_list,
        default=[10, 100, 1000, 10000, 100000],
        help="comma-separated sample counts N (default: 10,100,1000,10000,100000)",
    )
    parser.add_argument(
        "--reps",
        type=int,
        default=100,
        help="independent estimates per (estimator, N) (default: 100)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the whole study (default: 0)")
    parser.add_argument(
        "--json", type=Path, default=None, metavar="PATH", help="write the results as JSON to PATH"
    )
    parser.add_argument(
        "--plot",
        type=Path,
        default=None,
        metavar="PATH",
        help="write a log-log PNG plot of variance vs N to PATH",
    )
    parser.add_argument(
        "--timing-samples",
        type=int,
        default=1_000_000,
        metavar="N",
        help="samples per timed call for the wall-time benchmark; 0 skips it (default: 1000000)",
    )
    parser.add_argument(
        "--vae",
        action="store_true",
        help="also run the study on a digits VAE encoder's ELBO gradient",
    )
    parser.add_argument(
        "--vae-sizes",
        type=_positive_int_list,
        default=[16, 128, 1024],
        help="sample counts for --vae (default: 16,128,1024)",
    )
    parser.add_argument(
        "--vae-reps", type=int, default=50, help="repetitions per cell for --vae (default: 50)"
    )
    parser.add_argument(
        "--iwae-snr",
        action="store_true",
        help="instead of the toy study, measure the encoder and decoder gradient SNR of the "
        "IWAE and DReG estimators at each k of --ks on a small IWAE trained on digits "
        "(--reps gradient draws per cell; 1.5 minutes on 2 cores at the defaults)",
    )
    parser.add_argument(
        "--ks",
        type=_k_list,
        default=[1, 5, 10, 50],
        help="importance samples k for --iwae-snr (default: 1,5,10,50)",
    )
    parser.add_argument(
        "--iwae-train-epochs",
        type=int,
        default=100,
        metavar="E",
        help="epochs of training on digits before --iwae-snr measures (default: 100; the "
        "papers' orderings hold near an optimum)",
    )


def _json_safe(value):
    """Replaces inf/nan (not valid JSON) by strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def run(args: argparse.Namespace) -> int:
    """Runs the study described by `args`; returns the exit status."""
    if not math.isfinite(args.theta):
        raise ValueError(f"--theta must be a finite number; got {args.theta}")
    if args.reps < 2:
        raise ValueError(f"--reps must be >= 2 to measure a variance; got {args.reps}")
    if args.vae and args.vae_reps < 2:
        raise ValueError(f"--vae-reps must be >= 2; got {args.vae_reps}")
    if args.timing_samples < 0 or args.timing_samples == 1:
        raise ValueError(f"--timing-samples must be 0 or >= 2; got {args.timing_samples}")
    if args.iwae_train_epochs < 0:
        raise ValueError(f"--iwae-train-epochs must be >= 0; got {args.iwae_train_epochs}")
    if args.iwae_snr:
        if args.vae:
            raise ValueError("--iwae-snr runs instead of the toy and --vae studies: drop --vae")
        return _run_iwae_snr(args)

    from keras_rt.experiments import variance_report, variance_study

    result = variance_study.run_toy_study(
        theta=args.theta, sizes=args.sizes, reps=args.reps, seed=args.seed
    )
    timings = None
    if args.timing_samples:
        timings = variance_study.time_estimators(
            theta=args.theta, num_samples=args.timing_samples, seed=args.seed
        )
    result["benchmark"] = {
        "variance_ratios": variance_study.benchmark_ratios(result),
        "seconds_per_million_samples": timings,
    }
    print(variance_report.format_table(result, timings))
    sys.stdout.flush()

    if args.vae:
        from keras_rt.experiments import vae_variance_study

        vae = vae_variance_study.run_vae_study(
            sizes=args.vae_sizes, reps=args.vae_reps, seed=args.seed
        )
        result["vae"] = vae
        print()
        print(vae_variance_study.format_vae_table(vae))

    if args.plot is not None:
        path = variance_report.plot_variance(result, args.plot)
        print(f"\nplot written to {path}")
    if args.json is not None:
        _write_json(result, args.json)
    return 0


def _write_json(result: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_json_safe(result), indent=2) + "\n")
    print(f"results written to {path}")


def _run_iwae_snr(args: argparse.Namespace) -> int:
    from keras_rt.experiments import iwae_snr_study

    study = iwae_snr_study.run_iwae_snr_study(
        ks=args.ks, reps=args.reps, seed=args.seed, train_epochs=args.iwae_train_epochs
    )
    print(iwae_snr_study.format_iwae_snr_table(study))
    if args.plot is not None:
        print(f"\nplot written to {iwae_snr_study.plot_iwae_snr(study, args.plot)}")
    if args.json is not None:
        _write_json(study, args.json)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `scripts/estimator_variance.py`."""
    return main_for(add_arguments, run, argv, prog="estimator_variance.py", description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
