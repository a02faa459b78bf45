"""Errors raised by `keras_rt.datasets`.

Both are user errors (the `keras-rt` CLI prints them as one line, without a
traceback): `DatasetUnavailableError` subclasses `FileNotFoundError` and
`CorruptDatasetError` subclasses `ValueError`.
"""

from __future__ import annotations


class DatasetUnavailableError(FileNotFoundError):
    """A data set is not on this machine and cannot be downloaded.

    The message says, on one line, every way to get the data set: the
    package to install, the `data_dir=` argument (the `--data-dir` flag on
    the command line), and that `keras.datasets` downloads it when online.
    """


class CorruptDatasetError(ValueError):
    """A data file exists but cannot be read (bad magic number, truncated...).

    The message names the file and what is wrong with it.
    """
