"""KerasTuner's chief/worker mode on 127.0.0.1: a chief and two workers as processes."""

import json
import os
import socket
import subprocess
import sys

import pytest

from .conftest import QUICK_FLAGS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT_S = 150


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_chief_and_two_workers(tmp_path):
    out_dir, export_dir = tmp_path / "t", tmp_path / "sm"
    config = tmp_path / "search.json"
    config.write_text(json.dumps({"model_config": {"hidden_units": [16]}}))
    # Random search: KerasTuner's grid oracle hands out the next grid point only
    # as trials finish, so two workers would mostly take turns.
    argv = [
        sys.executable,
        os.path.join(ROOT, "scripts", "tune.py"),
        "--latent-dims",
        "2,4,8",
        "--tuner",
        "random",
        "--max-trials",
        "3",
        "--config",
        str(config),
        "--output-dir",
        str(out_dir),
        "--export-best",
        str(export_dir),
    ] + QUICK_FLAGS
    port = str(_free_port())
    processes = {}
    try:
        for tuner_id in ("chief", "tuner0", "tuner1"):
            env = {
                **os.environ,
                "KERASTUNER_TUNER_ID": tuner_id,
                "KERASTUNER_ORACLE_IP": "127.0.0.1",
                "KERASTUNER_ORACLE_PORT": port,
                "TF_CPP_MIN_LOG_LEVEL": "3",
            }
            processes[tuner_id] = subprocess.Popen(
                argv,
                env=env,
                cwd=str(tmp_path),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        outputs = {}
        for tuner_id, process in processes.items():
            outputs[tuner_id], _ = process.communicate(timeout=TIMEOUT_S)
            assert process.returncode == 0, f"{tuner_id} failed:\n{outputs[tuner_id][-3000:]}"
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()

    trained = 0
    for tuner_id in ("tuner0", "tuner1"):
        line = next(
            l for l in outputs[tuner_id].splitlines() if l.startswith(f"worker {tuner_id}: trained")
        )
        trained += int(line.split("trained ")[1].split()[0])
    assert trained == 3, outputs
    assert not any(l.startswith("worker") for l in outputs["chief"].splitlines())
    results = json.load(open(out_dir / "results.json"))
    assert sorted(t["latent_dim"] for t in results["trials"]) == [2, 4, 8]
    assert "best: trial" in outputs["chief"]
    assert os.path.isfile(export_dir / "mlp_vae" / "1" / "saved_model.pb")
