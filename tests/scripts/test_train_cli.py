import contextlib
import io
import json
import os
import subprocess
import sys

import keras
import pytest

from keras_rt.cli import export as export_cli
from keras_rt.cli import main as keras_rt_main
from keras_rt.cli import train as train_cli
from keras_rt.training import TrainConfig, train

QUICK = [
    "--epochs",
    "1",
    "--max-examples",
    "64",
    "--batch-size",
    "32",
    "--iwae-samples",
    "8",
    "--no-tensorboard",
    "--verbose",
    "0",
    "--jit-compile",
    "off",  # whole-step XLA compiles for seconds; these tests are about the CLI and the files
]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """One `train.py` run (mlp_vae on digits, latent size 2, exported): `(folder, code, stdout)`."""
    folder = tmp_path_factory.mktemp("cli_run")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = train_cli.main(
            [
                "--model",
                "mlp_vae",
                "--dataset",
                "digits",
                "--latent-dim",
                "2",
                "--seed",
                "0",
                "--output-dir",
                str(folder / "run"),
                "--export-dir",
                str(folder / "sm"),
            ]
            + QUICK
        )
    return folder, code, out.getvalue()


def test_train_writes_the_run_folder_and_exports(cli_run):
    folder, code, out = cli_run
    run_dir, export_dir = folder / "run", folder / "sm"
    assert code == 0
    for name in ("config.json", "metrics.json", "versions.json", "history.csv", "model.keras"):
        assert (run_dir / name).is_file(), name
    assert {"reconstructions.png", "samples.png", "latent_map.png", "manifold.png"} <= set(
        os.listdir(run_dir / "plots")
    )
    metrics = json.load(open(run_dir / "metrics.json"))
    assert {"neg_elbo", "kl", "reconstruction", "iwae_nll"} <= set(metrics["test"])
    assert {"train", "validation"} <= set(metrics)
    config = json.load(open(run_dir / "config.json"))
    assert config["model_config"]["latent_dim"] == 2 and config["train_config"]["epochs"] == 1
    assert (export_dir / "mlp_vae" / "1" / "saved_model.pb").is_file()
    assert "test IWAE-8" in out and "SavedModel:" in out


def test_config_file_and_flags(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(
        json.dumps({"epochs": 7, "batch_size": 16, "model_config": {"hidden_units": [8]}})
    )
    args = argparse_for(["--config", str(path), "--epochs", "2"])
    config = train_cli.config_from_args(args)
    assert (config.epochs, config.batch_size, config.model_config) == (2, 16, {"hidden_units": [8]})


def argparse_for(argv):
    import argparse

    parser = argparse.ArgumentParser()
    train_cli.add_arguments(parser)
    return parser.parse_args(argv)


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--latent-dim", "0"], "latent_dim"),
        (["--epochs", "0"], "epochs"),
        (["--data-dir", "/no/such/dir"], "/no/such/dir"),
        (["--config", "/no/such/config.json"], "Config file not found"),
    ],
)
def test_user_errors_are_one_line_and_write_nothing(tmp_path, capsys, argv, message):
    run_dir = tmp_path / "run"
    code = train_cli.main(
        ["--output-dir", str(run_dir), "--export-dir", str(tmp_path / "sm")] + argv
    )
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not run_dir.exists() and not (tmp_path / "sm").exists()


def test_unknown_model_lists_choices(capsys):
    with pytest.raises(SystemExit) as exit_info:
        train_cli.main(["--model", "nope"])
    assert exit_info.value.code == 2 and "mlp_vae" in capsys.readouterr().err


def test_offline_mnist_gives_a_clear_message(tmp_path, capsys, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("Temporary failure in name resolution")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    code = train_cli.main(["--dataset", "mnist", "--output-dir", str(tmp_path / "r")] + QUICK)
    err = capsys.readouterr().err
    assert code == 2 and "data_dir" in err.replace("-", "_") and "Traceback" not in err


def test_interrupted_run_resumes(tmp_path):
    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("killed")

    config = TrainConfig(
        epochs=3,
        max_examples=64,
        batch_size=32,
        iwae_samples=0,
        plots=False,
        tensorboard=False,
        export_dir=None,
        output_dir=str(tmp_path / "run"),
        verbose=0,
        jit_compile="off",
    )
    with pytest.raises(RuntimeError, match="killed"):
        train(config, callbacks=[Crash()])
    resumed = train(config)
    assert len(resumed.history["loss"]) == 1  # only the third epoch was left
    assert resumed.metrics["training"]["epochs_this_invocation"] == 1


def test_export_cli_from_run_folder(cli_run, tmp_path, capsys):
    folder, code, _ = cli_run  # a finished run folder (train.py's)
    assert code == 0
    assert (
        export_cli.main(["--run-dir", str(folder / "run"), "--export-dir", str(tmp_path / "sm")])
        == 0
    )
    assert (tmp_path / "sm" / "mlp_vae" / "1" / "saved_model.pb").is_file()
    assert export_cli.main(["--run-dir", str(tmp_path / "missing")]) == 2
    assert "Run folder not found" in capsys.readouterr().err


def test_keras_rt_help_lists_subcommands():
    result = subprocess.run(
        [sys.executable, "-m", "keras_rt.cli.main", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0
    for command in ("train", "tune", "export", "serve", "estimator-variance", "demo"):
        assert command in result.stdout


def test_keras_rt_dispatches_to_train(tmp_path):
    code = keras_rt_main.main(
        ["train", "--output-dir", str(tmp_path / "r"), "--no-export", "--no-plots"] + QUICK
    )
    assert code == 0 and (tmp_path / "r" / "metrics.json").is_file()


def test_a_diverged_run_is_refused_and_not_exported(tmp_path, capsys):
    code = train_cli.main(
        [
            "--learning-rate",
            "1e9",
            "--output-dir",
            str(tmp_path / "r"),
            "--export-dir",
            str(tmp_path / "sm"),
        ]
        + QUICK
    )
    err = capsys.readouterr().err
    assert code == 2 and "diverged" in err and "Traceback" not in err
    assert not (tmp_path / "sm").exists() and not (tmp_path / "r" / "model.keras").exists()


def test_badly_typed_model_config_is_a_one_line_error(tmp_path, capsys):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"model_config": {"hidden_units": 5}}))
    code = train_cli.main(["--config", str(path), "--output-dir", str(tmp_path / "r")] + QUICK)
    err = capsys.readouterr().err
    assert code == 2 and "hidden_units" in err and "Traceback" not in err


def test_warm_up_runs_monitor_the_weight_free_elbo(tmp_path):
    """beta_vae warms its KL weight up: checkpoints and early stopping watch val_neg_elbo."""
    config = TrainConfig(
        model="beta_vae",
        epochs=2,
        max_examples=64,
        batch_size=32,
        iwae_samples=0,
        plots=False,
        tensorboard=False,
        export_dir=None,
        early_stopping_patience=3,
        reduce_lr_patience=3,
        output_dir=str(tmp_path / "run"),
        verbose=0,
        jit_compile="off",
    )
    result = train(config)
    assert (tmp_path / "run" / "checkpoints" / "best.keras").is_file()
    assert result.history["kl_weight"][0] < result.history["kl_weight"][-1]
