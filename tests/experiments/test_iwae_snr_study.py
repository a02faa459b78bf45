"""The IWAE/DReG SNR study (`estimator_variance.py --iwae-snr`): its JSON, table, plot and errors.

The orderings themselves (IWAE's encoder SNR falls with k, DReG's does not) take
a trained model and about a minute: `../shared/acceptance/estimators-training.sh`
and the README's table check them, not the suite.
"""

import json

import pytest

from keras_rt.cli.estimator_variance import main
from keras_rt.experiments.iwae_snr_study import run_iwae_snr_study


def test_cli_writes_the_iwae_snr_rows_and_a_plot(tmp_path, capsys):
    out_json, out_png = tmp_path / "snr.json", tmp_path / "plots" / "snr.png"
    argv = ["--iwae-snr", "--ks", "1,3", "--reps", "3", "--seed", "2", "--iwae-train-epochs", "1"]
    assert main(argv + ["--json", str(out_json), "--plot", str(out_png)]) == 0
    text = capsys.readouterr().out
    assert "| k | iwae encoder | iwae decoder | dreg encoder | dreg decoder |" in text
    rows = json.loads(out_json.read_text())["iwae_snr"]
    assert sorted((r["estimator"], r["k"]) for r in rows) == [
        ("dreg", 1),
        ("dreg", 3),
        ("iwae", 1),
        ("iwae", 3),
    ]
    for r in rows:
        assert r["encoder_snr"] > 0 and r["decoder_snr"] > 0
    # The decoder gradient is the IWAE gradient under both estimators: same draws, same SNR.
    by = {(r["estimator"], r["k"]): r for r in rows}
    assert by[("iwae", 3)]["decoder_snr"] == pytest.approx(by[("dreg", 3)]["decoder_snr"], rel=1e-3)
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_refuses_iwae_snr_with_vae(capsys):
    assert main(["--iwae-snr", "--vae"]) == 2
    assert "--iwae-snr runs instead of the toy and --vae studies" in capsys.readouterr().err


def test_cli_refuses_k_below_one(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--iwae-snr", "--ks", "0,5"])
    assert exit_info.value.code == 2
    assert "every k must be an integer >= 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"ks": [0]}, "every k must be an integer >= 1"),
        ({"reps": 1}, "reps must be >= 2"),
        ({"estimators": ["stl"]}, r"unknown estimator\(s\) \['stl'\]; valid: \['dreg', 'iwae'\]"),
    ],
)
def test_bad_settings_name_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        run_iwae_snr_study(**kwargs)
