"""TF Serving's model config file: parsing, version policies, labels and reloads."""

import logging
import shutil

import pytest

from keras_rt.serving.model_config import ConfigWatcher, load_model_config, parse_model_config
from keras_rt.serving.model_store import ModelStore, VersionPolicy
from tests.serving.client import call


def config_text(base_path, labels=(), policy=""):
    lines = "".join(f'    version_labels {{ key: "{k}" value: {v} }}\n' for k, v in labels)
    return (
        "model_config_list {\n  config {\n"
        f'    name: "mlp_vae"\n    base_path: "{base_path}"\n    model_platform: "tensorflow"\n'
        f"{policy}{lines}  }}\n}}\n"
    )


@pytest.fixture(scope="module")
def two_versions(exported, tmp_path_factory):
    """`mlp_vae` with versions 1 and 2 (a copy: labels only need two version numbers)."""
    model = tmp_path_factory.mktemp("two_versions") / "mlp_vae"
    shutil.copytree(exported / "mlp_vae" / "1", model / "1")
    shutil.copytree(exported / "mlp_vae" / "1", model / "2")
    return model


def test_parse_models_policies_and_labels(two_versions):
    text = config_text(
        two_versions,
        labels=[("stable", 1), ("canary", 2)],
        policy="    model_version_policy { specific { versions: 1 versions: 2 } }\n",
    )
    config = parse_model_config(text)
    assert config.models == {"mlp_vae": str(two_versions)}
    assert config.policies["mlp_vae"] == VersionPolicy("specific", versions=frozenset({1, 2}))
    assert config.labels == {"mlp_vae": {"stable": 1, "canary": 2}}
    latest = parse_model_config(config_text(two_versions))
    assert latest.policies["mlp_vae"] == VersionPolicy("latest", 1)


@pytest.mark.parametrize(
    "text, words",
    [
        ("model_config_list { config { name: ", "not a valid model config"),
        ("model_config_list { config { name: 'm' base_path: '/no/such/dir' } }", "not found"),
        ("model_config_list { config { name: '../x' base_path: '/' } }", "Model names"),
        ("model_config_list { }", "names no model"),
        ("custom_model_config { }", "expected a 'model_config_list"),
    ],
)
def test_malformed_configs_are_one_line_errors(text, words):
    with pytest.raises(ValueError, match=words) as info:
        parse_model_config(text)
    assert "\n" not in str(info.value)


def test_platform_and_label_checks(two_versions):
    text = config_text(two_versions).replace('"tensorflow"', '"onnx"')
    with pytest.raises(ValueError, match="model_platform"):
        parse_model_config(text)
    with pytest.raises(ValueError, match="version label"):
        parse_model_config(config_text(two_versions, labels=[("bad label", 1)]))


def test_specific_policy_serves_both_versions_and_labels_pick_one(two_versions):
    config = parse_model_config(
        config_text(
            two_versions,
            labels=[("stable", 1), ("canary", 2)],
            policy="    model_version_policy { all { } }\n",
        )
    )
    store = ModelStore(None, config.models, policies=config.policies, labels=config.labels)
    store.refresh()
    assert store.get("mlp_vae").version == 2
    assert store.get("mlp_vae", label="stable").version == 1
    assert store.get("mlp_vae", label="canary").version == 2


def test_a_labels_change_is_picked_up_and_a_bad_change_is_ignored(two_versions, tmp_path, caplog):
    from keras_rt.serving import start_server

    path = tmp_path / "models.config"
    policy = "    model_version_policy { all { } }\n"
    path.write_text(config_text(two_versions, labels=[("stable", 1)], policy=policy))
    config = load_model_config(str(path))
    store = ModelStore(
        None, config.models, policies=config.policies, labels=config.labels, poll_seconds=0
    )
    watcher = ConfigWatcher(str(path), store, poll_seconds=0)
    with start_server(store) as server:
        label = "/v1/models/mlp_vae/labels/stable"
        assert call(server.url, "GET", label)[1]["model_version_status"][0]["version"] == "1"
        path.write_text(config_text(two_versions, labels=[("stable", 2)], policy=policy))
        assert watcher.check()
        assert call(server.url, "GET", label)[1]["model_version_status"][0]["version"] == "2"
        path.write_text("model_config_list { config { oops")
        with caplog.at_level(logging.ERROR, logger="keras_rt.serving"):
            assert not watcher.check()
        assert "previous configuration stays" in caplog.text
        assert call(server.url, "GET", label)[1]["model_version_status"][0]["version"] == "2"
        assert call(server.url, "GET", "/v1/models/mlp_vae/labels/nope")[0] == 404
