import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from keras_rt.distribute import make_strategy, parse_tf_config, set_mixed_precision, worker_info
from keras_rt.training import TrainConfig, train

QUICK = dict(
    epochs=2,
    max_examples=128,
    batch_size=32,
    iwae_samples=0,
    plots=False,
    tensorboard=False,
    export_dir=None,
    verbose=0,
    seed=0,
)


@pytest.mark.parametrize(
    "text,match",
    [
        ("", "needs the TF_CONFIG"),
        ("{not json", "not valid JSON"),
        ('{"task": {"type": "worker", "index": 0}}', "cluster"),
        (
            '{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}',
            "host:port",
        ),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker"}}', "'type' and 'index'"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "not a job"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}', r"\[0, 1\)"),
    ],
)
def test_malformed_tf_config(text, match):
    with pytest.raises(ValueError, match=match):
        parse_tf_config(text)


def test_worker_info_and_chief(monkeypatch):
    cluster = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    monkeypatch.setenv(
        "TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}})
    )
    info = worker_info("multi_worker")
    assert (info.num_workers, info.is_chief) == (2, False)
    monkeypatch.setenv(
        "TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}})
    )
    assert worker_info("multi_worker").is_chief
    assert worker_info("default").is_chief


def test_strategy_errors(monkeypatch):
    with pytest.raises(ValueError, match="Unknown strategy"):
        make_strategy("tpu_pod")
    monkeypatch.setenv(
        "TF_CONFIG", '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 0}}'
    )
    with pytest.raises(ValueError, match="uses one machine"):
        make_strategy("mirrored")
    monkeypatch.delenv("TF_CONFIG")
    with pytest.raises(ValueError, match="needs the TF_CONFIG"):
        make_strategy("multi_worker")
    with pytest.raises(ValueError, match="mixed precision"):
        set_mixed_precision("fp8")


def test_mirrored_strategy_trains_and_exports(tmp_path):
    result = train(
        TrainConfig(
            strategy="mirrored",
            output_dir=str(tmp_path / "run"),
            **{**QUICK, "export_dir": str(tmp_path / "sm")},
        )
    )
    assert np.isfinite(result.metrics["test"]["neg_elbo"])
    assert result.metrics["training"]["replicas"] >= 1
    assert (tmp_path / "sm" / "mlp_vae" / "1" / "saved_model.pb").is_file()
    # The measured plan (mixed precision and XLA "auto") and its machine are recorded with the run.
    performance = json.loads((tmp_path / "run" / "config.json").read_text())["performance"]
    assert performance["machine"]["cores"] >= 1 and performance["machine"]["description"]
    plan = performance["plan"]
    assert plan["mixed_precision"] in ("off", "mixed_bfloat16", "mixed_float16")
    assert plan["reasons"] and plan["estimates_us"]
    policy = {"off": "float32"}.get(plan["mixed_precision"], plan["mixed_precision"])
    assert result.metrics["training"]["mixed_precision"] == policy


def test_mixed_bfloat16_is_close_to_float32(tmp_path):
    """Same seed, same data: the bfloat16 run's losses are finite and near the float32 run's."""
    runs = {}
    for mode in ("off", "mixed_bfloat16"):
        # Whole-step XLA off: it compiles for seconds per run, and the test is about precision.
        runs[mode] = train(
            TrainConfig(
                mixed_precision=mode, jit_compile="off", output_dir=str(tmp_path / mode), **QUICK
            )
        )
    import keras

    assert keras.mixed_precision.global_policy().name == "float32"  # restored after the run
    for mode, result in runs.items():
        assert all(np.isfinite(result.history["loss"])), mode
        policy = {"off": "float32"}.get(mode, mode)
        assert result.metrics["training"]["mixed_precision"] == policy  # forced: kept
    a = runs["off"].metrics["test"]["neg_elbo"]
    b = runs["mixed_bfloat16"].metrics["test"]["neg_elbo"]
    assert abs(a - b) / a < 0.05, (a, b)


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_on_loopback(tmp_path):
    """MultiWorkerMirroredStrategy with two processes: both finish, the chief exports."""
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    script = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "train.py")
    procs = []
    for index in range(2):
        env = dict(
            os.environ,
            TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
            TF_CPP_MIN_LOG_LEVEL="3",
        )
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    script,
                    "--strategy",
                    "multi_worker",
                    "--epochs",
                    "1",
                    "--max-examples",
                    "128",
                    "--batch-size",
                    "32",
                    "--iwae-samples",
                    "10",
                    "--no-plots",
                    "--no-tensorboard",
                    "--verbose",
                    "2",
                    "--output-dir",
                    str(tmp_path / f"run{index}"),
                    "--export-dir",
                    str(tmp_path / f"sm{index}"),
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    outputs = []
    try:
        for proc in procs:
            outputs.append(proc.communicate(timeout=300)[0])
    finally:
        for proc in procs:
            proc.kill()
    assert [p.returncode for p in procs] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    assert "2 replicas over 2 worker(s)" in outputs[0]
    assert (tmp_path / "sm0" / "mlp_vae" / "1" / "saved_model.pb").is_file()
    assert not (tmp_path / "sm1").exists()  # only the chief exports
    import tensorflow as tf

    loaded = tf.saved_model.load(str(tmp_path / "sm0" / "mlp_vae" / "1"))
    out = loaded.signatures["serving_default"](x=tf.zeros((2, 64)))["reconstruction"]
    assert out.shape == (2, 64)
