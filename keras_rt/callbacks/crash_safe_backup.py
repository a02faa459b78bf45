"""`CrashSafeBackup`: training state backed up so that a kill at any moment can be resumed."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import time
from collections.abc import Callable

import keras

from keras_rt.callbacks.keras_saving_cache import install_saving_skipset_cache

STATE_FILE = "state.json"
WEIGHTS_FILE = "state.weights.h5"
_EPOCH_DIR = re.compile(r"^epoch-(\d+)$")


def _fsync(path: str) -> None:
    """Flushes a file (or a folder's entries) to the disk."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if os.path.isdir(path) else os.O_RDONLY
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class CrashSafeBackup(keras.callbacks.Callback):
    """Backs up the training state at the end of every epoch; resumes from the newest readable backup.

    Like `keras.callbacks.BackupAndRestore`, but a kill at any moment
    (`kill -9`, a power cut after the OS has written its cache) leaves a
    state that resumes, losing at most the epoch in progress:

    - each backup (weights with the optimizer's state, and the epoch) is
      written into a temporary folder, flushed to disk and renamed into
      `epoch-NNNNN/` in one step, so a backup is either complete or absent;
    - the `keep` newest backups are kept; a backup that cannot be read (a
      damaged disk, a file cut short by hand) is set aside as
      `unreadable-epoch-NNNNN-<time>/` with a one-line notice and the
      previous one is used instead — never a traceback;
    - an epoch whose loss is NaN or infinite is not backed up, so a rerun
      (with a lower learning rate, say) resumes from the last finite state;
    - `save_finished()` records that `fit` has ended (also after early
      stopping), so a run killed after training but before its evaluation
      and export resumes without training again.

    Args:
        backup_dir: the folder of the backups (used by this run only).
        keep: how many backups to keep (>= 2 gives a fallback).
        notice: where one-line notices go (default `print`).

    Example:

    >>> backup = CrashSafeBackup("runs/mlp_vae-digits/backup")
    >>> model.fit(data, epochs=50, callbacks=[backup])  # doctest: +SKIP
    >>> # killed at epoch 31; the same call again continues at epoch 31 (or 30).
    """

    def __init__(
        self, backup_dir: str, keep: int = 2, notice: Callable[[str], None] = print
    ) -> None:
        super().__init__()
        if not isinstance(backup_dir, str) or not backup_dir:
            raise ValueError(f"`backup_dir` must be a folder path. Received: {backup_dir!r}")
        if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
            raise ValueError(f"`keep` must be an integer >= 1. Received: keep={keep!r}")
        install_saving_skipset_cache()  # each backup saves the weights: let Keras cache its walk
        self.backup_dir = backup_dir
        self.keep = keep
        self.notice = notice
        self.restored_epoch: int | None = None

    # -- the backups on disk -------------------------------------------------------------

    def backups(self) -> list[tuple[int, str]]:
        """`(epoch, folder)` of the complete backups, newest first."""
        if not os.path.isdir(self.backup_dir):
            return []
        found = []
        for entry in os.listdir(self.backup_dir):
            match = _EPOCH_DIR.match(entry)
            if match:
                found.append((int(match.group(1)), os.path.join(self.backup_dir, entry)))
        return sorted(found, reverse=True)

    def _write(self, epoch: int, finished: bool) -> None:
        os.makedirs(self.backup_dir, exist_ok=True)
        name = f"epoch-{epoch:05d}"
        tmp = os.path.join(self.backup_dir, f".tmp-{name}-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        weights = os.path.join(tmp, WEIGHTS_FILE)
        self.model.save_weights(weights, overwrite=True)
        with open(os.path.join(tmp, STATE_FILE), "w") as f:
            json.dump({"epoch": epoch, "finished": finished, "time": time.time()}, f)
            f.flush()
            os.fsync(f.fileno())
        _fsync(weights)
        _fsync(tmp)
        target = os.path.join(self.backup_dir, name)
        if os.path.exists(target):
            shutil.rmtree(target)
        os.rename(tmp, target)
        _fsync(self.backup_dir)
        for _, old in self.backups()[self.keep :]:
            shutil.rmtree(old, ignore_errors=True)

    def _set_aside(self, folder: str, error: BaseException) -> None:
        aside = os.path.join(
            os.path.dirname(folder), f"unreadable-{os.path.basename(folder)}-{int(time.time())}"
        )
        try:
            os.rename(folder, aside)
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)
            aside = "(removed)"
        reason = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
        self.notice(
            f"Backup {os.path.basename(folder)} cannot be read ({type(error).__name__}: {reason}); "
            f"set aside as {aside}."
        )

    def _read_epoch(self, folder: str) -> tuple[int, bool]:
        with open(os.path.join(folder, STATE_FILE)) as f:
            state = json.load(f)
        epoch = state["epoch"]
        if not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"bad epoch {epoch!r} in {STATE_FILE}")
        return epoch, bool(state.get("finished", False))

    # -- Keras hooks -----------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self.restored_epoch = None
        for _, folder in self.backups():
            try:
                epoch, finished = self._read_epoch(folder)
                if self.model.optimizer is not None and not self.model.optimizer.built:
                    self.model.optimizer.build(self.model.trainable_variables)
                self.model.load_weights(os.path.join(folder, WEIGHTS_FILE))
            except Exception as error:  # any unreadable backup: fall back to the previous one
                self._set_aside(folder, error)
                continue
            epochs = self.params.get("epochs") if self.params else None
            start = max(epoch, epochs) if finished and epochs else epoch
            self.model._initial_epoch = start
            self.restored_epoch = start
            return

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            return  # a diverged epoch: a rerun resumes from the last finite state
        self._write(epoch + 1, finished=False)

    def save_finished(self, epochs: int) -> None:
        """Records that training has ended with the model's current weights (call after `fit`)."""
        self._write(epochs, finished=True)


__all__ = ["CrashSafeBackup"]
