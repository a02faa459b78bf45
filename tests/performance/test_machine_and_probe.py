"""Machine facts from /proc/cpuinfo text, the probe's cache, and the op counts."""

import json
import os

import keras
import numpy as np
import pytest

from keras_rt.performance import flops, machine, probe
from keras_rt.performance.machine import MachineFacts

CPUINFO_AMX = """processor : 0
model name : Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
flags : fpu avx2 fma avx512f avx512_bf16 amx_bf16 amx_tile sse2
processor : 1
model name : Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
"""


def test_cpuinfo_parsing_and_description():
    name, flags = machine.parse_cpuinfo(CPUINFO_AMX)
    assert name.startswith("Intel(R) Xeon(R) Platinum 8481C")
    assert flags == ("amx_bf16", "amx_tile", "avx2", "avx512_bf16", "avx512f", "fma")
    facts = MachineFacts(name, 2, flags)
    assert facts.has_bfloat16_units and "amx_bf16" in facts.describe()
    epyc = MachineFacts("AMD EPYC", 2, ("avx2", "fma"))
    assert not epyc.has_bfloat16_units and epyc.describe() == "AMD EPYC (2 cores; avx2, no AMX)"
    assert (
        epyc.key() != facts.key()
        and epyc.key() == MachineFacts("AMD EPYC", 2, ("avx2", "fma")).key()
    )
    assert machine.parse_cpuinfo("") == (None, ())


@pytest.fixture
def fake_machine(monkeypatch, tmp_path):
    """A fake machine whose measurement is instant and counted."""
    calls = []
    facts = MachineFacts("Test CPU", 2, ("avx2",), (), "2.x")
    monkeypatch.setattr(probe, "detect_machine", lambda: facts)

    def measure(facts):
        calls.append(facts)
        return {
            "step_ms": {k: {"float32": {"native": 1.0, "xla": 1.0}} for k in probe.KINDS},
            "matmul_gflops": {"float32": 10.0},
            "seconds": 0.0,
        }

    monkeypatch.setattr(probe, "measure", measure)
    monkeypatch.setattr(probe, "_MEMO", {})
    return facts, calls, tmp_path / "cache"


def test_probe_is_measured_once_per_machine_and_cached(fake_machine, monkeypatch):
    facts, calls, directory = fake_machine
    lines = []
    first = probe.load_or_probe(directory=str(directory), notify=lines.append)
    assert len(calls) == 1 and first["cache"].endswith(f"machine-{facts.key()}.json")
    assert "Test CPU" in lines[0] and "cached in" in lines[-1]
    monkeypatch.setattr(probe, "_MEMO", {})  # a new process
    again = probe.load_or_probe(directory=str(directory), notify=lines.append)
    assert len(calls) == 1 and again["matmul_gflops"] == {"float32": 10.0}
    assert [f for f in os.listdir(directory) if ".tmp" in f] == []


@pytest.mark.parametrize("content", ["{truncated", '{"version": 1}', '{"version": 2}', "[]", ""])
def test_an_unreadable_or_old_cache_entry_is_measured_again(fake_machine, content):
    facts, calls, directory = fake_machine
    directory.mkdir()
    (directory / f"machine-{facts.key()}.json").write_text(content)
    result = probe.load_or_probe(directory=str(directory), notify=None)
    assert len(calls) == 1 and result["version"] == probe.PROBE_VERSION
    assert (
        json.loads((directory / f"machine-{facts.key()}.json").read_text())["version"]
        == probe.PROBE_VERSION
    )


def test_an_unwritable_cache_still_gives_a_result(fake_machine, tmp_path):
    _, calls, _ = fake_machine
    blocker = tmp_path / "file"
    blocker.write_text("")
    lines = []
    result = probe.load_or_probe(directory=str(blocker / "sub"), notify=lines.append)
    assert result["cache"] is None and len(calls) == 1
    assert any("Could not cache" in line for line in lines)


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_RT_CACHE_DIR", str(tmp_path))
    assert probe.cache_dir() == str(tmp_path)
    monkeypatch.delenv("KERAS_RT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert probe.cache_dir() == str(tmp_path / "xdg" / "keras_rt")


def test_a_real_probe_measures_every_kind(caplog, capfd):
    result = probe.measure(machine.detect_machine(), repeats=1, budget_s=0.0)
    # Each step function is traced once, on purpose: TensorFlow's retracing warning is not shown.
    assert "retracing" not in caplog.text + capfd.readouterr().err
    assert set(result["step_ms"]) == set(probe.KINDS)
    for kind in probe.KINDS:
        assert result["step_ms"][kind]["float32"]["native"] > 0
        assert result["step_ms"][kind]["float32"]["xla"] > 0
    assert result["matmul_gflops"]["float32"] > 0
    assert set(result["xla_compile_s"]) == set(probe.KINDS)
    assert all(seconds > 0 for seconds in result["xla_compile_s"].values())
    assert result["probe_batch"] == probe.PROBE_BATCH
    for way in probe.EXTRA_IMPLEMENTATIONS["narrow_conv"]:
        assert result["step_ms"]["narrow_conv"]["float32"][way] > 0, way
    assert set(result["optimizer_update_ms"]) == set(probe.OPTIMIZER_IMPLEMENTATIONS)
    assert all(ms > 0 for ms in result["optimizer_update_ms"].values())
    assert set(result["likelihood_ms"]) == set(probe.LIKELIHOOD_IMPLEMENTATIONS)
    assert all(ms > 0 for ms in result["likelihood_ms"].values())


def test_the_peak_is_the_fastest_matrix_product_size(monkeypatch):
    """One size can run far below the CPU's peak (a 1024^3 float32 product ran at 200-400
    GFLOP/s on an AMD EPYC whose 2048^3 ran at 450): the peak is the best over the sizes."""
    gflops_by_size = {1024: 200.0, 2048: 450.0}

    def fake_time_ms(fn, args, budget_s):
        size = args[0].shape[0] if hasattr(args[0], "shape") else None  # not the optimizer's
        if size in gflops_by_size:  # a peak product: the ms that give the size's GFLOP/s
            return 2 * size**3 / (gflops_by_size[size] * 1e9) * 1000
        return 1.0

    monkeypatch.setattr(probe, "_first_call_s", lambda fn, args: 0.0)
    monkeypatch.setattr(probe, "_time_ms", fake_time_ms)
    assert set(gflops_by_size) == set(probe.PEAK_SIZES)
    result = probe.measure(machine.detect_machine(), repeats=1, budget_s=0.0)
    assert result["matmul_gflops"]["float32"] == 450.0


def test_a_kinds_dtypes_are_timed_in_the_same_repeats_and_a_failing_one_is_left_out(monkeypatch):
    timed = []

    def fake_step(kind, dtype, impl):
        if kind == "conv" and dtype == "bfloat16" and impl == "xla":
            raise RuntimeError("no XLA kernel for this dtype")
        return (kind, dtype, impl), ()

    def fake_time_ms(fn, args, budget_s):
        timed.append(fn)
        return 2.0 if fn[1] == "bfloat16" else 1.0

    monkeypatch.setattr(probe, "_matmul", lambda dtype, size: (("matmul", dtype, size), ()))
    monkeypatch.setattr(probe, "_step", fake_step)
    monkeypatch.setattr(probe, "_optimizer_update", lambda impl: (("adam", "float32", impl), ()))
    monkeypatch.setattr(
        probe, "_likelihood_step", lambda impl: (("likelihood", "float32", impl), ())
    )
    monkeypatch.setattr(probe, "_first_call_s", lambda fn, args: 0.5)
    monkeypatch.setattr(probe, "_time_ms", fake_time_ms)
    result = probe.measure(machine.detect_machine(), repeats=2, budget_s=0.0)
    assert result["step_ms"]["dense"] == {
        "float32": {"native": 1.0, "xla": 1.0},
        "bfloat16": {"native": 2.0, "xla": 2.0},
    }
    assert set(result["step_ms"]["conv"]) == {"float32"}
    assert result["xla_compile_s"]["dense"] == 0.499  # the first call less a steady one
    dense = [fn for fn in timed if fn[0] == "dense"]
    assert [fn[1] for fn in dense] == ["float32", "float32", "bfloat16", "bfloat16"] * 2
    # The optimizer's updates and the likelihoods are interleaved too, 4 rounds per repeat.
    assert [fn[2] for fn in timed if fn[0] == "adam"] == ["xla", "fused"] * 8
    assert result["optimizer_update_ms"] == {"xla": 1.0, "fused": 1.0}
    assert [fn[2] for fn in timed if fn[0] == "likelihood"] == ["native", "xla"] * 8


def test_a_conv_model_on_a_new_machine_decides_at_compile_not_while_tracing(fake_machine):
    """`compile` asks the probe (eagerly); the traced step only uses the answer."""
    from keras_rt.zoo import ConvVAE

    facts, calls, directory = fake_machine
    os.environ["KERAS_RT_CACHE_DIR"] = str(directory)
    try:
        model = ConvVAE(input_shape=(8, 8, 1), latent_dim=2, filters=(8, 8), hidden_units=8)
        model.compile()
        assert len(calls) == 1 and os.listdir(directory)
        assert [layer.name for layer in model._xla_convolutions] == []  # XLA not faster here
        history = model.fit(np.zeros((8, 8, 8, 1), "float32"), epochs=1, batch_size=4, verbose=0)
        assert np.isfinite(history.history["loss"][0]) and len(calls) == 1
    finally:
        del os.environ["KERAS_RT_CACHE_DIR"]


def test_multiply_adds_of_zoo_networks():
    from keras_rt.zoo import MLPVAE, ConvVAE

    mlp = MLPVAE(input_shape=(784,), latent_dim=16, hidden_units=(512, 256))
    # 784*512 + 512*256 + 256*(2*16) in the encoder, the mirror (16*256 + ...) in the decoder.
    expected = 784 * 512 + 512 * 256 + 256 * 32 + 16 * 256 + 256 * 512 + 512 * 784
    assert flops.macs_by_kind(mlp) == {"dense": expected}
    assert flops.training_flops_per_example(mlp) == 6 * expected
    conv = ConvVAE(input_shape=(28, 28, 1), latent_dim=16, filters=(32, 64), hidden_units=256)
    macs = flops.macs_by_kind(conv)
    assert macs["narrow_conv"] == 28 * 28 * 9 * 32  # the 32 -> 1 output convolution
    assert macs["transposed_conv"] == 7 * 7 * 9 * 64 * 64 + 14 * 14 * 9 * 64 * 32
    assert macs["conv"] == 14 * 14 * 9 * 1 * 32 + 7 * 7 * 9 * 32 * 64
    assert flops.op_kind(keras.layers.ReLU()) is None


def test_a_small_piece_that_fails_while_timed_is_left_out(monkeypatch):
    """The optimizer's and the likelihood's timings: an implementation that fails after its
    first call is dropped, the others are kept, and the probe goes on."""

    def fake_time_ms(fn, args, budget_s):
        if fn == "broken":
            raise RuntimeError("kernel gone")
        return {"good": 1.0, "slow": 3.0}[fn]

    monkeypatch.setattr(probe, "_first_call_s", lambda fn, args: 0.0)
    monkeypatch.setattr(probe, "_time_ms", fake_time_ms)
    result = probe._time_interleaved(
        lambda impl: (impl, ()), ("good", "broken", "slow"), repeats=2, budget_s=0.0
    )
    assert result == {"good": 1.0, "slow": 3.0}
