"""Nothing lost, nothing silent: killed runs resume, finished runs stay finished, exports keep clients."""

import contextlib
import csv
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from keras_rt.cli import train as train_cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QUICK = [
    "--model",
    "mlp_vae",
    "--dataset",
    "digits",
    "--max-examples",
    "128",
    "--batch-size",
    "32",
    "--iwae-samples",
    "0",
    "--no-plots",
    "--no-tensorboard",
    "--verbose",
    "2",
    "--jit-compile",
    "off",  # whole-step XLA compiles for seconds; these tests are about files, not speed
]


def _history_epochs(run_dir):
    path = os.path.join(run_dir, "history.csv")
    if not os.path.isfile(path):
        return []
    with open(path) as f:
        return [int(float(row["epoch"])) for row in csv.DictReader(f)]


def _versions(export_dir, name="mlp_vae"):
    folder = os.path.join(export_dir, name)
    return sorted(d for d in os.listdir(folder) if d.isdigit()) if os.path.isdir(folder) else []


@pytest.mark.slow
def test_a_run_killed_at_random_moments_resumes_each_time(tmp_path, capsys):
    """kill -9 at seeded random moments of training (twice), then a rerun finishes the run."""
    run_dir, export_dir = str(tmp_path / "run"), str(tmp_path / "sm")
    argv = [*QUICK, "--epochs", "40", "--output-dir", run_dir, "--export-dir", export_dir]
    command = [sys.executable, os.path.join(ROOT, "scripts", "train.py"), *argv]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    rng = random.Random(0)
    kills = 0
    for attempt in range(2):
        log = open(tmp_path / f"kill{attempt}.log", "w")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        before = len(_history_epochs(run_dir))
        deadline = time.time() + 120
        while len(_history_epochs(run_dir)) <= before and process.poll() is None:
            assert time.time() < deadline, "training made no progress"
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.5))  # somewhere in the next epochs (or their writes)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
        log.close()
        text = open(tmp_path / f"kill{attempt}.log").read()
        assert "Traceback" not in text, text[-2000:]
    assert kills >= 1
    # The rerun that finishes the killed run needs no process of its own: in this one, it
    # skips a third start of Python and TensorFlow.
    code = train_cli.main(argv)
    done = capsys.readouterr()
    assert code == 0, done.out[-2000:] + done.err[-2000:]
    assert "Traceback" not in done.err
    assert _history_epochs(run_dir) == list(range(40))
    assert _versions(export_dir) == ["1"]
    assert not os.path.exists(os.path.join(run_dir, "backup"))  # removed once complete
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    assert metrics["training"]["epochs"] == 40
    assert metrics["export"] == {
        "name": "mlp_vae",
        "path": os.path.join(export_dir, "mlp_vae", "1"),
    }


def _train(tmp_path, *extra, run="run", export="sm"):
    argv = [*QUICK, "--epochs", "1", "--output-dir", str(tmp_path / run)]
    argv += ["--export-dir", str(tmp_path / export), *extra]
    return train_cli.main(argv)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One finished 1-epoch run (`run/`, latent size 2, the digits preset's) and its export (`sm/`).

    Trained once per module, with relative paths from its folder, so that a test can copy it
    into its own folder (`_copy`) and rerun there with the same settings.
    """
    folder = tmp_path_factory.mktemp("trained")
    previous = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            assert _train(Path(".")) == 0
    finally:
        os.chdir(previous)
    return folder


def _copy(trained, tmp_path, monkeypatch, *names):
    """Copies `names` (of "run", "sm") of the shared trained run into `tmp_path` and works there."""
    for name in names:
        shutil.copytree(trained / name, tmp_path / name)  # keeps the files' modification times
    monkeypatch.chdir(tmp_path)
    return Path(".")


def test_a_finished_run_is_not_trained_again(trained, tmp_path, monkeypatch, capsys):
    here = _copy(trained, tmp_path, monkeypatch, "run", "sm")  # as `_train(here)` leaves them
    mtime = os.path.getmtime(here / "run" / "metrics.json")
    assert _train(here, "--epochs", "3") == 0
    out = capsys.readouterr().out
    assert "is complete after 1 epoch" in out and "--overwrite" in out and "epochs 1 -> 3" in out
    assert "11/11" not in out and os.path.getmtime(here / "run" / "metrics.json") == mtime
    assert _versions(here / "sm") == ["1"]
    # --no-export: the retrained run's export (a dry run before training, then the real one)
    # is not what this test checks.
    assert _train(here, "--overwrite", "--epochs", "2", "--no-export") == 0
    assert _history_epochs(str(here / "run")) == [0, 1]
    assert "is complete" not in capsys.readouterr().out


def test_an_interrupted_run_of_another_model_is_refused(trained, tmp_path, monkeypatch, capsys):
    here = _copy(trained, tmp_path, monkeypatch, "run")  # a run of latent size 2
    os.remove(here / "run" / "metrics.json")  # as if killed before the end
    before = sorted(os.listdir(here / "run"))
    assert _train(here, "--latent-dim", "5") == 2
    err = capsys.readouterr().err
    assert "interrupted run" in err and "latent_dim: 2 -> 5" in err and "--overwrite" in err
    assert sorted(os.listdir(here / "run")) == before


def test_an_export_that_changes_signatures_is_refused_before_training(
    trained, tmp_path, monkeypatch, capsys
):
    here = _copy(trained, tmp_path, monkeypatch, "sm")  # version 1: latent size 2
    assert _train(here, "--latent-dim", "3", run="b") == 2
    err = capsys.readouterr().err
    assert (
        "signatures differ from version 1" in err
        and "decode: input 'z' shape (None, 2) -> (None, 3)" in err
    )
    assert "--export-name" in err and "--allow-signature-change" in err
    assert not (here / "b").exists() and _versions(here / "sm") == ["1"]
    assert _train(here, "--latent-dim", "3", "--export-name", "mlp_vae_l3", run="c") == 0
    assert _versions(here / "sm", "mlp_vae_l3") == ["1"]
    # --allow-signature-change: tests/zoo/test_export.py (export_model's own test)


def test_an_unwritable_export_folder_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert _train(tmp_path, export="file/sm") == 2
    err = capsys.readouterr().err
    assert "export folder" in err and "Traceback" not in err and not (tmp_path / "run").exists()


def test_no_export_wins_over_a_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.json").write_text(json.dumps({"export_dir": "elsewhere"}))
    argv = [*QUICK, "--epochs", "1", "--output-dir", str(tmp_path / "run")]
    assert train_cli.main([*argv, "--config", "c.json", "--no-export"]) == 0
    assert not (tmp_path / "elsewhere").exists() and not (tmp_path / "saved_models").exists()


@pytest.mark.parametrize("stdout_is_a_terminal,expected", [(True, 1), (False, 2)])
def test_auto_verbosity_follows_the_terminal(monkeypatch, stdout_is_a_terminal, expected):
    from keras_rt.training.run import resolve_verbose

    monkeypatch.setattr(sys.stdout, "isatty", lambda: stdout_is_a_terminal)
    assert resolve_verbose("auto") == expected and resolve_verbose(0) == 0
