"""SavedModel export in TensorFlow Serving's layout, and the signatures it writes."""

from keras_rt.export.savedmodel import EXTRA_DIR, existing_versions, export_model
from keras_rt.export.signatures import SIGNATURE_NAMES, SIGNATURES, Signature

__all__ = [
    "EXTRA_DIR",
    "SIGNATURES",
    "SIGNATURE_NAMES",
    "Signature",
    "existing_versions",
    "export_model",
]
