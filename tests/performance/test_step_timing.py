"""Timing the model's own step settles the plan's close choices (`keras_rt.performance.step_timing`)."""

import json

import numpy as np
import pytest
import tensorflow as tf

from keras_rt.performance import step_timing
from keras_rt.performance.plan import MIN_MEASURED_GAIN, allowed_options, plan_training
from keras_rt.performance.step_timing import (
    StepTimingRequest,
    options_to_time,
    plan_with_step_timing,
    synthetic_batch,
    time_steps,
)

MLP = {"dense": 1_077_248}
# A CPU with avx512_bf16 whose bfloat16 kernels are 1.6x float32's (the Zen 5 EPYC's probe).
ZEN5 = {
    "machine": {"cpu_flags": ["avx512_bf16", "avx512f"], "gpus": [], "cores": 2},
    "step_ms": {
        "dense": {"float32": {"native": 3.6, "xla": 3.4}, "bfloat16": {"native": 2.1, "xla": 3.5}}
    },
}
# What the Zen 5 EPYC measured for mlp_vae's whole step (us per example at batch 128).
ZEN5_MLP_STEP = {"float32": 37.4, "float32+xla": 32.2, "bfloat16": 36.0, "bfloat16+xla": 37.9}
TINY = StepTimingRequest(
    model="mlp_vae",
    model_config={"latent_dim": 2, "hidden_units": (16,)},
    input_shape=(64,),
    batch=np.ones((8, 64), "float32"),
    steps_per_execution=1,
)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder; step timing on (the suite turns it off)."""
    monkeypatch.setenv("KERAS_RT_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("KERAS_RT_STEP_TIMING", "on")
    return tmp_path


@pytest.fixture
def timings(monkeypatch):
    """Fakes the timing process: records each call and returns `timings.result` (a dict or None)."""

    class Fake:
        calls: list = []
        result: dict | None = {"us_per_example": ZEN5_MLP_STEP}

    def fake(request, options, path, notify):
        Fake.calls.append(list(options))
        return Fake.result

    monkeypatch.setattr(step_timing, "_time_and_cache", fake)
    return Fake


def test_options_in_reach_of_the_fastest_estimate_are_timed_and_float32_always():
    allowed = ["float32", "float32+xla", "bfloat16", "bfloat16+xla"]
    estimates = {"float32": 30.0, "float32+xla": 40.0, "bfloat16": 10.0, "bfloat16+xla": 19.9}
    assert options_to_time(estimates, allowed) == ["float32", "bfloat16", "bfloat16+xla"]
    assert options_to_time(estimates, ["float32"]) == ["float32"]
    assert options_to_time({}, allowed) == []


def test_measured_steps_overrule_the_kernel_estimate():
    estimated = plan_training(MLP, ZEN5)
    assert (estimated.mixed_precision, estimated.jit_compile) == ("mixed_bfloat16", False)
    measured = plan_training(MLP, ZEN5, measured_us=ZEN5_MLP_STEP)
    assert (measured.mixed_precision, measured.jit_compile) == ("off", True)
    assert measured.measured_us == ZEN5_MLP_STEP
    assert measured.estimates_us == estimated.estimates_us
    assert measured.reasons[0].startswith("precision off: no 16-bit dtype measured at least")
    assert measured.reasons[1] == (
        "whole-step XLA on: measured 1.16x the speed of this model's step with partial XLA"
    )
    assert measured.to_dict()["measured_us"] == ZEN5_MLP_STEP


@pytest.mark.parametrize(
    "gain, expected", [(1.10, "off"), (MIN_MEASURED_GAIN + 0.01, "mixed_bfloat16")]
)
def test_a_16_bit_policy_needs_the_measured_gain(gain, expected):
    plan = plan_training(MLP, ZEN5, measured_us={"float32": 100.0 * gain, "bfloat16": 100.0})
    assert plan.mixed_precision == expected
    assert plan.jit_compile is False  # the XLA options were not timed: not chosen
    assert plan.reasons[1] == (
        "whole-step XLA off: only one of the two was timed (the other's estimate was out of reach)"
    )


def test_forced_choices_keep_their_warnings_from_the_estimates():
    # XLA estimated 2x faster; only the forced option was timed: the warning still says so.
    xla_fast = {**ZEN5, "step_ms": {"dense": {"float32": {"native": 4.0, "xla": 2.0}}}}
    forced = plan_training(MLP, xla_fast, jit_compile="off", measured_us={"float32": 1.0})
    assert forced.jit_compile is False
    assert [w[:44] for w in forced.warnings] == ["--jit-compile off: estimated 0.50x the speed"]
    assert allowed_options(ZEN5, "mixed_bfloat16", "on") == ["bfloat16+xla"]


def test_the_plan_times_the_step_once_and_then_reads_the_cache(cache, timings):
    plan = plan_with_step_timing(MLP, ZEN5, TINY, notify=None)
    assert timings.calls == [["float32", "float32+xla", "bfloat16", "bfloat16+xla"]]
    assert (plan.mixed_precision, plan.jit_compile) == ("off", True)
    # `_time_and_cache` writes the cache; a cached result decides without timing, even for a short run.
    options = timings.calls[0]
    path = cache / f"steps-{TINY.key(ZEN5['machine'], options)}.json"
    path.write_text(json.dumps({"us_per_example": {**ZEN5_MLP_STEP, "bfloat16": 20.0}}))
    again = plan_with_step_timing(MLP, ZEN5, TINY, steps=10, notify=None)
    assert len(timings.calls) == 1
    assert again.mixed_precision == "mixed_bfloat16"


@pytest.mark.parametrize("unusable", ["[1, 2]", '{"us_per_example": {"float32": -1, "x": 1}}', "{"])
def test_an_unusable_cache_entry_is_timed_again(cache, timings, unusable):
    options = ["float32", "float32+xla", "bfloat16", "bfloat16+xla"]
    (cache / f"steps-{TINY.key(ZEN5['machine'], options)}.json").write_text(unusable)
    plan_with_step_timing(MLP, ZEN5, TINY, notify=None)
    assert timings.calls == [options]


def test_the_cache_key_names_the_model_batch_and_machine():
    options = ["float32", "bfloat16"]
    key = TINY.key(ZEN5["machine"], options)
    assert key == TINY.key({**ZEN5["machine"], "description": "other words"}, options[::-1])
    other_batch = StepTimingRequest(**{**TINY.__dict__, "batch": np.ones((16, 64), "float32")})
    other_model = StepTimingRequest(**{**TINY.__dict__, "model_config": {"latent_dim": 3}})
    assert (
        len(
            {
                key,
                other_batch.key(ZEN5["machine"], options),
                other_model.key(ZEN5["machine"], options),
                TINY.key({"cores": 4}, options),
            }
        )
        == 4
    )


@pytest.mark.parametrize(
    "case, reason",
    [
        ("off", None),
        ("gpu", None),
        ("no request", None),
        ("forced", None),
        ("short run", "step not timed: a short run (1,999 steps)"),
        ("failed", "step not timed: the timing failed (see above)"),
    ],
)
def test_when_the_step_is_not_timed_the_estimate_decides(cache, timings, monkeypatch, case, reason):
    probe, request, settings, steps = ZEN5, TINY, {}, None
    if case == "off":
        monkeypatch.setenv("KERAS_RT_STEP_TIMING", "off")
    elif case == "gpu":
        probe = {**ZEN5, "machine": {**ZEN5["machine"], "gpus": ["GPU:0"]}}
    elif case == "no request":
        request = None
    elif case == "forced":
        settings = {"mixed_precision": "off", "jit_compile": "off"}
    elif case == "short run":
        steps = step_timing.MIN_STEPS - 1
    elif case == "failed":
        timings.result = None
    plan = plan_with_step_timing(MLP, probe, request, steps=steps, notify=None, **settings)
    expected = plan_training(MLP, probe, **settings)
    assert plan.measured_us is None
    assert (plan.mixed_precision, plan.jit_compile) == (
        expected.mixed_precision,
        expected.jit_compile,
    )
    assert plan.reasons == expected.reasons + ((reason,) if reason else ())
    assert len(timings.calls) == (1 if case == "failed" else 0)


def test_synthetic_batches_follow_nested_specs():
    spec = ({"x": tf.TensorSpec((None, 4), tf.float32), "label": tf.TensorSpec((None,), tf.int32)},)
    (batch,) = synthetic_batch(spec, 3)
    assert batch["x"].shape == (3, 4) and batch["x"].dtype == np.float32
    assert set(np.unique(batch["x"])) <= {0.0, 1.0}
    assert batch["label"].dtype == np.int32 and not batch["label"].any()


def test_time_steps_times_every_option():
    result = time_steps("mlp_vae", TINY.model_config, (64,), TINY.batch, ["float32", "bfloat16"])
    assert set(result["ms_per_step"]) == {"float32", "bfloat16"}
    assert all(v > 0 for v in result["ms_per_step"].values())
    per_example = result["ms_per_step"]["float32"] * 1000 / 8
    assert result["us_per_example"]["float32"] == pytest.approx(per_example, rel=1e-3)
    assert result["batch_size"] == 8 and result["rounds"] == step_timing.ROUNDS


def test_the_step_is_timed_in_a_fresh_process_and_cached(cache):
    lines: list[str] = []
    path = str(cache / "steps-test.json")
    result = step_timing._time_and_cache(TINY, ["float32", "float32+xla"], path, lines.append)
    assert set(result["us_per_example"]) == {"float32", "float32+xla"}
    assert json.loads((cache / "steps-test.json").read_text()) == result
    assert lines[0].startswith("Timing mlp_vae's training step on this machine once, 2 ways")
    assert lines[1].startswith("Timed in ") and lines[1].endswith(f"cached in {path}")


def test_a_failed_timing_names_the_error_and_caches_nothing(cache):
    lines: list[str] = []
    request = StepTimingRequest(**{**TINY.__dict__, "model": "no_such_model"})
    path = str(cache / "steps-test.json")
    assert step_timing._time_and_cache(request, ["float32", "bfloat16"], path, lines.append) is None
    assert "ValueError: Unknown model. Received: model='no_such_model'" in lines[-1]
    assert lines[-1].endswith("; using the estimate.")
    assert not (cache / "steps-test.json").exists()
