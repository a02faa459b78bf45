"""A reader of IDX files, the format of MNIST and Fashion-MNIST.

An IDX file is a 4-byte magic number -- two zero bytes, a type code and the
number of dimensions -- then one big-endian uint32 per dimension, then the
values in C order. Files may be gzip-compressed (detected from their content,
not their name). Everything is checked: a wrong magic number, an unknown type
code, a truncated or over-long body, or a broken gzip stream raises
`CorruptDatasetError` naming the file.

The standard file names (`train-images-idx3-ubyte.gz`, ...) are found in a
directory by `load_idx_directory`, which also accepts the uncompressed names
and the `train-images.idx3-ubyte` spelling of the original MNIST site.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from keras_rt.datasets.errors import CorruptDatasetError

# IDX type code -> big-endian numpy dtype.
IDX_DTYPES: dict[int, str] = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}

_GZIP_MAGIC = b"\x1f\x8b"

# Split -> (images file stem, labels file stem), as in the MNIST distribution.
IDX_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Reads one IDX file, gzip-compressed or not.

    Args:
        path: the file.

    Returns:
        A read-only numpy array with the file's shape and dtype (native byte
        order).

    Raises:
        FileNotFoundError: the file does not exist.
        CorruptDatasetError: the file is not a valid IDX file.

    Example:

    >>> images = read_idx("/usr/share/datasets/fashion-mnist/"
    ...                   "t10k-images-idx3-ubyte.gz")  # doctest: +SKIP
    >>> images.shape, images.dtype  # doctest: +SKIP
    ((10000, 28, 28), dtype('uint8'))
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    data = path.read_bytes()
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise CorruptDatasetError(
                f"{path}: broken gzip stream ({error}); the file is corrupt or "
                "truncated -- delete it and get it again"
            ) from error
    return parse_idx(data, source=str(path))


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """Parses the (uncompressed) bytes of an IDX file; see `read_idx`.

    Args:
        data: the file's bytes.
        source: a name for the data, used in error messages.

    Returns:
        A read-only numpy array.

    Raises:
        CorruptDatasetError: the bytes are not a valid IDX file.
    """
    if len(data) < 4:
        raise CorruptDatasetError(
            f"{source}: not an IDX file (only {len(data)} bytes; an IDX file "
            "starts with a 4-byte magic number)"
        )
    zero0, zero1, type_code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0 or type_code not in IDX_DTYPES:
        raise CorruptDatasetError(
            f"{source}: not an IDX file (magic number 0x{data[:4].hex()}; "
            "expected 0x0000 then a type code in "
            f"{{{', '.join(f'0x{c:02x}' for c in IDX_DTYPES)}}} and the rank)"
        )
    if ndim == 0:
        raise CorruptDatasetError(f"{source}: IDX file with 0 dimensions")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise CorruptDatasetError(
            f"{source}: truncated IDX header ({len(data)} bytes; {ndim} "
            f"dimensions need {header_size})"
        )
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, offset=4))
    dtype = np.dtype(IDX_DTYPES[type_code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header_size
    if found != expected:
        what = "truncated" if found < expected else "longer than its header says"
        raise CorruptDatasetError(
            f"{source}: IDX body is {what} ({found} bytes; shape {shape} of "
            f"{dtype.name} needs {expected}); the file is corrupt -- delete it "
            "and get it again"
        )
    array = np.frombuffer(data, dtype, offset=header_size).reshape(shape)
    array = array.astype(dtype.newbyteorder("="), copy=False)
    array.flags.writeable = False
    return array


def find_idx_file(data_dir: str | os.PathLike, stem: str) -> Path | None:
    """Finds `stem` in `data_dir`: gzip'd or not, `-idx` or `.idx` spelling.

    Args:
        data_dir: the directory.
        stem: the standard name without `.gz`, e.g. `"train-images-idx3-ubyte"`.

    Returns:
        The first existing file, or `None`.
    """
    data_dir = Path(data_dir)
    dotted = stem.replace("-idx", ".idx")
    for name in (stem + ".gz", stem, dotted + ".gz", dotted):
        if (data_dir / name).is_file():
            return data_dir / name
    return None


def check_data_dir(data_dir: str | os.PathLike) -> Path:
    """Returns `data_dir` as a `Path`, raising if it is not a directory.

    Raises:
        FileNotFoundError: `data_dir` does not exist (the message names it).
        NotADirectoryError: `data_dir` is a file.
    """
    path = Path(data_dir).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"Data directory not found: {path}")
    if not path.is_dir():
        raise NotADirectoryError(f"Data directory is not a directory: {path}")
    return path


def has_idx_files(data_dir: str | os.PathLike) -> bool:
    """Whether `data_dir` is a directory holding all four standard IDX files."""
    path = Path(data_dir).expanduser()
    return path.is_dir() and all(
        find_idx_file(path, stem) is not None for stems in IDX_FILES.values() for stem in stems
    )


def load_idx_directory(
    data_dir: str | os.PathLike,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Reads the four standard MNIST-layout IDX files from a directory.

    Args:
        data_dir: a directory with `train-images-idx3-ubyte[.gz]`,
            `train-labels-idx1-ubyte[.gz]`, `t10k-images-idx3-ubyte[.gz]` and
            `t10k-labels-idx1-ubyte[.gz]`.

    Returns:
        `{"train": (images, labels), "test": (images, labels)}`: images of
        shape `(N, H, W)` as stored (uint8 for the standard files), labels of
        shape `(N,)`.

    Raises:
        FileNotFoundError: `data_dir` does not exist, or files are missing
            (the message names the directory and the missing files).
        CorruptDatasetError: a file is not valid IDX, or images and labels
            do not match.
    """
    path = check_data_dir(data_dir)
    found: dict[str, Path] = {}
    missing: list[str] = []
    for images_stem, labels_stem in IDX_FILES.values():
        for stem in (images_stem, labels_stem):
            file = find_idx_file(path, stem)
            if file is None:
                missing.append(stem + ".gz")
            else:
                found[stem] = file
    if missing:
        raise FileNotFoundError(
            f"Missing IDX files in {path}: {', '.join(missing)} (uncompressed "
            "files without .gz are also accepted)"
        )
    splits = {}
    for split, (images_stem, labels_stem) in IDX_FILES.items():
        images = read_idx(found[images_stem])
        labels = read_idx(found[labels_stem])
        if images.ndim != 3:
            raise CorruptDatasetError(
                f"{found[images_stem]}: expected images of rank 3 (N, H, W), "
                f"found shape {images.shape}"
            )
        if labels.ndim != 1:
            raise CorruptDatasetError(
                f"{found[labels_stem]}: expected labels of rank 1 (N,), found shape {labels.shape}"
            )
        if len(images) != len(labels):
            raise CorruptDatasetError(
                f"{path}: {split} split has {len(images)} images "
                f"({found[images_stem].name}) but {len(labels)} labels "
                f"({found[labels_stem].name})"
            )
        splits[split] = (images, labels)
    return splits
