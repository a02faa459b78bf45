"""No file-system paths in HTTP error bodies: status messages, load errors, predict errors."""

import shutil

import pytest

from keras_rt.serving import ModelStore, redact_paths, start_server
from tests.serving.client import call, predict
from tests.serving.conftest import INPUT_DIM


@pytest.mark.parametrize(
    "text, known, expected",
    [
        (
            "Cannot parse /srv/m/3/saved_model.pb",
            {"/srv/m/3": "m/3"},
            "Cannot parse m/3/saved_model.pb",
        ),
        ("at /srv/m/30/x", {"/srv/m/3": "m/3"}, "at <path>"),  # not version 3's folder
        ("No such file: '/etc/secret'", None, "No such file: '<path>'"),
        ("open(/home/u/.ssh/id_rsa) failed", None, "open(<path>) failed"),
        ("file:///var/x and C:\\Users\\me\\m.pb and ~/m", None, "<path> and <path> and <path>"),
        (
            "node model/dense/MatMul: [2,3] vs [3,4]",
            None,
            "node model/dense/MatMul: [2,3] vs [3,4]",
        ),
        ("on /job:localhost/replica:0/task:0/device:CPU:0", None, None),
        ("see https://www.tensorflow.org/guide", None, None),
    ],
)
def test_redact_paths(text, known, expected):
    assert redact_paths(text, known) == (text if expected is None else expected)


def test_known_folders_match_through_symlinks(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    text = f"failed at {real}/variables/variables"
    assert (
        redact_paths(text, {str(tmp_path / "link"): "m/1"}) == "failed at m/1/variables/variables"
    )


@pytest.fixture
def broken_base(tmp_path, exported):
    """`good/1` loads; `garbage/1` has a garbage saved_model.pb; `novars/1` lacks its variables."""
    shutil.copytree(exported / "mlp_vae", tmp_path / "good")
    (tmp_path / "garbage" / "1").mkdir(parents=True)
    (tmp_path / "garbage" / "1" / "saved_model.pb").write_bytes(b"\x0a\xff garbage")
    (tmp_path / "novars" / "1").mkdir(parents=True)
    shutil.copy(exported / "mlp_vae" / "1" / "saved_model.pb", tmp_path / "novars" / "1")
    return tmp_path


def test_status_and_errors_over_http_name_no_folder(broken_base, caplog):
    with start_server(ModelStore(str(broken_base), poll_seconds=0)) as server:
        bodies = []
        for name in ("garbage", "novars"):
            code, body = call(server.url, "GET", f"/v1/models/{name}")
            assert code == 200 and body["model_version_status"][0]["state"] == "END"
            bodies.append(body["model_version_status"][0]["status"]["error_message"])
            code, body = predict(server.url, name, {"instances": [[0.5] * INPUT_DIM]})
            assert code == 404
            bodies.append(body["error"])
            bodies.append(call(server.url, "GET", f"/v1/models/{name}/versions/1")[1])
        for body in bodies:
            assert str(broken_base) not in str(body) and "/tmp" not in str(body), body
        assert "saved_model.pb" in bodies[0]
        assert "novars/1/variables" in bodies[3]  # relative to the base path: still useful
    # The log has the full paths.
    assert str(broken_base) in caplog.text


def test_internal_errors_name_no_path(server, monkeypatch, caplog):
    from keras_rt.serving import app

    def fail(*args):
        raise OSError("Could not open /srv/secret/models/mlp_vae/1/variables: Permission denied")

    monkeypatch.setattr(app, "predict_sync", fail)
    code, body = predict(server.url, "mlp_vae", {"instances": [[0.5] * INPUT_DIM]})
    assert code == 500
    assert body == {"error": "Internal error: OSError: Could not open <path>: Permission denied"}
    assert "/srv/secret/models" in caplog.text  # logged in full


def test_a_model_without_signatures_is_reported_without_its_path(tmp_path):
    from keras_rt.serving import Servable

    class NoSignatures:
        signatures: dict = {}

    with pytest.raises(ValueError) as error:
        Servable("m", 3, str(tmp_path), NoSignatures())
    assert str(tmp_path) not in str(error.value) and "'m' version 3" in str(error.value)
