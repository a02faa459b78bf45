"""The toy variance study reproduces the closed-form variances; QMC and antithetic beat plain MC."""

import math

import pytest

from keras_rt.experiments import variance_report, variance_study

REPS = 400
# ~5 standard errors of a sample variance ratio from REPS repetitions; the
# score function's terms are heavy-tailed (excess kurtosis), hence wider.
TOL = 5 * math.sqrt(2.0 / (REPS - 1))


@pytest.fixture(scope="module")
def toy():
    return variance_study.run_toy_study(theta=2.0, sizes=[16, 1024], reps=REPS, seed=1)


def _cell(result, name, n):
    return next(r for r in result["results"] if r["estimator"] == name and r["n"] == n)


@pytest.mark.parametrize(
    "name,analytic,tol",
    [
        ("pathwise", 4.0, TOL),
        ("score_function_baseline", 42.0, 2 * TOL),
        ("score_function", 87.0, 3 * TOL),
        ("score_function_rloo", 42.0, 2 * TOL),
    ],
)
def test_toy_variance_times_n_matches_analytic(toy, name, analytic, tol):
    cell = _cell(toy, name, 1024)
    assert abs(cell["mean"] - 4.0) < 5 * math.sqrt(analytic / 1024 / REPS)
    assert abs(cell["per_sample_variance"] / analytic - 1) < tol


def test_analytic_formulas():
    a = variance_study.analytic_per_sample_variances(2.0)
    assert a == {
        "score_function": 87.0,
        "score_function_baseline": 42.0,
        "score_function_best_constant": 38.0,
        "pathwise": 4.0,
    }


def test_qmc_and_antithetic_beat_plain_monte_carlo_on_the_toy(toy):
    for n in (16, 1024):
        mc = _cell(toy, "pathwise", n)["variance"]
        assert _cell(toy, "pathwise_qmc", n)["variance"] * 10 <= mc
        # The toy gradient 2 (theta + eps) is linear in eps: pairs are exact.
        assert _cell(toy, "pathwise_antithetic", n)["variance"] < 1e-20
    ratios = {r["n"]: r for r in variance_study.benchmark_ratios(toy)}
    assert ratios[1024]["pathwise/pathwise_qmc"] > 100


def test_bad_arguments_are_errors():
    with pytest.raises(ValueError, match="reps"):
        variance_study.run_toy_study(sizes=[10], reps=1)
    with pytest.raises(ValueError, match="sample size"):
        variance_study.run_toy_study(sizes=[1], reps=2)
    with pytest.raises(ValueError, match="unknown estimator"):
        variance_study.run_toy_study(sizes=[10], reps=2, estimators=["nope"])


def test_report_table_and_plot(toy, tmp_path):
    text = variance_report.format_table(toy)
    assert "| pathwise | 1024 |" in text and "analytic score_function/pathwise = 21.75" in text
    path = variance_report.plot_variance(toy, tmp_path / "plots" / "v.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
