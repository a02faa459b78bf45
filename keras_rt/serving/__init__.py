"""Serve exported SavedModels over TensorFlow Serving's REST API (FastAPI on uvicorn) and gRPC API.

`ModelStore` finds, loads and hot-reloads `<base>/<name>/<version>/` folders;
`create_app` is the FastAPI app and `create_grpc_server` the gRPC server;
`serve` runs them in the foreground and `start_server` in a background thread.
`load_model_config` reads TF Serving's model config file (models, version
policies, labels) and `ConfigWatcher` reloads it; `ServingMetrics` holds the
Prometheus metrics. The same folders and the same client
requests work against `tensorflow/serving` at production scale.

Safety for untrusted networks: graphs with file-system, process or network
ops are refused before loading (`check_saved_model`; opt out with
`allow_file_ops`), requests must arrive within a read timeout, at most
`max_concurrent_requests` are in flight (503 beyond), and error bodies
carry no file-system paths.
"""

from keras_rt.serving.app import create_app
from keras_rt.serving.batching import Batcher
from keras_rt.serving.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    ServingError,
    Unavailable,
)
from keras_rt.serving.graph_check import UnsafeModelError, check_saved_model, find_forbidden_ops
from keras_rt.serving.grpc_api import create_grpc_server
from keras_rt.serving.limits import ConcurrencyLimit
from keras_rt.serving.metrics import ServingMetrics
from keras_rt.serving.model_config import (
    ConfigWatcher,
    ModelConfig,
    load_model_config,
    parse_model_config,
)
from keras_rt.serving.model_store import (
    MODEL_NAME_RE,
    VERSION_RE,
    ModelStore,
    VersionPolicy,
    VersionStatus,
)
from keras_rt.serving.protocol import http_protocol
from keras_rt.serving.redact import redact_paths
from keras_rt.serving.servable import Servable, SignatureInfo, TensorInfo
from keras_rt.serving.server import RunningServer, bind_socket, serve, start_server, warn_if_root

__all__ = [
    "MODEL_NAME_RE",
    "VERSION_RE",
    "BadRequest",
    "Batcher",
    "ConcurrencyLimit",
    "ConfigWatcher",
    "ModelConfig",
    "ModelStore",
    "NotFound",
    "PayloadTooLarge",
    "RunningServer",
    "Servable",
    "ServingError",
    "ServingMetrics",
    "SignatureInfo",
    "TensorInfo",
    "Unavailable",
    "UnsafeModelError",
    "VersionPolicy",
    "VersionStatus",
    "bind_socket",
    "check_saved_model",
    "create_app",
    "create_grpc_server",
    "find_forbidden_ops",
    "http_protocol",
    "load_model_config",
    "parse_model_config",
    "redact_paths",
    "serve",
    "start_server",
    "warn_if_root",
]
