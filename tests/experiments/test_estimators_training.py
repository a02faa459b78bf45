"""The estimator shoot-out (`benchmarks/estimators_training.py`, `keras-rt benchmark-estimators`)."""

import json

import keras
import numpy as np
import pytest

from keras_rt.cli.benchmark_estimators import main
from keras_rt.experiments.estimators_training import StepClock, all_pairs, run_shootout
from keras_rt.zoo import ZOO

KEYS = {
    "model",
    "estimator",
    "test_neg_elbo",
    "test_iwae_nll",
    "iwae_nll_diff_vs_default",
    "diff_se",
    "seconds_per_epoch",
    "encoder_snr",
}


def test_quick_run_writes_both_budgets_against_the_default(tmp_path, capsys):
    out = tmp_path / "report.json"
    argv = ["--quick", "--models", "iwae", "--max-examples", "300"]
    argv += ["--output-dir", str(tmp_path / "runs")]
    argv += ["--jit-compile", "off"]  # whole-step XLA would compile for most of the test's time
    assert main(argv + ["--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["dataset"] == "digits" and report["budget"]["epochs"] == 1
    assert report["jit_compile"] == "off"
    assert "cores" in report["cpu"] and report["budget"]["wall_clock_seconds"]["iwae"] > 0
    rows = {(r["model"], r["estimator"], r["budget"]): r for r in report["results"]}
    assert set(rows) == {
        ("iwae", e, b) for e in ("pathwise", "dreg") for b in ("epochs", "wall_clock")
    }
    for row in rows.values():
        assert KEYS <= set(row)
        assert np.isfinite(row["test_neg_elbo"]) and np.isfinite(row["test_iwae_nll"])
        assert row["encoder_snr"] > 0 and row["seconds_per_epoch"] > 0
    default = rows[("iwae", "pathwise", "epochs")]
    assert default["iwae_nll_diff_vs_default"] == 0.0 and default["diff_se"] == 0.0
    dreg = rows[("iwae", "dreg", "epochs")]
    assert dreg["iwae_nll_diff_vs_default"] == pytest.approx(
        dreg["test_iwae_nll"] - default["test_iwae_nll"], abs=1e-4
    )
    text = capsys.readouterr().out
    assert "Estimator shoot-out on digits, CPU:" in text and "| iwae | dreg | wall_clock |" in text


def test_the_step_clock_times_steps_and_stops_after_max_steps():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((40, 2), "float32")  # 10 steps per epoch
    clock = StepClock(max_steps=3)
    history = model.fit(x, x[:, :1], batch_size=4, epochs=5, verbose=0, callbacks=[clock])
    assert clock.steps == 3 and len(history.history["loss"]) == 1
    assert clock.seconds_per_step > 0
    clock = StepClock()
    model.fit(x, x[:, :1], batch_size=4, epochs=2, verbose=0, callbacks=[clock])
    assert clock.steps == 20 and clock.seconds_per_step > 0
    with pytest.raises(ValueError, match="max_steps must be an integer >= 1 or None"):
        StepClock(max_steps=0)


def test_pairs_are_the_zoos_and_bad_ones_are_named():
    assert all_pairs(["gumbel_vae"])[0] == ("gumbel_vae", "gumbel_softmax")
    assert len(all_pairs()) == sum(len(entry.estimators) for entry in ZOO.values())
    with pytest.raises(ValueError, match=r"mlp_vae does not accept estimator='dreg'"):
        run_shootout(pairs=[("mlp_vae", "dreg")])
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        run_shootout(pairs=[("mlp_vae", "pathwise")], epochs=0)


def test_cli_estimators_that_no_model_accepts_are_one_line(capsys):
    assert main(["--models", "mlp_vae", "--estimators", "vimco"]) == 2
    err = capsys.readouterr().err
    assert "accepts any of --estimators ['vimco']" in err and "Traceback" not in err
