"""Shared pytest set-up: TensorFlow backend, quiet logs, fixed global seeds."""

import gc
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# `train` times a long run's step before it starts (`keras_rt.performance.step_timing`): the
# suite's runs use the estimate alone (inherited by its subprocesses); tests of it turn it on.
os.environ["KERAS_RT_STEP_TIMING"] = "off"

import keras  # noqa: E402
import pytest  # noqa: E402


def pytest_configure(config):
    """Measures this machine once, before any test runs (`keras_rt.performance.probe`).

    Runs in the only process, or in the controller of an xdist run before its
    workers start, so that the many `train` runs of the suite (in-process
    and in subprocesses) read the cached result instead of each measuring the
    machine again, and none prints the one-time notice.
    """
    if not hasattr(config, "workerinput"):
        from keras_rt.performance import load_or_probe

        load_or_probe(notify=None)
    _quick_xla_compiles()


def _quick_xla_compiles():
    """XLA compiles the tests' steps with LLVM's optimizations off (`XLA_FLAGS`), from now on.

    The tests' models are tiny and run a few steps: compiling is nearly all the cost of an
    XLA step (a third less at -O0, e.g. 16 -> 10 CPU-seconds for the conv VAE's training and
    test steps), and what is tested (XLA compiles the step, the results match) does not
    depend on LLVM's optimization level. Set after the probe above, which must time XLA as
    a real run compiles it (it is cached per machine and used outside the tests too), and
    before this process compiles anything (XLA reads the flags at its first compilation);
    the xdist workers and the tests' subprocesses inherit it.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_backend_optimization_level" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} --xla_backend_optimization_level=0".strip()


def pytest_collection_finish(session):
    """Moves what is alive after collection (TensorFlow, Keras, the test items) out of the
    garbage collector's sight (`gc.freeze`).

    Those objects live until the process ends, yet every full collection walked them all
    again: over a million after TensorFlow's import, half a second per collection, and
    KerasTuner and `keras.backend.clear_session()` collect on every model they build (a
    quarter of the tuning tests' CPU time). Objects made later are collected as before.
    """
    gc.collect()
    gc.freeze()
    # And collect the young objects less often: tracing a Keras step makes hundreds of thousands
    # (about 5% of the zoo and tuning tests' CPU time went to collections at the defaults).
    gc.set_threshold(100_000, 50, 1000)


def pytest_collection_modifyitems(items):
    """Runs the tests marked `slow` first, the rest in their usual order.

    CI runs the suite on two pytest-xdist workers: a test of a minute started last would leave the
    other worker idle for that minute.
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _seed_and_policy():
    """Each test starts from the same global seed and the float32 policy."""
    keras.utils.set_random_seed(0)
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.fixture
def mixed_bfloat16():
    """Runs a test under the `mixed_bfloat16` policy."""
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_global_policy("float32")


def fake_probe(flags, dense_ms, compile_s=None):
    """A probe result of a machine with `flags` whose Dense step takes `dense_ms[dtype] =
    (native, xla)` ms (and XLA `compile_s` seconds to compile it, if given)."""
    return {
        "machine": {"cpu_flags": list(flags), "gpus": [], "description": "fake CPU", "cores": 2},
        "step_ms": {"dense": {d: {"native": t[0], "xla": t[1]} for d, t in dense_ms.items()}},
        "matmul_gflops": {"float32": 1.0},
        "cache": None,
    } | ({"xla_compile_s": {"dense": compile_s}} if compile_s is not None else {})


@pytest.fixture
def faked_machine(monkeypatch):
    """`faked_machine(flags, dense_ms, compile_s=None)`: `load_or_probe` returns `fake_probe(...)`."""
    from keras_rt.performance import probe as probe_module

    def use(flags, dense_ms, compile_s=None):
        probe = fake_probe(flags, dense_ms, compile_s)
        monkeypatch.setattr(probe_module, "load_or_probe", lambda **_: probe)

    return use
