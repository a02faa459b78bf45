"""`train` follows the measured plan: the machine's probe faked, the run's choices checked."""

import json

from keras_rt.training import TrainConfig, train

QUICK = dict(
    model="mlp_vae",
    dataset="digits",
    epochs=1,
    max_examples=64,
    batch_size=32,
    iwae_samples=0,
    plots=False,
    tensorboard=False,
    export_dir=None,
    verbose=0,
    seed=0,
)


def test_a_cpu_with_amx_trains_in_bfloat16_without_whole_step_xla(faked_machine, tmp_path):
    faked_machine(("amx_bf16", "amx_tile"), {"float32": (2.0, 1.9), "bfloat16": (0.8, 3.0)})
    result = train(TrainConfig(output_dir=str(tmp_path / "run"), **QUICK))
    assert result.metrics["training"]["mixed_precision"] == "mixed_bfloat16"
    assert result.metrics["training"]["jit_compile"] is False
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["performance"]["plan"]["mixed_precision"] == "mixed_bfloat16"
    assert config["train_config"]["mixed_precision"] == "auto"


def test_a_forced_choice_measured_slower_prints_one_warning(faked_machine, tmp_path, capsys):
    faked_machine(("avx2",), {"float32": (4.0, 2.0), "bfloat16": (8.0, 8.0)})
    result = train(TrainConfig(output_dir=str(tmp_path / "run"), jit_compile="off", **QUICK))
    assert result.metrics["training"]["mixed_precision"] == "float32"
    assert result.metrics["training"]["jit_compile"] is False
    warnings = [line for line in capsys.readouterr().out.splitlines() if "Warning" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("Warning: --jit-compile off: estimated 0.50x the speed")


def test_the_run_length_decides_whether_whole_step_xla_pays_for_its_compile(
    faked_machine, tmp_path
):
    # XLA twice as fast per step, but the run is 2 epochs of a few dozen examples.
    faked_machine(("avx2",), {"float32": (4.0, 2.0)}, compile_s=0.2)
    result = train(TrainConfig(output_dir=str(tmp_path / "run"), **QUICK | {"epochs": 2}))
    assert result.metrics["training"]["jit_compile"] is False
    plan = json.loads((tmp_path / "run" / "config.json").read_text())["performance"]["plan"]
    assert plan["examples"] == 2 * 64  # epochs x the training split (max_examples per split)
    assert plan["xla_compile_s"] > 0
    assert "to compile" in plan["reasons"][1]


def test_a_long_run_times_its_step_and_records_what_decided(faked_machine, tmp_path, monkeypatch):
    from keras_rt.performance import step_timing

    # bfloat16's kernels estimated 2x float32's; the model's timed step says float32 with XLA.
    faked_machine(("avx512_bf16",), {"float32": (4.0, 3.8), "bfloat16": (2.0, 3.9)})
    timed = {"float32": 40.0, "float32+xla": 30.0, "bfloat16": 38.0, "bfloat16+xla": 41.0}
    requests = []
    monkeypatch.setenv("KERAS_RT_STEP_TIMING", "on")
    monkeypatch.setenv("KERAS_RT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(step_timing, "MIN_STEPS", 2)  # QUICK's run: 1 epoch of 2 steps
    monkeypatch.setattr(
        step_timing,
        "_time_and_cache",
        lambda request, options, path, notify: (
            requests.append(request) or {"us_per_example": timed}
        ),
    )
    result = train(TrainConfig(output_dir=str(tmp_path / "run"), **QUICK))
    assert result.metrics["training"]["mixed_precision"] == "float32"
    assert result.metrics["training"]["jit_compile"] is True
    (request,) = requests
    assert (request.model, request.input_shape, request.batch.shape) == ("mlp_vae", (64,), (32, 64))
    assert request.model_config["hidden_units"] == (128, 64)
    plan = json.loads((tmp_path / "run" / "config.json").read_text())["performance"]["plan"]
    assert plan["measured_us"] == timed
    assert plan["reasons"][1].startswith("whole-step XLA on: measured 1.33x")
