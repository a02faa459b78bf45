import json

from keras_rt.cli import zoo_results


def test_zoo_results_table_and_paired_comparison(tmp_path, capsys):
    out = tmp_path / "r.json"
    code = zoo_results.main(
        [
            "--models",
            "mlp_vae,iwae",
            "--datasets",
            "digits",
            "--epochs",
            "1",
            "--iwae-samples",
            "8",
            "--iwae-max-examples",
            "20",
            "--compare",
            "iwae,mlp_vae",
            "--jit-compile",
            "off",  # whole-step XLA would compile for most of the test's time
            "--output-dir",
            str(tmp_path / "runs"),
            "--json",
            str(out),
            "--markdown",
            str(tmp_path / "r.md"),
        ]
    )
    assert code == 0
    result = json.load(open(out))
    assert [r["model"] for r in result["rows"]] == ["mlp_vae", "iwae"]
    assert {"neg_elbo", "iwae_nll", "kl", "active_units", "train_seconds"} <= set(result["rows"][0])
    [comparison] = result["comparisons"]
    assert comparison["examples"] == 20 and comparison["difference_std_error"] > 0
    assert abs(comparison["difference"] - (comparison["nll_a"] - comparison["nll_b"])) < 1e-4
    assert "| iwae | digits |" in (tmp_path / "r.md").read_text()
    assert "paired, 20 test images" in capsys.readouterr().out


def test_bad_names_are_one_line_errors(capsys):
    assert zoo_results.main(["--models", "nope"]) == 2
    assert zoo_results.main(["--models", "mlp_vae", "--compare", "iwae,mlp_vae"]) == 2
    err = capsys.readouterr().err
    assert "Valid:" in err and "compare needs two" in err and "Traceback" not in err
