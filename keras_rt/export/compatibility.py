"""What a new export changes for the clients of the newest version: signatures and fingerprint.

A client of `saved_models/NAME` calls the newest version by its signatures'
names, input and output names, dtypes and shapes. An export that changes one
of them breaks those clients the moment the server switches to it, so
`export_model` refuses it unless asked (`allow_signature_change=True`, the
CLIs' `--allow-signature-change`) and suggests another name instead. New
signatures are allowed (no client calls them yet).

An export whose fingerprint (its signatures and its variables' values; not
the file bytes, which differ between identical exports) equals the newest
version's is the same model: it is not written again.

These functions read `saved_model.pb` (a protocol buffer) and the variables'
checkpoint: nothing in the SavedModel runs.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import numpy as np

SignatureSummary = dict[str, dict[str, dict[str, tuple[str, tuple[int | None, ...] | None]]]]


class SignatureChangeError(ValueError):
    """An export whose signatures differ from the newest version of the same name."""


def signature_summary(saved_model_dir: str) -> SignatureSummary:
    """The serving signatures of a SavedModel, read from its `saved_model.pb`.

    Args:
        saved_model_dir: a SavedModel folder (e.g. `saved_models/mlp_vae/3`).

    Returns:
        `{signature: {"inputs": {name: (dtype, shape)}, "outputs": {...}}}`;
        a shape is a tuple with None for unknown sizes, or None if the rank
        is unknown. Internal signatures (`__saver_save`, ...) are left out.

    Example:

    >>> signature_summary("saved_models/mlp_vae/1")["decode"]["inputs"]  # doctest: +SKIP
    {'z': ('float32', (None, 2))}
    """
    from tensorflow.core.protobuf import saved_model_pb2
    from tensorflow.python.framework import dtypes

    path = os.path.join(saved_model_dir, "saved_model.pb")
    saved_model = saved_model_pb2.SavedModel()
    with open(path, "rb") as f:
        saved_model.ParseFromString(f.read())
    summary: SignatureSummary = {}
    for meta_graph in saved_model.meta_graphs:
        for name, signature in meta_graph.signature_def.items():
            if name.startswith("__"):
                continue
            summary[name] = {
                "inputs": _tensors(signature.inputs, dtypes),
                "outputs": _tensors(signature.outputs, dtypes),
            }
    return summary


def _tensors(infos: Any, dtypes: Any) -> dict[str, tuple[str, tuple[int | None, ...] | None]]:
    tensors = {}
    for key, info in infos.items():
        shape = info.tensor_shape
        dims = (
            None
            if shape.unknown_rank
            else tuple(d.size if d.size >= 0 else None for d in shape.dim)
        )
        tensors[key] = (dtypes.as_dtype(info.dtype).name, dims)
    return tensors


def _shape_text(shape: tuple[int | None, ...] | None) -> str:
    if shape is None:
        return "unknown rank"
    return (
        "("
        + ", ".join("None" if d is None else str(d) for d in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )


def signature_changes(old: SignatureSummary, new: SignatureSummary) -> list[str]:
    """What a client of `old` would see change in `new`, one line per change (empty: compatible).

    A signature that only `new` has is not a change (no client calls it yet).

    Example:

    >>> old = {"decode": {"inputs": {"z": ("float32", (None, 2))}, "outputs": {"x": ("float32", (None, 64))}}}
    >>> new = {"decode": {"inputs": {"z": ("float32", (None, 8))}, "outputs": {"x": ("float32", (None, 64))}}}
    >>> signature_changes(old, new)
    ["decode: input 'z' shape (None, 2) -> (None, 8)"]
    """
    changes = []
    for name in sorted(old):
        if name not in new:
            changes.append(f"{name}: signature removed")
            continue
        for side in ("inputs", "outputs"):
            before, after = old[name][side], new[name][side]
            kind = side[:-1]
            for key in sorted(set(before) | set(after)):
                if key not in after:
                    changes.append(f"{name}: {kind} {key!r} removed")
                elif key not in before:
                    changes.append(f"{name}: {kind} {key!r} added")
                else:
                    (dtype_a, shape_a), (dtype_b, shape_b) = before[key], after[key]
                    if dtype_a != dtype_b:
                        changes.append(f"{name}: {kind} {key!r} dtype {dtype_a} -> {dtype_b}")
                    if shape_a != shape_b:
                        changes.append(
                            f"{name}: {kind} {key!r} shape {_shape_text(shape_a)} -> {_shape_text(shape_b)}"
                        )
    return changes


def check_signatures(
    newest_dir: str, candidate_dir: str, *, name: str, allow_signature_change: bool = False
) -> list[str]:
    """Raises `SignatureChangeError` if `candidate_dir`'s signatures break clients of `newest_dir`.

    Args:
        newest_dir: the newest existing version folder of the model name.
        candidate_dir: the SavedModel about to become the next version.
        name: the model name (for the message).
        allow_signature_change: return the changes instead of raising.

    Returns:
        The changes (empty when compatible).
    """
    changes = signature_changes(signature_summary(newest_dir), signature_summary(candidate_dir))
    if changes and not allow_signature_change:
        version = os.path.basename(os.path.normpath(newest_dir))
        shown = "; ".join(changes[:6]) + (
            f"; and {len(changes) - 6} more" if len(changes) > 6 else ""
        )
        raise SignatureChangeError(
            f"Refusing to export {name!r}: its signatures differ from version {version}'s, so clients "
            f"of {name!r} would break when the server switches to it ({shown}). Export under "
            "another name (--export-name NEW), or allow the change (--allow-signature-change)."
        )
    return changes


def fingerprint(saved_model_dir: str) -> str | None:
    """A fingerprint of what a SavedModel computes: its signatures and its variables' values.

    Two exports of the same model (the same weights, the same signatures) have
    the same fingerprint, even from two model objects whose variables Keras
    tracks in another order or under other names (TensorFlow's own
    `fingerprint.pb` hashes depend on both, and its file checksum on more).

    Returns:
        A hex digest, or None if the SavedModel cannot be read.
    """
    import tensorflow as tf

    try:
        summary = signature_summary(saved_model_dir)
        reader = tf.train.load_checkpoint(os.path.join(saved_model_dir, "variables", "variables"))
        keys = sorted(reader.get_variable_to_shape_map())
        values = []
        for key in keys:
            if not key.endswith("VARIABLE_VALUE"):
                continue
            array = np.asarray(reader.get_tensor(key))
            digest = hashlib.sha256(f"{array.dtype}{array.shape}".encode())
            digest.update(array.tobytes())
            values.append(digest.hexdigest())
    except (OSError, ValueError, tf.errors.OpError):
        return None
    total = hashlib.sha256(json.dumps(summary, sort_keys=True).encode())
    for variable_digest in sorted(values):
        total.update(variable_digest.encode())
    return total.hexdigest()


__all__ = [
    "SignatureChangeError",
    "check_signatures",
    "fingerprint",
    "signature_changes",
    "signature_summary",
]
