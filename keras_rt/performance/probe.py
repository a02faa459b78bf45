"""Measure once what this machine does fast, and remember it: the inputs of the training plan.

The probe times, in this process, the training-step pieces a zoo model is
made of (forward and backward passes, at `PROBE_BATCH` = 128 examples, the
training batch size's default: smaller batches overstate what XLA's fusion
saves, since TensorFlow's per-op overhead is then a larger share):

- `dense`: a 784 -> 512 Dense + ReLU layer,
- `conv`: a stride-2 3x3 convolution, 32 -> 64 channels, 14 x 14 -> 7 x 7,
- `transposed_conv`: a stride-2 3x3 transposed convolution, 64 -> 32
  channels, 14 x 14 -> 28 x 28,
- `narrow_conv`: a 3x3 convolution 32 -> 1 channel on 28 x 28 images (a
  decoder's output layer: oneDNN's filter gradient for one output channel
  ran at under 2 GFLOP/s on an AVX2 CPU, XLA's twice as fast),

each with TensorFlow's own kernels (`native`) and XLA-compiled (`xla`) —
the narrow convolution also as one matrix product and shifted sums under
XLA (`matmul_xla`) and with its filter gradient as a matrix product on
TensorFlow's kernels (`matmul_filter_gradient`; `keras_rt.ops.conv_matmul`),
partial XLA's other ways — in
float32 and bfloat16 (and float16 on GPUs), plus the matrix-multiply peak
per dtype (the roofline of `benchmarks/zoo.py`): the faster of a 1024^3 and a
2048^3 product (`PEAK_SIZES`; on an AMD EPYC with 512-bit FMA units a 1024^3
float32 product ran at 200-400 GFLOP/s from one timing to the next, 2048^3
steadily at 450). Partial XLA's optimizer update is timed too
(`optimizer_update_ms`): Keras's Adam over `OPTIMIZER_SHAPES` (1.23
million float32 weights) as one XLA function (`xla`) and as TensorFlow's
fused Adam kernel (`fused`, `keras_rt.distribute.fused_adam`), and the
likelihood partial XLA compiles (`likelihood_ms`): a Bernoulli
log-likelihood of `PROBE_BATCH` 28 x 28 images and its gradient, with
TensorFlow's ops (`native`) and XLA-compiled (`xla`). All of a kind's
timings, every dtype and implementation, are interleaved and the fastest of
three repeats is kept (for the optimizer update and the likelihood, which
take about a millisecond, the median call of twelve interleaved rounds). The first call of
each float32 XLA step, less a steady call, is its compile time
(`xla_compile_s`): the plan weighs it against what whole-step XLA saves over
a run's length. It takes 6-15 s on 2 CPU cores, once per machine kind
(`MachineFacts.key`): the result is cached as JSON in `cache_dir()`
(`KERAS_RT_CACHE_DIR`, else `$XDG_CACHE_HOME/keras_rt`, else
`~/.cache/keras_rt`), written atomically; an unreadable cache entry, or one
of an older probe version, is measured again.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

from keras_rt.performance.json_cache import read_json, write_json
from keras_rt.performance.machine import MachineFacts, detect_machine

# 3: batch 128 (was 32), XLA compile times, narrow_conv's matmul_xla; 4: PEAK_SIZES, dtypes interleaved;
# 5: narrow_conv's matmul_filter_gradient; 6: optimizer_update_ms, likelihood_ms
PROBE_VERSION = 6
PEAK_SIZES = (1024, 2048)
KINDS = ("dense", "conv", "transposed_conv", "narrow_conv")
PROBE_BATCH = 128
# Multiply-adds of one forward pass of each probe (the plan converts timings to time per MAC).
PROBE_MACS = {
    "dense": PROBE_BATCH * 784 * 512,
    "conv": PROBE_BATCH * 7 * 7 * 9 * 32 * 64,
    "transposed_conv": PROBE_BATCH * 14 * 14 * 9 * 64 * 32,
    "narrow_conv": PROBE_BATCH * 28 * 28 * 9 * 32 * 1,
}
IMPLEMENTATIONS = ("native", "xla")
# Partial XLA can compute narrow convolutions as a matrix product (`keras_rt.ops.conv_matmul`).
EXTRA_IMPLEMENTATIONS = {"narrow_conv": ("matmul_xla", "matmul_filter_gradient")}
# The weights whose Adam update the probe times (1.23 million, in a model's mix of sizes).
OPTIMIZER_SHAPES = (
    (1024, 768),
    (768,),
    (768, 512),
    (512,),
    (512, 16),
    (16,),
    (3, 3, 64, 64),
    (64,),
)
OPTIMIZER_IMPLEMENTATIONS = ("xla", "fused")
LIKELIHOOD_IMPLEMENTATIONS = ("native", "xla")
_MEMO: dict[str, dict] = {}


def cache_dir() -> str:
    """Where probe results are cached (see the module docstring)."""
    explicit = os.environ.get("KERAS_RT_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "keras_rt")


def probe_dtypes(facts: MachineFacts) -> tuple[str, ...]:
    """The compute dtypes worth measuring here: float16 only where there is a GPU."""
    return ("float32", "bfloat16", "float16") if facts.gpus else ("float32", "bfloat16")


def _step(kind: str, dtype: str, impl: str) -> tuple[Callable, tuple]:
    """A forward + backward function of `kind` computed by `impl` and its arguments."""
    import tensorflow as tf

    from keras_rt.ops.conv_matmul import conv2d_as_matmul, conv2d_matmul_filter_gradient

    rng = tf.random.Generator.from_seed(0)

    def normal(shape):
        return tf.cast(rng.normal(shape) * 0.1, dtype)

    if kind == "dense":
        x, w = normal((PROBE_BATCH, 784)), tf.Variable(normal((784, 512)))

        def forward(x):
            return tf.nn.relu(tf.matmul(x, w))

    elif kind == "transposed_conv":
        x, w = normal((PROBE_BATCH, 14, 14, 64)), tf.Variable(normal((3, 3, 32, 64)))

        def forward(x):
            return tf.nn.conv2d_transpose(x, w, (PROBE_BATCH, 28, 28, 32), 2, "SAME")

    else:
        size, cin, cout, stride = (14, 32, 64, 2) if kind == "conv" else (28, 32, 1, 1)
        x, w = normal((PROBE_BATCH, size, size, cin)), tf.Variable(normal((3, 3, cin, cout)))

        def forward(x):
            if impl == "matmul_xla":
                return conv2d_as_matmul(x, w, "same")
            if impl == "matmul_filter_gradient":
                return conv2d_matmul_filter_gradient(x, w, "same")
            return tf.nn.conv2d(x, w, stride, "SAME")

    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(tf.cast(forward(x), "float32") ** 2)
        return tape.gradient(loss, [x, w])

    return tf.function(step, jit_compile="xla" in impl), (x,)


def _matmul(dtype: str, size: int) -> tuple[Callable, tuple]:
    import tensorflow as tf

    a = tf.cast(tf.random.stateless_normal((size, size), (0, 1)), dtype)
    return tf.function(lambda a: tf.matmul(a, a)), (a,)


def _optimizer_update(impl: str) -> tuple[Callable, tuple]:
    """Keras's Adam updating `OPTIMIZER_SHAPES` weights, computed by `impl`, and its arguments."""
    import keras
    import tensorflow as tf

    from keras_rt.distribute.fused_adam import fused_adam_update

    rng = tf.random.Generator.from_seed(1)
    weights = [
        keras.Variable(rng.normal(shape) * 0.1, dtype="float32") for shape in OPTIMIZER_SHAPES
    ]
    grads = [rng.normal(shape) * 0.01 for shape in OPTIMIZER_SHAPES]
    optimizer = keras.optimizers.Adam(1e-3)
    optimizer.build(weights)

    def update(grads):
        if impl == "fused":
            with fused_adam_update(optimizer):
                optimizer.apply(grads, weights)
        else:
            optimizer.apply(grads, weights)
        return tf.identity(optimizer.iterations.value)

    return tf.function(update, jit_compile=impl == "xla"), (grads,)


def _likelihood_step(impl: str) -> tuple[Callable, tuple]:
    """The zoo's Bernoulli log-likelihood of `PROBE_BATCH` images and its gradient."""
    import tensorflow as tf

    from keras_rt.likelihoods import get_likelihood

    log_prob = get_likelihood("bernoulli").log_prob
    if impl == "xla":
        log_prob = tf.function(log_prob, jit_compile=True)
    rng = tf.random.Generator.from_seed(2)
    x = tf.cast(rng.uniform((PROBE_BATCH, 28, 28, 1)) < 0.5, "float32")
    logits = rng.normal((PROBE_BATCH, 28, 28, 1))

    def step(x, logits):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            loss = -tf.reduce_mean(log_prob(x, logits))
        return tape.gradient(loss, logits)

    return tf.function(step), (x, logits)


def _first_call_s(fn: Callable, args: tuple) -> float:
    """Seconds of the first call (tracing, compiling and one run), the result fetched."""
    start = time.perf_counter()
    _fetch(fn(*args))
    return time.perf_counter() - start


def _time_ms(fn: Callable, args: tuple, budget_s: float) -> float:
    """Milliseconds per call of a function called before: calls for about `budget_s`, the
    result fetched each time."""
    start = time.perf_counter()
    calls = 0
    while True:
        _fetch(fn(*args))
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= budget_s or calls >= 200:
            return 1000 * elapsed / calls


def _fetch(result: Any) -> None:
    import tensorflow as tf

    for tensor in tf.nest.flatten(result):
        tensor.numpy()
        break


class _HideRetracingWarning(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warning. The probe's step functions
    are closures of one function, which TensorFlow counts as one: each is traced once, on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "tf.function retracing" not in record.getMessage()


def measure(facts: MachineFacts, *, repeats: int = 3, budget_s: float = 0.05) -> dict[str, Any]:
    """Times every (kind, dtype, implementation) and the matmul peak per dtype (see the module).

    Args:
        facts: this machine (`detect_machine()`).
        repeats: interleaved repeats; the fastest is kept.
        budget_s: seconds per timed repeat.

    Returns:
        `{"step_ms": {kind: {dtype: {"native": ms, "xla": ms, ...}}},
        "optimizer_update_ms": {"xla": ms, "fused": ms}, "likelihood_ms":
        {"native": ms, "xla": ms}, "matmul_gflops":
        {dtype: GFLOP/s}, "xla_compile_s": {kind: seconds (float32)},
        "probe_batch", "probe_macs", "seconds": probe time}`; a combination
        that fails to run (a dtype a device lacks) is left out.
    """
    import tensorflow as tf

    hide = _HideRetracingWarning()
    tf.get_logger().addFilter(hide)
    try:
        return _measure(facts, repeats, budget_s)
    finally:
        tf.get_logger().removeFilter(hide)


def _measure(facts: MachineFacts, repeats: int, budget_s: float) -> dict[str, Any]:
    start = time.perf_counter()
    step_ms: dict[str, dict[str, dict[str, float]]] = {}
    matmul: dict[str, float] = {}
    compile_s: dict[str, float] = {}
    dtypes = []
    for dtype in probe_dtypes(facts):
        try:
            for size in PEAK_SIZES:
                fn, args = _matmul(dtype, size)
                _first_call_s(fn, args)
                ms = min(_time_ms(fn, args, budget_s) for _ in range(repeats))
                gflops = round(2 * size**3 / (ms / 1000) / 1e9, 1)
                matmul[dtype] = max(matmul.get(dtype, 0.0), gflops)
        except Exception:  # noqa: BLE001 - a dtype this device cannot multiply is left out
            continue
        dtypes.append(dtype)
    for kind in KINDS:
        # Every dtype and implementation of a kind is timed in the same repeats, so that a slow
        # spell of a shared machine does not tilt the plan's dtype or XLA choice.
        steps: dict[tuple[str, str], tuple[Callable, tuple]] = {}
        first: dict[tuple[str, str], float] = {}
        for dtype in dtypes:
            impls = IMPLEMENTATIONS + EXTRA_IMPLEMENTATIONS.get(kind, ())
            try:
                built = {(dtype, impl): _step(kind, dtype, impl) for impl in impls}
                first |= {key: _first_call_s(fn, args) for key, (fn, args) in built.items()}
            except Exception:  # noqa: BLE001 - e.g. no XLA kernel for this dtype here
                continue
            steps |= built
        best = dict.fromkeys(steps, float("inf"))
        failed: set[str] = set()
        for _ in range(repeats):
            for key, (fn, args) in steps.items():
                if key[0] in failed:
                    continue
                try:
                    best[key] = min(best[key], _time_ms(fn, args, budget_s))
                except Exception:  # noqa: BLE001 - the dtype is left out, as above
                    failed.add(key[0])
        for (dtype, impl), ms in best.items():
            if dtype not in failed:
                step_ms.setdefault(kind, {}).setdefault(dtype, {})[impl] = round(ms, 3)
        if ("float32", "xla") in first and "float32" not in failed:
            xla_s = first[("float32", "xla")] - best[("float32", "xla")] / 1000
            compile_s[kind] = round(max(0.0, xla_s), 3)
    return {
        "step_ms": step_ms,
        "optimizer_update_ms": _time_interleaved(
            _optimizer_update, OPTIMIZER_IMPLEMENTATIONS, repeats, budget_s
        ),
        "likelihood_ms": _time_interleaved(
            _likelihood_step, LIKELIHOOD_IMPLEMENTATIONS, repeats, budget_s
        ),
        "matmul_gflops": matmul,
        "xla_compile_s": compile_s,
        "probe_batch": PROBE_BATCH,
        "probe_macs": PROBE_MACS,
        "seconds": round(time.perf_counter() - start, 1),
    }


def _time_interleaved(build: Callable, impls: tuple, repeats: int, budget_s: float) -> dict:
    """`{impl: ms}` of `build(impl)`: the median call over `4 * repeats` interleaved rounds of
    calls for about `budget_s / 4` each (these pieces take about a millisecond, and on a
    shared machine one slow spell moved a fastest-of-three mean by 30%); an implementation
    that fails to run here is left out."""
    import statistics

    built = {}
    for impl in impls:
        try:
            fn, args = build(impl)
            _first_call_s(fn, args)
        except Exception:  # noqa: BLE001 - e.g. no XLA here
            continue
        built[impl] = (fn, args)
    calls: dict[str, list[float]] = {impl: [] for impl in built}
    for _ in range(4 * repeats):
        for impl, (fn, args) in built.items():
            if impl not in calls:
                continue
            start, timed = time.perf_counter(), 0
            try:
                while True:
                    calls[impl].append(_time_ms(fn, args, 0.0))  # one call
                    timed += 1
                    if time.perf_counter() - start >= budget_s / 4 or timed >= 100:
                        break
            except Exception:  # noqa: BLE001 - left out, as above
                del calls[impl]
    return {impl: round(statistics.median(ms), 3) for impl, ms in calls.items()}


def load_or_probe(
    *,
    directory: str | None = None,
    refresh: bool = False,
    notify: Callable[[str], None] | None = print,
) -> dict[str, Any]:
    """This machine's probe result: from the cache, else measured now and cached.

    Args:
        directory: cache folder (default `cache_dir()`).
        refresh: measure again even if cached.
        notify: called with a one-line notice when the machine is measured
            (None: quiet).

    Returns:
        `{"version", "machine": MachineFacts.to_dict(), "step_ms",
        "optimizer_update_ms", "likelihood_ms", "matmul_gflops", "seconds",
        "cache": path or None}` (see `measure`).

    Example:

    >>> probe = load_or_probe(notify=None)  # doctest: +SKIP
    >>> probe["matmul_gflops"]["float32"]  # doctest: +SKIP
    91.1
    """
    facts = detect_machine()
    directory = directory or cache_dir()
    path = os.path.join(directory, f"machine-{facts.key()}.json")
    if not refresh and path in _MEMO:
        return _MEMO[path]
    cached = None if refresh else _read(path)
    if cached is not None:
        _MEMO[path] = cached
        return cached
    if notify:
        notify(f"Measuring this machine once: {facts.describe()} ...")
    result = {"version": PROBE_VERSION, "machine": facts.to_dict(), **measure(facts)}
    try:
        write_json(path, result)
        result["cache"] = path
    except OSError as error:
        result["cache"] = None
        if notify:
            notify(f"Could not cache the measurement in {directory} ({error.strerror}).")
    if notify:
        notify(
            f"Measured in {result['seconds']:.1f} s"
            + (f"; cached in {path}" if result["cache"] else "")
        )
    _MEMO[path] = result
    return result


def _read(path: str) -> dict | None:
    """A cached probe result, or None if missing, unreadable or of another version."""
    value = read_json(path)
    if not isinstance(value, dict) or value.get("version") != PROBE_VERSION:
        return None
    step_ms = value.get("step_ms")
    if not isinstance(step_ms, dict) or not isinstance(value.get("matmul_gflops"), dict):
        return None
    if not all(
        isinstance(step_ms.get(kind), dict) and "float32" in step_ms[kind] for kind in KINDS
    ):
        return None
    return {**value, "cache": path}


__all__ = [
    "EXTRA_IMPLEMENTATIONS",
    "IMPLEMENTATIONS",
    "KINDS",
    "LIKELIHOOD_IMPLEMENTATIONS",
    "OPTIMIZER_IMPLEMENTATIONS",
    "OPTIMIZER_SHAPES",
    "PROBE_BATCH",
    "PROBE_MACS",
    "cache_dir",
    "load_or_probe",
    "measure",
    "probe_dtypes",
]
