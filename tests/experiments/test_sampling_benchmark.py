"""The sampling benchmark runs on a tiny model and returns the documented keys (no timing asserted)."""

from keras_rt.experiments.sampling_benchmark import benchmark_sampling, format_table


def test_rows_and_table():
    rows = benchmark_sampling(
        batch=8, dim=16, hidden=8, latent=2, steps=2, repeats=1, modes=("eager", "graph")
    )
    assert [r["mode"] for r in rows] == ["eager", "graph"]
    for row in rows:
        assert set(row) == {"mode", "layer_ms", "inline_ms", "ratio"}
        assert row["layer_ms"] > 0 and row["inline_ms"] > 0
    assert format_table(rows).splitlines()[0].split() == [
        "mode",
        "Sampling",
        "(ms)",
        "inline",
        "(ms)",
        "ratio",
    ]
