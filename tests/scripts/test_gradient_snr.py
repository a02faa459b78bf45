"""`--log-gradient-snr`: the encoder's and decoder's gradient SNR in every epoch's logs."""

import csv
import json

import numpy as np
import pytest

from keras_rt.cli import train as train_cli


@pytest.mark.parametrize("model", ["mlp_vae", "iwae"])
def test_log_gradient_snr_writes_history_and_metrics(model, tmp_path):
    run_dir = tmp_path / "run"
    code = train_cli.main(
        [
            "--model", model, "--dataset", "digits", "--epochs", "2", "--max-examples", "64",
            "--batch-size", "32", "--iwae-samples", "0", "--no-plots", "--no-tensorboard",
            "--no-export", "--verbose", "0", "--output-dir", str(run_dir), "--log-gradient-snr",
            "--jit-compile", "off",  # the measurement is outside the step: no XLA needed
        ]
    )  # fmt: skip
    assert code == 0
    with open(run_dir / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
    for key in ("grad_snr", "encoder_grad_snr", "decoder_grad_snr"):
        values = [float(row[key]) for row in rows]
        assert all(np.isfinite(values) & (np.array(values) > 0)), (key, values)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["training"]["encoder_grad_snr"] > 0


def test_without_the_flag_nothing_is_measured(tmp_path):
    from keras_rt.training import TrainConfig
    from keras_rt.training.run_callbacks import make_callbacks

    config = TrainConfig(output_dir=str(tmp_path))
    names = [type(c).__name__ for c in make_callbacks(config, str(tmp_path))]
    assert "GradientVarianceMonitor" not in names
