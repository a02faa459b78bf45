import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from keras_rt.export import EXTRA_DIR, SIGNATURE_NAMES, export_model


@pytest.fixture(scope="module")
def model():
    from keras_rt.zoo import MLPVAE

    return MLPVAE(input_shape=(64,), latent_dim=2, hidden_units=(8,), seed=0)


@pytest.fixture(scope="module")
def first_export(model, tmp_path_factory):
    """`model` exported once into an empty base folder: the path of its version (`.../1`).

    Tests that need a first version copy it (`_copy_first_export`) instead of exporting
    again; the fresh-process checks only read it.
    """
    base = tmp_path_factory.mktemp("first_export")
    return export_model(model, str(base), "mlp_vae", config={"model": "mlp_vae"})


def _copy_first_export(first_export, base):
    """`first_export` copied to `base/mlp_vae/1` (as `export_model(model, base, ...)` leaves it)."""
    shutil.copytree(os.path.dirname(first_export), base / "mlp_vae")
    return str(base / "mlp_vae" / os.path.basename(first_export))


def _other_weights(model):
    from keras_rt.zoo import MLPVAE

    other = MLPVAE(input_shape=(64,), latent_dim=2, hidden_units=(8,), seed=0)
    other.set_weights([w + 0.01 for w in model.get_weights()])
    return other


def test_versions_increase_and_files_travel(model, first_export, tmp_path):
    first = _copy_first_export(first_export, tmp_path)  # export_model(model, ..., config=...)
    second = export_model(_other_weights(model), str(tmp_path), "mlp_vae")
    assert [os.path.basename(first), os.path.basename(second)] == ["1", "2"]
    assert sorted(os.listdir(tmp_path / "mlp_vae")) == ["1", "2"]  # no temporary folders left
    extra = os.path.join(first, EXTRA_DIR)
    assert sorted(os.listdir(extra)) == ["config.json", "model.keras"]
    assert json.load(open(os.path.join(extra, "config.json"))) == {"model": "mlp_vae"}


def test_an_identical_export_is_not_written_again(model, first_export, tmp_path, capsys):
    first = _copy_first_export(first_export, tmp_path)  # export_model(model, tmp_path, ...)
    capsys.readouterr()
    again = export_model(model, str(tmp_path), "mlp_vae")
    assert again == first and sorted(os.listdir(tmp_path / "mlp_vae")) == ["1"]
    assert "identical to version 1" in capsys.readouterr().out


def test_a_signature_change_is_refused_unless_allowed(first_export, tmp_path):
    from keras_rt.export import SignatureChangeError, check_export_target
    from keras_rt.zoo import MLPVAE

    _copy_first_export(first_export, tmp_path)  # export_model(model, tmp_path, "mlp_vae")
    wider = MLPVAE(input_shape=(64,), latent_dim=3, hidden_units=(8,), seed=0)
    with pytest.raises(SignatureChangeError) as error:
        check_export_target(wider, str(tmp_path), "mlp_vae")
    message = str(error.value)
    assert "decode: input 'z' shape (None, 2) -> (None, 3)" in message
    assert "encode: output 'z_mean' shape (None, 2) -> (None, 3)" in message
    assert "--export-name" in message and "--allow-signature-change" in message
    with pytest.raises(SignatureChangeError):
        export_model(wider, str(tmp_path), "mlp_vae")
    assert sorted(os.listdir(tmp_path / "mlp_vae")) == ["1"]  # nothing left behind
    path = export_model(wider, str(tmp_path), "mlp_vae", allow_signature_change=True)
    assert os.path.basename(path) == "2"


def test_stale_temporary_folders_are_removed(model, tmp_path):
    stale, fresh = tmp_path / "mlp_vae" / ".tmp-dead", tmp_path / "mlp_vae" / ".tmp-running"
    stale.mkdir(parents=True)
    fresh.mkdir()
    os.utime(stale, (0, 0))  # untouched for decades: a killed export's
    export_model(model, str(tmp_path), "mlp_vae")
    assert sorted(os.listdir(tmp_path / "mlp_vae")) == [".tmp-running", "1"]


def test_an_unwritable_export_folder_is_named(tmp_path, monkeypatch):
    import tempfile

    from keras_rt.export import check_writable

    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file"):
        check_writable(str(tmp_path / "file" / "sm"), what="export folder")

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    with pytest.raises(PermissionError, match="export folder .* is not writable"):
        check_writable(str(tmp_path / "sm"), what="export folder")
    assert not (tmp_path / "sm").exists()


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

# `saved_model_cli run --dir DIR --tag_set serve --signature_def SIG --inputs KEY=FILE.npy`, once
# per signature, in one process: after parsing its flags the CLI calls exactly these two functions,
# and each call loads the SavedModel afresh with the C++ session loader (a new Graph and Session)
# that TensorFlow Serving uses. One process pays TensorFlow's import once instead of four times.
SESSION_LOADER = r"""
import sys
from tensorflow.python.tools import saved_model_cli
path, inputs = sys.argv[1], sys.argv[2:]
for item in inputs:
    signature, arg = item.split(":", 1)
    feed = saved_model_cli.load_inputs_from_input_arg_string(arg, "", "")
    saved_model_cli.run_saved_model_with_feed_dict(path, "serve", signature, feed, None, False)
    print(f"signature {signature}: ok", flush=True)
"""

# Both scripts in one fresh process (only TensorFlow imported, nothing of keras-rt), each
# reporting on its own: "<part>: ok", or "<part>: failed" and its traceback.
FRESH_CHECKS = r"""
import sys, traceback
path = sys.argv[2]
parts = {"fresh": (sys.argv[1], [path, sys.argv[3]]), "loader": (sys.argv[4], [path, *sys.argv[5:]])}
for part, (code, argv) in parts.items():
    sys.argv = ["-c", *argv]
    print(f"{part}: start", flush=True)
    try:
        exec(compile(code, part, "exec"), {"__name__": "__main__"})
        print(f"{part}: ok", flush=True)
    except BaseException:
        print(f"{part}: failed", flush=True)
        traceback.print_exc(file=sys.stdout)
"""


@pytest.fixture(scope="module")
def fresh_process(first_export, tmp_path_factory):
    """Runs the fresh-process checks on the export of `model`: their stdout."""
    tmp_path = tmp_path_factory.mktemp("fresh_process")
    path = first_export
    np.save(tmp_path / "x.npy", np.random.RandomState(0).rand(2, 64).astype("float32"))
    np.save(tmp_path / "z.npy", np.zeros((2, 2), "float32"))
    inputs = {"serving_default": "x", "encode": "x", "log_likelihood": "x", "decode": "z"}
    loader_args = [f"{sig}:{key}={tmp_path / (key + '.npy')}" for sig, key in inputs.items()]
    result = subprocess.run(
        [sys.executable, "-c", FRESH_CHECKS, FRESH_PROCESS, path, ",".join(SIGNATURE_NAMES)]
        + [SESSION_LOADER, *loader_args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _part(output, part):
    """`part`'s output lines in the fresh process, its verdict (`<part>: ok`/`failed`) last."""
    lines = output.splitlines()
    verdicts = [i for i, line in enumerate(lines) if line in (f"{part}: ok", f"{part}: failed")]
    assert verdicts, f"{part} did not finish:\n{output[-3000:]}"
    first = lines.index(f"{part}: start")
    return lines[first + 1 : verdicts[0] + 1]


def test_every_signature_in_a_fresh_process(fresh_process):
    lines = _part(fresh_process, "fresh")
    assert lines[-2:] == ["ok", "fresh: ok"], "\n".join(lines)[-3000:]


def test_tf_serving_loader_runs_each_signature(fresh_process):
    """saved_model_cli's `run` (the C++ session loader that TensorFlow Serving uses), per signature."""
    lines = _part(fresh_process, "loader")
    assert lines[-1] == "loader: ok", "\n".join(lines)[-3000:]
    for signature in ("serving_default", "encode", "log_likelihood", "decode"):
        assert f"signature {signature}: ok" in lines, "\n".join(lines)[-3000:]
