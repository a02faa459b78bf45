"""Export a zoo model as a versioned SavedModel in TensorFlow Serving's layout."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid

import keras

from keras_rt.export.signatures import SIGNATURES

EXTRA_DIR = "assets.extra"  # TF Serving's folder for files that travel with a version
TMP_PREFIX = ".tmp-"  # where an export is written before it is renamed into a version


def existing_versions(model_dir: str) -> list[int]:
    """Integer version folders under `model_dir` (e.g. `saved_models/mlp_vae`)."""
    if not os.path.isdir(model_dir):
        return []
    return sorted(int(d) for d in os.listdir(model_dir) if d.isdigit())


def export_model(
    model: keras.Model,
    export_dir: str,
    name: str,
    *,
    config: dict | None = None,
    verbose: bool = False,
    allow_signature_change: bool = False,
) -> str:
    """Writes `model` to `export_dir/name/<next version>/` with all zoo signatures.

    The SavedModel is written to a temporary folder beside the versions and
    renamed into place only when complete, so a server watching `export_dir`
    never sees a half-written version (temporary folders that a killed export
    left behind are removed by the next export). The `.keras` file and
    `config.json` travel with it in `<version>/assets.extra/`.

    Two checks protect the clients of the newest existing version:
    an export whose signatures differ from it is refused
    (`SignatureChangeError`, a `ValueError` that says what changed), and an
    export with the same fingerprint (signatures and variable values) is the same model, so no
    new version is written (the newest version's path is returned).

    Args:
        model: a zoo model (a `GaussianVAE` or a model with the same methods).
        export_dir: the base folder (e.g. `saved_models`).
        name: the model's name under the base folder.
        config: JSON-serializable config to save as `config.json` (default:
            the model's `get_config()`).
        verbose: print Keras's export summary.
        allow_signature_change: export even if the signatures differ from
            the newest version's (its clients must be changed too).

    Returns:
        The path of the new version folder (or of the identical newest one).

    Example:

    >>> from keras_rt.zoo import MLPVAE
    >>> model = MLPVAE(input_shape=(8,), latent_dim=2, hidden_units=(8,), seed=0)
    >>> export_model(model, "saved_models", "mlp_vae")
    'saved_models/mlp_vae/1'
    >>> existing_versions("saved_models/mlp_vae")  # the next export writes version 2
    [1]
    """
    from keras_rt.export.compatibility import check_signatures, fingerprint

    model_dir = _model_dir(export_dir, name)
    os.makedirs(model_dir, exist_ok=True)
    remove_stale_temporary_folders(model_dir)
    tmp = os.path.join(model_dir, f"{TMP_PREFIX}{uuid.uuid4().hex}")
    try:
        _write_savedmodel(model, tmp, verbose)
        extra = os.path.join(tmp, EXTRA_DIR)
        os.makedirs(extra, exist_ok=True)
        model.save(os.path.join(extra, "model.keras"))
        with open(os.path.join(extra, "config.json"), "w") as f:
            json.dump(config if config is not None else model.get_config(), f, indent=2)
        while True:
            versions = existing_versions(model_dir)
            if versions:
                newest = os.path.join(model_dir, str(versions[-1]))
                check_signatures(
                    newest, tmp, name=name, allow_signature_change=allow_signature_change
                )
                same = fingerprint(tmp)
                if same is not None and same == fingerprint(newest):
                    print(
                        f"{name}: the export is identical to version {versions[-1]} (the same "
                        "signatures and weights); no new version written."
                    )
                    return newest
            target = os.path.join(model_dir, str((versions[-1] if versions else 0) + 1))
            try:
                os.rename(tmp, target)  # atomic on one file system; fails if target exists
                return target
            except OSError:
                if not os.path.exists(target):
                    raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_export_target(
    model: keras.Model, export_dir: str, name: str, *, allow_signature_change: bool = False
) -> None:
    """Checks, before a long job, that `export_model` will be able to write this model.

    Raises `PermissionError` if `export_dir` cannot be written, and
    `SignatureChangeError` if the model's signatures differ from the newest
    version of `name` (checked by writing the SavedModel to a temporary
    folder, which is removed). Nothing stays on disk.

    Args:
        model: the model that will be exported (trained or not: the
            signatures do not depend on the weights).
        export_dir: the base folder.
        name: the model's name under the base folder.
        allow_signature_change: skip the signature check.
    """
    from keras_rt.export.compatibility import check_signatures

    model_dir = _model_dir(export_dir, name)
    check_writable(model_dir, what="export folder")
    versions = existing_versions(model_dir)
    if not versions or allow_signature_change:
        return
    tmp = os.path.join(model_dir, f"{TMP_PREFIX}check-{uuid.uuid4().hex}")
    try:
        _write_savedmodel(model, tmp, verbose=False)
        check_signatures(os.path.join(model_dir, str(versions[-1])), tmp, name=name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_writable(path: str, *, what: str = "folder") -> None:
    """Raises `PermissionError`/`NotADirectoryError` unless `path` can be created and written.

    The nearest existing folder on the path is tested with a temporary file
    (which is removed), so root's permission bypass and read-only file
    systems are caught too; nothing is left behind.
    """
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise NotADirectoryError(f"The {what} {path!r} cannot be created: {existing!r} is a file.")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise PermissionError(
            f"The {what} {path!r} is not writable ({error.strerror or error}): choose another one."
        ) from None


def remove_stale_temporary_folders(model_dir: str, older_than_seconds: float = 3600.0) -> list[str]:
    """Removes `.tmp-*` folders that killed exports left in `model_dir`; returns their names.

    Only folders untouched for `older_than_seconds` are removed, so an
    export running beside this one keeps its temporary folder.
    """
    removed = []
    now = time.time()
    for entry in os.listdir(model_dir):
        path = os.path.join(model_dir, entry)
        if not entry.startswith(TMP_PREFIX) or not os.path.isdir(path):
            continue
        try:
            if now - os.path.getmtime(path) < older_than_seconds:
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(entry)
    return removed


def _model_dir(export_dir: str, name: str) -> str:
    if not isinstance(name, str) or not name or os.sep in name or name in (".", ".."):
        raise ValueError(f"`name` must be a plain folder name. Received: name={name!r}")
    return os.path.join(export_dir, name)


def _write_savedmodel(model: keras.Model, path: str, verbose: bool) -> None:
    archive = keras.export.ExportArchive()
    archive.track(model)
    for signature in SIGNATURES:
        archive.add_endpoint(
            name=signature.name,
            fn=signature.make_fn(model),
            input_signature=signature.input_specs(model),
        )
    archive.write_out(path, verbose=verbose)
