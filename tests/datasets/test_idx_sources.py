"""IDX reading and the file-backed sources (`fashion_mnist`, `mnist`), offline.

Every test writes its own small synthetic files; nothing is downloaded and
nothing depends on the Debian package being installed.
"""

import gzip
import struct

import keras
import numpy as np
import pytest

from keras_rt.datasets import (
    CorruptDatasetError,
    DatasetUnavailableError,
    clear_cache,
    fashion_mnist,
    load_arrays,
    load_dataset,
    read_idx,
)

N_TRAIN = 5000 + 60  # fashion_mnist / mnist carve 5,000 validation images.
N_TEST = 20
TYPE_CODES = {
    np.uint8: 0x08,
    np.int8: 0x09,
    np.int16: 0x0B,
    np.int32: 0x0C,
    np.float32: 0x0D,
    np.float64: 0x0E,
}


def write_idx(path, array, compress=None):
    """Writes `array` as an IDX file (gzip'd when the name ends in .gz)."""
    array = np.asarray(array)
    header = bytes([0, 0, TYPE_CODES[array.dtype.type], array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if compress if compress is not None else str(path).endswith(".gz"):
        data = gzip.compress(data, compresslevel=1)
    path.write_bytes(data)
    return path


def synthetic_mnist(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "train": (
            rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, N_TRAIN, dtype=np.uint8),
        ),
        "test": (
            rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, N_TEST, dtype=np.uint8),
        ),
    }


def write_idx_dir(directory, data, suffix=".gz"):
    directory.mkdir(parents=True, exist_ok=True)
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images, labels = data[split]
        write_idx(directory / f"{prefix}-images-idx3-ubyte{suffix}", images)
        write_idx(directory / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
    return directory


@pytest.fixture(scope="module")
def data():
    return synthetic_mnist()


@pytest.fixture(scope="module")
def idx_dir(tmp_path_factory, data):
    return write_idx_dir(tmp_path_factory.mktemp("idx"), data)


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network, and no Debian package (its folder points nowhere)."""

    def no_network(*args, **kwargs):
        raise Exception(
            "URL fetch failure on https://storage.googleapis.com/...: None -- "
            "[Errno -3] Temporary failure in name resolution"
        )

    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_network)
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", no_network)
    monkeypatch.setenv(fashion_mnist.DIR_ENV_VAR, str(tmp_path / "not-installed"))


# --- read_idx -------------------------------------------------------------


@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32])
def test_read_idx_round_trip(tmp_path, name, dtype):
    array = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(dtype)
    if dtype == np.uint8:
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    read = read_idx(write_idx(tmp_path / name, array))
    assert read.dtype == dtype and read.shape == (2, 3, 4)
    np.testing.assert_array_equal(read, array)


def test_gzip_is_detected_from_content_not_name(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    read = read_idx(write_idx(tmp_path / "labels-idx1-ubyte", array, compress=True))
    np.testing.assert_array_equal(read, array)


def _header(type_code, shape):
    return bytes([0, 0, type_code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


@pytest.mark.parametrize(
    "content, match",
    [
        (b"\x1f\x8b\x08\x00garbage-that-is-not-deflate", "gzip"),
        (b"\x00\x00", "only 2 bytes"),
        (b"PK\x03\x04" + bytes(20), "magic number 0x504b0304"),
        (bytes([0, 0, 0x07, 1]) + bytes(8), "magic number 0x00000701"),
        (_header(0x08, (2, 3)) + bytes(5), "truncated"),
        (_header(0x08, (2, 3)) + bytes(7), "longer than its header"),
        (_header(0x0C, (2,)) + bytes(4), "truncated"),
        (bytes([0, 0, 0x08, 3]) + bytes(4), "truncated IDX header"),
    ],
)
def test_corrupt_idx_files_raise_clear_errors(tmp_path, content, match):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(CorruptDatasetError, match=match) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_truncated_gzip_file(tmp_path):
    good = write_idx(tmp_path / "x-idx1-ubyte.gz", np.arange(1000, dtype=np.uint8))
    good.write_bytes(good.read_bytes()[:-20])
    with pytest.raises(CorruptDatasetError, match="gzip"):
        read_idx(good)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-idx3-ubyte"):
        read_idx(tmp_path / "nothing-idx3-ubyte")


# --- fashion_mnist and mnist from a data_dir --------------------------------


@pytest.mark.parametrize("name", ["fashion_mnist", "mnist"])
def test_load_from_idx_data_dir(name, idx_dir, data):
    arrays = load_arrays(name, data_dir=str(idx_dir))
    assert {s: len(a[0]) for s, a in arrays.items()} == {
        "train": N_TRAIN - 5000,
        "validation": 5000,
        "test": N_TEST,
    }
    x_test, y_test = arrays["test"]
    assert x_test.shape == (N_TEST, 28, 28, 1) and x_test.dtype == np.float32
    np.testing.assert_allclose(x_test[..., 0], data["test"][0] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y_test, data["test"][1])
    # Train + validation is a permutation of the official train split.
    both = np.concatenate([arrays["train"][1], arrays["validation"][1]])
    np.testing.assert_array_equal(np.sort(both), np.sort(data["train"][1]))

    splits = load_dataset(
        name,
        data_dir=idx_dir,
        batch_size=8,
        max_examples=24,
        binarized=True,
        flatten=True,
        with_labels=True,
    )
    assert splits.num_examples == {"train": 24, "validation": 24, "test": N_TEST}
    assert splits.image_shape == (28, 28, 1) and splits.input_shape == (784,)
    x, y = next(iter(splits.train))
    assert x.shape == (8, 784) and y.shape == (8,)
    assert set(np.unique(x.numpy())) <= {0.0, 1.0}
    x_test, y_test = splits.test_arrays()
    assert x_test.shape == (N_TEST, 784)
    np.testing.assert_array_equal(y_test, data["test"][1])


def test_uncompressed_and_dotted_file_names(tmp_path, data):
    directory = tmp_path / "plain"
    directory.mkdir()
    for split, prefix in (("train", "train"), ("test", "t10k")):
        write_idx(directory / f"{prefix}-images.idx3-ubyte", data[split][0])
        write_idx(directory / f"{prefix}-labels.idx1-ubyte", data[split][1])
    arrays = load_arrays("mnist", data_dir=directory)
    np.testing.assert_array_equal(arrays["test"][1], data["test"][1])


def test_mnist_from_npz(tmp_path, data):
    np.savez(
        tmp_path / "mnist.npz",
        x_train=data["train"][0],
        y_train=data["train"][1],
        x_test=data["test"][0],
        y_test=data["test"][1],
    )
    for where in (tmp_path, tmp_path / "mnist.npz"):
        arrays = load_arrays("mnist", data_dir=where)
        np.testing.assert_allclose(arrays["test"][0][..., 0], data["test"][0] / 255.0)


def test_corrupt_npz(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"not a zip file")
    with pytest.raises(CorruptDatasetError, match="mnist.npz"):
        load_arrays("mnist", data_dir=tmp_path)


@pytest.mark.parametrize("name", ["fashion_mnist", "mnist"])
def test_missing_data_dir_names_the_path(name, tmp_path, offline):
    missing = tmp_path / "no" / "such" / "dir"
    with pytest.raises(FileNotFoundError, match=str(missing)) as info:
        load_dataset(name, data_dir=str(missing))
    assert not isinstance(info.value, DatasetUnavailableError)


@pytest.mark.parametrize("name", ["fashion_mnist", "mnist"])
def test_data_dir_without_files_names_them(name, tmp_path, offline):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz") as info:
        load_dataset(name, data_dir=tmp_path)
    assert str(tmp_path) in str(info.value)


def test_corrupt_file_in_data_dir(tmp_path, data):
    directory = write_idx_dir(tmp_path / "d", data)
    corrupt = gzip.compress(b"\x00\x00\x08")
    (directory / "t10k-labels-idx1-ubyte.gz").write_bytes(corrupt)
    with pytest.raises(CorruptDatasetError, match="t10k-labels-idx1-ubyte.gz"):
        load_dataset("fashion_mnist", data_dir=directory)


def test_images_and_labels_must_match(tmp_path, data):
    bad = dict(data, test=(data["test"][0], data["test"][1][:-1]))
    directory = write_idx_dir(tmp_path / "d", bad)
    with pytest.raises(CorruptDatasetError, match=f"{N_TEST} images"):
        load_dataset("mnist", data_dir=directory)


# --- default sources and the offline message --------------------------------


def test_fashion_mnist_default_dir_is_overridable(monkeypatch, offline, idx_dir, data):
    monkeypatch.setenv(fashion_mnist.DIR_ENV_VAR, str(idx_dir))
    arrays = load_arrays("fashion_mnist")  # no data_dir: the "Debian" folder.
    np.testing.assert_array_equal(arrays["test"][1], data["test"][1])


def test_fashion_mnist_falls_back_to_keras(monkeypatch, offline, data):
    monkeypatch.setattr(
        keras.datasets.fashion_mnist,
        "load_data",
        lambda: (data["train"], data["test"]),
    )
    splits = load_dataset("fashion_mnist", max_examples=10)
    np.testing.assert_array_equal(splits.test_arrays()[1], data["test"][1][:10])


def test_fashion_mnist_offline_says_how_to_get_it(offline, tmp_path):
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset("fashion_mnist")
    assert isinstance(info.value, FileNotFoundError)
    message = str(info.value)
    assert "\n" not in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "data_dir" in message and "--data-dir" in message
    assert "keras.datasets.fashion_mnist" in message
    assert str(tmp_path / "not-installed") in message


def test_mnist_offline_says_how_to_get_it(offline):
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset("mnist", batch_size=32)
    assert isinstance(info.value, FileNotFoundError)
    message = str(info.value)
    assert "\n" not in message
    assert "data_dir" in message and "--data-dir" in message
    assert "mnist.npz" in message and "keras.datasets.mnist" in message
    assert "dataset-fashion-mnist" in message  # the offline alternative.
