"""Every setting of a wrong type or out of range, from a config file: one line, exit 2, nothing written."""

import dataclasses
import typing

import pytest

from keras_rt.cli import train as train_cli
from keras_rt.cli import tune as tune_cli
from keras_rt.run_config import base_type, setting_types
from keras_rt.training.config import TrainConfig
from keras_rt.tuning.config import TuneConfig


def bad_values(cls):
    """(field, bad value) pairs: a wrong type for every field, and an out-of-range number where
    the field has a bound."""
    types = setting_types(cls)
    cases = []
    for field in dataclasses.fields(cls):
        kind, _ = base_type(types[field.name])
        meta = field.metadata
        if meta.get("choices") is not None:
            cases.append((field.name, "no-such-choice"))
        elif kind is bool:
            cases.append((field.name, "yes"))
        elif kind in (int, float):
            cases.append((field.name, "x"))
            if meta.get("minimum") is not None:
                cases.append((field.name, meta["minimum"] - 1))
            elif meta.get("above") is not None:
                cases.append((field.name, meta["above"]))
        elif kind is str:
            cases.append((field.name, ["x"]))
        elif kind is dict or typing.get_origin(kind) is dict:
            cases.append((field.name, 5))
        elif typing.get_origin(kind) is list:
            cases.append((field.name, {"a": 1}))
        else:
            cases.append((field.name, {"a": 1}))
    return cases


def _ids(cases):
    return [f"{name}={value!r}" for name, value in cases]


TRAIN_CASES = bad_values(TrainConfig)
TUNE_CASES = bad_values(TuneConfig)


def test_the_table_covers_every_field():
    assert {name for name, _ in TRAIN_CASES} == {f.name for f in dataclasses.fields(TrainConfig)}
    assert {name for name, _ in TUNE_CASES} == {f.name for f in dataclasses.fields(TuneConfig)}


def _run(main, tmp_path, name, value, capsys):
    import json

    path = tmp_path / "config.json"
    path.write_text(json.dumps({name: value}))
    out_dir = tmp_path / "out"
    code = main(["--config", str(path), "--output-dir", str(out_dir), "--epochs", "1"])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (name, value, err)
    assert len(lines) == 1 and "Traceback" not in err, err
    assert name in lines[0], lines[0]
    assert not out_dir.exists() and not (tmp_path / "saved_models").exists()


@pytest.mark.parametrize("name,value", TRAIN_CASES, ids=_ids(TRAIN_CASES))
def test_train_refuses_before_writing(tmp_path, capsys, monkeypatch, name, value):
    monkeypatch.chdir(tmp_path)
    _run(train_cli.main, tmp_path, name, value, capsys)


@pytest.mark.parametrize("name,value", TUNE_CASES, ids=_ids(TUNE_CASES))
def test_tune_refuses_before_writing(tmp_path, capsys, monkeypatch, name, value):
    monkeypatch.chdir(tmp_path)
    _run(tune_cli.main, tmp_path, name, value, capsys)
