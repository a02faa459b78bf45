"""Refuse SavedModels whose graphs reach the file system, other processes or the network.

A SavedModel is a program: a signature can read `/etc/passwd` with `ReadFile`
and return it, write files, or call back into Python. `check_saved_model`
reads `saved_model.pb` (the same file `tf.saved_model.load` reads) and walks
every node of every meta graph and every library function *before* anything
is loaded, so nothing in the model runs. Models that use such ops can still be
served with `allow_file_ops=True` (`--allow-file-ops`) when they are trusted.

Checkpoint ops are how variables are saved and restored, so they are allowed
only where the saver (`saver_def`) needs them: `RestoreV2` on its restore path
(the graph nodes its restore op depends on and the functions only they call;
TF1 SavedModels run it at load), `SaveV2` and `MergeV2Checkpoints` on its
save path (which the server never runs). Anywhere else, for example in a
function a signature calls, they are refused too.

This is a denylist: it stops the known file-system, process and network ops
of core TensorFlow, not a determined author of custom kernels; the folder the
server loads from must still be as trusted as code.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

# Ops that read, write, list or map files, run Python, or talk to the network.
FORBIDDEN_OPS = frozenset(
    {
        # File system.
        "ReadFile",
        "WriteFile",
        "MatchingFiles",
        "MatchingFilesDataset",
        "ExperimentalMatchingFilesDataset",
        "ImmutableConst",
        "FileSystemSetConfiguration",
        "RecordInput",
        # Queue-based file readers.
        "WholeFileReader",
        "WholeFileReaderV2",
        "TFRecordReader",
        "TFRecordReaderV2",
        "TextLineReader",
        "TextLineReaderV2",
        "FixedLengthRecordReader",
        "FixedLengthRecordReaderV2",
        "LMDBReader",
        # tf.data sources and sinks backed by files.
        "TFRecordDataset",
        "TFRecordDatasetV2",
        "TextLineDataset",
        "FixedLengthRecordDataset",
        "FixedLengthRecordDatasetV2",
        "CSVDataset",
        "CSVDatasetV2",
        "ExperimentalCSVDataset",
        "LMDBDataset",
        "ExperimentalLMDBDataset",
        "SqlDataset",
        "ExperimentalSqlDataset",
        "DatasetToTFRecord",
        "ExperimentalDatasetToTFRecord",
        "SaveDataset",
        "SaveDatasetV2",
        "LoadDataset",
        "DistributedSave",
        "SnapshotDataset",
        "SnapshotDatasetV2",
        "SnapshotDatasetReader",
        "SnapshotNestedDatasetReader",
        "SnapshotChunkDataset",
        "ListSnapshotChunksDataset",
        "CacheDataset",
        "CacheDatasetV2",
        # Lookup tables and remapping read from files.
        "InitializeTableFromTextFile",
        "InitializeTableFromTextFileV2",
        "GenerateVocabRemapping",
        "LoadAndRemapMatrix",
        # Summary and debugger writers.
        "CreateSummaryFileWriter",
        "CreateSummaryDbWriter",
        "DebugIdentity",
        "DebugIdentityV2",
        "DebugIdentityV3",
        "DebugNanCount",
        "DebugNumericSummary",
        # V1 checkpoints (write or read the exact file named).
        "Save",
        "SaveSlices",
        "Restore",
        "RestoreSlice",
        # Python callbacks.
        "PyFunc",
        "PyFuncStateless",
        "EagerPyFunc",
        # Network.
        "DataServiceDataset",
        "DataServiceDatasetV2",
        "DataServiceDatasetV3",
        "DataServiceDatasetV4",
        "RegisterDataset",
        "RegisterDatasetV2",
    }
)

# Checkpoint ops: allowed only on the saver's paths (see the module docstring).
CHECKPOINT_OPS = frozenset({"SaveV2", "RestoreV2", "MergeV2Checkpoints"})
_RESTORE_OPS = frozenset({"RestoreV2"})
_SAVE_OPS = frozenset({"SaveV2", "MergeV2Checkpoints"})

_PRINT_STREAMS = frozenset({"stderr", "stdout", "log(info)", "log(warning)", "log(error)"})


class UnsafeModelError(ValueError):
    """A SavedModel refused by `check_saved_model`; `error_code` is its status code."""

    error_code = "PERMISSION_DENIED"


def _attr_text(node, key: str) -> str:
    value = node.attr[key].s if key in node.attr else b""
    return value.decode("utf-8", "replace")


def _forbidden_by_attrs(node) -> bool:
    """Ops that are safe by default but reach files through one of their attributes."""
    if node.op == "PrintV2":
        return bool(_attr_text(node, "output_stream")) and (
            _attr_text(node, "output_stream") not in _PRINT_STREAMS
        )
    if node.op in ("DecodeProtoV2", "EncodeProto"):  # "bytes://..." is inline, not a file
        source = _attr_text(node, "descriptor_source")
        return source not in ("", "local://") and not source.startswith("bytes://")
    if node.op == "FixedUnigramCandidateSampler":
        return bool(_attr_text(node, "vocab_file"))
    if node.op in ("Copy", "CopyHost"):  # tfdbg specs such as "DebugIdentity;file:///x;0"
        return "debug_ops_spec" in node.attr and bool(node.attr["debug_ops_spec"].list.s)
    return False


def _called_functions(node, library: set[str]) -> Iterator[str]:
    """Names of the library functions that `node` calls (through its op or its attributes)."""
    if node.op in library:
        yield node.op
    for value in node.attr.values():
        if value.HasField("func"):
            yield value.func.name
        yield from (f.name for f in value.list.func)


def _closure(start: Iterable[str], calls: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    stack = [name for name in start if name in calls]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(calls[name] - seen)
    return seen


def _node_name(tensor: str) -> str:
    return tensor.lstrip("^").split(":")[0]


def _graph_closure(meta_graph, tensors: Iterable[str]) -> set[str]:
    """The graph nodes that `tensors` (names such as `"node:0"` or `"^node"`) depend on."""
    nodes = {node.name: node for node in meta_graph.graph_def.node}
    stack = [_node_name(t) for t in tensors if t]
    seen: set[str] = set()
    while stack:
        name = stack.pop()
        if name in seen or name not in nodes:
            continue
        seen.add(name)
        stack.extend(_node_name(i) for i in nodes[name].input)
    return seen


def _signature_tensors(meta_graph) -> list[str]:
    return [
        info.name
        for signature in meta_graph.signature_def.values()
        for info in (*signature.outputs.values(), *signature.inputs.values())
    ]


def _object_graph_functions(meta_graph) -> set[str]:
    """Functions the loader restores as Python callables (signatures, tf.functions, resources)."""
    names: set[str] = set()
    for obj in meta_graph.object_graph_def.nodes:
        kind = obj.WhichOneof("kind")
        if kind == "function":
            names.update(obj.function.concrete_functions)
        elif kind == "bare_concrete_function":
            names.add(obj.bare_concrete_function.concrete_function_name)
    names.update(meta_graph.object_graph_def.concrete_functions)
    return names


def find_forbidden_ops(saved_model) -> list[str]:
    """The forbidden op types in a `SavedModel` proto, sorted (empty: nothing forbidden).

    Args:
        saved_model: a `tensorflow.core.protobuf.saved_model_pb2.SavedModel`.

    Returns:
        Sorted, unique op type names.

    Example:

    >>> from tensorflow.core.protobuf import saved_model_pb2
    >>> proto = saved_model_pb2.SavedModel()
    >>> proto.meta_graphs.add().graph_def.node.add(name="r", op="ReadFile")
    name: "r"
    op: "ReadFile"
    >>> find_forbidden_ops(proto)
    ['ReadFile']
    """
    found: set[str] = set()
    for meta_graph in saved_model.meta_graphs:
        library = {f.signature.name: f for f in meta_graph.graph_def.library.function}
        names = set(library)
        calls = {
            name: {c for node in f.node_def for c in _called_functions(node, names)}
            for name, f in library.items()
        }
        signature_nodes = _graph_closure(meta_graph, _signature_tensors(meta_graph))
        saver = meta_graph.saver_def
        restore_nodes = _graph_closure(meta_graph, [saver.restore_op_name]) - signature_nodes
        save_nodes = _graph_closure(meta_graph, [saver.save_tensor_name]) - signature_nodes
        roots: dict[str, set[str]] = {"restore": set(), "save": set(), "other": set()}
        roots["other"].update(_object_graph_functions(meta_graph))
        for node in meta_graph.graph_def.node:
            if node.name in restore_nodes:
                path, allowed = "restore", _RESTORE_OPS
            elif node.name in save_nodes:
                path, allowed = "save", _SAVE_OPS
            else:
                path, allowed = "other", frozenset()
            roots[path].update(_called_functions(node, names))
            found.update(_forbidden(node, allowed))
        # A function anything else reaches is checked in full, and so is one nothing reaches.
        reached = {path: _closure(start, calls) for path, start in roots.items()}
        for name, function in library.items():
            if name in reached["other"]:
                allowed = frozenset()
            elif name in reached["restore"]:
                allowed = _RESTORE_OPS
            elif name in reached["save"]:
                allowed = _SAVE_OPS
            else:
                allowed = frozenset()
            for node in function.node_def:
                found.update(_forbidden(node, allowed))
    return sorted(found)


def _forbidden(node, allowed_checkpoint_ops: frozenset[str]) -> Iterator[str]:
    if node.op in FORBIDDEN_OPS or _forbidden_by_attrs(node):
        yield node.op
    elif node.op in CHECKPOINT_OPS and node.op not in allowed_checkpoint_ops:
        yield node.op


def read_saved_model(path: str):
    """Parses the `SavedModel` proto of a version folder, as `tf.saved_model.load` reads it.

    `saved_model.pb` is read if present, else `saved_model.pbtxt` (TensorFlow's
    order).

    Raises:
        ValueError: neither file exists or it cannot be parsed (the message
            names the file, never the folder).
    """
    from google.protobuf import message, text_format
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    for filename, binary in (("saved_model.pb", True), ("saved_model.pbtxt", False)):
        try:
            with open(os.path.join(path, filename), "rb") as f:
                content = f.read()
        except FileNotFoundError:
            continue
        except OSError as error:
            raise ValueError(f"Cannot read {filename}: {error.strerror or error}") from None
        try:
            if binary:
                proto.ParseFromString(content)
            else:
                text_format.Parse(content.decode("utf-8"), proto)
        except (message.DecodeError, text_format.ParseError, UnicodeDecodeError):
            raise ValueError(
                f"Cannot parse {filename}: not a SavedModel, or not completely written yet"
            ) from None
        return proto
    raise ValueError("No saved_model.pb or saved_model.pbtxt in the version folder")


def check_saved_model(path: str) -> None:
    """Raises `UnsafeModelError` if the SavedModel at `path` uses a forbidden op.

    Nothing in the model is loaded or run: only its graph protos are read.

    Args:
        path: a SavedModel folder (a version folder).

    Raises:
        UnsafeModelError: naming the forbidden op types found.
        ValueError: `saved_model.pb` is missing or cannot be parsed.
    """
    ops = find_forbidden_ops(read_saved_model(path))
    if ops:
        shown = ", ".join(ops[:12]) + (f" and {len(ops) - 12} more" if len(ops) > 12 else "")
        raise UnsafeModelError(
            f"Refused to load: the SavedModel's graphs use file-system, process or network "
            f"ops ({shown}); load it only if you trust it, with --allow-file-ops"
        )
