import os

import keras
import numpy as np
import pytest

from keras_rt.callbacks import CrashSafeBackup, ResumableCSVLogger
from keras_rt.callbacks.resumable_csv_logger import keep_rows_before


def _model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.Adam(0.01), loss="mse")
    return model


DATA = (np.random.default_rng(0).normal(size=(16, 3)), np.zeros((16, 2)))


class Stop(keras.callbacks.Callback):
    """Raises at the end of epoch `at` (after the callbacks before it in the list)."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at:
            raise RuntimeError("killed")


def _fit(model, tmp_path, epochs, extra=(), notices=None):
    callbacks = [
        ResumableCSVLogger(str(tmp_path / "history.csv")),
        CrashSafeBackup(
            str(tmp_path / "backup"), notice=print if notices is None else notices.append
        ),
        *extra,
    ]
    return model.fit(*DATA, epochs=epochs, batch_size=8, verbose=0, callbacks=callbacks)


def _epochs_in_csv(path):
    lines = open(path).read().splitlines()
    return [int(line.split(",")[0]) for line in lines[1:]]


def test_keeps_the_two_newest_complete_backups(tmp_path):
    _fit(_model(), tmp_path, epochs=4)
    assert sorted(os.listdir(tmp_path / "backup")) == ["epoch-00003", "epoch-00004"]
    assert _epochs_in_csv(tmp_path / "history.csv") == [0, 1, 2, 3]


def test_resumes_where_it_stopped_with_one_row_per_epoch(tmp_path):
    with pytest.raises(RuntimeError):
        _fit(_model(), tmp_path, epochs=6, extra=[Stop(2)])
    history = _fit(_model(), tmp_path, epochs=6)
    assert len(history.history["loss"]) == 3  # epochs 3, 4, 5
    assert _epochs_in_csv(tmp_path / "history.csv") == list(range(6))


def test_a_row_written_before_its_backup_is_not_repeated(tmp_path):
    # A kill between the CSV row and the backup: the row exists, the backup does not.
    class KillBeforeBackup(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("killed")

    callbacks = [
        ResumableCSVLogger(str(tmp_path / "history.csv")),
        KillBeforeBackup(),
        CrashSafeBackup(str(tmp_path / "backup")),
    ]
    with pytest.raises(RuntimeError):
        _model().fit(*DATA, epochs=5, batch_size=8, verbose=0, callbacks=callbacks)
    assert _epochs_in_csv(tmp_path / "history.csv") == [0, 1, 2]
    history = _fit(_model(), tmp_path, epochs=5)
    assert len(history.history["loss"]) == 3  # epoch 2 again, then 3 and 4
    assert _epochs_in_csv(tmp_path / "history.csv") == list(range(5))


def test_an_unreadable_backup_is_set_aside_and_the_previous_one_used(tmp_path):
    with pytest.raises(RuntimeError):
        _fit(_model(), tmp_path, epochs=6, extra=[Stop(3)])
    newest = tmp_path / "backup" / "epoch-00004" / "state.weights.h5"
    newest.write_bytes(newest.read_bytes()[:1000])  # cut short, as a kill inside a write would
    notices = []
    history = _fit(_model(), tmp_path, epochs=6, notices=notices)
    assert len(notices) == 1 and "epoch-00004" in notices[0] and "set aside" in notices[0]
    assert "\n" not in notices[0]
    assert len(history.history["loss"]) == 3  # from epoch 3 (the previous backup)
    assert any(
        name.startswith("unreadable-epoch-00004") for name in os.listdir(tmp_path / "backup")
    )
    assert _epochs_in_csv(tmp_path / "history.csv") == list(range(6))


def test_no_readable_backup_starts_from_the_beginning(tmp_path):
    with pytest.raises(RuntimeError):
        _fit(_model(), tmp_path, epochs=4, extra=[Stop(1)])
    for name in os.listdir(tmp_path / "backup"):
        (tmp_path / "backup" / name / "state.json").write_text("{not json")
    notices = []
    history = _fit(_model(), tmp_path, epochs=4, notices=notices)
    assert len(notices) == 2 and len(history.history["loss"]) == 4
    assert _epochs_in_csv(tmp_path / "history.csv") == list(range(4))


def test_the_weights_and_optimizer_state_are_restored(tmp_path):
    model = _model()
    _fit(model, tmp_path, epochs=3)
    fresh = _model()
    backup = CrashSafeBackup(str(tmp_path / "backup"))
    backup.set_model(fresh)
    backup.set_params({"epochs": 3})
    backup.on_train_begin()
    assert backup.restored_epoch == 3
    for a, b in zip(model.weights, fresh.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert int(fresh.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy())


def test_save_finished_means_no_more_epochs(tmp_path):
    model = _model()
    backup = CrashSafeBackup(str(tmp_path / "backup"))
    model.fit(*DATA, epochs=2, verbose=0, callbacks=[backup])  # e.g. stopped early at 2 of 5
    backup.save_finished(5)
    history = _fit(_model(), tmp_path, epochs=5)
    assert history.history == {}


def test_keep_rows_before_drops_later_repeated_and_cut_rows(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("epoch,loss\n0,1.0\n1,0.9\n1,0.9\n2,0.8\n3,0.")
    assert keep_rows_before(str(path), 2) == 2
    assert path.read_text() == "epoch,loss\n0,1.0\n1,0.9\n"
    assert keep_rows_before(str(tmp_path / "missing.csv"), 3) == 0


@pytest.mark.parametrize("kwargs", [{"backup_dir": ""}, {"backup_dir": "b", "keep": 0}])
def test_bad_arguments_name_the_problem(kwargs):
    with pytest.raises(ValueError, match="backup_dir|keep"):
        CrashSafeBackup(**kwargs)


def test_a_diverged_epoch_is_not_backed_up(tmp_path):
    model = _model()
    backup = CrashSafeBackup(str(tmp_path / "backup"))
    backup.set_model(model)
    backup.on_epoch_end(0, {"loss": 1.0})
    backup.on_epoch_end(1, {"loss": float("nan")})
    assert [epoch for epoch, _ in backup.backups()] == [1]
