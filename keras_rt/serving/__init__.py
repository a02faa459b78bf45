"""Serve exported SavedModels over TensorFlow Serving's REST API (FastAPI on uvicorn).

`ModelStore` finds, loads and hot-reloads `<base>/<name>/<version>/` folders;
`create_app` is the FastAPI app; `serve` runs it in the foreground and
`start_server` in a background thread. The same folders and the same client
requests work against `tensorflow/serving` at production scale.
"""

from keras_rt.serving.app import create_app
from keras_rt.serving.batching import Batcher
from keras_rt.serving.errors import BadRequest, NotFound, PayloadTooLarge, ServingError
from keras_rt.serving.model_store import MODEL_NAME_RE, VERSION_RE, ModelStore, VersionStatus
from keras_rt.serving.servable import Servable, SignatureInfo, TensorInfo
from keras_rt.serving.server import RunningServer, bind_socket, serve, start_server

__all__ = [
    "MODEL_NAME_RE",
    "VERSION_RE",
    "BadRequest",
    "Batcher",
    "ModelStore",
    "NotFound",
    "PayloadTooLarge",
    "RunningServer",
    "Servable",
    "ServingError",
    "SignatureInfo",
    "TensorInfo",
    "VersionStatus",
    "bind_socket",
    "create_app",
    "serve",
    "start_server",
]
