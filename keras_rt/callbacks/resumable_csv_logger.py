"""`ResumableCSVLogger`: a CSV history with exactly one row per finished epoch, across resumes."""

from __future__ import annotations

import os

import keras


def keep_rows_before(path: str, epoch: int, sep: str = ",") -> int:
    """Rewrites the CSV history at `path` keeping its header and the rows of epochs < `epoch`.

    Rows of later epochs (written before a kill, by an epoch that will be
    trained again), a row cut short by a kill, and repeated epochs are
    dropped. The file is replaced atomically.

    Returns:
        The number of rows kept.
    """
    if not os.path.isfile(path):
        return 0
    with open(path, newline="") as f:
        lines = f.readlines()
    if not lines:
        return 0
    header, rows = lines[0], lines[1:]
    kept: dict[int, str] = {}
    for line in rows:
        if not line.endswith("\n"):
            continue  # cut short by a kill
        first = line.split(sep, 1)[0].strip().strip('"')
        try:
            row_epoch = int(float(first))
        except ValueError:
            continue
        if 0 <= row_epoch < epoch:
            kept[row_epoch] = line
    tmp = f"{path}.tmp"
    with open(tmp, "w", newline="") as f:
        f.write(header if header.endswith("\n") else "")
        f.writelines(kept[e] for e in sorted(kept))
    os.replace(tmp, path)
    return len(kept)


class ResumableCSVLogger(keras.callbacks.CSVLogger):
    """`keras.callbacks.CSVLogger` that keeps one row per finished epoch when a run is resumed.

    Put it before the backup callback (`CrashSafeBackup`) in the list: an
    epoch's row is written before its backup, and when training starts at
    epoch `e` (restored from a backup) the rows of epochs >= `e` are
    removed first. So after any number of kills and resumes the file holds
    each finished epoch once.

    Args:
        filename: the CSV file.
        separator: the field separator.

    Example:

    >>> logger = ResumableCSVLogger("runs/x/history.csv")
    >>> model.fit(data, epochs=5, callbacks=[logger, CrashSafeBackup("runs/x/backup")])  # doctest: +SKIP
    """

    def __init__(self, filename: str, separator: str = ",") -> None:
        super().__init__(filename, separator=separator, append=True)

    def on_train_begin(self, logs=None):
        # The file is opened at the first epoch, once the backup has set the start epoch.
        self.csv_file = None
        self.writer = None
        self.keys = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.csv_file is None:
            keep_rows_before(self.filename, epoch, self.sep)
            super().on_train_begin(logs)

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            super().on_train_end(logs)
        self.csv_file = None


__all__ = ["ResumableCSVLogger", "keep_rows_before"]
