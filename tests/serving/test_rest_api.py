"""The TF Serving REST API over HTTP: status, metadata, and predict on every signature."""

import numpy as np
import pytest

from tests.serving.client import call, predict
from tests.serving.conftest import INPUT_DIM, LATENT_DIM


def direct(server, signature, **arrays):
    """The same signature called in-process on the served SavedModel."""
    return server.store.get("mlp_vae").signatures[signature](arrays)


def test_model_status_and_version_status(server):
    expected = {
        "model_version_status": [
            {
                "version": "1",
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }
    assert call(server.url, "GET", "/v1/models/mlp_vae") == (200, expected)
    assert call(server.url, "GET", "/v1/models/mlp_vae/versions/1") == (200, expected)


def test_metadata_lists_every_signature_from_the_savedmodel(server):
    from keras_rt.export import SIGNATURE_NAMES

    for path in ("/v1/models/mlp_vae/metadata", "/v1/models/mlp_vae/versions/1/metadata"):
        code, body = call(server.url, "GET", path)
        assert code == 200
        assert body["model_spec"] == {"name": "mlp_vae", "signature_name": "", "version": "1"}
        defs = body["metadata"]["signature_def"]["signature_def"]
        assert set(defs) == set(SIGNATURE_NAMES)
        x_info = defs["serving_default"]["inputs"]["x"]
        assert x_info["dtype"] == "DT_FLOAT"
        assert x_info["tensor_shape"] == {
            "dim": [{"size": "-1", "name": ""}, {"size": str(INPUT_DIM), "name": ""}],
            "unknown_rank": False,
        }
        assert set(defs["encode"]["outputs"]) == {"z_mean", "z_log_var"}
        assert defs["sample"]["inputs"]["num_samples"]["dtype"] == "DT_INT32"
        assert defs["sample"]["inputs"]["num_samples"]["tensor_shape"]["dim"] == []
        assert defs["log_likelihood"]["outputs"]["elbo"]["tensor_shape"]["dim"] == [
            {"size": "-1", "name": ""}
        ]
        assert all(d["method_name"] == "tensorflow/serving/predict" for d in defs.values())


def assert_images(values, rows):
    values = np.asarray(values)
    assert values.shape == (rows, INPUT_DIM) and np.all((values >= 0) & (values <= 1))


@pytest.mark.parametrize("version", [None, 1])
def test_reconstruct_row_and_columnar(server, x, version):
    # Reconstruction decodes a posterior sample (fresh noise per call): check shape and range.
    code, body = predict(server.url, "mlp_vae", {"instances": x.tolist()}, version)
    assert code == 200 and set(body) == {"predictions"}
    assert_images(body["predictions"], 3)
    code, body = predict(
        server.url, "mlp_vae", {"signature_name": "serving_default", "inputs": x.tolist()}, version
    )
    assert code == 200 and set(body) == {"outputs"}
    assert_images(body["outputs"], 3)
    # A single-input instance may also name its input; integers are accepted for floats.
    code, body = predict(
        server.url, "mlp_vae", {"instances": [{"x": row} for row in x.tolist()]}, version
    )
    assert code == 200
    assert_images(body["predictions"], 3)
    code, body = predict(server.url, "mlp_vae", {"instances": [[0] * INPUT_DIM]}, version)
    assert code == 200
    assert_images(body["predictions"], 1)


def test_encode_has_several_outputs(server, x):
    expected = direct(server, "encode", x=x)
    code, body = predict(
        server.url, "mlp_vae", {"signature_name": "encode", "instances": x.tolist()}
    )
    assert code == 200
    rows = body["predictions"]
    assert len(rows) == 3 and all(set(r) == {"z_mean", "z_log_var"} for r in rows)
    np.testing.assert_allclose(
        [r["z_mean"] for r in rows], expected["z_mean"], rtol=1e-5, atol=1e-6
    )
    code, body = predict(
        server.url, "mlp_vae", {"signature_name": "encode", "inputs": {"x": x.tolist()}}
    )
    assert code == 200 and set(body["outputs"]) == {"z_mean", "z_log_var"}
    np.testing.assert_allclose(
        body["outputs"]["z_log_var"], expected["z_log_var"], rtol=1e-5, atol=1e-6
    )


def test_decode(server):
    z = np.array([[0.0, 0.0], [1.0, -1.0]], np.float32)
    expected = direct(server, "decode", z=z)["x"]
    code, body = predict(
        server.url, "mlp_vae", {"signature_name": "decode", "instances": z.tolist()}
    )
    assert code == 200 and np.shape(body["predictions"]) == (2, INPUT_DIM)
    np.testing.assert_allclose(body["predictions"], expected, rtol=1e-5, atol=1e-6)
    code, body = predict(
        server.url, "mlp_vae", {"signature_name": "decode", "instances": [{"z": [0, 0]}]}
    )
    assert code == 200 and np.shape(body["predictions"]) == (1, INPUT_DIM)


def test_sample_is_columnar_only(server):
    code, body = predict(
        server.url, "mlp_vae", {"signature_name": "sample", "inputs": {"num_samples": 4}}
    )
    assert code == 200 and np.shape(body["outputs"]) == (4, INPUT_DIM)
    assert np.all(
        (np.array(body["outputs"]) >= 0) & (np.array(body["outputs"]) <= 1)
    )  # Bernoulli means
    code, body = predict(server.url, "mlp_vae", {"signature_name": "sample", "inputs": 2})
    assert code == 200 and np.shape(body["outputs"]) == (2, INPUT_DIM)
    code, body = predict(server.url, "mlp_vae", {"signature_name": "sample", "instances": [4]})
    assert code == 400 and "columnar" in body["error"] and "num_samples" in body["error"]


def test_log_likelihood(server, x):
    code, body = predict(
        server.url, "mlp_vae", {"signature_name": "log_likelihood", "instances": x.tolist()}
    )
    assert code == 200 and np.shape(body["predictions"]) == (3,)
    assert (
        all(np.isfinite(body["predictions"])) and max(body["predictions"]) < 0
    )  # nats; Bernoulli ELBO < 0
    code, body = predict(
        server.url, "mlp_vae", {"signature_name": "log_likelihood", "inputs": {"x": x.tolist()}}
    )
    assert code == 200 and np.shape(body["outputs"]) == (3,)


def test_empty_signature_name_means_default(server, x):
    code, body = predict(server.url, "mlp_vae", {"signature_name": "", "instances": x[:1].tolist()})
    assert code == 200 and np.shape(body["predictions"]) == (1, INPUT_DIM)


def test_latent_dim_from_metadata_matches(server):
    _, body = call(server.url, "GET", "/v1/models/mlp_vae/metadata")
    dims = body["metadata"]["signature_def"]["signature_def"]["decode"]["inputs"]["z"][
        "tensor_shape"
    ]["dim"]
    assert dims[1]["size"] == str(LATENT_DIM)
