"""The variance-study CLI writes a table, JSON and a PNG; bad flags are one-line errors."""

import json

import pytest

from keras_rt.cli.estimator_variance import main

NAMES = {
    "score_function",
    "score_function_baseline",
    "score_function_rloo",
    "pathwise",
    "pathwise_antithetic",
    "pathwise_qmc",
}


def test_cli_writes_json_and_png(tmp_path, capsys):
    out_json, out_png = tmp_path / "r.json", tmp_path / "plots" / "r.png"
    code = main(
        [
            "--sizes",
            "10,100",
            "--reps",
            "20",
            "--seed",
            "3",
            "--timing-samples",
            "1000",
            "--json",
            str(out_json),
            "--plot",
            str(out_png),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "score_function / pathwise" in text and "per 10^6 samples" in text
    result = json.loads(out_json.read_text())
    assert result["theta"] == 2.0 and result["true_gradient"] == 4.0 and result["reps"] == 20
    assert {(r["estimator"], r["n"]) for r in result["results"]} == {
        (name, n) for name in NAMES for n in (10, 100)
    }
    assert all({"estimator", "n", "mean", "variance"} <= set(r) for r in result["results"])
    assert set(result["benchmark"]["seconds_per_million_samples"]) == NAMES
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out_png.stat().st_size > 4000


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--reps", "1"], "--reps must be >= 2"),
        (["--theta", "nan"], "--theta must be a finite number"),
    ],
)
def test_cli_user_errors_are_one_line(argv, message, capsys):
    assert main(argv + ["--sizes", "10", "--timing-samples", "0"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_rejects_bad_sizes(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--sizes", "1,10"])
    assert exit_info.value.code == 2
    assert "sample size" in capsys.readouterr().err
