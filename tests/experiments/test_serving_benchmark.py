"""The serving benchmark's helpers: request bodies, latency summaries, the table, a missing model.

The end-to-end run (a server subprocess under load) is `benchmarks/serving.py`.
"""

import json
import math

import pytest

from keras_rt.experiments import serving_benchmark


def test_example_body_is_one_row_instance():
    body = json.loads(serving_benchmark.example_body(4, seed=1, signature="encode"))
    assert body["signature_name"] == "encode"
    [row] = body["instances"]
    assert len(row) == 4 and all(0 <= v <= 1 for v in row)


def test_percentiles_in_milliseconds():
    assert serving_benchmark.percentile_ms([0.001, 0.002, 0.003], 50) == pytest.approx(2.0)
    assert math.isnan(serving_benchmark.percentile_ms([], 50))


def test_format_table():
    row = {"p50_ms": 1.0, "p99_ms": 2.0, "req_per_s": 500.0, "failures": 0}
    table = serving_benchmark.format_table(
        {
            "in_process": {"signature call": row},
            "http": [
                {"mode": "batching", "clients": 8, **row},
                {"api": "grpc", "mode": "plain", "workers": 2, "clients": 32, **row},
            ],
        }
    )
    assert "| in-process: signature call | - | 1 |" in table
    assert "| gRPC Predict | 2 | 32 |" in table
    assert "| REST predict --batching | 1 | 8 |" in table


def test_missing_model_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="export a model first"):
        serving_benchmark.run_benchmark(str(tmp_path))
