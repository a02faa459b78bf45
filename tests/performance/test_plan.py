"""The training plan's choices, with the machine's facts and measurements faked."""

import re

import pytest

from keras_rt.performance.plan import (
    XLA_COMPILE_PER_LAYER,
    estimate_ms,
    likelihood_prefers_xla,
    narrow_conv_implementation,
    optimizer_update_implementation,
    plan_training,
    xla_compile_seconds,
)
from keras_rt.performance.probe import PROBE_MACS

MLP = {"dense": 1_077_248}
CONV = {"dense": 1_617_920, "conv": 959_616, "narrow_conv": 225_792, "transposed_conv": 5_419_008}


def probe(flags=(), gpus=(), **step_ms):
    """A probe result: `kind={"float32": (native, xla), "bfloat16": (...)}` in ms."""
    return {
        "machine": {"cpu_flags": list(flags), "gpus": list(gpus)},
        "step_ms": {
            kind: {dtype: {"native": t[0], "xla": t[1]} for dtype, t in per_dtype.items()}
            for kind, per_dtype in step_ms.items()
        },
    }


# An AVX2-only CPU as measured on an AMD EPYC: bfloat16 emulated, XLA good for Dense layers,
# bad for transposed convolutions, good for narrow ones.
AVX2 = probe(
    ("avx2", "fma"),
    dense={"float32": (3.7, 2.4), "bfloat16": (3.2, 2.0)},
    conv={"float32": (4.2, 5.2), "bfloat16": (25.0, 2.6)},
    transposed_conv={"float32": (8.4, 13.0), "bfloat16": (55.0, 12.0)},
    narrow_conv={"float32": (21.0, 6.4), "bfloat16": (24.0, 8.0)},
)
# A CPU with AMX: TensorFlow's bfloat16 kernels use it, XLA's do not.
AMX = probe(
    ("amx_bf16", "amx_tile", "avx512_bf16", "avx512f"),
    dense={"float32": (2.0, 1.9), "bfloat16": (0.8, 3.0)},
    conv={"float32": (3.0, 4.0), "bfloat16": (1.2, 5.0)},
    transposed_conv={"float32": (6.0, 12.0), "bfloat16": (2.0, 14.0)},
    narrow_conv={"float32": (5.0, 4.0), "bfloat16": (2.0, 4.0)},
)


def test_avx2_cpu_trains_float32_with_xla_for_dense_models_and_partial_xla_for_conv():
    mlp = plan_training(MLP, AVX2)
    assert (mlp.mixed_precision, mlp.jit_compile, mlp.xla_narrow_convs) == ("off", True, False)
    assert "no 16-bit matrix units" in mlp.reasons[0]
    conv = plan_training(CONV, AVX2)
    assert (conv.mixed_precision, conv.jit_compile, conv.xla_narrow_convs) == ("off", False, True)
    assert not mlp.warnings and not conv.warnings


def test_emulated_bfloat16_that_times_faster_is_not_taken_without_bfloat16_units():
    fast_emulation = probe(("avx2",), dense={"float32": (4.0, 4.0), "bfloat16": (1.0, 1.0)})
    assert plan_training(MLP, fast_emulation).mixed_precision == "off"


def test_amx_cpu_trains_bfloat16_without_whole_step_xla():
    for macs in (MLP, CONV):
        plan = plan_training(macs, AMX)
        assert (plan.mixed_precision, plan.jit_compile) == ("mixed_bfloat16", False)
        assert "x float32's speed" in plan.reasons[0]
    assert not plan_training(CONV, AMX).xla_narrow_convs  # bfloat16 native is faster there


def test_bfloat16_units_but_no_measured_gain_stay_float32():
    slow = probe(("avx512_bf16",), dense={"float32": (2.0, 3.0), "bfloat16": (1.9, 3.0)})
    plan = plan_training(MLP, slow)
    assert plan.mixed_precision == "off" and "1.25x" in plan.reasons[0]


def test_gpu_leaves_xla_to_keras_and_takes_float16_only_when_clearly_faster_than_bfloat16():
    def gpu(float16_xla):
        return probe(
            gpus=("NVIDIA H200",),
            dense={"float32": (1.0, 0.8), "bfloat16": (0.5, 0.3), "float16": (0.5, float16_xla)},
        )

    plan = plan_training(MLP, gpu(0.25))
    assert plan.jit_compile == "auto" and plan.mixed_precision == "mixed_bfloat16"
    assert plan_training(MLP, gpu(0.1)).mixed_precision == "mixed_float16"


SLOW16 = probe(("avx512_bf16",), dense={"float32": (2.0, 2.0), "bfloat16": (8.0, 9.0)})


@pytest.mark.parametrize(
    "machine, options, expected",
    [
        (SLOW16, {"mixed_precision": "mixed_bfloat16"}, "--mixed-precision mixed_bfloat16"),
        (AMX, {"mixed_precision": "mixed_bfloat16", "jit_compile": "on"}, "--jit-compile on"),
        (AVX2, {"mixed_precision": "off", "jit_compile": "off"}, "--jit-compile off"),
    ],
)
def test_a_forced_choice_measured_slower_warns_with_the_ratio(machine, options, expected):
    plan = plan_training(MLP, machine, **options)
    (warning,) = [w for w in plan.warnings if w.startswith(expected)]
    assert re.search(r"\d\.\d\dx", warning) and "measured" in warning


def test_a_forced_choice_within_the_noise_does_not_warn():
    # Whole-step XLA on the conv VAE: estimated 0.93x here (measured 0.94x), not a warning.
    assert plan_training(CONV, AVX2, jit_compile="on").warnings == ()


def test_forced_choices_are_kept():
    plan = plan_training(CONV, AVX2, mixed_precision="mixed_bfloat16", jit_compile="on")
    assert (plan.mixed_precision, plan.jit_compile) == ("mixed_bfloat16", True)


def test_missing_measurements_fall_back_to_float32_without_xla():
    plan = plan_training(CONV, probe(("avx2",), dense={"float32": (1.0, 1.0)}))
    assert (plan.mixed_precision, plan.jit_compile, plan.xla_narrow_convs) == ("off", False, False)
    assert plan.to_dict()["estimates_us"] == {}


# The AVX2 machine at batch 128 (dense 6.4 ms native, 5.7 ms with XLA), with its XLA compile
# times; mlp_vae on digits (64 inputs) does about 340k multiply-adds per example.
AVX2_128 = probe(("avx2", "fma"), dense={"float32": (6.4, 5.7), "bfloat16": (7.3, 6.0)}) | {
    "xla_compile_s": {"dense": 0.18, "conv": 0.3, "transposed_conv": 0.22, "narrow_conv": 0.28}
}
DIGITS_MLP = {"dense": 340_000}


def test_xla_compile_time_scales_with_the_layers_and_needs_the_measurement():
    per_layer = (0.18 + 0.3 + 0.22 + 0.28) / 4
    assert xla_compile_seconds(AVX2_128, 8) == pytest.approx(XLA_COMPILE_PER_LAYER * per_layer * 8)
    assert xla_compile_seconds(AVX2, 8) is None
    assert xla_compile_seconds(AVX2_128 | {"xla_compile_s": {"dense": "x"}}, 8) is None


def test_a_short_run_skips_whole_step_xla_that_it_cannot_pay_back():
    # 200 epochs of 1297 examples: XLA would save about 2 s and cost about 8 s to compile.
    short = plan_training(DIGITS_MLP, AVX2_128, examples=200 * 1297, layers=8)
    assert short.jit_compile is False and short.examples == 259_400
    assert short.xla_compile_s == pytest.approx(7.8, abs=0.05)
    assert re.search(
        r"save about 1\.\d s over this run's 259,400 examples, against about 7\.8 s",
        short.reasons[1],
    )
    # Fashion-MNIST's MLP (1.08M multiply-adds) for 50 epochs of 55,000 examples pays back.
    long = plan_training(MLP, AVX2_128, examples=50 * 55_000, layers=8)
    assert long.jit_compile is True and "whole-step XLA on" in long.reasons[1]
    # Without the run's length (a benchmark's steady state): the step estimate alone decides.
    assert plan_training(DIGITS_MLP, AVX2_128).jit_compile is True
    assert plan_training(DIGITS_MLP, AVX2_128).xla_compile_s is None


def test_the_break_even_run_length_follows_the_measurements():
    compile_s = xla_compile_seconds(AVX2_128, 8)
    saved_ms = 1.05 * estimate_ms(MLP, AVX2_128, "float32", False, False) - estimate_ms(
        MLP, AVX2_128, "float32", True, False
    )
    break_even = compile_s * 1000 / saved_ms
    below = plan_training(MLP, AVX2_128, examples=int(break_even * 0.9), layers=8)
    above = plan_training(MLP, AVX2_128, examples=int(break_even * 1.1), layers=8)
    assert (below.jit_compile, above.jit_compile) == (False, True)
    # A slower compiler (twice the compile times) moves the break-even point.
    slow = AVX2_128 | {"xla_compile_s": {k: 2 * v for k, v in AVX2_128["xla_compile_s"].items()}}
    assert plan_training(MLP, slow, examples=int(break_even * 1.1), layers=8).jit_compile is False


def test_forced_xla_and_gpus_ignore_the_run_length():
    forced = plan_training(DIGITS_MLP, AVX2_128, jit_compile="on", examples=100, layers=8)
    assert forced.jit_compile is True
    gpu = AVX2_128 | {"machine": {"cpu_flags": [], "gpus": ["H100"]}}
    assert plan_training(DIGITS_MLP, gpu, examples=100, layers=8).jit_compile == "auto"


@pytest.mark.parametrize(
    ("narrow_ms", "expected"),
    [
        ((52.0, 26.0, 12.0), "matmul_xla"),
        ((52.0, 26.0, 50.0), "xla"),
        ((52.0, 48.0, 50.0), "native"),  # within MIN_GAIN of the kernels
        ((52.0, 26.0, None), "xla"),  # a probe without the matrix-product timing
        ((3.4, 8.9, 19.8, 2.3), "matmul_filter_gradient"),  # Zen 5, bfloat16
        ((3.4, 8.9, 19.8, 3.0), "native"),  # within MIN_GAIN of the kernels
    ],
)
def test_narrow_convolutions_take_the_fastest_measured_way(narrow_ms, expected):
    native, xla, matmul, *kernels = narrow_ms
    timings = {"native": native, "xla": xla} | ({"matmul_xla": matmul} if matmul else {})
    timings |= {"matmul_filter_gradient": kernels[0]} if kernels else {}
    machine = {"machine": {"gpus": []}, "step_ms": {"narrow_conv": {"float32": timings}}}
    assert narrow_conv_implementation(machine, "float32") == expected
    plan = plan_training({"narrow_conv": 100_000}, machine, jit_compile="off")
    assert plan.xla_narrow_convs is (expected != "native")
    fastest = min(t for t in timings.values() if t) if expected != "native" else native
    assert plan.estimates_us["float32"] == pytest.approx(
        100_000 * fastest / PROBE_MACS["narrow_conv"] * 1000, rel=1e-3
    )


@pytest.mark.parametrize(
    ("timed", "expected"),
    [
        ({"xla": 2.0, "fused": 1.4}, "fused"),
        ({"xla": 1.2, "fused": 1.4}, "fused"),  # XLA not MIN_GAIN faster: the kernel
        ({"xla": 1.0, "fused": 1.25}, "xla"),
        ({"xla": 2.0}, "xla"),  # the kernel unmeasured: as before it was
        ({"fused": 1.4}, "fused"),  # XLA failed to run here
        ({"fused": "fast", "xla": 2.0}, "xla"),
        (None, "xla"),
    ],
)
def test_the_optimizer_update_is_the_kernel_unless_xla_is_clearly_faster(timed, expected):
    assert optimizer_update_implementation({"optimizer_update_ms": timed}) == expected


@pytest.mark.parametrize(
    ("timed", "expected"),
    [
        ({"native": 0.6, "xla": 0.62}, False),
        ({"native": 0.6, "xla": 0.5}, False),
        ({"native": 1.0, "xla": 0.8}, True),
        ({"native": 0.6}, False),  # XLA failed to run here
        ({"xla": 0.6}, True),  # TensorFlow's ops unmeasured: as before
        (None, True),
    ],
)
def test_the_likelihood_is_compiled_only_where_xla_is_clearly_faster(timed, expected):
    assert likelihood_prefers_xla({"likelihood_ms": timed}) is expected


def test_the_plan_says_how_adam_and_the_likelihood_run_when_the_step_is_not_compiled():
    measured = {
        "optimizer_update_ms": {"xla": 1.0, "fused": 1.1},
        "likelihood_ms": {"native": 0.6, "xla": 0.62},
    }
    plan = plan_training(CONV, AMX | measured)
    assert plan.jit_compile is False
    assert plan.reasons[-2:] == (
        "Adam's update with TensorFlow's fused kernel (measured 1.00 ms under XLA vs 1.10 for "
        "a million weights: XLA not 1.25x faster)",
        "likelihood with TensorFlow's ops (measured 0.62 ms under XLA vs 0.60: "
        "XLA not 1.25x faster)",
    )
    xla = plan_training(
        CONV,
        AMX
        | {
            "optimizer_update_ms": {"xla": 1.0, "fused": 2.0},
            "likelihood_ms": {"native": 1.0, "xla": 0.5},
        },
    )
    assert xla.reasons[-2:] == (
        "Adam's update as one XLA function (partial XLA; measured 1.00 ms under XLA vs 2.00 "
        "for a million weights)",
        "likelihood XLA-compiled (partial XLA; measured 0.50 ms under XLA vs 1.00)",
    )
    unmeasured = plan_training(CONV, AMX).reasons
    assert "fused kernel unmeasured" in unmeasured[-2] and "unmeasured" in unmeasured[-1]
    garbled = {"optimizer_update_ms": {"xla": "?", "fused": 1.0}, "likelihood_ms": {"xla": None}}
    assert plan_training(CONV, AMX | garbled).reasons[-2:] == (
        "Adam's update with TensorFlow's fused kernel (partial XLA; XLA unmeasured)",
        "likelihood XLA-compiled (partial XLA; unmeasured)",
    )
    # Whole-step XLA holds both itself: nothing to say.
    whole = plan_training(MLP, AVX2 | measured)
    assert whole.jit_compile is True
    assert not any("Adam" in reason or "likelihood" in reason for reason in whole.reasons)
