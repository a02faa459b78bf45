"""scripts/serve.py and `keras-rt serve`: flags, user errors, and the real server process."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from keras_rt.cli import main as keras_rt_main
from keras_rt.cli import serve as serve_cli
from tests.serving.client import call, predict
from tests.serving.conftest import INPUT_DIM

ROOT = Path(__file__).resolve().parents[2]


def test_help_lists_the_flags(capsys):
    with pytest.raises(SystemExit) as exit_info:
        keras_rt_main.main(["serve", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for flag in (
        "--model-base-path",
        "--model",
        "--host",
        "--port",
        "--poll-seconds",
        "--batching",
        "--read-timeout-seconds",
        "--max-concurrent-requests",
        "--allow-file-ops",
    ):
        assert flag in out
    assert "DANGEROUS" in out


def test_security_flags_reach_the_store_and_the_server(exported, monkeypatch):
    import keras_rt.serving

    seen = {}
    monkeypatch.setattr(
        keras_rt.serving, "serve", lambda store, **kwargs: seen.update(store=store, **kwargs)
    )
    base = ["--model-base-path", str(exported)]
    assert serve_cli.main(base) == 0
    assert seen["store"].allow_file_ops is False
    assert seen["read_timeout"] == 30.0 and seen["max_concurrent_requests"] == 64
    argv = base + ["--allow-file-ops", "--read-timeout-seconds", "2.5"]
    assert serve_cli.main(argv + ["--max-concurrent-requests", "3"]) == 0
    assert seen["store"].allow_file_ops is True
    assert seen["read_timeout"] == 2.5 and seen["max_concurrent_requests"] == 3


def test_running_as_root_logs_a_warning(exported, monkeypatch, caplog):
    from keras_rt.serving import ModelStore, server

    class Idle:
        def run(self, sockets):
            pass

    monkeypatch.setattr(server, "_uvicorn_server", lambda *args, **kwargs: Idle())
    for euid, warned in ((0, True), (1000, False)):
        caplog.clear()
        monkeypatch.setattr(server.os, "geteuid", lambda euid=euid: euid, raising=False)
        server.serve(ModelStore(str(exported), poll_seconds=0), port=0)
        assert ("Running as root" in caplog.text) is warned


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--model", "mlp_vae"], ["NAME=PATH"]),
        (["--model", "=x"], ["NAME=PATH"]),
        (["--model-base-path", "/nonexistent/saved_models"], ["not found"]),
        (["--model", "../x={base}/mlp_vae"], ["Model names"]),
        (["--model", "m={base}/mlp_vae/1"], ["version folder"]),
        (["--model-base-path", "{base}", "--port", "70000"], ["--port"]),
        (["--model-base-path", "{base}", "--num-versions", "0"], ["num_versions"]),
        (["--model-base-path", "{base}", "--read-timeout-seconds", "0"], ["--read-timeout"]),
        (["--model-base-path", "{base}", "--max-concurrent-requests", "0"], ["--max-concurrent"]),
    ],
)
def test_user_errors_are_one_line_and_exit_2(exported, capsys, argv, words):
    argv = [a.replace("{base}", str(exported)) for a in argv]
    assert serve_cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("serve.py: error:") and len(err.splitlines()) == 1, err
    for word in words:
        assert word in err


def test_a_busy_port_is_a_user_error(exported, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert serve_cli.main(["--model-base-path", str(exported), "--port", str(port)]) == 2
    assert "Cannot listen" in capsys.readouterr().err


def test_script_serves_a_named_model_until_terminated(exported):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "scripts" / "serve.py"),
            "--model",
            f"vae={exported / 'mlp_vae'}",
            "--port",
            str(port),
            "--grpc-port",
            "0",
            "--batching",
            "--log-level",
            "info",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read().decode()
            try:
                if call(url, "GET", "/v1/models/vae", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.2)
        code, body = predict(
            url, "vae", {"signature_name": "encode", "instances": [[0.5] * INPUT_DIM]}
        )
        assert code == 200 and set(body["predictions"][0]) == {"z_mean", "z_log_var"}
        assert predict(url, "mlp_vae", {"instances": [[0.5] * INPUT_DIM]})[0] == 404
    finally:
        process.send_signal(signal.SIGTERM)
        out = process.communicate(timeout=30)[0].decode()
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert process.returncode in (0, -signal.SIGTERM), out
    assert "version 1 loaded" in out and "Application shutdown complete" in out
