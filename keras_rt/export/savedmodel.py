"""Export a zoo model as a versioned SavedModel in TensorFlow Serving's layout."""

from __future__ import annotations

import json
import os
import shutil
import uuid

import keras

from keras_rt.export.signatures import SIGNATURES

EXTRA_DIR = "assets.extra"  # TF Serving's folder for files that travel with a version


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
) -> str:
    """Writes `model` to `export_dir/name/<next version>/` with all zoo signatures.

    The SavedModel is written to a temporary folder beside the versions and
    renamed into place only when complete, so a server watching `export_dir`
    never sees a half-written version. The `.keras` file and `config.json`
    travel with it in `<version>/assets.extra/`.

    Args:
        model: a zoo model (a `GaussianVAE` or a model with the same methods).
        export_dir: the base folder (e.g. `saved_models`).
        name: the model's name under the base folder.
        config: JSON-serializable config to save as `config.json` (default:
            the model's `get_config()`).
        verbose: print Keras's export summary.

    Returns:
        The path of the new version folder.

    Example:

    >>> from keras_rt.zoo import MLPVAE
    >>> model = MLPVAE(input_shape=(8,), latent_dim=2, hidden_units=(8,), seed=0)
    >>> export_model(model, "saved_models", "mlp_vae")
    'saved_models/mlp_vae/1'
    >>> existing_versions("saved_models/mlp_vae")  # the next export writes version 2
    [1]
    """
    if not name or os.sep in name or name in (".", ".."):
        raise ValueError(f"`name` must be a plain folder name. Received: name={name!r}")
    model_dir = os.path.join(export_dir, name)
    os.makedirs(model_dir, exist_ok=True)
    tmp = os.path.join(model_dir, f".tmp-{uuid.uuid4().hex}")
    try:
        archive = keras.export.ExportArchive()
        archive.track(model)
        for signature in SIGNATURES:
            archive.add_endpoint(
                name=signature.name,
                fn=signature.make_fn(model),
                input_signature=signature.input_specs(model),
            )
        archive.write_out(tmp, verbose=verbose)
        extra = os.path.join(tmp, EXTRA_DIR)
        os.makedirs(extra, exist_ok=True)
        model.save(os.path.join(extra, "model.keras"))
        with open(os.path.join(extra, "config.json"), "w") as f:
            json.dump(config if config is not None else model.get_config(), f, indent=2)
        while True:
            versions = existing_versions(model_dir)
            target = os.path.join(model_dir, str((versions[-1] if versions else 0) + 1))
            try:
                os.rename(tmp, target)  # atomic on one file system; fails if target exists
                return target
            except OSError:
                if not os.path.exists(target):
                    raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
