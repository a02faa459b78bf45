"""`scripts/tune.py` / `keras-rt tune`: the table on stdout, and bad input as one-line errors."""

import json

import pytest

from keras_rt.cli import tune as tune_cli

from .conftest import QUICK_FLAGS


def test_cli_prints_the_trials_table_and_writes_results(tmp_path, capsys):
    config = tmp_path / "search.json"
    config.write_text(
        json.dumps({"model_config": {"hidden_units": [16]}, "search": {"beta": [0.5, 1.0]}})
    )
    out_dir = tmp_path / "t"
    code = tune_cli.main(
        [
            "--latent-dims",
            "2,4",
            "--tuner",
            "random",
            "--max-trials",
            "2",
            "--config",
            str(config),
            "--output-dir",
            str(out_dir),
            "--seed",
            "1",
        ]
        + QUICK_FLAGS
    )
    out = capsys.readouterr().out
    assert code == 0
    header = next(line for line in out.splitlines() if line.strip().startswith("trial"))
    assert header.split() == ["trial", "latent_dim", "beta", "val_neg_elbo", "epochs", "seconds"]
    assert "best: trial" in out and str(out_dir / "results.json") in out
    results = json.load(open(out_dir / "results.json"))
    assert len(results["trials"]) == 2 and results["seed"] == 1
    assert (out_dir / "objective_vs_latent_dim.png").is_file()


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--latent-dims", ""], "latent_dims"),
        (["--latent-dims", "two,four"], "latent_dims"),
        (["--objective", "accuracy"], "Unknown objective"),
        (["--max-trials", "0"], "max_trials"),
        (["--config", "/no/such/search.json"], "Config file not found"),
    ],
)
def test_bad_input_is_one_line_before_anything_runs(tmp_path, capsys, argv, message):
    out_dir = tmp_path / "t"
    code = tune_cli.main(["--output-dir", str(out_dir)] + argv)
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not out_dir.exists()


def test_unknown_tuner_lists_the_choices(capsys):
    with pytest.raises(SystemExit) as exit_info:
        tune_cli.main(["--tuner", "annealing"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "hyperband" in err and "Traceback" not in err


def test_bad_search_file_is_one_line(tmp_path, capsys):
    config = tmp_path / "search.json"
    config.write_text(json.dumps({"search": {"width": [8, 16]}}))
    code = tune_cli.main(["--config", str(config), "--output-dir", str(tmp_path / "t")])
    err = capsys.readouterr().err
    assert code == 2 and "Unknown search dimensions" in err and not (tmp_path / "t").exists()


def test_partial_distributed_setting_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.delenv("KERASTUNER_ORACLE_PORT", raising=False)
    code = tune_cli.main(["--output-dir", str(tmp_path / "t")] + QUICK_FLAGS)
    err = capsys.readouterr().err
    assert code == 2 and "KERASTUNER_ORACLE_PORT" in err and "Traceback" not in err
