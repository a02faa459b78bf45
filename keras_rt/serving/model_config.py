"""TF Serving's model configuration file (`--model_config_file`): models, version policies, labels.

The file is the text proto `ModelServerConfig` with a `model_config_list`,
parsed with the protos from `tensorflow-serving-api`:

    model_config_list {
      config {
        name: "mlp_vae"
        base_path: "/models/mlp_vae"
        model_platform: "tensorflow"
        model_version_policy { specific { versions: 1 versions: 2 } }
        version_labels { key: "stable" value: 1 }
        version_labels { key: "canary" value: 2 }
      }
    }

`load_model_config` turns it into a `ModelConfig` (or one-line `ValueError`);
`ConfigWatcher` polls the file and applies a changed one to a `ModelStore`,
logging a bad change and keeping the previous configuration.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os

from keras_rt.serving.model_store import LABEL_RE, ModelStore, VersionPolicy, check_model_name
from keras_rt.serving.poller import Poller

logger = logging.getLogger("keras_rt.serving")

PLATFORMS = ("", "tensorflow")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """A parsed model config file: `{name: base path}`, policies and labels by model name."""

    models: dict[str, str]
    policies: dict[str, VersionPolicy]
    labels: dict[str, dict[str, int]]

    def apply(self, store: ModelStore) -> None:
        """Gives `store` these models, policies and labels (`ModelStore.configure`)."""
        store.configure(self.models, self.policies, self.labels)


def parse_model_config(text: str, source: str = "model config") -> ModelConfig:
    """Parses the text of a `ModelServerConfig`; `ValueError` (one line) when it is not valid."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    proto = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(text, proto)
    except text_format.ParseError as error:
        raise ValueError(f"{source}: not a valid model config: {error}") from None
    if proto.WhichOneof("config") != "model_config_list":
        raise ValueError(f"{source}: expected a 'model_config_list {{ config {{ ... }} }}'")
    models: dict[str, str] = {}
    policies: dict[str, VersionPolicy] = {}
    labels: dict[str, dict[str, int]] = {}
    for config in proto.model_config_list.config:
        where = f"{source}: model {config.name!r}"
        try:
            check_model_name(config.name)
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from None
        if config.name in models:
            raise ValueError(f"{where} is configured twice")
        if config.model_platform not in PLATFORMS:
            raise ValueError(
                f"{where}: model_platform {config.model_platform!r} is not supported "
                "(keras-rt serves TensorFlow SavedModels: 'tensorflow')"
            )
        if not config.base_path:
            raise ValueError(f"{where} has no base_path")
        if not os.path.isdir(config.base_path):
            raise ValueError(f"{where}: base_path not found: {config.base_path!r}")
        if os.path.isfile(os.path.join(config.base_path, "saved_model.pb")):
            raise ValueError(
                f"{where}: base_path is a version folder; give the folder that holds the "
                "integer versions"
            )
        models[config.name] = config.base_path
        policies[config.name] = _policy(config.model_version_policy, where)
        for label, version in config.version_labels.items():
            if not LABEL_RE.match(label):
                raise ValueError(
                    f"{where}: version label {label!r} must be letters, digits, '_' or '-'"
                )
            if version < 0:
                raise ValueError(f"{where}: version label {label!r} points at version {version}")
        labels[config.name] = dict(config.version_labels)
    if not models:
        raise ValueError(f"{source}: the model_config_list names no model")
    return ModelConfig(models, policies, labels)


def _policy(proto, where: str) -> VersionPolicy:
    choice = proto.WhichOneof("policy_choice")
    if choice == "all":
        return VersionPolicy("all")
    if choice == "specific":
        versions = frozenset(proto.specific.versions)
        if not versions:
            raise ValueError(f"{where}: model_version_policy specific lists no versions")
        return VersionPolicy("specific", versions=versions)
    num = proto.latest.num_versions if choice == "latest" else 1
    return VersionPolicy("latest", num_versions=num or 1)


def load_model_config(path: str) -> ModelConfig:
    """Reads and parses a model config file; `ValueError` / `FileNotFoundError` (one line)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"Model config file not found: {path!r}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"Cannot read the model config file {path!r}: {error}") from None
    return parse_model_config(text, source=path)


class ConfigWatcher:
    """Re-reads a model config file every `poll_seconds` and applies it when it changed.

    A change that does not parse or names missing folders is logged (once per
    content) and the previous configuration stays in force.
    """

    def __init__(self, path: str, store: ModelStore, poll_seconds: float):
        self.path, self.store, self.poll_seconds = path, store, poll_seconds
        self._digest = self._read_digest()
        self._poller = Poller(self.check, poll_seconds, "keras-rt-config-poll")

    def _read_digest(self) -> str | None:
        try:
            with open(self.path, "rb") as f:
                return hashlib.sha256(f.read()).hexdigest()
        except OSError:
            return None

    def check(self) -> bool:
        """Applies the file if its content changed; returns whether a new configuration applies."""
        digest = self._read_digest()
        if digest is None or digest == self._digest:
            return False
        self._digest = digest
        try:
            config = load_model_config(self.path)
        except (ValueError, OSError) as error:
            logger.error("Model config change ignored; the previous configuration stays: %s", error)
            return False
        config.apply(self.store)
        logger.info("Model config reloaded from %s: %s", self.path, ", ".join(config.models))
        self.store.refresh()
        return True

    def start(self) -> None:
        """Starts the polling thread (none when `poll_seconds` is 0)."""
        self._poller.start()

    def stop(self) -> None:
        """Stops the polling thread."""
        self._poller.stop()
