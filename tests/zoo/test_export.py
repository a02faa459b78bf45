import json
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_rt.export import EXTRA_DIR, SIGNATURE_NAMES, export_model


@pytest.fixture(scope="module")
def model():
    from keras_rt.zoo import MLPVAE

    return MLPVAE(input_shape=(64,), latent_dim=2, hidden_units=(8,), seed=0)


def test_versions_increase_and_files_travel(model, tmp_path):
    first = export_model(model, str(tmp_path), "mlp_vae", config={"model": "mlp_vae"})
    second = export_model(model, str(tmp_path), "mlp_vae")
    assert [os.path.basename(first), os.path.basename(second)] == ["1", "2"]
    assert sorted(os.listdir(tmp_path / "mlp_vae")) == ["1", "2"]  # no temporary folders left
    extra = os.path.join(first, EXTRA_DIR)
    assert sorted(os.listdir(extra)) == ["config.json", "model.keras"]
    assert json.load(open(os.path.join(extra, "config.json"))) == {"model": "mlp_vae"}


def test_a_failed_export_leaves_no_version(model, tmp_path, monkeypatch):
    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    # fails after the SavedModel is written, while the .keras copy is added
    monkeypatch.setattr(type(model), "save", broken)
    with pytest.raises(OSError, match="disk full"):
        export_model(model, str(tmp_path), "mlp_vae")
    assert os.listdir(tmp_path / "mlp_vae") == []


def test_bad_name(model, tmp_path):
    with pytest.raises(ValueError, match="plain folder name"):
        export_model(model, str(tmp_path), "../escape")


FRESH_PROCESS = r"""
import sys, numpy as np, tensorflow as tf
m = tf.saved_model.load(sys.argv[1])
x = np.random.RandomState(0).rand(3, 64).astype("float32")
assert sorted(m.signatures) == sorted(sys.argv[2].split(",")), sorted(m.signatures)
rec = m.signatures["serving_default"](x=x)["reconstruction"].numpy()
enc = m.signatures["encode"](x=x)
dec = m.signatures["decode"](z=np.zeros((2, 2), "float32"))["x"].numpy()
s1 = m.signatures["sample"](num_samples=tf.constant(5))["x"].numpy()
s2 = m.signatures["sample"](num_samples=tf.constant(5))["x"].numpy()
elbo = m.signatures["log_likelihood"](x=x)["elbo"].numpy()
assert rec.shape == (3, 64) and enc["z_mean"].shape == (3, 2) and enc["z_log_var"].shape == (3, 2)
assert dec.shape == (2, 64) and s1.shape == (5, 64) and not np.allclose(s1, s2)
assert elbo.shape == (3,) and np.all(np.isfinite(elbo)) and np.all(elbo < 0)
try:
    m.signatures["serving_default"](x=np.zeros((2, 10), "float32"))
except (TypeError, ValueError, tf.errors.InvalidArgumentError) as e:
    assert "64" in str(e) or "shape" in str(e).lower(), str(e)
else:
    raise AssertionError("wrong input shape accepted")
print("ok")
"""


def test_every_signature_in_a_fresh_process(model, tmp_path):
    path = export_model(model, str(tmp_path), "mlp_vae")
    result = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, path, ",".join(SIGNATURE_NAMES)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-2000:]


def test_tf_serving_loader_runs_each_signature(model, tmp_path):
    """saved_model_cli uses the C++ session loader that TensorFlow Serving uses."""
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    if not os.path.exists(cli):
        pytest.skip("saved_model_cli not installed")
    path = export_model(model, str(tmp_path), "mlp_vae")
    np.save(tmp_path / "x.npy", np.random.RandomState(0).rand(2, 64).astype("float32"))
    np.save(tmp_path / "z.npy", np.zeros((2, 2), "float32"))
    inputs = {"serving_default": "x", "encode": "x", "log_likelihood": "x", "decode": "z"}
    for signature, key in inputs.items():
        result = subprocess.run(
            [
                cli,
                "run",
                "--dir",
                path,
                "--tag_set",
                "serve",
                "--signature_def",
                signature,
                "--inputs",
                f"{key}={tmp_path / (key + '.npy')}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"{signature}: {result.stderr[-1500:]}"
