"""New versions are picked up while serving; a broken version is reported and skipped."""

import os
import shutil
import time

import pytest

from tests.serving.client import call, predict
from tests.serving.conftest import INPUT_DIM

ROW = [0.25] * INPUT_DIM


def wait_for(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def publish(source, model_dir, version):
    """Copies a version folder next to the model and renames it into place (atomic)."""
    tmp = os.path.join(model_dir, f".tmp-{version}")
    shutil.copytree(source, tmp)
    os.rename(tmp, os.path.join(model_dir, str(version)))


def served_version(url):
    code, body = call(url, "GET", "/v1/models/mlp_vae/metadata")
    return body["model_spec"]["version"] if code == 200 else None


@pytest.fixture
def live(tmp_path, exported):
    """A server polling its own base path (every 0.1 s) that starts with mlp_vae/1."""
    from keras_rt.serving import ModelStore, start_server

    model_dir = tmp_path / "mlp_vae"
    model_dir.mkdir()
    publish(exported / "mlp_vae" / "1", model_dir, 1)
    with start_server(ModelStore(str(tmp_path), poll_seconds=0.1)) as running:
        yield running, model_dir


def test_new_version_is_picked_up_without_restart(live, exported):
    server, model_dir = live
    assert served_version(server.url) == "1"
    publish(exported / "mlp_vae" / "1", model_dir, 2)
    wait_for(lambda: served_version(server.url) == "2")
    code, body = call(server.url, "GET", "/v1/models/mlp_vae")
    states = {s["version"]: s["state"] for s in body["model_version_status"]}
    assert states == {"2": "AVAILABLE", "1": "END"}  # newest serves, as TF Serving's default policy
    assert predict(server.url, "mlp_vae", {"instances": [ROW]}, version=2)[0] == 200
    assert predict(server.url, "mlp_vae", {"instances": [ROW]}, version=1)[0] == 404
    # A model folder that appears under the base path is served too.
    other = model_dir.parent / "other"
    other.mkdir()
    publish(exported / "mlp_vae" / "1", other, 5)
    wait_for(lambda: call(server.url, "GET", "/v1/models/other")[0] == 200)
    assert predict(server.url, "other", {"instances": [ROW]})[0] == 200


def test_broken_version_is_reported_and_the_old_one_keeps_serving(live, exported):
    server, model_dir = live
    broken = model_dir / ".tmp-broken"
    broken.mkdir()
    (broken / "saved_model.pb").write_bytes(b"this is not a SavedModel")
    os.rename(broken, model_dir / "2")

    def reported():
        code, body = call(server.url, "GET", "/v1/models/mlp_vae/versions/2")
        return body if code == 200 else None

    status = wait_for(reported)["model_version_status"][0]
    assert status["state"] == "END" and status["status"]["error_code"] != "OK"
    assert status["status"]["error_message"]
    assert served_version(server.url) == "1"
    code, body = predict(server.url, "mlp_vae", {"instances": [ROW]})
    assert code == 200 and len(body["predictions"]) == 1
    code, body = predict(server.url, "mlp_vae", {"instances": [ROW]}, version=2)
    assert code == 404 and "failed to load" in body["error"]
    code, body = call(server.url, "GET", "/v1/models/mlp_vae")
    states = {s["version"]: s["state"] for s in body["model_version_status"]}
    assert states == {"2": "END", "1": "AVAILABLE"}
    # A fixed folder under a newer version number is loaded next.
    publish(exported / "mlp_vae" / "1", model_dir, 3)
    wait_for(lambda: served_version(server.url) == "3")
    assert predict(server.url, "mlp_vae", {"instances": [ROW]})[0] == 200


def test_a_version_copied_in_slowly_is_retried_until_it_loads(tmp_path, exported):
    """Copied file by file into its final folder: failed while partial, loaded once complete."""
    from keras_rt.serving import ModelStore

    source = exported / "mlp_vae" / "1"
    target = tmp_path / "mlp_vae" / "1"
    target.mkdir(parents=True)
    (target / "saved_model.pb").write_bytes(b"\x0a\xff partial")
    store = ModelStore(str(tmp_path), poll_seconds=0)

    def status():
        store.refresh()
        return store.status_json("mlp_vae")["model_version_status"][0]

    first = status()
    assert first["state"] == "END" and first["status"]["error_code"] != "OK"
    assert str(tmp_path) not in first["status"]["error_message"]  # no paths in public status
    # The graph is complete, the variables only half written.
    shutil.copy(source / "saved_model.pb", target / "saved_model.pb")
    (target / "variables").mkdir()
    shutil.copy(source / "variables" / "variables.index", target / "variables")
    data = (source / "variables" / "variables.data-00000-of-00001").read_bytes()
    partial = target / "variables" / "variables.data-00000-of-00001"
    partial.write_bytes(data[: len(data) // 2])
    second = status()
    assert second["state"] == "END" and str(tmp_path) not in second["status"]["error_message"]
    # Only a file inside variables/ changes now.
    partial.write_bytes(data)
    assert status()["state"] == "AVAILABLE"
    assert sorted(store.get("mlp_vae").signatures) == sorted(
        ["decode", "encode", "log_likelihood", "sample", "serving_default"]
    )
