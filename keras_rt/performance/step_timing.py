"""Time a model's own training step for the plan's close choices, once per machine and model.

The probe (`keras_rt.performance.probe`) times matrix products and
convolutions, and the plan weighs them by a model's multiply-adds. That ranks
the choices well where those kernels are most of the step, and can rank them
wrongly where they are not. On an AMD EPYC with avx512_bf16 (Zen 5, 2 cores)
the kernel estimate put bfloat16 1.6x ahead of float32 for `mlp_vae`, yet its
whole step at batch 128 ran fastest in float32 with whole-step XLA: 3.5 ms
against 4.0 ms for bfloat16 with partial XLA (the zoo benchmark: 1.61x against
1.42x the common VAE). The kernels were a third of that step; casts,
element-wise work and the optimizer were the rest.

So on CPUs, `train` times the model itself (`plan_with_step_timing`): every
option the kernel estimate puts within `REACH` (2x) of its fastest, and
float32's fastest always (the baseline a 16-bit policy must beat), each built
from the run's configuration and compiled as `train` compiles it, then timed
on one batch shaped like the run's (`synthetic_batch`) in `ROUNDS` interleaved
rounds; the median time per step is kept. It runs in a fresh process, so
nothing of it touches the run (random state, dtype policy, compiled
functions). It takes 10-40 s on 2 CPU cores (mostly compiling), once per
machine kind, model configuration, batch shape and steps per execution: the
result is cached as JSON beside the probe's (`cache_dir()`). It is skipped,
and the kernel estimate decides alone, on GPUs (Keras's own choices, not
measured here), when only one option is in reach, for runs shorter than
`MIN_STEPS` steps (unless already cached: the timing would cost more than it
could save), and when `KERAS_RT_STEP_TIMING=off`.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from keras_rt.performance.json_cache import read_json, write_json
from keras_rt.performance.plan import (
    POLICY_DTYPES,
    TrainingPlan,
    allowed_options,
    plan_training,
)
from keras_rt.performance.probe import PROBE_VERSION, cache_dir

STEP_TIMING_VERSION = 1
ENVIRONMENT_VARIABLE = "KERAS_RT_STEP_TIMING"
REACH = 2.0  # options whose estimate is within this factor of the fastest are timed
ROUNDS = 5
MIN_ROUND_S = 0.15  # each option's share of a round: at least this long (whole executions)
MIN_STEPS = 2000  # runs shorter than this (in steps) are not worth timing
TIMEOUT_S = 900
_POLICIES = {dtype: policy for policy, dtype in POLICY_DTYPES.items()} | {"float32": "float32"}


@dataclasses.dataclass(frozen=True)
class StepTimingRequest:
    """What to time: a zoo model as a run trains it.

    Attributes:
        model: zoo model name (`keras_rt.zoo.get_zoo_entry`).
        model_config: its constructor arguments.
        input_shape: one example's shape (`entry.build`'s `input_shape`).
        batch: one batch of training data (a nested structure of NumPy
            arrays, as the run's `tf.data` pipeline yields it).
        steps_per_execution: as the run compiles the model.
    """

    model: str
    model_config: Mapping[str, Any]
    input_shape: tuple[int, ...]
    batch: Any
    steps_per_execution: int = 1

    def batch_size(self) -> int:
        import tensorflow as tf

        return int(tf.nest.flatten(self.batch)[0].shape[0])

    def key(self, machine: Mapping, options: Sequence[str]) -> str:
        """A short hash naming this request on this machine kind in the cache."""
        import keras
        import tensorflow as tf

        spec = [[list(a.shape), str(a.dtype)] for a in tf.nest.flatten(self.batch)]
        text = json.dumps(
            {
                "version": STEP_TIMING_VERSION,
                # The probe decides how a step's parts are computed: a new one times them anew.
                "probe_version": PROBE_VERSION,
                "machine": {k: v for k, v in machine.items() if k != "description"},
                "versions": [tf.__version__, keras.__version__],
                "model": self.model,
                "model_config": self.model_config,
                "input_shape": list(self.input_shape),
                "batch": spec,
                "steps_per_execution": self.steps_per_execution,
                "options": sorted(options),
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def step_timing_enabled() -> bool:
    """False when `KERAS_RT_STEP_TIMING` is `off`, `0`, `false` or `no`."""
    value = os.environ.get(ENVIRONMENT_VARIABLE, "").strip().lower()
    return value not in ("off", "0", "false", "no")


def options_to_time(estimates_us: Mapping[str, float], allowed: Sequence[str]) -> list[str]:
    """The allowed options worth timing: those estimated within `REACH` of the fastest, and
    float32's fastest.

    Example:

    >>> options_to_time({"float32": 27.0, "float32+xla": 39.0, "bfloat16": 16.0,
    ...                  "bfloat16+xla": 33.0}, ["float32", "float32+xla", "bfloat16",
    ...                  "bfloat16+xla"])
    ['float32', 'bfloat16']
    """
    known = [o for o in allowed if o in estimates_us]
    if not known:
        return []
    fastest = min(estimates_us[o] for o in known)
    chosen = {o for o in known if estimates_us[o] < REACH * fastest}
    float32 = [o for o in known if o.split("+")[0] == "float32"]
    if float32:
        chosen.add(min(float32, key=estimates_us.__getitem__))
    return [o for o in known if o in chosen]


def synthetic_batch(element_spec, batch_size: int, seed: int = 0):
    """One batch shaped like a `tf.data` pipeline's `element_spec`: floats are 0 or 1 (valid
    for every likelihood of the zoo), integers and booleans 0 (a valid label).

    Example:

    >>> spec = tf.TensorSpec((None, 4), tf.float32)
    >>> synthetic_batch(spec, 3).shape
    (3, 4)
    """
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(seed)

    def make(spec):
        shape = [batch_size if d is None else d for d in spec.shape.as_list()]
        dtype = spec.dtype.as_numpy_dtype
        if spec.dtype.is_floating:
            return (rng.random(shape) < 0.5).astype(dtype)
        return np.zeros(shape, dtype)

    return tf.nest.map_structure(make, element_spec)


def plan_with_step_timing(
    macs: Mapping[str, int],
    probe: Mapping,
    request: StepTimingRequest | None,
    *,
    mixed_precision: str = "auto",
    jit_compile: str = "auto",
    examples: int | None = None,
    layers: int | None = None,
    steps: int | None = None,
    notify: Callable[[str], None] | None = print,
) -> TrainingPlan:
    """The training plan, with the close options settled by timing the model's step (see the module).

    Args:
        macs, probe, mixed_precision, jit_compile, examples, layers: as
            `keras_rt.performance.plan.plan_training` takes them.
        request: the model and a batch to time (None: estimates only).
        steps: training steps of the run (None: a benchmark's steady state,
            always worth timing).
        notify: called with one-line notices (None: quiet).

    Returns:
        A `TrainingPlan`; its `measured_us` holds the timings when they decided.
    """
    plan_for = functools.partial(
        plan_training,
        macs,
        probe,
        mixed_precision=mixed_precision,
        jit_compile=jit_compile,
        examples=examples,
        layers=layers,
    )
    plan = plan_for()
    machine = probe.get("machine") or {}
    if request is None or not step_timing_enabled() or machine.get("gpus"):
        return plan
    options = options_to_time(
        plan.estimates_us, allowed_options(probe, mixed_precision, jit_compile)
    )
    if len(options) < 2:
        return plan
    path = os.path.join(cache_dir(), f"steps-{request.key(machine, options)}.json")
    timing = _read(path)
    if timing is None:
        if steps is not None and steps < MIN_STEPS:
            return _with_reason(plan, f"step not timed: a short run ({steps:,} steps)")
        timing = _time_and_cache(request, options, path, notify)
    if timing is None:
        return _with_reason(plan, "step not timed: the timing failed (see above)")
    return plan_for(measured_us=timing["us_per_example"])


def _with_reason(plan: TrainingPlan, reason: str) -> TrainingPlan:
    return dataclasses.replace(plan, reasons=(*plan.reasons, reason))


def _read(path: str) -> dict | None:
    """A cached timing, or None if missing, unreadable or without two positive times."""
    value = read_json(path)
    timed = value.get("us_per_example") if isinstance(value, dict) else None
    if not isinstance(timed, dict) or len(timed) < 2:
        return None
    if not all(isinstance(v, (int, float)) and v > 0 for v in timed.values()):
        return None
    return value


def _time_and_cache(
    request: StepTimingRequest,
    options: Sequence[str],
    path: str,
    notify: Callable[[str], None] | None,
) -> dict | None:
    """Times `options` in a fresh process and caches the result; None (after a notice) on failure."""
    say = notify or (lambda _: None)
    say(
        f"Timing {request.model}'s training step on this machine once, "
        f"{len(options)} ways ({', '.join(options)}), to choose among them ..."
    )
    with tempfile.TemporaryDirectory(prefix="keras_rt_steps_") as folder:
        request_path = os.path.join(folder, "request.pkl")
        result_path = os.path.join(folder, "result.json")
        with open(request_path, "wb") as f:
            pickle.dump({**dataclasses.asdict(request), "options": list(options)}, f)
        command = [sys.executable, "-m", __name__, request_path, result_path]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            say(f"Could not time the step: it took over {TIMEOUT_S} s; using the estimate.")
            return None
        if done.returncode != 0 or not os.path.exists(result_path):
            lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
            errors = [line for line in lines if line.split(":")[0].endswith(("Error", "Exception"))]
            last = (errors or lines or [f"exit status {done.returncode}"])[-1]
            say(f"Could not time the step ({last}); using the estimate.")
            return None
        with open(result_path) as f:
            result = json.load(f)
    try:
        write_json(path, result)
        where = f"; cached in {path}"
    except OSError as error:
        where = f"; not cached ({error.strerror})"
    timed = ", ".join(f"{o} {ms:.2f} ms" for o, ms in result["ms_per_step"].items())
    say(f"Timed in {result['seconds']:.0f} s: {timed} per step{where}")
    return result


def time_steps(
    model: str,
    model_config: Mapping[str, Any],
    input_shape: Sequence[int],
    batch: Any,
    options: Sequence[str],
    steps_per_execution: int = 1,
) -> dict[str, Any]:
    """Times `model`'s training step, in this process, for each option (`"float32"`, `"bfloat16+xla"`, ...).

    Each option's model is built under its dtype policy, compiled (whole-step
    XLA for `+xla`; otherwise the zoo's partial XLA), trained once to compile
    it, then all are timed in `ROUNDS` interleaved rounds on `batch` repeated.
    Changes the global dtype policy (restored to float32): meant for a
    process of its own.

    Returns:
        `{"ms_per_step": {option: median}, "us_per_example": {...},
        "first_fit_s": {...}, "batch_size", "rounds", "seconds"}`.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_rt.zoo import get_zoo_entry

    start = time.perf_counter()
    entry = get_zoo_entry(model)
    data = tf.data.Dataset.from_tensors(batch).repeat()
    batch_size = int(tf.nest.flatten(batch)[0].shape[0])
    runs, first_fit = {}, {}
    for option in options:
        dtype, _, xla = option.partition("+")
        keras.mixed_precision.set_global_policy(_POLICIES[dtype])
        keras.utils.set_random_seed(0)
        net = entry.build(model_config, input_shape=tuple(input_shape), seed=0)
        net.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            jit_compile=bool(xla),
            steps_per_execution=steps_per_execution,
        )
        began = time.perf_counter()
        net.fit(data, steps_per_epoch=steps_per_execution, epochs=1, verbose=0)
        first_fit[option] = round(time.perf_counter() - began, 2)
        function, iterator = net.make_train_function(), iter(data)
        began = time.perf_counter()
        _wait(function(iterator))
        calls = max(1, math.ceil(MIN_ROUND_S / max(time.perf_counter() - began, 1e-6)))
        runs[option] = (function, iterator, calls)
    keras.mixed_precision.set_global_policy("float32")
    per_step: dict[str, list[float]] = {option: [] for option in options}
    for _ in range(ROUNDS):
        for option, (function, iterator, calls) in runs.items():
            for _ in range(calls):
                began = time.perf_counter()
                _wait(function(iterator))
                per_step[option].append((time.perf_counter() - began) / steps_per_execution)
    ms = {option: float(np.median(times)) * 1000 for option, times in per_step.items()}
    return {
        "ms_per_step": {o: round(v, 3) for o, v in ms.items()},
        "us_per_example": {o: round(v * 1000 / batch_size, 3) for o, v in ms.items()},
        "first_fit_s": first_fit,
        "batch_size": batch_size,
        "rounds": ROUNDS,
        "seconds": round(time.perf_counter() - start, 1),
    }


def _wait(outputs) -> None:
    """Waits for a step's outputs (their values reach the host)."""
    import tensorflow as tf

    for value in tf.nest.flatten(outputs):
        if hasattr(value, "numpy"):
            value.numpy()


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m keras_rt.performance.step_timing REQUEST.pkl RESULT.json` (`plan_with_step_timing`'s worker)."""
    request_path, result_path = (sys.argv[1:] if argv is None else list(argv))[:2]
    import keras_rt  # noqa: F401  (the backend)

    with open(request_path, "rb") as f:
        request = pickle.load(f)  # written by this package, in a private temporary folder
    result = time_steps(
        request["model"],
        request["model_config"],
        request["input_shape"],
        request["batch"],
        request["options"],
        request["steps_per_execution"],
    )
    with open(result_path, "w") as f:
        json.dump(result, f)
    return 0


__all__ = [
    "MIN_STEPS",
    "REACH",
    "StepTimingRequest",
    "options_to_time",
    "plan_with_step_timing",
    "step_timing_enabled",
    "synthetic_batch",
    "time_steps",
]

if __name__ == "__main__":
    sys.exit(main())
