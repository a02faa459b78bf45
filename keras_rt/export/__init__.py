"""SavedModel export in TensorFlow Serving's layout, and the signatures it writes."""

from keras_rt.export.compatibility import SignatureChangeError, signature_changes, signature_summary
from keras_rt.export.savedmodel import (
    EXTRA_DIR,
    check_export_target,
    check_writable,
    existing_versions,
    export_model,
)
from keras_rt.export.signatures import SIGNATURE_NAMES, SIGNATURES, Signature

__all__ = [
    "EXTRA_DIR",
    "SIGNATURES",
    "SIGNATURE_NAMES",
    "Signature",
    "SignatureChangeError",
    "check_export_target",
    "check_writable",
    "existing_versions",
    "export_model",
    "signature_changes",
    "signature_summary",
]
