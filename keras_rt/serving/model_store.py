"""The models a server serves: discovery, loading, version policy and hot reload.

Layout (TensorFlow Serving's): `<base>/<name>/<int version>/saved_model.pb`.
The store serves the newest `num_versions` versions of each model that load;
a version folder that appears later is loaded by `refresh()` (called every
`poll_seconds` by a background thread) without a restart. A version that fails
to load is reported in the model's status (state `END` with the error) and
skipped: the versions already loaded keep serving. It is tried again when
any file in its folder changes (size or modification time, recursively), so
a version copied in slowly is loaded once the copy is complete. Folders
whose names are not integers (such as an export's `.tmp-*` folder) are
never looked at.

Before a version is loaded its graphs are checked for file-system, process
and network ops (`graph_check`), unless `allow_file_ops`. Status messages are
public: file-system paths in them are replaced (`redact`) and go to the log.

Requests look models up in an immutable snapshot that `refresh()` replaces in
one assignment, so the predict path takes no lock. Request names and versions
are only ever dictionary keys: they never become file paths. Folder names
must match `MODEL_NAME_RE` / `VERSION_RE` and resolve inside their base
folder (a symlink that points outside is skipped).

Size: about 380 lines for one concept, the store's versions and their life cycle
(discover, load, retry, unload), which share one lock and one state table.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping

from keras_rt.serving.errors import NotFound, Unavailable
from keras_rt.serving.fingerprint import folder_fingerprint
from keras_rt.serving.poller import Poller
from keras_rt.serving.redact import redact_paths
from keras_rt.serving.servable import Servable

logger = logging.getLogger("keras_rt.serving")

MODEL_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}$")
VERSION_RE = re.compile(r"^[0-9]{1,18}$")

LABEL_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]{0,127}$")

Loader = Callable[[str, int, str], Servable]
LoadListener = Callable[[str, int, bool], None]


@dataclasses.dataclass(frozen=True)
class VersionPolicy:
    """Which versions of a model to serve (TF Serving's `model_version_policy`).

    `kind` is `"latest"` (the newest `num_versions` that load), `"all"` or
    `"specific"` (exactly `versions`, those that load).
    """

    kind: str = "latest"
    num_versions: int = 1
    versions: frozenset[int] = frozenset()

    def candidates(self, folders: Iterable[int]) -> tuple[list[int], float]:
        """The versions to try, newest first, and how many of them to keep at most."""
        newest_first = sorted(folders, reverse=True)
        if self.kind == "specific":
            return [v for v in newest_first if v in self.versions], float("inf")
        if self.kind == "all":
            return newest_first, float("inf")
        return newest_first, float(self.num_versions)


@dataclasses.dataclass
class VersionStatus:
    """A version's state as TF Serving reports it (`AVAILABLE` or `END`)."""

    version: int
    state: str
    error_code: str = "OK"
    error_message: str = ""
    fingerprint: tuple = ()

    def to_json(self) -> dict:
        return {
            "version": str(self.version),
            "state": self.state,
            "status": {"error_code": self.error_code, "error_message": self.error_message},
        }


def check_model_name(name: str) -> str:
    """Returns `name` if it is a valid model name, else raises `ValueError`."""
    if not isinstance(name, str) or not MODEL_NAME_RE.match(name):
        raise ValueError(
            f"Model names are 1-128 letters, digits, '_', '-' or '.', not starting with '.'. "
            f"Received: name={name!r}"
        )
    return name


def _inside(path: str, root: str) -> bool:
    real_path, real_root = os.path.realpath(path), os.path.realpath(root)
    return os.path.commonpath([real_path, real_root]) == real_root and real_path != real_root


def _error_code(error: Exception) -> str:
    """A load error's status code: its own (`UnsafeModelError`, TensorFlow's) or UNKNOWN."""
    code = getattr(error, "error_code", None)
    if isinstance(code, str):
        return code
    if isinstance(code, int) and not isinstance(code, bool):
        from tensorflow.core.protobuf import error_codes_pb2

        try:
            return error_codes_pb2.Code.Name(code)
        except ValueError:
            pass
    return "UNKNOWN"


def version_folders(model_dir: str) -> dict[int, str]:
    """Integer version folders of `model_dir` that resolve inside it."""
    try:
        entries = os.listdir(model_dir)
    except OSError:
        return {}
    found: dict[int, str] = {}
    for entry in sorted(entries):
        path = os.path.join(model_dir, entry)
        if VERSION_RE.match(entry) and os.path.isdir(path) and _inside(path, model_dir):
            found.setdefault(int(entry), path)
    return found


class ModelStore:
    """Loads and serves the versions of named models.

    Args:
        base_path: a folder whose sub-folders are models (`<base>/<name>/<version>/`);
            models added to it later are picked up too.
        models: explicit `{name: model folder}` (each holding version folders).
        num_versions: how many of the newest loadable versions to serve per model.
        poll_seconds: `start_polling()` interval; 0 disables polling.
        allow_file_ops: load SavedModels whose graphs use file-system, process or
            network ops (refused by default: see `keras_rt.serving.graph_check`).
            Dangerous: only for models you trust as code.
        loader: `(name, version, path) -> Servable` (default: `Servable.load`,
            with the op check unless `allow_file_ops`).
        policies: `{name: VersionPolicy}` overriding `num_versions` per model.
        labels: `{name: {label: version}}` (TF Serving's version labels).

    Example:

    >>> from keras_rt.export import export_model
    >>> from keras_rt.zoo import MLPVAE
    >>> model = MLPVAE(input_shape=(8,), latent_dim=2, hidden_units=(8,), seed=0)
    >>> path = export_model(model, "saved_models", "mlp_vae")
    >>> store = ModelStore(base_path="saved_models")
    >>> store.refresh()  # loads the newest version of each model
    >>> sorted(store.get("mlp_vae").signatures)
    ['decode', 'encode', 'log_likelihood', 'sample', 'serving_default']
    """

    def __init__(
        self,
        base_path: str | None = None,
        models: Mapping[str, str] | None = None,
        *,
        num_versions: int = 1,
        poll_seconds: float = 2.0,
        allow_file_ops: bool = False,
        loader: Loader | None = None,
        policies: Mapping[str, VersionPolicy] | None = None,
        labels: Mapping[str, Mapping[str, int]] | None = None,
    ):
        if num_versions < 1:
            raise ValueError(f"`num_versions` must be >= 1. Received: num_versions={num_versions}")
        if poll_seconds < 0:
            raise ValueError(f"`poll_seconds` must be >= 0. Received: poll_seconds={poll_seconds}")
        if base_path is None and not models:
            raise ValueError("Give a model base path or at least one NAME=PATH model.")
        if base_path is not None and not os.path.isdir(base_path):
            raise FileNotFoundError(f"Model base path not found: {base_path!r}")
        self.base_path = base_path
        self.explicit: dict[str, str] = {}
        for name, path in (models or {}).items():
            check_model_name(name)
            if not os.path.isdir(path):
                raise FileNotFoundError(f"Model folder for {name!r} not found: {path!r}")
            if os.path.isfile(os.path.join(path, "saved_model.pb")):
                raise ValueError(
                    f"{path!r} is a version folder; pass the model folder that holds the "
                    f"integer versions: {os.path.dirname(os.path.abspath(path))!r}"
                )
            self.explicit[name] = path
        self.num_versions = num_versions
        self.poll_seconds = poll_seconds
        self.allow_file_ops = allow_file_ops
        self._loader: Loader = loader or functools.partial(
            Servable.load, allow_file_ops=allow_file_ops
        )
        # name -> {version: status}; name -> {version: Servable}. Replaced, never mutated
        # in place, so readers need no lock.
        self._status: dict[str, dict[int, VersionStatus]] = {}
        self._serving: dict[str, dict[int, Servable]] = {}
        self.policies: dict[str, VersionPolicy] = dict(policies or {})
        self.labels: dict[str, dict[str, int]] = {n: dict(v) for n, v in (labels or {}).items()}
        # Called as (name, version, ok) after every load attempt (metrics).
        self.load_listeners: list[LoadListener] = []
        self._refresh_lock = threading.Lock()
        self._poller = Poller(self.refresh, poll_seconds, "keras-rt-model-poll")

    def configure(
        self,
        models: Mapping[str, str],
        policies: Mapping[str, VersionPolicy],
        labels: Mapping[str, Mapping[str, int]],
    ) -> None:
        """Replaces the explicit models, their version policies and labels (a config reload).

        The next `refresh()` loads new models and unloads removed ones; labels
        apply at once.
        """
        with self._refresh_lock:
            self.explicit = dict(models)
            self.policies = dict(policies)
            self.labels = {n: dict(v) for n, v in labels.items()}

    # -- discovery ----------------------------------------------------------

    def model_dirs(self) -> dict[str, str]:
        """`{name: model folder}` for the explicit models and those under the base path."""
        dirs: dict[str, str] = {}
        if self.base_path is not None:
            try:
                entries = sorted(os.listdir(self.base_path))
            except OSError:
                entries = []
            for entry in entries:
                path = os.path.join(self.base_path, entry)
                if (
                    MODEL_NAME_RE.match(entry)
                    and os.path.isdir(path)
                    and _inside(path, self.base_path)
                ):
                    dirs[entry] = path
        dirs.update(self.explicit)
        return dirs

    # -- loading ------------------------------------------------------------

    def refresh(self) -> None:
        """Scans the folders once: loads new versions, unloads old or removed ones."""
        with self._refresh_lock:
            status = {name: dict(versions) for name, versions in self._status.items()}
            serving = {name: dict(versions) for name, versions in self._serving.items()}
            dirs = self.model_dirs()
            for name in list(status):
                if name not in dirs:
                    logger.info("Model %s: folder removed; unloading", name)
                    status.pop(name, None)
                    serving.pop(name, None)
            for name, model_dir in dirs.items():
                st, sv = self._refresh_model(
                    name, model_dir, status.get(name, {}), serving.get(name, {})
                )
                status[name], serving[name] = st, sv
                # Publish after each model so a slow load does not hold back others.
                self._status = dict(status)
                self._serving = dict(serving)
            self._status, self._serving = status, serving

    def _refresh_model(self, name, model_dir, status, serving):
        status, serving = dict(status), dict(serving)
        folders = version_folders(model_dir)
        for version in [v for v in status if v not in folders]:
            if version in serving:
                logger.info("Model %s: version %d folder removed; unloading", name, version)
            status.pop(version)
            serving.pop(version, None)
        keep: list[int] = []
        policy = self.policies.get(name, VersionPolicy("latest", self.num_versions))
        candidates, limit = policy.candidates(folders)
        for version in candidates:
            if len(keep) >= limit:
                break
            path = folders[version]
            if version in serving:
                keep.append(version)
                continue
            fingerprint = folder_fingerprint(path)
            old = status.get(version)
            if (
                old is not None
                and old.state == "END"
                and old.error_code != "OK"
                and old.fingerprint == fingerprint
            ):
                continue  # broken and unchanged: skip it, keep serving older versions
            try:
                servable = self._loader(name, version, path)
            except Exception as error:  # noqa: BLE001 - any load failure is reported
                self._notify(name, version, False)
                message = f"{type(error).__name__}: {error}".strip()
                first_line = message.splitlines()[0] if message else type(error).__name__
                logger.error(
                    "Model %s: version %d failed to load from %s: %s",
                    name,
                    version,
                    path,
                    first_line,
                )
                # The status is public (HTTP): paths go to the log only.
                known = {path: f"{name}/{version}", model_dir: name}
                if self.base_path is not None:
                    known[self.base_path] = "<model base path>"
                status[version] = VersionStatus(
                    version,
                    "END",
                    _error_code(error),
                    redact_paths(first_line, known)[:1000],
                    fingerprint,
                )
                continue
            logger.info(
                "Model %s: version %d loaded from %s (signatures: %s)",
                name,
                version,
                path,
                ", ".join(servable.signatures),
            )
            self._notify(name, version, True)
            serving[version] = servable
            status[version] = VersionStatus(version, "AVAILABLE", fingerprint=fingerprint)
            keep.append(version)
        for version in [v for v in serving if v not in keep]:
            logger.info("Model %s: version %d unloaded (newer versions serve)", name, version)
            del serving[version]
            status[version] = VersionStatus(version, "END")
        # Versions below the served window that were never loaded are not listed.
        return status, serving

    def _notify(self, name: str, version: int, ok: bool) -> None:
        for listener in self.load_listeners:
            try:
                listener(name, version, ok)
            except Exception:  # noqa: BLE001 - a listener must not break loading
                logger.exception("A model load listener failed")

    # -- polling ------------------------------------------------------------

    def start_polling(self) -> None:
        """Starts the background thread that calls `refresh()` every `poll_seconds`."""
        self._poller.start()

    def stop_polling(self) -> None:
        """Stops the polling thread (waits for a refresh in progress)."""
        self._poller.stop()

    # -- lookups (request path) --------------------------------------------

    def names(self) -> list[str]:
        """Names of the models the store knows."""
        return sorted(self._status)

    def label_version(self, name: str, label: str) -> int:
        """The version that `label` of model `name` points at; `NotFound` if none."""
        labels = self.labels.get(name, {})
        if label not in labels:
            known = ", ".join(sorted(labels)) or "none"
            raise NotFound(
                f"Unknown version label {str(label)[:40]!r} of model {name!r}; labels: {known}"
            )
        return labels[label]

    def get(
        self, name: str, version: int | str | None = None, label: str | None = None
    ) -> Servable:
        """The servable for `name` (newest available version, `version`, or `label`'s)."""
        if label is not None:
            if name not in self._serving:
                return self.get(name)  # raises NotFound for the model
            number = self.label_version(name, label)
            servable = self._serving[name].get(number)
            if servable is None:
                raise NotFound(
                    f"Version label {label!r} of model {name!r} points at version {number}, "
                    f"which is not available; available versions: "
                    f"{sorted(self._serving[name]) or 'none'}"
                )
            return servable
        serving = self._serving.get(name)
        if serving is None and name in self.explicit:
            raise Unavailable(f"Model {name!r} is configured but not loaded yet; try again shortly")
        if serving is None:
            raise NotFound(
                f"Servable not found for request: model {name!r} is not served"
                + self._known_models_hint()
            )
        if version is None:
            if not serving:
                raise NotFound(
                    f"Servable not found for request: Latest({name}); "
                    f"no version of {name!r} is available" + self._errors_hint(name)
                )
            return serving[max(serving)]
        number = parse_version(version)
        servable = serving.get(number)
        if servable is None:
            vs = self._status.get(name, {}).get(number)
            detail = (
                f"; it failed to load: {vs.error_message}"
                if vs and vs.error_code != "OK"
                else f"; available versions: {sorted(serving) or 'none'}"
            )
            raise NotFound(f"Servable not found for request: Specific({name}, {number}){detail}")
        return servable

    def status_json(
        self, name: str, version: int | str | None = None, label: str | None = None
    ) -> dict:
        """TF Serving's `GET /v1/models/{name}[/versions/{v} | /labels/{l}]` answer."""
        versions = self._status.get(name)
        if versions is None:
            raise NotFound(
                f"Could not find any versions of model {name}" + self._known_models_hint()
            )
        if label is not None:
            version = self.label_version(name, label)
        if version is not None:
            number = parse_version(version)
            if number not in versions:
                raise NotFound(f"Could not find version {number} of model {name}")
            selected = [versions[number]]
        else:
            selected = [versions[v] for v in sorted(versions, reverse=True)]
            if not selected:
                raise NotFound(f"Could not find any versions of model {name}")
        return {"model_version_status": [s.to_json() for s in selected]}

    def _known_models_hint(self) -> str:
        names = self.names()
        return f"; served models: {', '.join(names)}" if names else "; no models are served"

    def _errors_hint(self, name: str) -> str:
        errors = [
            f"version {v}: {s.error_message}"
            for v, s in sorted(self._status.get(name, {}).items())
            if s.error_code != "OK"
        ]
        return ("; " + "; ".join(errors)) if errors else ""

    def servables(self) -> Iterable[Servable]:
        """Every loaded servable (all models, all served versions)."""
        for versions in self._serving.values():
            yield from versions.values()


def parse_version(version: int | str) -> int:
    """A request's version as an int; `NotFound` unless it is a plain non-negative integer."""
    if isinstance(version, int) and not isinstance(version, bool) and version >= 0:
        return version
    if isinstance(version, str) and VERSION_RE.match(version):
        return int(version)
    raise NotFound(f"Malformed version {str(version)[:40]!r}: versions are non-negative integers")
