"""The load-time op check: graphs with file-system, process or network ops are refused."""

import shutil

import pytest
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from keras_rt.serving import ModelStore, UnsafeModelError, check_saved_model, find_forbidden_ops
from keras_rt.serving.graph_check import read_saved_model
from tests.serving.client import call, predict

SECRET = "TOP-SECRET-6d1f"


def save_module(path, serve):
    """Saves a `tf.Module` whose `serving_default` signature is `serve(x: float32[None])`."""
    module = tf.Module()
    module.serve = tf.function(serve, input_signature=[tf.TensorSpec([None], tf.float32)])
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    return path


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("secret") / "secret.txt"
    path.write_text(SECRET)
    return str(path)


@pytest.fixture(scope="module")
def evil_base(tmp_path_factory, secret_file, exported):
    """A base path with `evil/1` (reads a file and returns it) next to a real `mlp_vae/1`."""
    base = tmp_path_factory.mktemp("evil_base")
    save_module(
        base / "evil" / "1",
        lambda x: {"leak": tf.fill(tf.shape(x), tf.io.read_file(secret_file))},
    )
    shutil.copytree(exported / "mlp_vae", base / "mlp_vae")
    return base


def forbidden(path):
    return find_forbidden_ops(read_saved_model(str(path)))


def test_a_model_that_reads_a_file_is_refused_before_loading(evil_base, monkeypatch):
    loads = []
    real_load = tf.saved_model.load
    monkeypatch.setattr(
        tf.saved_model, "load", lambda p, **kw: loads.append(p) or real_load(p, **kw)
    )
    store = ModelStore(str(evil_base), poll_seconds=0)
    store.refresh()
    assert [str(p) for p in loads] == [str(evil_base / "mlp_vae" / "1")]  # evil/1 never ran
    status = store.status_json("evil")["model_version_status"][0]
    assert status["state"] == "END"
    assert status["status"]["error_code"] == "PERMISSION_DENIED"
    message = status["status"]["error_message"]
    assert "ReadFile" in message and "--allow-file-ops" in message
    assert str(evil_base) not in message and "secret" not in message
    # The zoo's real export next to it loads.
    assert store.status_json("mlp_vae")["model_version_status"][0]["state"] == "AVAILABLE"


def test_the_refused_model_never_answers_over_http(evil_base, secret_file):
    from keras_rt.serving import start_server

    with start_server(ModelStore(str(evil_base), poll_seconds=0)) as server:
        code, body = call(server.url, "GET", "/v1/models/evil")
        assert code == 200 and body["model_version_status"][0]["state"] == "END"
        code, body = predict(server.url, "evil", {"instances": [1.0]})
        assert code == 404 and "ReadFile" in body["error"]
        for text in (str(body), str(call(server.url, "GET", "/v1/models/evil")[1])):
            assert SECRET not in text and secret_file not in text and str(evil_base) not in text
        assert predict(server.url, "mlp_vae", {"instances": [[0.5] * 64]})[0] == 200


def test_allow_file_ops_loads_it_which_is_why_it_is_dangerous(evil_base):
    store = ModelStore(str(evil_base), poll_seconds=0, allow_file_ops=True)
    store.refresh()
    leaked = store.get("evil").signatures["serving_default"]({"x": tf.constant([1.0]).numpy()})
    assert leaked["leak"][0] == SECRET.encode()


def test_the_zoo_export_has_no_forbidden_ops(exported):
    # Its saver (SaveV2, RestoreV2, MergeV2Checkpoints) is allowed: it only restores variables.
    assert forbidden(exported / "mlp_vae" / "1") == []
    check_saved_model(str(exported / "mlp_vae" / "1"))


@pytest.mark.parametrize(
    "name, serve, expected",
    [
        ("print_to_stderr", lambda x: (tf.print(x), {"y": x})[1], []),
        (
            "print_to_file",
            lambda x: (tf.print(x, output_stream="file:///tmp/keras_rt_print.txt"), {"y": x})[1],
            ["PrintV2"],
        ),
        (
            "checkpoint_in_a_signature",
            lambda x: (
                tf.raw_ops.SaveV2(
                    prefix="/tmp/keras_rt_ckpt",
                    tensor_names=["x"],
                    shape_and_slices=[""],
                    tensors=[x],
                ),
                {"y": x},
            )[1],
            ["SaveV2"],
        ),
        ("python", lambda x: {"y": tf.py_function(lambda v: v, [x], tf.float32)}, ["EagerPyFunc"]),
        (
            "write_in_a_while_loop",
            lambda x: {
                "y": tf.while_loop(
                    lambda i: i < 1,
                    lambda i: (tf.io.write_file("/tmp/keras_rt_w.txt", "x"), i + 1)[1],
                    [0],
                )[0]
            },
            ["WriteFile"],
        ),
        ("list_files", lambda x: {"y": tf.io.matching_files("/etc/*")}, ["MatchingFiles"]),
    ],
)
def test_ops_found_anywhere_in_the_graphs(tmp_path, name, serve, expected):
    path = save_module(tmp_path / name, serve)
    assert forbidden(path) == expected
    if expected:
        with pytest.raises(UnsafeModelError, match=expected[0]):
            check_saved_model(str(path))


def graph(*calls, save_ops=("SaveV2", "MergeV2Checkpoints"), restore_ops=("RestoreV2",)):
    """A SavedModel proto whose saver calls `__save`/`__restore`; graph nodes call `calls` too."""
    proto = saved_model_pb2.SavedModel()
    meta = proto.meta_graphs.add()
    meta.saver_def.save_tensor_name = "save:0"
    meta.saver_def.restore_op_name = "restore"
    library = meta.graph_def.library
    for function, ops in (("__save", save_ops), ("__restore", restore_ops), ("__other", ())):
        body = library.function.add()
        body.signature.name = function
        for i, op in enumerate(ops):
            body.node_def.add(name=f"n{i}", op=op)
    for node_name, function in (("save", "__save"), ("restore", "__restore")):
        node = meta.graph_def.node.add(name=node_name, op="StatefulPartitionedCall")
        node.attr["f"].func.name = function
    for i, function in enumerate(calls):
        node = meta.graph_def.node.add(name=f"call_{i}", op="StatefulPartitionedCall")
        node.attr["f"].func.name = function
        meta.signature_def["sig"].outputs["y"].name = f"call_{i}:0"
    return proto


def test_checkpoint_ops_are_allowed_only_where_the_saver_needs_them():
    assert find_forbidden_ops(graph()) == []
    # The saver's functions reached from a signature: refused.
    assert find_forbidden_ops(graph("__save")) == ["MergeV2Checkpoints", "SaveV2"]
    assert find_forbidden_ops(graph("__restore")) == ["RestoreV2"]
    # Writes on the restore path (which TF1 SavedModels run at load): refused.
    assert find_forbidden_ops(graph(restore_ops=("RestoreV2", "SaveV2"))) == ["SaveV2"]
    # A checkpoint op in a function that only the graph's other nodes call: refused.
    proto = graph("__other")
    proto.meta_graphs[0].graph_def.library.function[2].node_def.add(name="r", op="RestoreV2")
    assert find_forbidden_ops(proto) == ["RestoreV2"]
    # ... or in a graph node outside the saver.
    proto = graph()
    proto.meta_graphs[0].graph_def.node.add(name="w", op="MergeV2Checkpoints")
    assert find_forbidden_ops(proto) == ["MergeV2Checkpoints"]
    # Any other forbidden op is refused even inside the saver.
    assert find_forbidden_ops(graph(restore_ops=("RestoreV2", "ReadFile"))) == ["ReadFile"]


def test_unreadable_saved_model_errors_name_no_folder(tmp_path):
    with pytest.raises(ValueError, match="No saved_model.pb") as missing:
        read_saved_model(str(tmp_path))
    (tmp_path / "saved_model.pb").write_bytes(b"\xff\xff garbage")
    with pytest.raises(ValueError, match="Cannot parse saved_model.pb") as garbage:
        read_saved_model(str(tmp_path))
    for error in (missing, garbage):
        assert str(tmp_path) not in str(error.value)


def test_a_tf1_saved_model_with_its_saver_in_the_graph_loads(tmp_path):
    path = str(tmp_path / "m" / "1")
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        x = tf.compat.v1.placeholder(tf.float32, [None, 2], name="x")
        y = tf.matmul(x, tf.compat.v1.get_variable("w", [2, 1]), name="y")
        session.run(tf.compat.v1.global_variables_initializer())
        builder = tf.compat.v1.saved_model.Builder(path)
        signature = tf.compat.v1.saved_model.predict_signature_def({"x": x}, {"y": y})
        builder.add_meta_graph_and_variables(
            session, ["serve"], signature_def_map={"serving_default": signature}
        )
        builder.save()
    assert forbidden(path) == []  # save/SaveV2, save/RestoreV2 are graph nodes of the saver
    store = ModelStore(str(tmp_path), poll_seconds=0)
    store.refresh()
    assert store.status_json("m")["model_version_status"][0]["state"] == "AVAILABLE"
