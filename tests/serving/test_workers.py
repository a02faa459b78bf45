"""`serve.py --workers 2 --model-config-file ... --metrics`: two processes behind one REST and one
gRPC port, stopped cleanly by SIGTERM; and the config file's startup errors."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from keras_rt.cli import serve as serve_cli
from tests.serving.client import call
from tests.serving.conftest import INPUT_DIM

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(path, base_path, label_version=1):
    path.write_text(
        f'model_config_list {{ config {{ name: "mlp_vae" base_path: "{base_path}" '
        f'model_platform: "tensorflow" version_labels {{ key: "stable" value: {label_version} }} }} }}'
    )
    return path


def test_a_malformed_config_file_is_a_one_line_startup_error(tmp_path, capsys):
    path = tmp_path / "models.config"
    path.write_text("model_config_list { config { name: 'mlp_vae' base_path: ")
    assert serve_cli.main(["--model-config-file", str(path), "--grpc-port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("serve.py: error:") and len(err.splitlines()) == 1, err
    assert "not a valid model config" in err
    assert serve_cli.main(["--model-config-file", str(tmp_path / "none.config")]) == 2
    assert "not found" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--grpc-port", "70000"], "--grpc-port"),
        (["--workers", "0"], "--workers"),
        (["--workers", "2", "--port", "0"], "fixed --port"),
        (["--model-config-file-poll-seconds", "-1"], "poll-seconds"),
        (["--model-config-file", "x.config"], "not both"),
    ],
)
def test_new_flag_errors(exported, capsys, argv, words):
    assert serve_cli.main(["--model-base-path", str(exported), *argv]) == 2
    assert words in capsys.readouterr().err


def test_a_busy_grpc_port_is_a_user_error(exported, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        argv = ["--model-base-path", str(exported), "--port", "0", "--grpc-port", str(port)]
        assert serve_cli.main(argv) == 2
    assert "Cannot listen for gRPC" in capsys.readouterr().err


def test_two_workers_answer_rest_and_grpc_and_stop_on_sigterm(exported, tmp_path):
    config = write_config(tmp_path / "models.config", exported / "mlp_vae")
    port, grpc_port = free_port(), free_port()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "scripts" / "serve.py"),
            "--model-config-file",
            str(config),
            "--port",
            str(port),
            "--grpc-port",
            str(grpc_port),
            "--workers",
            "2",
            "--metrics",
            "--access-log",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(line.decode() for line in process.stdout), daemon=True
    )
    reader.start()
    try:
        deadline = time.monotonic() + 90
        # Both workers serving (each logs it once its model is loaded): a loaded machine can
        # start the second one seconds after the first, and the kernel then sends it nothing.
        while len(set(re.findall(r"\[worker (\d+)\]: Serving mlp_vae", "".join(lines)))) < 2:
            assert process.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "server did not come up:\n" + "".join(lines)
            time.sleep(0.2)
        x = np.random.RandomState(0).rand(2, INPUT_DIM).astype(np.float32)
        for _ in range(24):  # a new connection each time: the kernel spreads them
            status, _ = call(url, "POST", "/v1/models/mlp_vae/labels/stable:predict",
                             {"instances": x.tolist()}, timeout=30)  # fmt: skip
            assert status == 200
        for _ in range(4):
            with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
                request = predict_pb2.PredictRequest()
                request.model_spec.name = "mlp_vae"
                request.model_spec.version_label = "stable"
                request.inputs["x"].CopyFrom(tf.make_tensor_proto(x))
                stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
                out = stub.Predict(request, timeout=30, wait_for_ready=True)
                assert len(out.outputs) >= 1
        assert call(url, "GET", "/monitoring/prometheus/metrics")[0] == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        reader.join(timeout=10)
    out = "".join(lines)
    assert process.returncode == 0, out
    pids = set(
        re.findall(
            r"\[worker (\d+)\]: .*POST /v1/models/mlp_vae/labels/stable(?::|%3A)predict", out
        )
    )
    assert len(pids) == 2, out
    assert "Workers stopped" in out
