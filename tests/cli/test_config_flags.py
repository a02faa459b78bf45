"""One run configuration: train and tune share settings and flags, generated from one declaration."""

import argparse
import dataclasses
import json
import subprocess
import sys

import pytest

from keras_rt.cli import train as train_cli
from keras_rt.cli import tune as tune_cli
from keras_rt.cli.config_flags import add_config_arguments, config_from_args
from keras_rt.run_config import RunConfig
from keras_rt.training.config import MIXED_PRECISION_POLICIES, STRATEGIES, TrainConfig
from keras_rt.tuning.config import TUNER_NAMES, TuneConfig


def _parser(add_arguments):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser


def _flags(parser):
    return {
        action.dest: action
        for action in parser._actions
        if action.option_strings and action.dest not in ("help", "config")
    }


def test_tuning_extends_the_run_config():
    shared = {f.name for f in dataclasses.fields(RunConfig)}
    assert issubclass(TrainConfig, RunConfig) and issubclass(TuneConfig, RunConfig)
    assert shared <= {f.name for f in dataclasses.fields(TrainConfig)}
    assert shared <= {f.name for f in dataclasses.fields(TuneConfig)}


def test_every_setting_with_a_flag_is_on_the_command_line_of_both():
    train_flags = _flags(_parser(train_cli.add_arguments))
    tune_flags = _flags(_parser(tune_cli.add_arguments))
    for cls, flags in ((TrainConfig, train_flags), (TuneConfig, tune_flags)):
        expected = {f.name for f in dataclasses.fields(cls) if f.metadata["flag"]}
        assert expected <= set(flags), expected - set(flags)
    for field in dataclasses.fields(RunConfig):
        if field.metadata["flag"]:
            a, b = train_flags[field.name], tune_flags[field.name]
            assert a.option_strings == b.option_strings and type(a) is type(b), field.name


@pytest.mark.parametrize("module,cls", [(train_cli, TrainConfig), (tune_cli, TuneConfig)])
def test_none_means_none_for_optional_settings(module, cls):
    args = _parser(module.add_arguments).parse_args(
        ["--iwae-max-examples", "none", "--max-examples", "32", "--binarized"]
    )
    config = config_from_args(cls, args)
    assert config.iwae_max_examples is None and config.max_examples == 32 and config.binarized


@pytest.mark.parametrize("module", [train_cli, tune_cli])
def test_bad_flag_values_exit_2_with_a_message(module, capsys):
    for argv in (["--epochs", "x"], ["--model", "nope"], ["--verbose", "7"]):
        with pytest.raises(SystemExit) as exit_info:
            _parser(module.add_arguments).parse_args(argv)
        assert exit_info.value.code == 2
    assert "invalid" in capsys.readouterr().err


def test_no_export_wins_over_a_config_file(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"export_dir": "elsewhere", "epochs": 3}))
    args = _parser(train_cli.add_arguments).parse_args(["--config", str(path), "--no-export"])
    config = config_from_args(TrainConfig, args)
    assert config.export_dir is None and config.epochs == 3


def test_flags_win_over_the_file_and_booleans_turn_off(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"train_config": {"epochs": 3, "plots": True}}))
    args = _parser(train_cli.add_arguments).parse_args(
        ["--config", str(path), "--epochs", "4", "--no-plots"]
    )
    config = config_from_args(TrainConfig, args)
    assert config.epochs == 4 and config.plots is False


@pytest.mark.parametrize(
    "values,message",
    [
        ({"dataset": ["x"]}, "`dataset` must be a non-empty string"),
        ({"output_dir": 5}, "`output_dir` must be a non-empty string or None"),
        ({"kl_warmup_epochs": "a"}, "`kl_warmup_epochs` must be a number > 0"),
        ({"early_stopping_patience": "x"}, "`early_stopping_patience` must be an integer >= 0"),
        ({"early_stopping_patience": -1}, "`early_stopping_patience` must be an integer >= 0"),
        ({"iwae_max_examples": -3}, "`iwae_max_examples` must be an integer >= 1"),
        ({"binarized": "yes"}, "`binarized` must be True or False"),
        ({"strategy": "tpu"}, "`strategy` must be one of"),
        ({"model_config": [1]}, "`model_config` must be a mapping"),
    ],
)
def test_wrong_types_in_a_config_are_named(values, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig.from_dict(values).validate()


def test_output_dir_naming_a_file_is_refused(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("")
    with pytest.raises(ValueError, match="must be a folder, not a file"):
        TrainConfig(output_dir=str(path)).validate()


def test_choices_match_the_registries_they_name():
    from keras_rt.distribute import POLICIES
    from keras_rt.distribute import STRATEGIES as DISTRIBUTE_STRATEGIES
    from keras_rt.tuning.tuners import TUNERS

    assert tuple(DISTRIBUTE_STRATEGIES) == STRATEGIES
    assert ("auto", *POLICIES) == MIXED_PRECISION_POLICIES  # auto: the measured plan
    assert sorted(TUNERS) == sorted(TUNER_NAMES)


def test_a_setting_in_code_and_its_flag_say_the_same():
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, TrainConfig)
    help_text = parser.format_help()
    assert "--kl-warmup-schedule {linear,cyclical}" in help_text
    assert "--tensorboard, --no-tensorboard" in help_text and "--no-export" in help_text


@pytest.mark.parametrize("command", ["train", "tune"])
def test_help_does_not_import_tensorflow(command):
    code = (
        "import sys, contextlib, io\n"
        "from keras_rt.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try:\n"
        f"        main([{command!r}, '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "assert '--batch-size' in out.getvalue()\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "False False", result.stdout + result.stderr
