"""The training plan: which precision and which XLA compilation a model trains with on this machine.

Decided from measurements, not constants: the probe
(`keras_rt.performance.probe`) gives this machine's time per multiply-add of
each op kind (Dense, convolution, transposed convolution, narrow
convolution) in each dtype, with TensorFlow's kernels and with XLA; the
model's multiply-adds per op kind (`keras_rt.performance.flops`) weigh them
into an estimated step time for every choice, and the fastest wins:

- `mixed_precision="auto"`: a 16-bit policy only where the hardware has
  16-bit matrix units (a GPU, or a CPU with `amx_bf16` or `avx512_bf16`:
  detected) and its estimated step is at least `MIN_GAIN` (1.25x) faster
  than float32's (measured): fewer bits cost some accuracy, so an emulated
  bfloat16 that happens to time faster on a noisy machine is not taken;
- `jit_compile="auto"`: Keras's choice on GPUs (XLA on); on CPUs whole-step
  XLA when its estimated step is no slower than `XLA_FUSION_ALLOWANCE`
  (1.05x) times the one without — XLA also fuses the element-wise work that
  the estimate leaves out — and, when the run's length is known, when what
  it saves over the run pays for its compile time: `fit` compiling a
  model's training and test steps with XLA takes about
  `XLA_COMPILE_PER_LAYER` (4) times the probe's mean single-layer XLA
  compile time per weighted layer, more than without XLA (measured on an
  AMD EPYC: 7.3 s for the 8 layers of `mlp_vae`, 9.5 s for the 11 of
  `conv_vae`, against a probe mean of 0.22 s; the probe scales it to each
  machine). A short run — a few hundred steps of a small model — trains
  sooner without it;
- partial XLA (when the step is not compiled as a whole): the optimizer
  update and the likelihood always; narrow convolutions another way when
  it measured faster than TensorFlow's convolution kernels here: XLA's
  convolution, one matrix product and shifted sums under XLA, or
  TensorFlow's convolution with the kernel's gradient as one matrix
  product (`keras_rt.ops.conv_matmul`).

On CPUs, before a long run, the choices that the kernel estimate puts close
are settled by timing the model's own training step
(`keras_rt.performance.step_timing`): the estimate counts only matrix
products and convolutions, and where those are a small part of the step
(an AMD EPYC with avx512_bf16: under a third of `mlp_vae`'s) it can rank the
choices wrongly. With measured steps (`measured_us`) the same rules apply
without the fusion allowance (the measurement includes what XLA fuses), and
a 16-bit policy needs `MIN_MEASURED_GAIN` (1.15x): it still costs some
accuracy, but the measurement's noise is small.

A choice the user forces that the measurements say is slower gets a one-line
warning with the estimated ratio.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from keras_rt.performance.probe import PROBE_MACS

MIN_GAIN = 1.25
MIN_MEASURED_GAIN = 1.15  # a 16-bit policy's gain in the model's measured step
XLA_FUSION_ALLOWANCE = 1.05
XLA_COMPILE_PER_LAYER = 4.0  # fit's extra XLA compile per weighted layer, in probe compiles
SLOWER = 0.9  # forced choices estimated below this ratio get a warning
POLICY_DTYPES = {"off": "float32", "mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}
DTYPE_POLICIES = {dtype: policy for policy, dtype in POLICY_DTYPES.items()}


@dataclasses.dataclass(frozen=True)
class TrainingPlan:
    """What a run trains with, and why.

    Attributes:
        mixed_precision: `"off"`, `"mixed_bfloat16"` or `"mixed_float16"`.
        jit_compile: for `compile`: True/False, or "auto" (Keras decides: GPUs).
        xla_narrow_convs: whether partial XLA computes narrow convolutions
            another way than TensorFlow's convolution kernels
            (`narrow_conv_implementation`; the name is from when every
            other way was XLA's).
        estimates_us: estimated microseconds of the counted ops per example,
            per option (`"float32"`, `"float32+xla"`, ...).
        xla_compile_s: estimated seconds that whole-step XLA adds to
            compiling (None: not weighed, the run's length or the
            measurement unknown).
        examples: examples the run trains on (None: unknown).
        measured_us: measured microseconds of the model's whole training
            step per example, per option timed
            (`keras_rt.performance.step_timing`); None: decided from the
            estimates alone.
        reasons: one line per decision.
        warnings: one line per forced choice measured to be slower.
    """

    mixed_precision: str
    jit_compile: bool | str
    xla_narrow_convs: bool
    estimates_us: Mapping[str, float]
    xla_compile_s: float | None = None
    examples: int | None = None
    measured_us: Mapping[str, float] | None = None
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        measured = None if self.measured_us is None else dict(self.measured_us)
        return dataclasses.asdict(self) | {
            "estimates_us": dict(self.estimates_us),
            "measured_us": measured,
        }


def _per_mac(probe: Mapping, kind: str, dtype: str, impl: str) -> float | None:
    try:
        return float(probe["step_ms"][kind][dtype][impl]) / PROBE_MACS[kind]
    except (KeyError, TypeError, ValueError):
        return None


def estimate_ms(
    macs: Mapping[str, int], probe: Mapping, dtype: str, whole_xla: bool, narrow_xla: bool
) -> float | None:
    """Estimated ms per example of the counted ops; None if a needed measurement is missing."""
    total = 0.0
    for kind, count in macs.items():
        impl = "native"
        if whole_xla:
            impl = "xla"
        elif kind == "narrow_conv" and narrow_xla:
            impl = narrow_conv_implementation(probe, dtype)
        cost = _per_mac(probe, kind, dtype, impl)
        if cost is None:
            return None
        total += count * cost
    return total


# How the plan's reasons name each way of computing narrow convolutions.
NARROW_CONV_WAYS = {
    "native": "with TensorFlow's convolution kernels",
    "xla": "with XLA's convolution",
    "matmul_xla": "as a matrix product under XLA",
    "matmul_filter_gradient": "with TensorFlow's kernels, the filter gradient a matrix product",
}


def narrow_conv_implementation(probe: Mapping, dtype: str) -> str:
    """How partial XLA computes narrow convolutions here, the fastest measured:
    `"matmul_xla"` (one matrix product and shifted sums under XLA,
    `keras_rt.ops.conv_matmul.conv2d_as_matmul`), `"xla"` (XLA's
    convolution), `"matmul_filter_gradient"` (TensorFlow's convolution
    kernels with the kernel's gradient as one matrix product,
    `conv2d_matmul_filter_gradient`), or `"native"` (TensorFlow's kernels
    throughout) unless one of the others is at least `MIN_GAIN` faster.

    Example:

    >>> probe = {"step_ms": {"narrow_conv": {"float32": {
    ...     "native": 52.0, "xla": 26.0, "matmul_xla": 12.0}}}}
    >>> narrow_conv_implementation(probe, "float32")
    'matmul_xla'
    """
    native = _per_mac(probe, "narrow_conv", dtype, "native")
    timed = {
        impl: cost
        for impl in ("xla", "matmul_xla", "matmul_filter_gradient")
        if (cost := _per_mac(probe, "narrow_conv", dtype, impl)) is not None
    }
    if native is None or not timed:
        return "native"
    fastest = min(timed, key=timed.__getitem__)
    return fastest if timed[fastest] < native / MIN_GAIN else "native"


def optimizer_update_implementation(probe: Mapping) -> str:
    """How partial XLA computes an Adam update here: `"fused"` (TensorFlow's fused Adam
    kernel, `keras_rt.distribute.fused_adam`) unless the probe measured the update as one
    XLA function at least `MIN_GAIN` faster, then `"xla"` (also when either is unmeasured).

    As for narrow convolutions and the likelihood, TensorFlow's kernel is the default and
    XLA must measure clearly faster alone: inside the step XLA's call also waits for the
    rest of the backward pass, which the fused kernels, one per variable, overlap. On a
    2-core Zen 5 EPYC the two measured within noise of each other alone (about 1 ms for a
    million weights), and `conv_vae`'s bfloat16 step was about 6% faster with the kernel.

    Example:

    >>> optimizer_update_implementation({"optimizer_update_ms": {"xla": 1.0, "fused": 1.1}})
    'fused'
    >>> optimizer_update_implementation({"optimizer_update_ms": {"xla": 1.0, "fused": 2.0}})
    'xla'
    >>> optimizer_update_implementation({})
    'xla'
    """
    fused, xla = _measured(probe, "optimizer_update_ms", "fused", "xla")
    if fused is None:
        return "xla"
    if xla is None:  # XLA failed to run here
        return "fused"
    return "xla" if xla * MIN_GAIN <= fused else "fused"


def _measured(probe: Mapping, key: str, *impls: str) -> tuple[float | None, ...]:
    """`probe[key][impl]` as floats, None where missing or not a number."""
    timed = probe.get(key) or {}
    values: list[float | None] = []
    for impl in impls:
        try:
            values.append(float(timed[impl]))
        except (KeyError, TypeError, ValueError):
            values.append(None)
    return tuple(values)


def likelihood_prefers_xla(probe: Mapping) -> bool:
    """Whether partial XLA compiles the likelihood here: its measured step (a Bernoulli
    log-likelihood of a batch of images and its gradient) at least `MIN_GAIN` faster under
    XLA than with TensorFlow's ops, or unmeasured.

    The margin pays for what a standalone timing does not see: inside a training step each
    XLA call also waits for the step's other work. On a 2-core Zen 5 EPYC the likelihood
    took 0.6 ms both ways alone, and `conv_vae`'s bfloat16 step was about 3% faster without
    the two calls.

    Example:

    >>> likelihood_prefers_xla({"likelihood_ms": {"native": 0.6, "xla": 0.62}})
    False
    >>> likelihood_prefers_xla({})
    True
    """
    native, xla = _measured(probe, "likelihood_ms", "native", "xla")
    if native is None:
        return True
    if xla is None:  # XLA failed to run here
        return False
    return xla * MIN_GAIN <= native


def narrow_convs_prefer_xla(probe: Mapping, dtype: str) -> bool:
    """Whether partial XLA runs a narrow convolution's training step faster than TensorFlow's
    kernels here (by at least `MIN_GAIN`): `narrow_conv_implementation` is not "native"."""
    return narrow_conv_implementation(probe, dtype) != "native"


def _option(dtype: str, whole_xla: bool) -> str:
    return dtype + ("+xla" if whole_xla else "")


def xla_compile_seconds(probe: Mapping, layers: int) -> float | None:
    """Estimated seconds that whole-step XLA adds to `fit`'s compile of a model with `layers`
    weighted layers (see the module); None without the probe's compile times."""
    measured = probe.get("xla_compile_s")
    if not isinstance(measured, Mapping) or not measured:
        return None
    try:
        per_layer = sum(float(v) for v in measured.values()) / len(measured)
    except (TypeError, ValueError):
        return None
    return XLA_COMPILE_PER_LAYER * per_layer * layers


def allowed_options(
    probe: Mapping, mixed_precision: str = "auto", jit_compile: str = "auto"
) -> list[str]:
    """The options (`"float32"`, `"bfloat16+xla"`, ...) the plan chooses among for these settings.

    Example:

    >>> allowed_options({"machine": {"cpu_flags": ["avx512_bf16"], "gpus": []}})
    ['float32', 'float32+xla', 'bfloat16', 'bfloat16+xla']
    >>> allowed_options({"machine": {"gpus": []}}, jit_compile="off")
    ['float32']
    """
    return [
        _option(dtype, whole)
        for dtype in _dtypes(probe, mixed_precision)
        for whole in _XLA_OPTIONS[jit_compile]
    ]


_XLA_OPTIONS = {"auto": (False, True), "on": (True,), "off": (False,)}


def _dtypes(probe: Mapping, mixed_precision: str) -> list[str]:
    """The compute dtypes the plan chooses among: float32, and with "auto" the 16-bit ones the
    hardware has units for (bfloat16: a GPU, `amx_bf16` or `avx512_bf16`; float16: a GPU)."""
    if mixed_precision != "auto":
        return [POLICY_DTYPES[mixed_precision]]
    machine = probe.get("machine") or {}
    on_gpu = bool(machine.get("gpus"))
    units = on_gpu or bool({"amx_bf16", "avx512_bf16"} & set(machine.get("cpu_flags") or ()))
    return ["float32"] + (["bfloat16"] if units else []) + (["float16"] if on_gpu else [])


def plan_training(
    macs: Mapping[str, int],
    probe: Mapping,
    *,
    mixed_precision: str = "auto",
    jit_compile: str = "auto",
    examples: int | None = None,
    layers: int | None = None,
    measured_us: Mapping[str, float] | None = None,
) -> TrainingPlan:
    """Chooses precision and XLA for a model with `macs` multiply-adds per op kind on `probe`'s machine.

    Args:
        macs: `keras_rt.performance.flops.macs_by_kind(model)` (built in float32).
        probe: `keras_rt.performance.probe.load_or_probe()`.
        mixed_precision: "auto", "off", "mixed_bfloat16" or "mixed_float16".
        jit_compile: "auto", "on" or "off" (whole-step XLA).
        examples: examples the run will train on (epochs x training
            examples); with `layers`, whole-step XLA is chosen only when the
            time it saves over them pays for its compile. None: steady-state
            speed only (a benchmark's choice).
        layers: `keras_rt.performance.flops.weighted_layers(model)`.
        measured_us: the model's measured training step, microseconds per
            example per option (`keras_rt.performance.step_timing`): when
            given, the choice is among the options measured, by these times
            (the estimates still decide the warnings about forced choices).

    Returns:
        A `TrainingPlan`.

    Example:

    >>> probe = {"machine": {"gpus": []}, "step_ms": {"dense": {
    ...     "float32": {"native": 4.0, "xla": 3.0}, "bfloat16": {"native": 9.0, "xla": 8.0}}}}
    >>> plan = plan_training({"dense": 10**6}, probe)
    >>> plan.mixed_precision, plan.jit_compile
    ('off', True)
    """
    machine = probe.get("machine") or {}
    on_gpu = bool(machine.get("gpus"))
    units = on_gpu or bool({"amx_bf16", "avx512_bf16"} & set(machine.get("cpu_flags") or ()))
    dtypes = _dtypes(probe, mixed_precision)
    xla_options = _XLA_OPTIONS[jit_compile]
    compile_s = (
        xla_compile_seconds(probe, layers) if examples is not None and layers is not None else None
    )
    estimates: dict[str, float] = {}
    for dtype in dict.fromkeys(dtypes + ["float32"]):
        for whole in (False, True):
            value = estimate_ms(macs, probe, dtype, whole, narrow_convs_prefer_xla(probe, dtype))
            if value is not None:
                estimates[_option(dtype, whole)] = value
    measured = {k: float(v) / 1000 for k, v in (measured_us or {}).items()}  # ms per example
    scores = measured or estimates
    allowance = 1.0 if measured else XLA_FUSION_ALLOWANCE
    min_gain = MIN_MEASURED_GAIN if measured else MIN_GAIN
    word = "measured" if measured else "estimated"

    def best(dtype: str, options=xla_options, table=scores) -> tuple[float, bool] | None:
        scored = [(table[_option(dtype, w)], w) for w in options if _option(dtype, w) in table]
        if not scored:
            return None
        without = dict((w, t) for t, w in scored)
        if on_gpu and jit_compile == "auto":
            return without.get(True, scored[0][0]), True
        if True in without and False in without:
            fusion = XLA_FUSION_ALLOWANCE if table is estimates else allowance
            saved_ms = fusion * without[False] - without[True]  # per example
            whole = saved_ms >= 0 and (
                compile_s is None or saved_ms * (examples or 0) / 1000 >= compile_s
            )
            return without[whole], whole
        return scored[0]

    reasons, warnings = [], []
    chosen_dtype = "float32"
    if mixed_precision == "auto":
        float32 = best("float32", (False, True)) or (0.0, False)
        for dtype in dtypes[1:]:
            scored = best(dtype)
            current = best(chosen_dtype)
            if scored and current and scored[0] * min_gain <= current[0]:
                chosen_dtype = dtype
        chosen_best = best(chosen_dtype)
        gain = float32[0] / chosen_best[0] if chosen_best and chosen_dtype != "float32" else 1.0
        reasons.append(
            f"precision {DTYPE_POLICIES[chosen_dtype]}: "
            + (
                f"{word} {gain:.2f}x float32's speed here"
                if chosen_dtype != "float32"
                else f"no 16-bit dtype {word} at least {min_gain:.2f}x faster than float32 here"
                if units
                else "no 16-bit matrix units detected here (no GPU, amx_bf16 or avx512_bf16)"
            )
        )
    else:
        chosen_dtype = dtypes[0]
        float32 = best("float32", (False, True), estimates) or (0.0, False)
        forced = best(chosen_dtype, table=estimates)
        if chosen_dtype != "float32" and forced and float32[0] / forced[0] < SLOWER:
            warnings.append(
                f"--mixed-precision {mixed_precision}: this model's matrix products and "
                f"convolutions are estimated at {float32[0] / forced[0]:.2f}x float32's speed on "
                "this machine (measured); --mixed-precision auto chooses "
                f"{DTYPE_POLICIES[_auto_dtype(macs, probe)]}"
            )
    chosen = best(chosen_dtype)
    whole_xla = bool(chosen and chosen[1])
    jit: bool | str = "auto" if on_gpu and jit_compile == "auto" else whole_xla
    if jit_compile == "auto":
        reasons.append(
            "XLA: Keras's choice on GPUs"
            if on_gpu
            else f"whole-step XLA {'on' if whole_xla else 'off'}: "
            + _ratio_text(scores, chosen_dtype, measured=bool(measured))
            + _compile_text(scores, chosen_dtype, examples, compile_s, allowance)
        )
    elif not on_gpu:
        other = best(chosen_dtype, (jit_compile != "on",), estimates)
        mine = best(chosen_dtype, table=estimates)
        if mine and other and other[0] / mine[0] < SLOWER:
            warnings.append(
                f"--jit-compile {jit_compile}: estimated {other[0] / mine[0]:.2f}x the speed "
                f"of --jit-compile {'off' if jit_compile == 'on' else 'on'} for this model on "
                "this machine (measured); --jit-compile auto chooses by measurement"
            )
    narrow = (
        "narrow_conv" in macs and not whole_xla and narrow_convs_prefer_xla(probe, chosen_dtype)
    )
    if "narrow_conv" in macs and not whole_xla:
        way = NARROW_CONV_WAYS[narrow_conv_implementation(probe, chosen_dtype)]
        reasons.append(f"narrow convolutions {way} (partial XLA; measured)")
    if not whole_xla:
        reasons.append(_optimizer_text(probe))
        reasons.append(_likelihood_text(probe))
    return TrainingPlan(
        mixed_precision=DTYPE_POLICIES[chosen_dtype],
        jit_compile=jit,
        xla_narrow_convs=narrow,
        estimates_us={k: round(v * 1000, 2) for k, v in estimates.items()},
        xla_compile_s=None if compile_s is None else round(compile_s, 1),
        examples=examples,
        measured_us=None if not measured else {k: round(v * 1000, 2) for k, v in measured.items()},
        reasons=tuple(reasons),
        warnings=tuple(warnings),
    )


def _optimizer_text(probe: Mapping) -> str:
    xla, fused = _measured(probe, "optimizer_update_ms", "xla", "fused")
    if xla is None or fused is None:
        way = optimizer_update_implementation(probe)
        return (
            "Adam's update with TensorFlow's fused kernel (partial XLA; XLA unmeasured)"
            if way == "fused"
            else "Adam's update as one XLA function (partial XLA; the fused kernel unmeasured)"
        )
    measured = f"measured {xla:.2f} ms under XLA vs {fused:.2f} for a million weights"
    if optimizer_update_implementation(probe) == "fused":
        return (
            f"Adam's update with TensorFlow's fused kernel ({measured}: "
            f"XLA not {MIN_GAIN:.2f}x faster)"
        )
    return f"Adam's update as one XLA function (partial XLA; {measured})"


def _likelihood_text(probe: Mapping) -> str:
    xla, native = _measured(probe, "likelihood_ms", "xla", "native")
    if xla is None or native is None:
        return (
            "likelihood XLA-compiled (partial XLA; unmeasured)"
            if likelihood_prefers_xla(probe)
            else "likelihood with TensorFlow's ops (XLA unmeasured)"
        )
    measured = f"measured {xla:.2f} ms under XLA vs {native:.2f}"
    if likelihood_prefers_xla(probe):
        return f"likelihood XLA-compiled (partial XLA; {measured})"
    return f"likelihood with TensorFlow's ops ({measured}: XLA not {MIN_GAIN:.2f}x faster)"


def _auto_dtype(macs: Mapping[str, int], probe: Mapping) -> str:
    return POLICY_DTYPES[plan_training(macs, probe).mixed_precision]


def _ratio_text(scores: Mapping[str, float], dtype: str, *, measured: bool = False) -> str:
    plain, xla = scores.get(_option(dtype, False)), scores.get(_option(dtype, True))
    if not plain or not xla:
        if measured:
            return "only one of the two was timed (the other's estimate was out of reach)"
        return "no XLA measurement"
    if measured:
        return f"measured {plain / xla:.2f}x the speed of this model's step with partial XLA"
    return f"estimated {plain / xla:.2f}x the speed of TensorFlow's kernels for this model's ops"


def _compile_text(
    scores: Mapping[str, float],
    dtype: str,
    examples: int | None,
    compile_s: float | None,
    allowance: float = XLA_FUSION_ALLOWANCE,
) -> str:
    plain, xla = scores.get(_option(dtype, False)), scores.get(_option(dtype, True))
    if compile_s is None or not plain or not xla:
        return ""
    saved_s = max(0.0, allowance * plain - xla) * (examples or 0) / 1000
    return (
        f"; it would save about {saved_s:.1f} s over this run's {examples:,} examples, "
        f"against about {compile_s:.1f} s more to compile (measured here)"
    )


__all__ = [
    "MIN_GAIN",
    "MIN_MEASURED_GAIN",
    "XLA_COMPILE_PER_LAYER",
    "TrainingPlan",
    "allowed_options",
    "estimate_ms",
    "likelihood_prefers_xla",
    "narrow_conv_implementation",
    "narrow_convs_prefer_xla",
    "optimizer_update_implementation",
    "plan_training",
    "xla_compile_seconds",
]
