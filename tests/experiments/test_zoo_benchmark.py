"""Smoke tests of the zoo benchmarks: they run on tiny digits data and return the documented keys.

No timing is asserted (shared machines are too noisy for that).
"""

import json

import keras
import numpy as np
import pytest

from keras_rt.cli import benchmark_zoo
from keras_rt.experiments import zoo_quality, zoo_throughput
from keras_rt.experiments.reference_vae import ReferenceVAE
from keras_rt.experiments.zoo_harness import build_zoo_model
from keras_rt.experiments.zoo_variants import resolve_variants

THROUGHPUT_KEYS = {
    "model",
    "variant",
    "label",
    "policy",
    "jit_compile",
    "examples_per_epoch",
    "examples_per_second",
    "examples_per_second_all",
    "speedup",
    "speedup_all",
    "warmup_seconds",
    "flops_per_example",
    "gflops",
    "peak_gflops",
    "percent_of_peak",
    "kernel_ms",
    "percent_kernels",
    "kernel_layers",
}
QUALITY_KEYS = {
    "model",
    "variant",
    "label",
    "epochs",
    "train_seconds",
    "final_train_loss",
    "test_neg_elbo",
    "test_neg_elbo_se",
    "test_examples",
    "test_neg_elbo_as_trained",
    "iwae_nll",
    "iwae_nll_se",
    "iwae_k",
    "iwae_examples",
    "iwae_seconds",
    "delta_neg_elbo",
    "delta_neg_elbo_se",
    "delta_iwae_nll",
    "delta_iwae_nll_se",
}


@pytest.mark.slow
def test_quick_mode_times_each_variant_in_its_own_process(tmp_path, capsys):
    """`--quick` (here on one model): rows with the roofline columns, the machine in the JSON."""
    path = tmp_path / "zoo.json"
    assert benchmark_zoo.main(["--quick", "--models", "mlp_vae", "--json", str(path)]) == 0
    result = json.loads(path.read_text())
    rows = result["throughput"]
    assert [(r["model"], r["variant"]) for r in rows] == [
        ("mlp_vae", "reference"),
        ("mlp_vae", "zoo_default"),
    ]
    for row in rows:
        assert set(row) == THROUGHPUT_KEYS
        assert row["examples_per_epoch"] == 256 and row["examples_per_second"] > 0
        assert row["flops_per_example"] > 0 and row["gflops"] > 0 and row["percent_of_peak"] > 0
    assert rows[0]["speedup"] == 1.0 and rows[1]["label"].startswith("zoo fit, default: ")
    assert result["machine"]["description"] and result["matmul_peak_gflops"]["float32"] > 0
    assert "quality" not in result
    out = capsys.readouterr().out
    assert "Machine: " in out and "% peak" in out and "examples/s" in out
    assert zoo_throughput.fastest_zoo_variant(rows, "mlp_vae") == "zoo_default"


def test_rows_give_the_kernel_time_as_a_percentage_of_the_step(monkeypatch):
    """The kernel time is measured once per model and compute dtype, in a worker of its own."""
    calls = []

    def fake_worker(arguments, device="cpu"):
        calls.append(arguments)
        if arguments.get("task") == "kernel_time":
            return {"ms_per_step": 8.0, "examples_per_second": 4000.0, "layers": [{"ms": 8.0}]}
        rate = {"reference": 2000, "zoo_default": 3200}[arguments["variant"]]
        return {
            "seconds": [32 * 10 / rate],
            "warmup_seconds": 1.0,
            "examples_per_epoch": 320,
            "flops_per_example": 1000,
            "policy": "float32",
            "jit_compile": False,
            "label": arguments["variant"],
        }

    monkeypatch.setattr(zoo_throughput, "run_worker", fake_worker)
    rows = zoo_throughput.benchmark_throughput(
        models=("mlp_vae",), batch_size=32, repeats=2, kernel_time=True
    )
    kernel_calls = [c for c in calls if c.get("task") == "kernel_time"]
    assert kernel_calls == [
        {"task": "kernel_time", "dtype": "float32", "model": "mlp_vae"}
        | {"dataset": "fashion_mnist", "batch_size": 32, "seed": 0}
    ]
    # A step of 32 examples: 16 ms at 2000 examples/s, 10 ms at 3200; the kernels take 8 ms.
    assert [(r["kernel_ms"], r["percent_kernels"]) for r in rows] == [
        (8.0, 50.0),
        (8.0, 80.0),
    ]
    assert rows[1]["kernel_layers"] == [{"ms": 8.0}]
    table = zoo_throughput.format_throughput_table(rows)
    assert "% kernels" in table and table.splitlines()[2].rstrip().endswith("80%")
    table_lines = table.splitlines()
    assert table_lines[0].endswith("% peak % kernels")
    assert all(len(line.rstrip()) == len(table_lines[0]) for line in table_lines[1:])
    rows = zoo_throughput.benchmark_throughput(models=("mlp_vae",), batch_size=32, repeats=1)
    assert {r["percent_kernels"] for r in rows} == {None}
    assert "kernels" not in zoo_throughput.format_throughput_table(rows)

    def failing_kernel_time(arguments, device="cpu"):
        if arguments.get("task") == "kernel_time":
            raise RuntimeError("Timing the kernel time of mlp_vae failed (exit 1)")
        return fake_worker(arguments, device)

    monkeypatch.setattr(zoo_throughput, "run_worker", failing_kernel_time)
    lines = []
    rows = zoo_throughput.benchmark_throughput(
        models=("mlp_vae",), batch_size=32, repeats=1, kernel_time=True, progress=lines.append
    )
    assert [r["examples_per_second"] for r in rows] == [2000, 3200]  # the timings stand
    assert {r["percent_kernels"] for r in rows} == {None}
    assert "kernel time (float32) not measured: Timing the kernel time" in lines[-1]


def test_the_kernel_time_worker_measures_the_zoo_model(capsys):
    from keras_rt.experiments import zoo_timing_worker

    arguments = {"task": "kernel_time", "model": "mlp_vae", "dataset": "digits"}
    assert (
        zoo_timing_worker.main([json.dumps(arguments | {"batch_size": 8, "budget_s": 0.002})]) == 0
    )
    timed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert timed["batch_size"] == 8 and timed["ms_per_step"] > 0
    model = build_zoo_model("mlp_vae", "digits", (64,))
    from keras_rt.performance.flops import layer_macs, leaf_layers

    assert len(timed["layers"]) == sum(1 for layer in leaf_layers(model) if layer_macs(layer))


def test_the_default_variant_is_the_training_plan():
    from keras_rt.experiments.zoo_harness import concrete_variant
    from keras_rt.experiments.zoo_variants import VARIANTS
    from keras_rt.training.config import TrainConfig
    from keras_rt.training.run import plan_run

    variant = concrete_variant(VARIANTS["zoo_default"], "conv_vae", "digits", (8, 8, 1))
    model = build_zoo_model("conv_vae", "digits", (8, 8, 1))
    _, plan = plan_run(TrainConfig(model="conv_vae", dataset="digits"), model)
    expected = "float32" if plan.mixed_precision == "off" else plan.mixed_precision
    assert (variant.policy, variant.jit_compile) == (expected, plan.jit_compile)
    assert VARIANTS["zoo_f32"] is concrete_variant(
        VARIANTS["zoo_f32"], "conv_vae", "digits", (8, 8, 1)
    )


def test_quality_rows_with_mixed_precision_zoo_model():
    rows = zoo_quality.benchmark_quality(
        models=("mlp_vae",),
        dataset="digits",
        batch_size=32,
        epochs=1,
        zoo_variant="zoo_bf16",
        iwae_samples=4,
        iwae_examples=8,
        max_examples=64,
    )
    assert [r["variant"] for r in rows] == ["reference", "zoo_bf16"]
    for row in rows:
        assert set(row) == QUALITY_KEYS
        assert row["iwae_examples"] == 8 and row["test_examples"] == 64 and row["iwae_k"] == 4
        assert np.isfinite([row["test_neg_elbo"], row["iwae_nll"], row["delta_iwae_nll"]]).all()
    assert rows[0]["delta_neg_elbo"] == 0.0
    assert "IWAE" in zoo_quality.format_quality_table(rows)
    assert keras.mixed_precision.global_policy().name == "float32"


def test_reference_has_the_zoo_architecture():
    from keras_rt.zoo import ConvVAE

    reference = ReferenceVAE("conv_vae", (8, 8, 1), 2, seed=0, filters=(4, 8), hidden_units=16)
    model = ConvVAE(input_shape=(8, 8, 1), latent_dim=2, filters=(4, 8), hidden_units=16, seed=0)
    assert sum(np.prod(w.shape) for w in reference.trainable_weights) == sum(
        np.prod(w.shape) for w in model.trainable_weights
    )
    assert reference.elbo(np.zeros((3, 8, 8, 1), "float32")).shape == (3,)


def test_bad_arguments():
    with pytest.raises(ValueError, match="models"):
        zoo_throughput.benchmark_throughput(models=("nope",))
    with pytest.raises(ValueError, match="device"):
        zoo_throughput.benchmark_throughput(models=("mlp_vae",), device="tpu")
    with pytest.raises(ValueError, match="variants"):
        resolve_variants(["nope"])
    with pytest.raises(ValueError, match="zoo_variant"):
        zoo_quality.benchmark_quality(
            models=("mlp_vae",), dataset="digits", zoo_variant="reference"
        )


def test_gpu_device_without_a_gpu_fails_clearly(capsys):
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    assert benchmark_zoo.main(["--device", "gpu", "--skip-quality"]) == 2
    err = capsys.readouterr().err
    assert "--device gpu" in err and "no GPU" in err and "Traceback" not in err
    assert benchmark_zoo.main(["--models", "nope"]) == 2


def test_missing_data_set_says_how_to_get_it(monkeypatch, tmp_path, capsys):
    from keras_rt.datasets import clear_cache, fashion_mnist

    def no_network(*args, **kwargs):
        raise Exception("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    def no_probe(*args, **kwargs):
        raise AssertionError("the data set is checked before the machine is measured")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", no_network)
    monkeypatch.setenv(fashion_mnist.DIR_ENV_VAR, str(tmp_path / "not-installed"))
    monkeypatch.setattr("keras_rt.performance.load_or_probe", no_probe)
    clear_cache()
    try:
        assert benchmark_zoo.main(["--models", "mlp_vae", "--skip-quality"]) == 2
    finally:
        clear_cache()
    err = capsys.readouterr().err
    assert "Traceback" not in err and "apt-get install dataset-fashion-mnist" in err
